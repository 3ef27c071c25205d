#!/usr/bin/env python3
"""Back up an authupload data directory while the server keeps running.

    python scripts/backup.py --data-dir data --out backups            # backups/authupload-<UTC time>/
    python scripts/backup.py --data-dir data --out backups --tar      # … and pack it as a .tar.gz

What is copied, in this order:

1. ``authupload.db`` through SQLite's online backup API
   (``sqlite3.Connection.backup``): a consistent snapshot of the whole database
   at one moment, taken while other processes keep reading and writing (a plain
   ``cp`` of a WAL database can copy a torn, half-written state).
2. ``files/<user_id>/<file_id>``: the stored files, copied one by one. A stored
   file never changes after it appears (it is written under tmp/ or partial/ and
   then renamed into files/), so each copy is exact.
3. ``secret.key``, mode 0600: without it every token in flight is refused after a
   restore (users just log in again) and the sealed TOTP secrets cannot be opened
   (two-factor accounts sign in with a recovery code), so it is kept, but it is a
   secret: the backup folder is created 0700.

Why the database first and the files second: between the two steps users keep
uploading and deleting.

- A file uploaded after the snapshot is copied, but has no row in the snapshot.
  It is invisible (nothing lists or serves a file without a row) and harmless;
  ``restore.py`` reports such orphans and can delete them.
- A file deleted after the snapshot has a row in the snapshot but is gone before
  it could be copied. ``Storage.delete`` removes the row first and the bytes
  second, so this is exactly "the user deleted it": the row is dropped from the
  backup's copy of the database, and that is reported.

The other order (files, then database) would capture rows for files uploaded
after the copy: listed files whose bytes are missing, which is the one state
that must never happen. So: database first, files second, then drop the rows
whose file was deleted meanwhile — the backup is then exactly consistent.

Not copied: ``tmp/`` (multipart uploads in flight: never resumed anyway) and
``partial/`` (unfinished tus uploads). Their rows are removed from the copy, so
their space is not reserved after a restore; tus clients that try to resume get
``404`` and start those uploads again. Completed tus uploads keep their row, so a
client resuming one still learns it is done.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import sys
import tarfile
import time
from pathlib import Path

DB_NAME = "authupload.db"
KEY_NAME = "secret.key"
MANIFEST_NAME = "backup.json"


def snapshot_database(data_dir: Path, target: Path) -> None:
    """Copy the live database into ``target/authupload.db`` with the online backup API."""
    source = sqlite3.connect(data_dir / DB_NAME, timeout=30)
    destination = sqlite3.connect(target / DB_NAME)
    try:
        # pages=0: the whole database in one step, so no writer can slip in between steps.
        source.backup(destination)
    finally:
        destination.close()
        source.close()


def copy_files(data_dir: Path, target: Path) -> int:
    """Copy files/ into target/files/; returns how many files were copied."""
    copied = 0
    source_root = data_dir / "files"
    for user_dir in sorted(p for p in source_root.iterdir() if p.is_dir()) if source_root.exists() else []:
        (target / "files" / user_dir.name).mkdir(parents=True, exist_ok=True)
        for path in sorted(user_dir.iterdir()):
            try:
                shutil.copy2(path, target / "files" / user_dir.name / path.name)
                copied += 1
            except FileNotFoundError:
                pass  # deleted since we listed the folder: reconciled below like any deletion
    (target / "files").mkdir(exist_ok=True)
    return copied


def reconcile(target: Path) -> dict:
    """Make the backup's database agree with its files: drop rows of files deleted
    after the snapshot, and unfinished uploads (their partial bytes are not kept)."""
    connection = sqlite3.connect(target / DB_NAME, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        missing = [
            (file_id, user_id) for file_id, user_id in connection.execute("SELECT id, user_id FROM files")
            if not (target / "files" / str(user_id) / file_id).is_file()
        ]
        for file_id, _ in missing:
            connection.execute("DELETE FROM files WHERE id = ?", (file_id,))
        has_uploads = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'uploads'").fetchone()
        unfinished = (connection.execute("DELETE FROM uploads WHERE file_id IS NULL").rowcount
                      if has_uploads else 0)  # schema version 1 had no uploads table
        connection.execute("COMMIT")
        (version,) = connection.execute("PRAGMA user_version").fetchone()
    finally:
        connection.close()
    return {"rows_dropped_deleted_meanwhile": [file_id for file_id, _ in missing],
            "unfinished_uploads_dropped": unfinished, "schema_version": version}


def copy_key(data_dir: Path, target: Path) -> bool:
    key = data_dir / KEY_NAME
    if not key.exists():
        return False  # the server runs with AUTHUPLOAD_SECRET: back that up where it is kept
    descriptor = os.open(target / KEY_NAME, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(key.read_bytes())
    return True


def backup(data_dir: Path, out_dir: Path, tar: bool = False, now: float | None = None) -> Path:
    """Back up ``data_dir`` into a new folder (or .tar.gz) under ``out_dir``; returns its path."""
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    if not (data_dir / DB_NAME).is_file():
        raise SystemExit(f"{data_dir / DB_NAME}: no database here")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    target = out_dir / f"authupload-{stamp}"
    out_dir.mkdir(parents=True, exist_ok=True)
    target.mkdir(mode=0o700)  # fails if it exists: a backup is never overwritten
    snapshot_database(data_dir, target)
    copied = copy_files(data_dir, target)
    report = reconcile(target)
    report.update({"created_at": stamp, "source": str(data_dir.resolve()), "files_copied": copied,
                   "secret_key": copy_key(data_dir, target)})
    (target / MANIFEST_NAME).write_text(json.dumps(report, indent=2) + "\n")
    if not tar:
        return target
    archive = out_dir / f"{target.name}.tar.gz"
    with tarfile.open(archive, "x:gz") as packed:
        packed.add(target, arcname=target.name)
    shutil.rmtree(target)
    os.chmod(archive, 0o600)
    return archive


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Back up an authupload data directory (online).")
    parser.add_argument("--data-dir", type=Path, default=Path("data"), help="the server's data directory")
    parser.add_argument("--out", type=Path, default=Path("backups"), help="where backups are created")
    parser.add_argument("--tar", action="store_true", help="pack the backup as one .tar.gz")
    args = parser.parse_args(argv)
    path = backup(args.data_dir, args.out, args.tar)
    print(f"backup written: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
