"""Audit a (stopped or running) server's data directory for lost or broken data.

Used by the crash, full-disk and soak checks: whatever happened to the server,
these must hold afterwards.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from authupload.files.hashing import file_sha256


def audit_data_dir(data_dir: Path, check_hashes: bool = True) -> list[str]:
    """Problems found, as sentences; an empty list means the data is sound.

    - the database passes ``PRAGMA integrity_check``;
    - no username key twice;
    - every file row has its bytes on disk, of its size (and sha256);
    - every file under ``files/`` has its row (no bytes nobody can reach);
    - each user's usage counters equal the sum of their rows;
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
        for user_id, file_id, size, sha256 in connection.execute("SELECT user_id, id, size, sha256 FROM files"):
            path = data_dir / "files" / str(user_id) / file_id
            if not path.is_file() or path.stat().st_size != size:
                problems.append(f"file row {file_id} has no whole file on disk")
            elif check_hashes and file_sha256(path) != sha256:
                problems.append(f"file {file_id} does not match its sha256")
        known = {(str(user_id), file_id) for user_id, file_id in connection.execute("SELECT user_id, id FROM files")}
        on_disk = {(path.parent.name, path.name) for path in (data_dir / "files").glob("*/*")}
        for owner, file_id in sorted(on_disk - known):
            problems.append(f"files/{owner}/{file_id} has no row")
        # Live files and the trash are counted apart (the quota bounds both together).
        for user_id, counted, summed in connection.execute(
                "SELECT id, file_count || '/' || file_bytes || ' + ' || trash_files || '/' || trash_bytes,"
                " (SELECT count(*) FILTER (WHERE trashed_at IS NULL) || '/'"
                "  || coalesce(sum(size) FILTER (WHERE trashed_at IS NULL), 0) || ' + '"
                "  || count(*) FILTER (WHERE trashed_at IS NOT NULL) || '/'"
                "  || coalesce(sum(size) FILTER (WHERE trashed_at IS NOT NULL), 0)"
                " FROM files WHERE files.user_id = users.id) FROM users"):
            if counted != summed:
                problems.append(f"user {user_id} counts {counted} files/bytes (+ trash), the rows sum to {summed}")
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
