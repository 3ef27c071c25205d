"""At start, make the data directory and the database agree again after a crash.

Every change to stored files touches two things that cannot change together:
a row in SQLite and bytes in a file. The code orders each pair so that a crash
between them leaves something recognisable, and this module, run at start,
finishes or undoes it:

- **files/ without a row**: ``Storage.commit`` moves the bytes into files/
  inside its transaction, before ``COMMIT``; a crash in between rolls the row
  back but leaves the bytes (so does a deletion that removed the row, then
  died before the bytes). Nobody can reach them: they are removed — the commit
  is undone, the deletion finished. A tus upload whose completion was undone
  this way finds its partial file gone and starts again from offset 0 (below).
- **a row without its bytes**: never made by our own order of steps; a
  restore or a hand-edited directory can. Such rows are only reported (a files/
  folder not mounted yet must not cost every row): scripts/restore.py
  --verify-only names them for the operator.
- **an open upload whose partial file disagrees with its offset**: bytes are
  written and fsynced before the offset says so, so a crash leaves the file
  longer (cut back to the offset), or — after an undone completion — missing
  or shorter (the offset comes down to the bytes there). Either way ``HEAD``
  tells the client the truth, and its next ``PATCH`` fits.
- **partial/ files without a row**: removed, like tmp/ debris.
- **usage counters**: recounted from the rows, so quotas stay exact.

Several server processes may share one data directory, and one of them may be
in the middle of a commit right now: the check only runs when no other
process serves this directory. Each holds a shared ``flock`` on
``<data_dir>/serving.lock`` while it lives; the one that can take it
exclusively at start is alone, reconciles, then holds it shared like the rest.
The kernel drops a dead process's lock, even after ``kill -9``.

It walks every stored file, so it only runs when needed: the last process to
stop cleanly writes ``clean`` into ``serving.lock``, and a start that finds
anything else there (a crash, a kill, a first start) reconciles.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path

log = logging.getLogger("authupload")


CLEAN_EXIT = b"clean"


def hold_data_dir(data_dir: Path) -> tuple[int, bool]:
    """Hold ``serving.lock`` shared for this process's life; returns (its descriptor, whether to reconcile).

    True when this process is alone on the directory and the last one there
    did not stop cleanly; the mark is wiped either way, as we are running now.
    """
    descriptor = os.open(data_dir / "serving.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        needed = False  # another process serves the directory: it may be mid-commit
    else:
        needed = os.pread(descriptor, len(CLEAN_EXIT), 0) != CLEAN_EXIT
        os.ftruncate(descriptor, 0)
    fcntl.flock(descriptor, fcntl.LOCK_SH)  # from exclusive, or waiting for the one reconciling to finish
    return descriptor, needed


def mark_clean_exit(descriptor: int) -> None:
    """At a clean stop: if no other process still serves the directory, the next start needs no check."""
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return  # another process goes on serving; the last to stop writes the mark
    os.pwrite(descriptor, CLEAN_EXIT, 0)
    os.fsync(descriptor)


def reconcile(database, storage, uploads) -> None:
    """Finish or undo what a crash interrupted (see the module's opening words). Call when alone."""
    _remove_orphan_files(database, storage)
    _report_rows_without_bytes(database, storage)
    _repair_open_uploads(database, uploads)
    _remove_orphan_partials(database, storage)
    _recount_usage(database)


def _remove_orphan_files(database, storage) -> None:
    known = {(str(row["user_id"]), row["id"]) for row in database.execute("SELECT user_id, id FROM files")}
    for owner in storage.files_dir.iterdir():
        for path in owner.iterdir():
            if (owner.name, path.name) not in known:
                log.warning("reconcile: removed files/%s/%s, bytes no row knows (an interrupted commit)",
                            owner.name, path.name)
                path.unlink()


def _report_rows_without_bytes(database, storage) -> None:
    missing = [row["id"] for row in database.execute("SELECT user_id, id FROM files")
               if not storage.path_of(row["user_id"], row["id"]).is_file()]
    if missing:
        log.error("reconcile: %d file rows have no bytes under files/ (first: %s); check the data directory"
                  " (scripts/restore.py --verify-only)", len(missing), missing[0])


def _repair_open_uploads(database, uploads) -> None:
    for upload in database.execute("SELECT id, offset FROM uploads WHERE file_id IS NULL").fetchall():
        partial = uploads.partial_path(upload["id"])
        if not partial.exists():
            partial.touch()
        stored = partial.stat().st_size
        if stored > upload["offset"]:
            os.truncate(partial, upload["offset"])  # bytes written, never recorded: the offset is the truth
        elif stored < upload["offset"]:
            log.warning("reconcile: upload %s has %d of the %d bytes its offset says; offset corrected",
                        upload["id"], stored, upload["offset"])
            database.execute("UPDATE uploads SET offset = ? WHERE id = ?", (stored, upload["id"]))
        uploads.lock_path(upload["id"]).touch()


def _remove_orphan_partials(database, storage) -> None:
    known = {row["id"] for row in database.execute("SELECT id FROM uploads")}
    for path in storage.partial_dir.iterdir():
        if path.name.removesuffix(".lock") not in known:
            path.unlink()


def _recount_usage(database) -> None:
    # Live files and the trash apart (the quota bounds both), and what each listing totals.
    database.execute(
        "UPDATE users SET"
        " file_count = (SELECT count(*) FROM files WHERE files.user_id = users.id AND trashed_at IS NULL),"
        " file_bytes = (SELECT coalesce(sum(size), 0) FROM files WHERE files.user_id = users.id"
        "  AND trashed_at IS NULL),"
        " trash_files = (SELECT count(*) FROM files WHERE files.user_id = users.id AND trashed_at IS NOT NULL),"
        " trash_bytes = (SELECT coalesce(sum(size), 0) FROM files WHERE files.user_id = users.id"
        "  AND trashed_at IS NOT NULL),"
        " top_files = (SELECT count(*) FROM files WHERE files.user_id = users.id AND folder_id IS NULL"
        "  AND trashed_at IS NULL)"
    )
    database.execute(
        "UPDATE folders SET file_count ="
        " (SELECT count(*) FROM files WHERE files.folder_id = folders.id AND trashed_at IS NULL)"
    )
