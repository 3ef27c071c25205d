"""Streaming multipart uploads: ``POST /api/files`` and ``POST /api/upload_binary``.

Theory of operation
-------------------
A browser form (or ``curl -F file=@big.iso``) sends ``multipart/form-data``
(RFC 7578): a body cut into *parts* by a boundary string announced in the
``Content-Type`` header. Each part starts with a few header lines —
``Content-Disposition: form-data; name="file"; filename="a.txt"`` and maybe a
``Content-Type`` — then a blank line, then its bytes.

The body is parsed as it arrives: right after the headers (web/early.py) the
route's ``receive_body`` gives waitress an ``ArrivingParts``, and waitress's
event loop hands it each piece it reads (server.py), so a file's bytes are
written once, straight to their temporary file, instead of first into
waitress's spool. (A body that was spooled anyway — sent chunked, or by a test
client — is read from ``wsgi.input`` and fed to the same ``ArrivingParts``.)
Each piece goes into ``multipart.PushMultipartParser``, which does no I/O of
its own and turns bytes into *events*:

    MultipartSegment   a part begins (its headers are parsed)
    bytes              some of that part's content
    None               the part is complete

``Upload`` reacts to those events. A part named ``file`` is a file: its bytes
are hashed (SHA-256 and CRC-32, hashing.py) and written to a fresh temporary
file under ``tmp/`` as they arrive, so memory holds a chunk or two whatever
the file's size. The hashing runs on a helper thread, one chunk behind
(``BackgroundHash``), so it overlaps the parsing and writing instead of adding
to them. A small text field the handler asked for (the ``filename`` rename)
is kept in memory, bounded. Any other part is skipped.

Limits are checked while the bytes flow, before they are written: the parser
stops a part longer than ``max_file_bytes`` (413 ``file_too_large``), and
``Upload`` stops when the request's files together pass what is left of the
user's quota (413 ``quota_exceeded``). Nothing past a limit is written.

When the body has been parsed completely, the handler (on a worker thread,
never the event loop) fsyncs every temporary file — most of their bytes are
on the disk already, as the disk was asked to start on them every 16 MiB
(writeback.py) — and ``Storage.commit`` makes them all visible in one
transaction. If anything fails before that — a limit, a malformed body, a
missing ``file`` part, a full disk, a bug — every temporary file of the
request is deleted: a multipart request is all or nothing, and a refused
upload leaves no debris.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
from email.utils import decode_rfc2231
from pathlib import Path
from typing import Iterator
from urllib.parse import unquote

from multipart import MultipartError, MultipartSegment, ParserLimitReached, PushMultipartParser, parse_options_header

from ..config import KIB, MULTIPART_FRAMING_BYTES
from ..web.early import BodyReceiver
from ..web.http import HTTPError, Request, Response, envelope, media_type
from .folders import resolve_parent
from .hashing import BackgroundHash
from .storage import Received, StagedFile, clean_content_type, clean_filename
from .writeback import EarlyWriteback

log = logging.getLogger("authupload")

FILE_FIELD = "file"  # the part name API.md specifies; RFC 7578 §4.3: one part per file, all with this name
RENAME_FIELD = "filename"  # upload_binary's rename, as a query parameter or a form field
FOLDER_FIELD = "folder_id"  # the folder the files go into (API.md: Folders); absent or "root": the top level

# Bounds on what is held in memory: part headers and kept fields. Not settings, as
# no legitimate client comes near them: the longest header line is a
# Content-Disposition with a file name, and 255 characters are at most 1020 bytes.
MAX_PART_HEADER_BYTES = 4 * KIB
MAX_PART_HEADERS = 8  # RFC 7578 defines three: Content-Disposition, Content-Type, Content-Transfer-Encoding
MAX_FIELD_BYTES = 4 * KIB
# RFC 8187 §3.2.1 ext-value, as the filename* parameter: charset'language'percent-encoded
EXTENDED_FILENAME = re.compile(r";\s*filename\*\s*=\s*([^;\s]+)", re.IGNORECASE)


def upload_files(request: Request) -> Response:
    """``POST /api/files``: store every ``file`` part of the request, all or none."""
    with received_files(request) as upload:
        files = commit(request, upload)
    return envelope(request.language, 200, "uploaded", {"files": files})


def upload_binary(request: Request) -> Response:
    """``POST /api/upload_binary``: the tutorial's path; ``filename`` may rename a single file.

    The new name comes from the query string or else a form field of that
    name, and is cleaned like any client name. It names one file, so a
    request with several files and a rename is refused (400 ``invalid_field``).
    """
    with received_files(request, keep_fields=(RENAME_FIELD,)) as upload:
        new_name = request.query.get(RENAME_FIELD) or upload.fields.get(RENAME_FIELD, "")
        if new_name:
            if len(upload.staged) != 1:
                raise HTTPError(400, "invalid_field", field=RENAME_FIELD)
            upload.staged[0].name = clean_filename(new_name)
        files = commit(request, upload)
    return envelope(request.language, 200, "uploaded", {"files": files})


def refuse_before_body(request: Request) -> None:
    """Before a multipart body is read (web/early.py): refuse one that cannot fit, from its length alone.

    The body holds the files plus their multipart framing (boundaries and part
    headers, within ``MULTIPART_FRAMING_BYTES``): a body longer than the free
    quota and that allowance can only end in ``413 quota_exceeded``.
    """
    storage = request.app.storage
    multipart_boundary(request.header("Content-Type"))
    if request.content_length > storage.quota_left_bytes(request.user_id) + MULTIPART_FRAMING_BYTES:
        raise HTTPError(413, "quota_exceeded")
    storage.check_disk(request.content_length)
    drops = request.app.drops
    received = drops.receipt_for(request)
    if received:  # a sender's upload must also fit the upload request's room
        least_file_bytes = max(0, request.content_length - MULTIPART_FRAMING_BYTES)
        drops.require_room(request.app.database.connection(), received, 1, least_file_bytes)


def receive_files_as_they_arrive(request: Request) -> "ArrivingParts":
    """``POST /api/files``'s ``receive_body`` (web/early.py): parse the body as waitress reads it."""
    return ArrivingParts(request, keep_fields=())


def receive_binary_as_it_arrives(request: Request) -> "ArrivingParts":
    """``POST /api/upload_binary``'s ``receive_body``: the same, keeping the ``filename`` field."""
    return ArrivingParts(request, keep_fields=(RENAME_FIELD,))


@contextlib.contextmanager
def received_files(request: Request, keep_fields: tuple[str, ...] = ()) -> Iterator["Upload"]:
    """The request's files in tmp/, fsynced; inside the block, commit them (or refuse them).

    Served by waitress, the body was parsed as it arrived (``ArrivingParts``
    is ``wsgi.input``); a body spooled before the application ran is read
    and parsed here, the same way. The block sees the whole body parsed:
    ``upload.staged`` (at least one file) and ``upload.fields`` (the
    ``keep_fields`` that were sent). Whatever the block does not commit —
    all of it, if anything fails — is deleted on leaving.
    """
    arriving = request.environ["wsgi.input"]
    if not isinstance(arriving, ArrivingParts):
        arriving = ArrivingParts(request, keep_fields)
        for chunk in request.body_chunks(request.app.config.read_chunk_bytes):
            arriving.write(chunk)
            if arriving.error is not None:
                break
    try:
        arriving.finish()
        upload = arriving.upload
        if upload.received is not None:
            folder_id = upload.received.folder_id  # the request's folder: a sender never picks one
        else:
            folder_id = resolve_parent(request.app.database.connection(), request.user_id,
                                       upload.fields.get(FOLDER_FIELD) or None, FOLDER_FIELD)
        for staged in upload.staged:
            staged.folder_id = folder_id
        yield upload
    except OSError as error:
        if error.errno != errno.ENOSPC:
            raise
        # The disk filled up under us (other writers): RFC 4918 §11.5, not a 500.
        raise HTTPError(507, "insufficient_storage") from None
    finally:
        arriving.close()


class ArrivingParts(BodyReceiver):
    """A multipart body parsed piece by piece as it arrives: file parts go straight to tmp/.

    ``write`` runs on waitress's event loop (server.py) and does only quick
    work: the parser's events, writes into the page cache, hashes handed to
    their thread. The first refusal (a limit, a malformed body, a full disk)
    becomes ``error`` and nothing more is parsed. ``finish``, on the worker
    thread, ends the parse and fsyncs the files; ``close`` deletes whatever was
    not committed — also when the client hung up halfway.
    """

    def __init__(self, request: Request, keep_fields: tuple[str, ...]):
        storage = request.app.storage
        self.max_file_bytes = request.app.config.max_file_bytes
        self.parser = multipart_parser(multipart_boundary(request.header("Content-Type")), request)
        # Storing the body needs its size on the disk; refuse early if it cannot fit.
        storage.check_disk(request.content_length)
        # A sender with a drop token (an upload request's link) uploads into the owner's space,
        # within the request's own limits as well as the owner's quota.
        drops = request.app.drops
        received = drops.receipt_for(request)
        self.upload = Upload(storage, (*keep_fields, FOLDER_FIELD),
                             quota_left_bytes=storage.quota_left_bytes(request.user_id),
                             received=received, request_room=drops.room(received) if received else (None, None))

    def write(self, data: bytes) -> None:
        try:
            with parser_refusals(self.upload, self.max_file_bytes):
                for event in self.parser.parse(data):
                    self.upload.handle(event)
        except HTTPError as refusal:
            self.error = refusal
        except OSError as failure:
            if failure.errno == errno.ENOSPC:
                self.error = HTTPError(507, "insufficient_storage")  # RFC 4918 §11.5
            else:
                log.error("cannot store an uploaded part: %s", failure)
                self.error = HTTPError(500, "server_error")

    def finish(self) -> None:
        """The whole body is here: check it ended properly and held a file, and fsync the files."""
        if self.error is not None:
            raise self.error
        with parser_refusals(self.upload, self.max_file_bytes):
            self.parser.close()  # raises if the body stopped before the closing delimiter
        if not self.upload.staged:
            raise HTTPError(400, "invalid_multipart")  # API.md: no `file` part is a malformed upload
        for staged in self.upload.staged:
            sync_to_disk(staged.path)  # so a crash after the commit cannot lose them

    def close(self) -> None:
        self.upload.discard_leftovers()


def commit(request: Request, upload: "Upload") -> list[dict]:
    """Make the staged files the owner's; through an upload request, only if it still has room."""
    if upload.received is None:
        return request.app.storage.commit(request.user_id, upload.staged)
    for staged in upload.staged:
        staged.received = upload.received

    def require_request_room(connection):
        # Again inside the commit's transaction: another sender may have taken the room meanwhile.
        size = sum(file.size for file in upload.staged)
        request.app.drops.require_room(connection, upload.received, len(upload.staged), size)

    return request.app.storage.commit(request.user_id, upload.staged, before_check=require_request_room)


def sync_to_disk(path: Path) -> None:
    """fsync a closed file's bytes (any descriptor of a file flushes all of its data)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def multipart_boundary(content_type: str) -> str:
    """The boundary of a ``multipart/form-data`` body (RFC 7578 §4.1).

    Another type is 415: we do not speak it. The right type without a usable
    boundary — none, empty, longer than the 1–70 characters RFC 2046 §5.1.1
    allows, or one the parser cannot use (a line break in it) — is a body we
    cannot split into parts: malformed multipart, 400 (API.md).
    """
    if media_type(content_type) != "multipart/form-data":
        raise HTTPError(415, "unsupported_media_type")
    _, options = parse_options_header(content_type)
    boundary = options.get("boundary", "")
    if not 1 <= len(boundary) <= 70:
        raise HTTPError(400, "invalid_multipart")
    return boundary


def multipart_parser(boundary: str, request: Request) -> PushMultipartParser:
    """A sans-IO parser for this body, with our limits; 400 for a boundary it cannot use."""
    config = request.app.config
    try:
        return PushMultipartParser(
            boundary,
            content_length=request.content_length,
            max_header_size=MAX_PART_HEADER_BYTES,
            max_header_count=MAX_PART_HEADERS,
            max_segment_size=config.max_file_bytes,
            max_segment_count=config.max_parts_per_upload,
            # Part headers are read byte for byte (latin-1 maps each byte to one
            # character and never fails); part_text then reads them as UTF-8,
            # with replacement characters where they are not, rather than refusing
            # the whole upload over one badly encoded name.
            header_charset="latin-1",
        )
    except MultipartError:
        raise HTTPError(400, "invalid_multipart") from None


@contextlib.contextmanager
def parser_refusals(upload: "Upload", max_file_bytes: int):
    """The parser's complaints as our errors: a part too big 413, anything else malformed 400."""
    try:
        yield
    except ParserLimitReached:
        if upload.part_over_size(max_file_bytes):
            raise HTTPError(413, "file_too_large") from None
        raise HTTPError(400, "invalid_multipart") from None  # too many parts, or headers too long
    except MultipartError:
        raise HTTPError(400, "invalid_multipart") from None  # malformed, or cut off before the end


def part_text(raw: str | None) -> str | None:
    """A part header value, read with the parser's latin-1, as the UTF-8 text browsers send."""
    if raw is None:
        return None
    return raw.encode("latin-1").decode("utf-8", "replace")


def part_filename(segment: MultipartSegment) -> str | None:
    """The part's file name: ``filename``, or else ``filename*`` (RFC 8187 §3.2.1).

    RFC 7578 §4.2 says a form sends the name in ``filename``, as UTF-8, and
    not in ``filename*``; some clients still send only the encoded form
    (``UTF-8''%E2%82%AC%20rates.txt``), so it is read when ``filename`` is absent.
    """
    if segment.filename is not None:
        return part_text(segment.filename)
    found = EXTENDED_FILENAME.search(segment.header("Content-Disposition", ""))
    if found is None:
        return None
    charset, _, encoded = decode_rfc2231(found.group(1))
    if charset is None:  # no charset'language' prefix: the value is the name as is
        return part_text(encoded)
    try:
        return unquote(encoded, encoding=charset, errors="replace")
    except LookupError:  # a charset Python does not know
        return unquote(encoded, encoding="utf-8", errors="replace")


class Upload:
    """One request's parts as the parser reports them: files go to tmp/, wanted fields to memory."""

    def __init__(self, storage, keep_fields: tuple[str, ...], quota_left_bytes: int,
                 received: Received | None = None, request_room: tuple[int | None, int | None] = (None, None)):
        self.storage = storage
        self.keep_fields = keep_fields
        self.quota_left_bytes = quota_left_bytes
        self.received = received  # the upload request these files come through, if any
        # Files and bytes that request can still take (None: no limit, or no request).
        self.request_files_left, self.request_bytes_left = request_room
        self.staged: list[StagedFile] = []  # complete files, waiting for the commit
        self.fields: dict[str, str] = {}
        self.file_bytes = 0  # bytes of all file parts so far: the quota counts the whole request
        self.segment: MultipartSegment | None = None  # the part being received
        self.part: StagingFile | FieldBuffer | None = None  # where its bytes go; None: skipped

    def handle(self, event: MultipartSegment | bytes | None) -> None:
        """React to one parser event: a part starts, some of its bytes, or it ends."""
        if isinstance(event, MultipartSegment):
            self.start_part(event)
        elif event is not None:
            self.receive(event)
        else:
            self.finish_part()

    def start_part(self, segment: MultipartSegment) -> None:
        self.segment = segment
        name = part_text(segment.name)
        if name == FILE_FIELD:
            if self.request_files_left is not None and len(self.staged) >= self.request_files_left:
                raise HTTPError(413, "request_full")  # one file more than the upload request takes
            # RFC 7578 §4.2: the filename is the client's, unsafe as given; it is
            # only cleaned for display, never used in a path.
            self.part = StagingFile(self.storage.new_temp_path(), clean_filename(part_filename(segment)),
                                    clean_content_type(segment.content_type))
        elif name in self.keep_fields:
            self.part = FieldBuffer(name)
        else:
            self.part = None  # an unknown field: its bytes are read and dropped

    def receive(self, chunk: bytes) -> None:
        if isinstance(self.part, StagingFile):
            self.file_bytes += len(chunk)
            if self.file_bytes > self.quota_left_bytes:
                raise HTTPError(413, "quota_exceeded")  # checked before writing: nothing past the quota lands
            if self.request_bytes_left is not None and self.file_bytes > self.request_bytes_left:
                raise HTTPError(413, "request_full")  # nor past the upload request's bytes
        if self.part is not None:
            self.part.write(chunk)

    def finish_part(self) -> None:
        if isinstance(self.part, StagingFile):
            self.staged.append(self.part.finish())
        elif isinstance(self.part, FieldBuffer):
            self.fields[self.part.name] = self.part.text()
        self.segment = self.part = None

    def part_over_size(self, max_bytes: int) -> bool:
        """Whether the part being received has passed ``max_bytes`` (the parser's size limit)."""
        return self.segment is not None and self.segment.bytes_received > max_bytes

    def discard_leftovers(self) -> None:
        """Delete the temporary files still in tmp/: all of them after a failure, none after a commit."""
        if isinstance(self.part, StagingFile):
            self.part.abandon()
        for staged in self.staged:
            staged.path.unlink(missing_ok=True)  # a committed file has moved away: nothing to do


class StagingFile:
    """A file part being written to its temporary file, hashed as it is written."""

    def __init__(self, path: Path, name: str, content_type: str):
        self.path = path
        self.name = name
        self.content_type = content_type
        self.size = 0
        self.digest = BackgroundHash()
        self.file = open(path, "xb")  # "x": a fresh random name; never write into an existing file
        self.writeback = EarlyWriteback(self.file)

    def write(self, chunk: bytes) -> None:
        self.digest.update(chunk)
        self.file.write(chunk)
        self.writeback.wrote(len(chunk))
        self.size += len(chunk)

    def finish(self) -> StagedFile:
        """Close the file; its fsync waits for the worker thread (ArrivingParts.finish)."""
        self.file.close()
        return StagedFile(self.path, self.name, self.size, self.digest.result(), self.content_type)

    def abandon(self) -> None:
        self.file.close()
        self.path.unlink(missing_ok=True)


class FieldBuffer:
    """A small text field kept in memory, at most ``MAX_FIELD_BYTES``, UTF-8 (RFC 7578 §5.1.2)."""

    def __init__(self, name: str):
        self.name = name
        self.data = bytearray()

    def write(self, chunk: bytes) -> None:
        self.data += chunk
        if len(self.data) > MAX_FIELD_BYTES:
            raise HTTPError(400, "invalid_field", field=self.name)

    def text(self) -> str:
        try:
            return self.data.decode("utf-8")
        except UnicodeDecodeError:
            raise HTTPError(400, "invalid_field", field=self.name) from None
