"""Resumable uploads: the tus 1.0 protocol under ``/api/uploads``.

Specification: https://tus.io/protocols/resumable-upload (cited below as
"tus §Section"). tus cuts one file into as many ``PATCH`` requests as the client
likes, so a dropped connection, a proxy's body limit or an expired login costs
at most one chunk, never the whole file.

Theory of operation
-------------------
An upload is a row of the ``uploads`` table plus two files under ``partial/``:

    partial/<upload_id>        the bytes received so far
    partial/<upload_id>.lock   held (``flock``) by the one request changing the upload

1. ``POST`` (tus §Creation) checks ``Upload-Length`` against the size limit and,
   in one ``BEGIN IMMEDIATE`` transaction with the insert of the row, against
   the quota: the row's ``length`` counts as used space (a *reservation*) from
   that moment, so uploads racing for the last free bytes are serialized by
   SQLite's write lock and can never together pass the quota. Nothing has been
   received yet: a file that could never fit is refused before its first byte.
2. ``PATCH`` (tus §Core Protocol) takes the upload's lock without waiting (a
   second writer gets ``409 upload_busy``), reads the row again, and appends
   only if ``Upload-Offset`` equals the stored offset. It writes and fsyncs the
   bytes *first* and records the new offset *after*: the row's ``offset`` is
   the truth, and bytes past it (left by a crash between the two steps, or by a
   chunk whose checksum failed) are cut off before the next append. So the
   offset a client is told always equals the bytes kept.
3. When the offset reaches the length, the partial file becomes an ordinary
   file through ``Storage.commit``. Its sha256 is usually ready: this process
   keeps a running hash of each open upload's accepted bytes (``RunningHashes``)
   and only hashes the file from disk when it did not see every chunk (another
   process served some, or it restarted). In one transaction the upload is
   marked complete (its reservation stops counting), the quota is checked, the
   ``files`` row is inserted and the bytes are ``os.replace``d into ``files/``.
   The upload row stays until it expires, so a ``HEAD`` still says "done".
4. ``DELETE`` (tus §Termination) and expiry (tus §Expiration) remove the row
   and both files; the reservation goes with the row.

Who may touch an upload: its creator, with an access token, or with the
``Upload-Token`` the ``POST`` answered — a token for that one upload, valid as
long as the upload, so a long upload outlives the login that started it. The
router accepts upload tokens on ``HEAD``, ``PATCH`` and ``DELETE`` here and
nowhere else; this module checks that the token names *this* upload. Anyone
else's upload is ``404``, exactly like a missing one.

Every answer here carries ``Tus-Resumable`` (tus §Tus-Resumable): the route
rows in app.py add it, errors included.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import os
import re
import threading
from typing import Any, NamedTuple

from ..accounts.tokens import UPLOAD
from ..web.http import HTTPError, Request, Response, http_date, media_type, unauthorized
from .hashing import BackgroundSha256, file_sha256
from .storage import Received, StagedFile, clean_content_type, clean_filename, new_id

TUS_VERSION = "1.0.0"
TUS_HEADERS = (("Tus-Resumable", TUS_VERSION),)  # on every response of the tus routes
TUS_EXTENSIONS = "creation,creation-with-upload,termination,checksum,expiration"
CHECKSUM_ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}  # tus §Checksum
CHUNK_MEDIA_TYPE = "application/offset+octet-stream"  # tus §PATCH: the only body type
DECIMAL = re.compile(r"[0-9]+")  # tus §Upload-Offset/§Upload-Length: non-negative integers
# Running hashes kept at once (a few hundred bytes each): far more than uploads in flight,
# and an upload whose hash was dropped is still hashed right, from disk, when it completes.
MAX_RUNNING_HASHES = 1024


# --- headers: pure functions from text to values ------------------------------

def require_tus_version(request: Request) -> None:
    """412 unless the client speaks our version (tus §Tus-Resumable: every request but OPTIONS)."""
    if request.header("Tus-Resumable") != TUS_VERSION:
        raise HTTPError(412, "tus_version_unsupported", headers=[("Tus-Version", TUS_VERSION)])


def parse_size(text: str, header: str) -> int:
    """A byte count or offset header; 400 naming the header if absent or not a decimal number."""
    if not DECIMAL.fullmatch(text):
        raise HTTPError(400, "invalid_header", field=header)
    return int(text)


def parse_metadata(text: str) -> dict[str, bytes]:
    """``Upload-Metadata`` → {key: decoded value} (tus §Upload-Metadata).

    Comma-separated pairs of a key and a base64 value, split by one space; a
    key without a value is allowed. Keys are non-empty, unique, and contain no
    space or comma. Anything else is ``400 invalid_header``.
    """
    metadata: dict[str, bytes] = {}
    for pair in filter(None, (item.strip() for item in text.split(","))):
        key, _, value = pair.partition(" ")
        if key in metadata or " " in value:
            raise HTTPError(400, "invalid_header", field="Upload-Metadata")
        try:
            metadata[key] = base64.b64decode(value, validate=True)
        except binascii.Error:
            raise HTTPError(400, "invalid_header", field="Upload-Metadata") from None
    return metadata


class Checksum(NamedTuple):
    """What a chunk must hash to, and the hash being computed as its bytes arrive."""

    running: Any  # a hashlib object
    expected: bytes


def parse_checksum(text: str) -> Checksum | None:
    """``Upload-Checksum: <algorithm> <base64 digest>`` → a Checksum to check, or None if absent.

    tus §Checksum: an algorithm the server does not support is ``400``; we
    name that case with its own key so a client can fall back to no checksum.
    """
    if not text:
        return None
    algorithm, _, encoded = text.partition(" ")
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise HTTPError(400, "checksum_algorithm_unsupported")
    try:
        digest = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise HTTPError(400, "invalid_header", field="Upload-Checksum") from None
    return Checksum(CHECKSUM_ALGORITHMS[algorithm](), digest)


def bodiless(status: int, headers: list[tuple[str, str]]) -> Response:
    """A tus success: headers only.

    ``Content-Length: 0`` lets waitress keep the connection open (without it
    the end of a body is the end of the connection); a 204 must not carry one
    (RFC 9110 §8.6). The type of the empty body is for the WSGI validator.
    """
    if status != 204:
        headers = [*headers, ("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "0")]
    return Response(status, headers)


# --- the uploads table ----------------------------------------------------------

def owned_upload(request: Request):
    """The caller's live upload named in the path, or why not.

    An upload token opens only the upload it names (401 for any other); an
    upload of another user, an expired one and a missing one are all 404.
    """
    claims = request.user
    upload_id = request.params["upload_id"]
    if claims["purpose"] == UPLOAD and claims.get("upload") != upload_id:
        raise unauthorized("token_invalid")
    upload = request.app.database.execute(
        "SELECT * FROM uploads WHERE id = ? AND user_id = ? AND expires_at > ?",
        (upload_id, int(claims["sub"]), request.app.config.clock()),
    ).fetchone()
    if upload is None:
        raise HTTPError(404, "not_found")
    return upload


def reload(database, upload):
    """The upload's row as it is now (another request may have changed it)."""
    return database.execute("SELECT * FROM uploads WHERE id = ?", (upload["id"],)).fetchone()


def lock_path(storage, upload_id: str):
    return storage.partial_dir / f"{upload_id}.lock"


@contextlib.contextmanager
def exclusive_access(storage, upload_id: str):
    """Hold the upload's lock for the block; 409 at once if another request holds it.

    ``flock`` locks belong to an open file, so they exclude other threads and
    other processes alike, and the kernel releases them when a process dies:
    a crash cannot leave an upload locked forever. The lock file exists as long
    as the upload; if it is gone, so is the upload (404).
    """
    try:
        descriptor = os.open(lock_path(storage, upload_id), os.O_RDWR)
    except FileNotFoundError:
        raise HTTPError(404, "not_found") from None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise HTTPError(409, "upload_busy") from None
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def forget_upload(storage, upload_id: str) -> None:
    """Remove an upload's row and files; call with its lock held. The reservation goes with the row."""
    storage.database.execute("DELETE FROM uploads WHERE id = ?", (upload_id,))
    running_hashes.forget(upload_id)
    (storage.partial_dir / upload_id).unlink(missing_ok=True)
    lock_path(storage, upload_id).unlink(missing_ok=True)


def progress_headers(upload) -> list[tuple[str, str]]:
    """Where an upload stands: its offset, its expiry, and its file once complete."""
    headers = [("Upload-Offset", str(upload["offset"])), ("Upload-Expires", http_date(upload["expires_at"]))]
    if upload["file_id"]:
        headers.append(("Upload-File-Id", upload["file_id"]))
    return headers


def remove_expired_uploads(database, storage, config) -> None:
    """Delete uploads whose time is up, with their partial bytes and their reservations.

    Runs at start and periodically (server.py). An upload that a request holds
    right now is skipped: the next sweep takes it.
    """
    expired = database.execute(
        "SELECT id FROM uploads WHERE expires_at <= ?", (config.clock(),)
    ).fetchall()
    for upload in expired:
        try:
            with exclusive_access(storage, upload["id"]):
                forget_upload(storage, upload["id"])
        except HTTPError as refusal:
            if refusal.status == 404:  # no lock file: a crash cut the creation short, or a sweep won
                forget_upload(storage, upload["id"])
            # else busy: a request holds it now, and the next sweep takes it


# --- the running sha256 of each open upload ----------------------------------------------

class RunningHashes:
    """The sha256 of each open upload's accepted bytes, kept in memory between its PATCHes.

    With it, completing an upload needs no second read of the whole file. An
    entry is only believed at the exact offset it was saved at: if the upload
    has moved on without us (another server process took a chunk), or we never
    saw its start (a restart), ``resume`` answers None and the file is hashed
    from disk at completion instead. Offsets only grow, so an entry whose byte
    count equals the stored offset has hashed exactly the bytes on disk.
    Bounded: past ``max_entries`` the least recently saved entry is dropped.
    """

    def __init__(self, max_entries: int):
        self.max_entries = max_entries
        self.lock = threading.Lock()  # the dict is shared by all of waitress's threads
        self.entries: dict[str, tuple[int, BackgroundSha256]] = {}  # upload id → (bytes hashed, their hash)

    def resume(self, upload_id: str, offset: int) -> BackgroundSha256 | None:
        """A sha256 of the upload's first ``offset`` bytes to continue, or None if unknown here.

        It is a copy: hashing a chunk into it changes nothing here until ``save``,
        so a chunk that is refused (a bad checksum, a full disk) leaves no trace.
        """
        if offset == 0:
            return BackgroundSha256()  # nothing accepted yet: every process knows this hash
        with self.lock:
            entry = self.entries.get(upload_id)
            if entry is None or entry[0] != offset:
                return None
            return entry[1].copy()

    def save(self, upload_id: str, offset: int, running: BackgroundSha256) -> None:
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


running_hashes = RunningHashes(MAX_RUNNING_HASHES)  # per process, like the threads that use it


# --- receiving bytes ----------------------------------------------------------------

def body_chunks(request: Request):
    """The request body in ``read_chunk_bytes`` pieces: memory stays flat whatever the size."""
    stream = request.environ["wsgi.input"]
    remaining = request.content_length
    while remaining:
        chunk = stream.read(min(remaining, request.app.config.read_chunk_bytes))
        if not chunk:
            break  # the client went away: keep what arrived, as tus intends
        remaining -= len(chunk)
        yield chunk


def check_append(upload, claimed_offset: int, body_bytes: int) -> None:
    """The two preconditions of an append (tus §PATCH): the right offset, and room left."""
    if claimed_offset != upload["offset"]:
        raise HTTPError(409, "offset_mismatch", headers=[("Upload-Offset", str(upload["offset"]))])
    if claimed_offset + body_bytes > upload["length"]:
        raise HTTPError(413, "upload_length_exceeded")


def write_chunk(request: Request, path, offset: int, checksum: Checksum | None,
                running: BackgroundSha256 | None) -> int:
    """Append the body at ``offset``, fsynced, hashing it into ``running`` (if not None); returns the new offset.

    Bytes past ``offset`` are cut off first: only the recorded offset is true.
    If anything fails — the checksum (tus §Checksum: 460, chunk discarded)
    included — the file is cut back to ``offset``, so nothing half-done stays.
    """
    with open(path, "r+b") as partial:
        partial.truncate(offset)
        partial.seek(offset)
        try:
            for chunk in body_chunks(request):
                partial.write(chunk)
                if running is not None:
                    running.update(chunk)
                if checksum:
                    checksum.running.update(chunk)
            if checksum and checksum.running.digest() != checksum.expected:
                raise HTTPError(460, "checksum_mismatch")
            partial.flush()
            os.fsync(partial.fileno())  # on disk before the offset says so
        except BaseException:
            partial.truncate(offset)
            raise
        return partial.tell()


def complete_upload(request: Request, upload, sha256: str) -> None:
    """Turn the received bytes, whose hash is ``sha256``, into an ordinary file, atomically (see Storage.commit)."""
    storage = request.app.storage
    received = None
    if upload["request_id"] is not None:
        received = Received(upload["request_id"], upload["request_title"], upload["uploader_name"])
    staged = StagedFile(path=storage.partial_dir / upload["id"], name=upload["name"], size=upload["length"],
                        sha256=sha256, content_type=upload["content_type"], received=received)

    def mark_complete(connection):
        # In the commit's transaction: the reservation stops counting just as the file starts to.
        connection.execute("UPDATE uploads SET offset = length, file_id = ? WHERE id = ?",
                           (staged.id, upload["id"]))

    storage.commit(upload["user_id"], [staged], before_check=mark_complete)


def receive(request: Request, upload, checksum: Checksum | None):
    """Append this request's body (if any) to ``upload``, finish it if full; returns the row after.

    Call with ``check_append`` passed, and with the upload's lock held (or
    before anyone knows the upload, at creation).
    """
    upload_id, offset = upload["id"], upload["offset"]
    partial = request.app.storage.partial_dir / upload_id
    running = running_hashes.resume(upload_id, offset)
    if request.content_length:
        offset = write_chunk(request, partial, offset, checksum, running)
    if offset == upload["length"] and upload["file_id"] is None:
        if running is None:  # this process has not seen every chunk (see RunningHashes): read them back
            sha256 = file_sha256(partial, request.app.config.read_chunk_bytes)
        else:
            sha256 = running.hexdigest()
        complete_upload(request, upload, sha256)  # records the final offset together with the file
        running_hashes.forget(upload_id)
    elif offset != upload["offset"]:
        request.app.database.execute("UPDATE uploads SET offset = ? WHERE id = ?", (offset, upload_id))
        if running is not None:
            running_hashes.save(upload_id, offset, running)  # only now: the chunk is on disk and recorded
    return reload(request.app.database, upload)


# --- handlers ---------------------------------------------------------------------

def describe_server(request: Request) -> Response:
    """OPTIONS: what this server speaks (tus §OPTIONS). Needs neither a token nor Tus-Resumable."""
    return bodiless(204, [
        ("Tus-Version", TUS_VERSION),
        ("Tus-Extension", TUS_EXTENSIONS),
        ("Tus-Max-Size", str(request.app.config.max_file_bytes)),
        ("Tus-Checksum-Algorithm", ",".join(CHECKSUM_ALGORITHMS)),
    ])


def create_upload(request: Request) -> Response:
    """POST: reserve room for ``Upload-Length`` bytes and answer where to send them (tus §Creation).

    With a body of type ``application/offset+octet-stream`` the first chunk
    comes along (tus §Creation With Upload); if that chunk fails, the whole
    creation fails and nothing is kept.
    """
    require_tus_version(request)
    config = request.app.config
    if request.header("Upload-Defer-Length"):
        raise HTTPError(400, "invalid_header", field="Upload-Defer-Length")  # creation-defer-length: not offered
    length = parse_size(request.header("Upload-Length"), "Upload-Length")
    raw_metadata = request.header("Upload-Metadata")
    metadata = parse_metadata(raw_metadata)
    if length > config.max_file_bytes:
        raise HTTPError(413, "file_too_large")
    if request.content_length and media_type(request.header("Content-Type")) != CHUNK_MEDIA_TYPE:
        raise HTTPError(415, "unsupported_media_type")
    checksum = parse_checksum(request.header("Upload-Checksum"))
    if request.content_length > length:
        raise HTTPError(413, "upload_length_exceeded")

    # A sender with a drop token (an upload request's link) uploads into the owner's space.
    received = request.app.drops.receipt_for(request)
    upload = insert_upload(request, length, raw_metadata, metadata, received)
    try:
        upload = receive(request, upload, checksum)  # no lock needed: nobody knows this upload yet
    except BaseException:
        forget_upload(request.app.storage, upload["id"])
        raise

    claims = request.user
    upload_token = request.app.tokens.issue(
        int(claims["sub"]), claims["name"], claims["ver"], UPLOAD, config.upload_expiry_seconds,
        upload=upload["id"],
    )
    headers = [("Location", f"/api/uploads/{upload['id']}"), ("Upload-Token", upload_token),
               *progress_headers(upload)]
    return bodiless(201, headers)


def insert_upload(request: Request, length: int, raw_metadata: str, metadata: dict[str, bytes],
                  received: Received | None = None):
    """The new upload's row and files; the quota check and the insert are one transaction.

    Sent through an upload request (``received``), the upload also reserves its
    length against the request's own limits, in the same transaction.
    """
    storage, config = request.app.storage, request.app.config
    user_id = int(request.user["sub"])
    now = config.clock()
    upload = {
        "id": new_id(), "user_id": user_id, "length": length, "offset": 0, "metadata": raw_metadata,
        "name": clean_filename(metadata.get("filename", b"").decode("utf-8", "replace")),
        "content_type": clean_content_type(metadata.get("filetype", b"").decode("utf-8", "replace")),
        "created_at": now, "expires_at": now + config.upload_expiry_seconds,
        "request_id": received.request_id if received else None,
        "request_title": received.request_title if received else "",
        "uploader_name": received.uploader_name if received else "",
    }
    with request.app.database.transaction() as connection:
        # Under BEGIN IMMEDIATE: no other upload can reserve between this check and the insert.
        if received:
            request.app.drops.reserve(connection, received, 1, length)
        storage.check_room(user_id, length, connection)
        connection.execute(
            "INSERT INTO uploads (id, user_id, length, offset, metadata, name, content_type, created_at,"
            " expires_at, request_id, request_title, uploader_name) VALUES (:id, :user_id, :length, :offset,"
            " :metadata, :name, :content_type, :created_at, :expires_at, :request_id, :request_title,"
            " :uploader_name)", upload,
        )
    try:
        # The row comes first: a crash here leaves a row that expires, never files nobody knows.
        (storage.partial_dir / upload["id"]).touch(exist_ok=False)
        lock_path(storage, upload["id"]).touch(exist_ok=False)
    except BaseException:
        forget_upload(storage, upload["id"])
        raise
    return reload(request.app.database, upload)


def upload_offset(request: Request) -> Response:
    """HEAD: how many bytes are stored (tus §HEAD); after completion, also which file they became."""
    require_tus_version(request)
    upload = owned_upload(request)
    headers = [*progress_headers(upload), ("Upload-Length", str(upload["length"])),
               ("Cache-Control", "no-store")]  # tus §HEAD: an offset must never come from a cache
    if upload["metadata"]:
        headers.append(("Upload-Metadata", upload["metadata"]))
    return bodiless(200, headers)


def append_chunk(request: Request) -> Response:
    """PATCH: append the body at ``Upload-Offset`` (tus §PATCH, §Checksum)."""
    require_tus_version(request)
    upload = owned_upload(request)
    if media_type(request.header("Content-Type")) != CHUNK_MEDIA_TYPE:
        raise HTTPError(415, "unsupported_media_type")
    claimed_offset = parse_size(request.header("Upload-Offset"), "Upload-Offset")
    checksum = parse_checksum(request.header("Upload-Checksum"))
    with exclusive_access(request.app.storage, upload["id"]):
        upload = owned_upload(request)  # read again under the lock: now nobody else can move it
        check_append(upload, claimed_offset, request.content_length)
        upload = receive(request, upload, checksum)
    return bodiless(204, progress_headers(upload))


def cancel_upload(request: Request) -> Response:
    """DELETE: abandon the upload; its bytes and its reservation go (tus §Termination).

    A completed upload's file stays: it is an ordinary file now (DELETE /api/files/{id}).
    """
    require_tus_version(request)
    upload = owned_upload(request)
    with exclusive_access(request.app.storage, upload["id"]):
        forget_upload(request.app.storage, upload["id"])
    return bodiless(204, [])
