"""Audit a (stopped or running) server's data directory for lost or broken data.

Used by the crash, full-disk and soak checks: whatever happened to the server,
these must hold afterwards.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from authupload.files.hashing import file_digest


def audit_data_dir(data_dir: Path, check_hashes: bool = True) -> list[str]:
    """Problems found, as sentences; an empty list means the data is sound.

    - the database passes ``PRAGMA integrity_check``;
    - no username key twice;
    - every file row has its bytes on disk, of its size (and sha256);
    - every file under ``files/`` has its row (no bytes nobody can reach);
    - each user's usage counters equal the sum of their rows: live files
      (``file_count``/``file_bytes``, ``top_files``) and the trash
      (``trash_files``/``trash_bytes``) apart, and each folder's ``file_count``;
    - every open upload's partial file holds exactly its offset's bytes, and
      every file under ``partial/`` belongs to an upload;
    - ``tmp/`` holds no file (call after a restart: start-up sweeps dead processes' folders).
    """
    problems = []
    connection = sqlite3.connect(f"file:{data_dir / 'authupload.db'}?mode=ro", uri=True)
    try:
        if connection.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            problems.append("database integrity_check failed")
        duplicates = connection.execute(
            "SELECT count(*) FROM (SELECT username_key FROM users GROUP BY 1 HAVING count(*) > 1)").fetchone()[0]
        if duplicates:
            problems.append(f"{duplicates} usernames exist twice")
        rows = connection.execute("SELECT user_id, id, size, sha256, crc32 FROM files")
        for user_id, file_id, size, sha256, crc32 in rows:
            path = data_dir / "files" / str(user_id) / file_id
            if not path.is_file() or path.stat().st_size != size:
                problems.append(f"file row {file_id} has no whole file on disk")
            elif check_hashes:
                digest = file_digest(path)
                if digest.hexdigest() != sha256:
                    problems.append(f"file {file_id} does not match its sha256")
                if crc32 is not None and digest.crc32 != crc32:  # NULL: stored before CRC-32s were kept
                    problems.append(f"file {file_id} does not match its CRC-32")
        for file_id, name, key in connection.execute("SELECT id, name, name_key FROM files"):
            if key != name.casefold():  # search and the name sort would miss or misplace it
                problems.append(f"file {file_id} has name_key {key!r} for {name!r}")
        known = {(str(user_id), file_id) for user_id, file_id in connection.execute("SELECT user_id, id FROM files")}
        on_disk = {(path.parent.name, path.name) for path in (data_dir / "files").glob("*/*")}
        for owner, file_id in sorted(on_disk - known):
            problems.append(f"files/{owner}/{file_id} has no row")
        problems += counter_problems(connection)
        uploads = connection.execute("SELECT id, offset, file_id FROM uploads").fetchall()
        for upload_id, offset, file_id in uploads:
            partial = data_dir / "partial" / upload_id
            if file_id is None and (not partial.is_file() or partial.stat().st_size != offset):
                problems.append(f"open upload {upload_id} does not hold exactly its offset's {offset} bytes")
        upload_ids = {upload_id for upload_id, _, _ in uploads}
        for path in (data_dir / "partial").glob("*"):
            if path.name.removesuffix(".lock") not in upload_ids:
                problems.append(f"partial/{path.name} belongs to no upload")
    finally:
        connection.close()
    leftovers = [path for path in (data_dir / "tmp").rglob("*") if path.is_file()]
    if leftovers:
        problems.append(f"{len(leftovers)} temporary files left in tmp/")
    return problems


# Each counter the triggers keep on users (db.py, migration 10): its column, and
# what it must equal over the user's file rows. A trashed file counts only toward the trash.
USER_COUNTERS = [
    ("file_count", "count(*)", "trashed_at IS NULL"),
    ("file_bytes", "coalesce(sum(size), 0)", "trashed_at IS NULL"),
    ("trash_files", "count(*)", "trashed_at IS NOT NULL"),
    ("trash_bytes", "coalesce(sum(size), 0)", "trashed_at IS NOT NULL"),
    ("top_files", "count(*)", "trashed_at IS NULL AND folder_id IS NULL"),
]


def counter_problems(connection: sqlite3.Connection) -> list[str]:
    """Every usage or folder counter that differs from the rows it counts."""
    problems = []
    for column, total, which in USER_COUNTERS:
        for user_id, counted, summed in connection.execute(
                f"SELECT id, {column}, (SELECT {total} FROM files WHERE files.user_id = users.id AND {which})"
                " FROM users"):
            if counted != summed:
                problems.append(f"user {user_id} has {column} {counted}, the rows sum to {summed}")
    for folder_id, counted, summed in connection.execute(
            "SELECT id, file_count, (SELECT count(*) FROM files WHERE files.folder_id = folders.id"
            " AND trashed_at IS NULL) FROM folders"):
        if counted != summed:
            problems.append(f"folder {folder_id} has file_count {counted}, {summed} live files are in it")
    return problems
