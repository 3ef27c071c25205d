"""Open resumable uploads: the ``uploads`` table, the files under ``partial/``, their locks and running hashes.

resumable.py speaks the tus protocol; this module keeps its books. One
``OpenUploads`` is built by ``create_app`` and shared by every request thread
(``request.app.uploads``).

An upload is a row of the ``uploads`` table plus two files:

    partial/<upload_id>        the bytes received so far
    partial/<upload_id>.lock   held (``flock``) by the one request changing the upload

The row's ``length`` counts against the quota (a *reservation*) from its
insert until the upload completes or goes; ``create`` checks the quota and
inserts in one ``BEGIN IMMEDIATE`` transaction, so uploads racing for the last
free bytes are serialized by SQLite's write lock. The row's ``offset`` is the
truth about how many bytes are kept (resumable.py writes bytes first, then
records the offset). A completed upload keeps its row (with ``file_id``) until
it expires, so a tus ``HEAD`` still says "done".

The row comes before the files and goes before them: a crash in between leaves
a row that expires, never files nobody knows.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from pathlib import Path

from ..web.http import HTTPError
from .folders import ancestors, check_depth, ensure_path, live_folder_or_top, resolve_parent
from .hashing import BackgroundHash, FileDigest, file_digest
from .storage import Received, StagedFile, new_id

# Running hashes kept at once (a few hundred bytes each): far more than uploads in flight,
# and an upload whose hash was dropped is still hashed right, from disk, when it completes.
MAX_RUNNING_HASHES = 1024
LOCK_POLL_SECONDS = 0.05  # how often a request waiting for an upload's lock tries again


class RunningHashes:
    """The checksums of each open upload's accepted bytes, kept in memory between its PATCHes.

    With it, completing an upload needs no second read of the whole file. An
    entry is only believed at the exact offset it was saved at: if the upload
    has moved on without us (another server process took a chunk), or we never
    saw its start (a restart), ``resume`` answers None and the file is hashed
    from disk at completion instead. Offsets only grow, so an entry whose byte
    count equals the stored offset has hashed exactly the bytes on disk.
    Bounded: past ``max_entries`` the least recently saved entry is dropped.
    """

    def __init__(self, max_entries: int = MAX_RUNNING_HASHES):
        self.max_entries = max_entries
        self.lock = threading.Lock()  # the dict is shared by all of waitress's threads
        self.entries: dict[str, tuple[int, BackgroundHash]] = {}  # upload id → (bytes hashed, their hash)

    def resume(self, upload_id: str, offset: int) -> BackgroundHash | None:
        """The checksums of the upload's first ``offset`` bytes to continue, or None if unknown here.

        It is a copy: hashing a chunk into it changes nothing here until ``save``,
        so a chunk that is refused (a bad checksum, a full disk) leaves no trace.
        """
        if offset == 0:
            return BackgroundHash()  # nothing accepted yet: every process knows this hash
        with self.lock:
            entry = self.entries.get(upload_id)
            if entry is None or entry[0] != offset:
                return None
            return entry[1].copy()

    def save(self, upload_id: str, offset: int, running: BackgroundHash) -> None:
        """Remember ``running`` as the hash of the upload's first ``offset`` bytes (all accepted)."""
        running.wait()  # its last chunk hashed now, so ``resume`` never waits while holding the lock
        with self.lock:
            self.entries.pop(upload_id, None)  # re-inserted last: dicts keep insertion order
            self.entries[upload_id] = (offset, running)
            if len(self.entries) > self.max_entries:
                del self.entries[next(iter(self.entries))]  # the least recently saved

    def forget(self, upload_id: str) -> None:
        with self.lock:
            self.entries.pop(upload_id, None)


class OpenUploads:
    """The books of the open resumable uploads of one data directory."""

    def __init__(self, database, storage, config):
        self.database = database
        self.storage = storage
        self.config = config
        self.running_hashes = RunningHashes()  # per process, like the threads that use it

    # --- paths ------------------------------------------------------------------

    def partial_path(self, upload_id: str) -> Path:
        return self.storage.partial_dir / upload_id

    def lock_path(self, upload_id: str) -> Path:
        return self.storage.partial_dir / f"{upload_id}.lock"

    # --- rows -------------------------------------------------------------------

    def find(self, user_id: int, upload_id: str):
        """The row of one of this user's live uploads; another user's, an expired or a missing one: 404."""
        upload = self.database.execute(
            "SELECT * FROM uploads WHERE id = ? AND user_id = ? AND expires_at > ?",
            (upload_id, user_id, self.config.clock()),
        ).fetchone()
        if upload is None:
            raise HTTPError(404, "not_found")
        return upload

    def reload(self, upload):
        """The upload's row as it is now (another request may have changed it)."""
        return self.database.execute("SELECT * FROM uploads WHERE id = ?", (upload["id"],)).fetchone()

    def unfinished(self, user_id: int) -> list:
        """This user's live uploads that have not become a file yet, oldest first."""
        return self.database.execute(
            "SELECT * FROM uploads WHERE user_id = ? AND file_id IS NULL AND expires_at > ?"
            " ORDER BY created_at, rowid",
            (user_id, self.config.clock()),
        ).fetchall()

    def create(self, user_id: int, length: int, raw_metadata: str, name: str, content_type: str,
               received: Received | None = None, require_request_room=None,
               folder_id: str | None = None, folder_names: list[str] = ()):
        """The new upload's row and files; the quota check and the insert are one transaction.

        Sent through an upload request (``received``), ``require_request_room(connection)``
        checks the request's own room in that same transaction (413 ``request_full``):
        the upload's length is reserved against the request as against the quota, and
        the file goes to the request's folder (the top level if that is gone).
        Otherwise ``folder_id`` (``None`` or ``"root"``: the top level) must be a live
        folder of the user's (else 404); ``folder_names`` (cleaned ``relativePath``
        folders) are created below it when the upload completes, and must fit the
        depth bound from now on.
        """
        now = self.config.clock()
        upload = {
            "id": new_id(), "user_id": user_id, "length": length, "offset": 0, "metadata": raw_metadata,
            "name": name, "content_type": content_type,
            "created_at": now, "expires_at": now + self.config.upload_expiry_seconds,
            "request_id": received.request_id if received else None,
            "request_title": received.request_title if received else "",
            "uploader_name": received.uploader_name if received else "",
            "folder_path": "/".join(folder_names),  # cleaned names hold no "/": the join splits back exactly
        }
        with self.database.transaction() as connection:
            # Under BEGIN IMMEDIATE: no other upload can reserve between these checks and the insert.
            if require_request_room:
                require_request_room(connection)
            self.check_open_count(user_id, connection)
            self.storage.check_room(user_id, length, connection)
            if received:
                upload["folder_id"] = live_folder_or_top(connection, user_id, received.folder_id)
            else:
                upload["folder_id"] = resolve_parent(connection, user_id, folder_id, "folder_id")
            check_depth(len(ancestors(connection, user_id, upload["folder_id"])) + len(folder_names))
            connection.execute(
                "INSERT INTO uploads (id, user_id, length, offset, metadata, name, content_type, created_at,"
                " expires_at, folder_id, folder_path, request_id, request_title, uploader_name) VALUES (:id,"
                " :user_id, :length, :offset, :metadata, :name, :content_type, :created_at, :expires_at,"
                " :folder_id, :folder_path, :request_id, :request_title, :uploader_name)", upload,
            )
        try:
            self.partial_path(upload["id"]).touch(exist_ok=False)
            self.lock_path(upload["id"]).touch(exist_ok=False)
        except BaseException:
            self.forget(upload["id"])
            raise
        return self.reload(upload)

    def check_open_count(self, user_id: int, connection) -> None:
        """429 if the user holds ``max_open_uploads_per_user`` unfinished uploads; 413 if one more would pass the file count.

        Each open upload is a row and a file under partial/ that the quota does
        not see while it is empty, and each will become a file.
        """
        open_uploads = connection.execute(
            "SELECT count(*) FROM uploads WHERE user_id = ? AND file_id IS NULL AND expires_at > ?",
            (user_id, self.config.clock()),
        ).fetchone()[0]
        if open_uploads >= self.config.max_open_uploads_per_user:
            raise HTTPError(429, "too_many_uploads")
        self.storage.check_file_count(user_id, 1, connection)

    def record_received(self, upload, offset: int, running: BackgroundHash | None, address: str = "") -> None:
        """The upload's bytes up to ``offset`` are on disk (fsynced): record them, and finish the upload if full.

        ``running`` is the hash of those bytes, or None if this process has not
        seen them all (see RunningHashes): then the file is read back.
        ``address`` is the client's, for the audit log of a file sent through an upload request.
        """
        if offset == upload["length"] and upload["file_id"] is None:
            if running is None:
                digest = file_digest(self.partial_path(upload["id"]), self.config.read_chunk_bytes)
            else:
                digest = running.result()
            self.complete(upload, digest, address)  # records the final offset together with the file
        elif offset != upload["offset"]:
            self.record_offset(upload["id"], offset, running)

    def record_offset(self, upload_id: str, offset: int, running: BackgroundHash | None) -> None:
        """The bytes up to ``offset`` are on disk: say so, and keep their hash for the next chunk."""
        self.database.execute("UPDATE uploads SET offset = ? WHERE id = ?", (offset, upload_id))
        if running is not None:
            self.running_hashes.save(upload_id, offset, running)  # only now: the chunk is on disk and recorded

    def complete(self, upload, digest: FileDigest, address: str = "") -> None:
        """Turn the received bytes, whose checksums are ``digest``, into an ordinary file, atomically (see Storage.commit)."""
        received = None
        if upload["request_id"] is not None:
            received = Received(upload["request_id"], upload["request_title"], upload["uploader_name"], address)
        staged = StagedFile(path=self.partial_path(upload["id"]), name=upload["name"], size=upload["length"],
                            digest=digest, content_type=upload["content_type"], received=received)

        def mark_complete(connection):
            # In the commit's transaction: the reservation stops counting just as the file starts to,
            # and the folders of a dropped file's relativePath are made just as it lands in them.
            staged.folder_id = self.folder_of(connection, upload)
            connection.execute("UPDATE uploads SET offset = length, file_id = ? WHERE id = ?",
                               (staged.id, upload["id"]))

        self.storage.commit(upload["user_id"], [staged], before_check=mark_complete)
        self.running_hashes.forget(upload["id"])

    def folder_of(self, connection, upload) -> str | None:
        """The folder a completed upload's file goes into, its ``relativePath`` folders created.

        The target folder was checked at creation; if it has gone to the trash since,
        the file lands at the top level rather than in a folder nobody can see.
        """
        target = upload["folder_id"]
        if target is not None and connection.execute(
                "SELECT 1 FROM folders WHERE id = ? AND trashed_at IS NULL", (target,)).fetchone() is None:
            target = None
        names = upload["folder_path"].split("/") if upload["folder_path"] else []
        return ensure_path(connection, self.config, upload["user_id"], target, names)

    def forget(self, upload_id: str) -> None:
        """Remove an upload's row and files; call with its lock held. The reservation goes with the row."""
        self.database.execute("DELETE FROM uploads WHERE id = ?", (upload_id,))
        self.running_hashes.forget(upload_id)
        self.partial_path(upload_id).unlink(missing_ok=True)
        self.lock_path(upload_id).unlink(missing_ok=True)

    # --- one writer at a time -------------------------------------------------------

    @contextlib.contextmanager
    def exclusive_access(self, upload_id: str, wait_seconds: float = 0.0):
        """Hold the upload's lock for the block; 409 if another request holds it past ``wait_seconds``.

        ``flock`` locks belong to an open file, so they exclude other threads and
        other processes alike, and the kernel releases them when a process dies:
        a crash cannot leave an upload locked forever. The lock file exists as long
        as the upload; if it is gone, so is the upload (404).
        """
        try:
            descriptor = os.open(self.lock_path(upload_id), os.O_RDWR)
        except FileNotFoundError:
            raise HTTPError(404, "not_found") from None
        try:
            deadline = time.monotonic() + wait_seconds
            while True:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    # flock has no timeout of its own: poll, so a waiting thread is never stuck.
                    if time.monotonic() >= deadline:
                        raise HTTPError(409, "upload_busy") from None
                    time.sleep(LOCK_POLL_SECONDS)
            yield
        finally:
            os.close(descriptor)  # closing releases the lock

    def remove_expired(self) -> None:
        """Delete uploads whose time is up (tus §Expiration), with their partial bytes and their reservations.

        Runs at start and periodically (server.py). An upload that a request holds
        right now is skipped: the next sweep takes it.
        """
        expired = self.database.execute(
            "SELECT id FROM uploads WHERE expires_at <= ?", (self.config.clock(),)
        ).fetchall()
        for upload in expired:
            try:
                with self.exclusive_access(upload["id"]):
                    self.forget(upload["id"])
            except HTTPError as refusal:
                if refusal.status == 404:  # no lock file: a crash cut the creation short, or a sweep won
                    self.forget(upload["id"])
                # else busy: a request holds it now, and the next sweep takes it
