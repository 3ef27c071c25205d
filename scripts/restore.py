#!/usr/bin/env python3
"""Restore an authupload backup into a new data directory, and verify it.

    python scripts/restore.py backups/authupload-20261125T043000Z data-restored
    python scripts/restore.py backups/authupload-20261125T043000Z.tar.gz data-restored
    python scripts/restore.py --verify-only data          # check a data directory (or a backup) in place

Restoring never overwrites: the target directory must not exist or be empty.
Stop the server (or point it at the new directory) before it uses a restore.

Verification (also run after every restore), exit status 1 if anything fails:

- ``PRAGMA integrity_check`` says ``ok`` and ``PRAGMA foreign_key_check`` finds nothing;
- the schema version (``PRAGMA user_version``) is not newer than this code knows
  (an older one is fine: the server migrates it at start);
- every ``files`` row has its file, with the row's size and SHA-256;
- files without a row (uploaded while the backup ran) are reported; with
  ``--remove-orphans`` they are deleted;
- ``secret.key``, if present, is mode 0600.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import stat
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from authupload.db import MIGRATIONS  # noqa: E402
from authupload.files.hashing import file_digest  # noqa: E402

DB_NAME = "authupload.db"
KEY_NAME = "secret.key"


def verify(data_dir: Path, remove_orphans: bool = False) -> tuple[list[str], list[str]]:
    """Check a data directory; returns (problems, notes). No problems: it is sound."""
    data_dir = Path(data_dir)
    problems, notes = [], []
    db_path = data_dir / DB_NAME
    if not db_path.is_file():
        return [f"{db_path}: missing"], notes
    connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        integrity = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        if integrity != ["ok"]:
            problems.append("integrity_check: " + "; ".join(integrity[:5]))
        for table, rowid, parent, _ in connection.execute("PRAGMA foreign_key_check"):
            problems.append(f"foreign key: {table} row {rowid} points to a missing {parent} row")
        (version,) = connection.execute("PRAGMA user_version").fetchone()
        if version > len(MIGRATIONS):
            problems.append(f"schema version {version} is newer than this code ({len(MIGRATIONS)}): "
                            "restore with the version of authupload that wrote it")
        notes.append(f"schema version {version}")
        rows = connection.execute("SELECT id, user_id, size, sha256 FROM files").fetchall()
    finally:
        connection.close()
    known = set()
    for file_id, user_id, size, sha256 in rows:
        path = data_dir / "files" / str(user_id) / file_id
        known.add(path)
        if not path.is_file():
            problems.append(f"files/{user_id}/{file_id}: listed but missing")
        elif path.stat().st_size != size:
            problems.append(f"files/{user_id}/{file_id}: {path.stat().st_size} bytes, the row says {size}")
        elif file_digest(path).hexdigest() != sha256:
            problems.append(f"files/{user_id}/{file_id}: content differs from its SHA-256")
    notes.append(f"{len(rows)} files checked")
    files_dir = data_dir / "files"
    orphans = [p for p in files_dir.glob("*/*") if p.is_file() and p not in known] if files_dir.exists() else []
    for orphan in orphans:
        if remove_orphans:
            orphan.unlink()
        notes.append(f"{orphan.relative_to(data_dir)}: no row (uploaded during the backup?)"
                     + (", removed" if remove_orphans else "; --remove-orphans deletes it"))
    key = data_dir / KEY_NAME
    if key.exists() and stat.S_IMODE(key.stat().st_mode) != 0o600:
        problems.append(f"{KEY_NAME}: mode {stat.S_IMODE(key.stat().st_mode):o}, should be 600")
    elif not key.exists():
        notes.append(f"no {KEY_NAME}: the server will need AUTHUPLOAD_SECRET (or makes a new key: "
                     "earlier tokens are then refused)")
    return problems, notes


def restore(backup: Path, target: Path) -> None:
    """Copy a backup folder (or .tar.gz) into ``target``, which must be new or empty."""
    backup, target = Path(backup), Path(target)
    if target.exists() and any(target.iterdir()):
        raise SystemExit(f"{target}: not empty; restore into a new directory")
    with tempfile.TemporaryDirectory() as unpacked:
        if backup.is_file():
            with tarfile.open(backup) as packed:
                packed.extractall(unpacked, filter="data")
            (backup,) = [p for p in Path(unpacked).iterdir() if p.is_dir()]
        if not (backup / DB_NAME).is_file():
            raise SystemExit(f"{backup}: not an authupload backup (no {DB_NAME})")
        target.mkdir(mode=0o700, parents=True, exist_ok=True)
        shutil.copy2(backup / DB_NAME, target / DB_NAME)
        shutil.copytree(backup / "files", target / "files", dirs_exist_ok=True)
        if (backup / KEY_NAME).exists():
            shutil.copy2(backup / KEY_NAME, target / KEY_NAME)
            os.chmod(target / KEY_NAME, 0o600)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Restore an authupload backup into a new data directory.")
    parser.add_argument("source", type=Path, help="a backup folder or .tar.gz (with --verify-only: a data dir)")
    parser.add_argument("target", type=Path, nargs="?", help="the new data directory")
    parser.add_argument("--verify-only", action="store_true", help="only check SOURCE in place")
    parser.add_argument("--remove-orphans", action="store_true", help="delete stored files that have no row")
    args = parser.parse_args(argv)
    if args.verify_only:
        checked = args.source
    else:
        if args.target is None:
            parser.error("give the target data directory (or --verify-only)")
        restore(args.source, args.target)
        checked = args.target
    problems, notes = verify(checked, args.remove_orphans)
    for note in notes:
        print(f"  {note}")
    for problem in problems:
        print(f"PROBLEM {problem}")
    print(f"{checked}: " + ("verified" if not problems else f"{len(problems)} problem(s)"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
