"""Resumable uploads: the tus 1.0 protocol under ``/api/uploads``.

Specification: https://tus.io/protocols/resumable-upload (cited below as
"tus §Section"). tus cuts one file into as many ``PATCH`` requests as the client
likes, so a dropped connection, a proxy's body limit or an expired login costs
at most one chunk, never the whole file.

Theory of operation
-------------------
The books — the ``uploads`` table, the partial files, their locks and the
running hashes — are kept by ``OpenUploads`` (open_uploads.py,
``request.app.uploads``); this module speaks the protocol over them.

1. ``POST`` (tus §Creation) checks ``Upload-Length`` against the size limit and
   reserves it against the quota as the row is inserted: a file that could
   never fit is refused before its first byte.
2. ``PATCH`` (tus §Core Protocol) takes the upload's lock without waiting (a
   second writer gets ``409 upload_busy``), reads the row again, and appends
   only if ``Upload-Offset`` equals the stored offset. It writes and fsyncs the
   bytes *first* and records the new offset *after*: the row's ``offset`` is
   the truth, and bytes past it (left by a crash between the two steps, or by a
   chunk whose checksum failed) are cut off before the next append. So the
   offset a client is told always equals the bytes kept. Served by waitress,
   the lock is taken and the bytes are appended as they arrive, before the
   handler runs (arriving.py); a chunk cut off halfway keeps what arrived
   unless it carries a checksum.
3. When the offset reaches the length, the partial file becomes an ordinary
   file (``OpenUploads.complete``, through ``Storage.commit``). Its sha256 is
   usually ready: a running hash of the accepted bytes is kept between chunks,
   and the file is only hashed from disk when this process did not see every
   chunk (another process served some, or it restarted).
4. ``DELETE`` (tus §Termination) and expiry (tus §Expiration) remove the row
   and both files; the reservation goes with the row.
5. ``GET /api/uploads`` (not tus: API.md) lists my unfinished uploads, so a
   client that lost an upload's URL can resume it or discard it.

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
import errno
import hashlib
import os
from typing import Any, NamedTuple

from ..accounts.tokens import UPLOAD
from ..config import KIB
from ..web.http import (HTTPError, Request, Response, envelope, http_date, iso_time, media_type, parse_decimal,
                        unauthorized)
from .arriving import ArrivingChunk
from .hashing import BackgroundHash
from .folders import clean_relative_path
from .storage import clean_content_type, clean_filename

TUS_VERSION = "1.0.0"
TUS_HEADERS = (("Tus-Resumable", TUS_VERSION),)  # on every response of the tus routes
TUS_EXTENSIONS = "creation,creation-with-upload,termination,checksum,expiration"
CHECKSUM_ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}  # tus §Checksum
CHUNK_MEDIA_TYPE = "application/offset+octet-stream"  # tus §PATCH: the only body type
TERMINATION_WAIT_SECONDS = 10  # a DELETE waits this long for a cut-off PATCH to finish storing
MAX_METADATA_BYTES = 4 * KIB  # a 255-character name and a media type, base64-encoded, take under 1.5 KiB


# --- headers: pure functions from text to values ------------------------------

def require_tus_version(request: Request) -> None:
    """412 unless the client speaks our version (tus §Tus-Resumable: every request but OPTIONS)."""
    if request.header("Tus-Resumable") != TUS_VERSION:
        raise HTTPError(412, "tus_version_unsupported", headers=[("Tus-Version", TUS_VERSION)])


def parse_size(text: str, header: str) -> int:
    """A byte count or offset header; 400 naming the header if absent or not a decimal number."""
    size = parse_decimal(text)
    if size is None:
        raise HTTPError(400, "invalid_header", field=header)
    return size


def parse_metadata(text: str) -> dict[str, bytes]:
    """``Upload-Metadata`` → {key: decoded value} (tus §Upload-Metadata).

    Comma-separated pairs of a key and a base64 value, split by one space; a
    key without a value is allowed. Keys are non-empty, unique, and contain no
    space or comma. At most ``MAX_METADATA_BYTES``: the row keeps it for every
    ``HEAD``, and neither the quota nor the file count would see it grow.
    Anything else is ``400 invalid_header``.
    """
    if len(text) > MAX_METADATA_BYTES:
        raise HTTPError(400, "invalid_header", field="Upload-Metadata")
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


# --- the caller's upload ------------------------------------------------------------

def owned_upload(request: Request):
    """The caller's live upload named in the path, or why not.

    An upload token opens only the upload it names (401 for any other); an
    upload of another user, an expired one and a missing one are all 404.
    """
    upload_id = request.params["upload_id"]
    if request.user["purpose"] == UPLOAD and request.user.get("upload") != upload_id:
        raise unauthorized("token_invalid")
    return request.app.uploads.find(request.user_id, upload_id)


def progress_headers(upload) -> list[tuple[str, str]]:
    """Where an upload stands: its offset, its expiry, and its file once complete."""
    headers = [("Upload-Offset", str(upload["offset"])), ("Upload-Expires", http_date(upload["expires_at"]))]
    if upload["file_id"]:
        headers.append(("Upload-File-Id", upload["file_id"]))
    return headers


# --- receiving bytes ----------------------------------------------------------------

def check_append(upload, claimed_offset: int, body_bytes: int) -> None:
    """The two preconditions of an append (tus §PATCH): the right offset, and room left."""
    if claimed_offset != upload["offset"]:
        raise HTTPError(409, "offset_mismatch", headers=[("Upload-Offset", str(upload["offset"]))])
    if claimed_offset + body_bytes > upload["length"]:
        raise HTTPError(413, "upload_length_exceeded")


def write_chunk(request: Request, path, offset: int, checksum: Checksum | None,
                running: BackgroundHash | None) -> int:
    """Append the body at ``offset``, fsynced, hashing it into ``running`` (if not None); returns the new offset.

    Bytes past ``offset`` are cut off first: only the recorded offset is true.
    If anything fails — the checksum (tus §Checksum: 460, chunk discarded)
    included — the file is cut back to ``offset``, so nothing half-done stays.
    """
    with open(path, "r+b") as partial:
        partial.truncate(offset)
        partial.seek(offset)
        try:
            for chunk in request.body_chunks(request.app.config.read_chunk_bytes):
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


def receive(request: Request, upload, checksum: Checksum | None):
    """Append this request's body (if any) to ``upload``, finish it if full; returns the row after.

    Call with ``check_append`` passed, and with the upload's lock held (or
    before anyone knows the upload, at creation).
    """
    uploads = request.app.uploads
    upload_id, offset = upload["id"], upload["offset"]
    running = uploads.running_hashes.resume(upload_id, offset)
    if request.content_length:
        try:
            offset = write_chunk(request, uploads.partial_path(upload_id), offset, checksum, running)
        except OSError as error:
            if error.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            # The disk filled up under us: RFC 4918 §11.5, not a 500. write_chunk
            # cut the file back to the recorded offset, so a resume starts clean.
            raise HTTPError(507, "insufficient_storage") from None
    uploads.record_received(upload, offset, running, request.client_address)
    return uploads.reload(upload)


def receive_as_it_arrives(request: Request) -> ArrivingChunk:
    """The PATCH route's ``receive_body`` (web/early.py): lock the upload now, and append the body as it arrives.

    Runs on waitress's event loop, after the headers: the checks of an append,
    again under the lock (as ``append_chunk`` does), then arriving.py takes over.
    """
    upload, claimed_offset, checksum = append_headers(request)
    with contextlib.ExitStack() as lock:
        lock.enter_context(request.app.uploads.exclusive_access(upload["id"]))
        upload = owned_upload(request)  # read again under the lock: now nobody else can move it
        check_append(upload, claimed_offset, request.content_length)
        return ArrivingChunk(request.app.uploads, upload, checksum, lock.pop_all())


# --- handlers ---------------------------------------------------------------------

def describe_server(request: Request) -> Response:
    """OPTIONS: what this server speaks (tus §OPTIONS). Needs neither a token nor Tus-Resumable."""
    return bodiless(204, [
        ("Tus-Version", TUS_VERSION),
        ("Tus-Extension", TUS_EXTENSIONS),
        ("Tus-Max-Size", str(request.app.config.max_file_bytes)),
        ("Tus-Checksum-Algorithm", ",".join(CHECKSUM_ALGORITHMS)),
    ])


def creation_headers(request: Request) -> tuple[int, str, dict[str, bytes], Checksum | None]:
    """The headers of a creation, checked: (length, raw metadata, metadata, checksum), or why not."""
    require_tus_version(request)
    if request.header("Upload-Defer-Length"):
        raise HTTPError(400, "invalid_header", field="Upload-Defer-Length")  # creation-defer-length: not offered
    length = parse_size(request.header("Upload-Length"), "Upload-Length")
    raw_metadata = request.header("Upload-Metadata")
    metadata = parse_metadata(raw_metadata)
    if length > request.app.config.max_file_bytes:
        raise HTTPError(413, "file_too_large")
    if request.content_length and media_type(request.header("Content-Type")) != CHUNK_MEDIA_TYPE:
        raise HTTPError(415, "unsupported_media_type")
    checksum = parse_checksum(request.header("Upload-Checksum"))
    if request.content_length > length:
        raise HTTPError(413, "upload_length_exceeded")
    return length, raw_metadata, metadata, checksum


def refuse_creation_before_body(request: Request) -> None:
    """Before a creation's first chunk is read (web/early.py): its headers, the quota and the disk."""
    length = creation_headers(request)[0]
    request.app.storage.check_room(request.user_id, length)
    drops = request.app.drops
    received = drops.receipt_for(request)
    if received:
        drops.require_room(request.app.database.connection(), received, 1, length)


def append_headers(request: Request) -> tuple[Any, int, Checksum | None]:
    """The headers of an append, checked: (the upload's row, the claimed offset, checksum), or why not."""
    require_tus_version(request)
    upload = owned_upload(request)
    if media_type(request.header("Content-Type")) != CHUNK_MEDIA_TYPE:
        raise HTTPError(415, "unsupported_media_type")
    claimed_offset = parse_size(request.header("Upload-Offset"), "Upload-Offset")
    return upload, claimed_offset, parse_checksum(request.header("Upload-Checksum"))


def refuse_append_before_body(request: Request) -> None:
    """Before a chunk is read (web/early.py): a wrong offset or a chunk past Upload-Length is refused now."""
    upload, claimed_offset, _ = append_headers(request)
    check_append(upload, claimed_offset, request.content_length)


def create_upload(request: Request) -> Response:
    """POST: reserve room for ``Upload-Length`` bytes and answer where to send them (tus §Creation).

    With a body of type ``application/offset+octet-stream`` the first chunk
    comes along (tus §Creation With Upload); if that chunk fails, the whole
    creation fails and nothing is kept.
    """
    config = request.app.config
    length, raw_metadata, metadata, checksum = creation_headers(request)
    # A sender with a drop token (an upload request's link) uploads into the owner's space,
    # reserving the length against the request's limits too (sharing/drops.py).
    drops = request.app.drops
    received = drops.receipt_for(request)

    def require_request_room(connection):
        drops.require_room(connection, received, 1, length)

    upload = request.app.uploads.create(
        request.user_id, length, raw_metadata,
        name=clean_filename(metadata.get("filename", b"").decode("utf-8", "replace")),
        content_type=clean_content_type(metadata.get("filetype", b"").decode("utf-8", "replace")),
        received=received,
        require_request_room=require_request_room if received else None,
        # API.md Folders: a target folder, and the folders a dropped file sat in below it.
        # A sender through a request sees none of the owner's folders: theirs is the request's.
        folder_id=None if received else metadata.get("folder_id", b"").decode("utf-8", "replace") or None,
        folder_names=() if received else clean_relative_path(
            metadata.get("relativePath", b"").decode("utf-8", "replace")),
    )
    try:
        upload = receive(request, upload, checksum)  # no lock needed: nobody knows this upload yet
    except BaseException:
        request.app.uploads.forget(upload["id"])
        raise

    claims = request.user
    upload_token = request.app.tokens.issue(
        request.user_id, claims["name"], claims["ver"], UPLOAD, config.upload_expiry_seconds,
        account_key=claims["acct"], upload=upload["id"],
        sid=claims.get("sid"),  # API.md: it dies with the session that created it
    )
    headers = [("Location", f"/api/uploads/{upload['id']}"), ("Upload-Token", upload_token),
               *progress_headers(upload)]
    return bodiless(201, headers)


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
    """PATCH: append the body at ``Upload-Offset`` (tus §PATCH, §Checksum).

    Served by waitress, the body is already in the partial file (arriving.py):
    it is settled — checked, fsynced — and recorded. Otherwise (a chunked
    body, or a server that spooled it) it is read and appended here.
    """
    arriving = request.environ["wsgi.input"]
    if isinstance(arriving, ArrivingChunk):
        with arriving:  # the lock goes before the answer does: the next chunk finds the upload free
            offset = arriving.settle()
            request.app.uploads.record_received(arriving.upload, offset, arriving.running, request.client_address)
        return bodiless(204, progress_headers(request.app.uploads.reload(arriving.upload)))
    upload, claimed_offset, checksum = append_headers(request)
    with request.app.uploads.exclusive_access(upload["id"]):
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
    # A client that cancels usually has just cut off its own PATCH, whose arrived
    # bytes are still being made durable under the lock: wait for that, briefly,
    # rather than answer the one request that ends the upload with 409.
    with request.app.uploads.exclusive_access(upload["id"], wait_seconds=TERMINATION_WAIT_SECONDS):
        request.app.uploads.forget(upload["id"])
    return bodiless(204, [])


def list_unfinished(request: Request) -> Response:
    """GET (not tus: API.md): my uploads not yet complete, oldest first, with how far each got.

    A client that lost an upload's URL (a cleared browser, another machine) finds
    it here to resume it (HEAD/PATCH its id) or discard it (DELETE), instead of
    leaving its reservation to hold quota until it expires.
    """
    uploads = [{
        "id": upload["id"],
        "name": upload["name"],
        "length": upload["length"],
        "offset": upload["offset"],
        "created_at": iso_time(upload["created_at"]),
        "expires_at": iso_time(upload["expires_at"]),
        "folder_id": None,  # uploads go to the top level until folders exist
    } for upload in request.app.uploads.unfinished(request.user_id)]
    return envelope(request.language, 200, "upload_list", {"uploads": uploads})
