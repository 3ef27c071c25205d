"""A ZIP archive sent like a single file: no temporary file, no copy of the bytes.

How this works (APPNOTE.TXT, the PKWARE ZIP specification, version 6.3.10):

    [local header 1][bytes of file 1][data descriptor 1]
    [local header 2][bytes of file 2][data descriptor 2]
    ...
    [central directory: one header per file]
    [ZIP64 end record + locator, only when needed][end of central directory]

A reader starts from the *end*: the end record points at the central
directory, which lists every member with its CRC, sizes and the offset of its
local header. The local headers exist so that a file can be written front to
back in one pass.

Members are *stored* (method 0, no compression): files people share are
mostly already compressed (photos, video, archives), and a stored member's
bytes in the archive are exactly its bytes on disk. Every other record needs
only the member's name, size, time and CRC-32 — and the CRC-32 of every file
is computed once, while it is uploaded (files/hashing.py). So the whole
archive is known before its first byte: a list of *pieces*, each either a few
bytes of headers or a stored file taken as it is. ``ZipArchive`` reads that
list as one seekable file, and the server sends it exactly as it sends a
single file (``wsgi.file_wrapper``): read a block, send it, no per-byte work
in Python — no CRC to compute, no extra copy through an output buffer. Its
exact length is known up front, so the response carries a ``Content-Length``
(RFC 9110 §8.6): the client shows a real progress bar, and a connection cut
short is recognisably incomplete.

Each local header still sets general-purpose flag bit 3 ("data descriptor",
APPNOTE §4.4.4) with zero CRC and sizes, the true values following the bytes
in a data descriptor (§4.3.9): the layout of a streamed ZIP, which every
reader accepts. Flag bit 11 (§4.4.4, Appendix D) says names are UTF-8.

ZIP64 (§4.5.3, §4.3.14–15): the classic fields are 32 bits (sizes, offsets)
and 16 bits (entry count). A member of 4 GiB or more, an offset past 4 GiB or
more than 65 534 entries gets the value 0xFFFFFFFF (or 0xFFFF) in the classic
field and the true value in a ZIP64 extra field or end record. A member whose
*size* needs ZIP64 carries the extra field in its local header too, and then
its data descriptor holds 8-byte sizes (§4.3.9.2).

Times: DOS date/time fields (2-second steps, no time zone, §4.4.6) are
written in UTC, and an "extended timestamp" extra field (0x5455, Info-ZIP)
carries the exact Unix time, which unzip and most archivers prefer.
"""

from __future__ import annotations

import bisect
import dataclasses
import os
import posixpath
import struct
import time
from collections.abc import Iterable, Iterator, Sequence

# A classic field holding one of these markers means "the true value is in the ZIP64 record".
ZIP64_MARKER = 0xFFFFFFFF
ZIP64_COUNT_MARKER = 0xFFFF
# From these values on the classic 32-bit (or 16-bit) field cannot hold the value.
ZIP64_SIZE_LIMIT = ZIP64_MARKER
ZIP64_COUNT_LIMIT = ZIP64_COUNT_MARKER

VERSION_DEFAULT = 20  # 2.0: stored members with a data descriptor (APPNOTE §4.4.3.2)
VERSION_ZIP64 = 45  # 4.5: ZIP64 format
MADE_BY_UNIX = 3 << 8  # upper byte of "version made by": the external attributes are Unix mode bits
REGULAR_FILE_MODE = 0o100644  # -rw-r--r--: unzip then creates ordinary, non-executable files
FOLDER_MODE = 0o40755  # drwxr-xr-x, for a member whose name ends in "/" (a folder's own entry)
MSDOS_FOLDER = 0x10  # the low byte of the external attributes: the MS-DOS "directory" bit, for Windows' unpacker

FLAG_DATA_DESCRIPTOR = 0x0008
FLAG_UTF8_NAME = 0x0800
METHOD_STORED = 0

EXTRA_ZIP64 = 0x0001
EXTRA_UNIX_TIME = 0x5455
UNIX_TIME_HAS_MTIME = 0x01
LARGEST_UNIX_TIME = 0xFFFFFFFF  # the extended timestamp is an unsigned 32-bit field

LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
DATA_DESCRIPTOR = struct.Struct("<IIII")
DATA_DESCRIPTOR_ZIP64 = struct.Struct("<IIQQ")
CENTRAL_HEADER = struct.Struct("<IHHHHHHIIIHHHHHII")
ZIP64_END = struct.Struct("<IQHHIIQQQQ")
ZIP64_LOCATOR = struct.Struct("<IIQI")
END_OF_CENTRAL_DIRECTORY = struct.Struct("<IHHHHIIH")

LOCAL_HEADER_SIGNATURE = 0x04034B50
DATA_DESCRIPTOR_SIGNATURE = 0x08074B50
CENTRAL_HEADER_SIGNATURE = 0x02014B50
ZIP64_END_SIGNATURE = 0x06064B50
ZIP64_LOCATOR_SIGNATURE = 0x07064B50
END_SIGNATURE = 0x06054B50


@dataclasses.dataclass(frozen=True)
class ZipMember:
    """One file in the archive: its name there, where its bytes are, how many, when modified, their CRC-32.

    ``name`` may contain ``/`` for folders (APPNOTE §4.4.17.1: forward slashes,
    no drive letter, no leading slash); a name ending in ``/`` is a folder's
    own entry, with no bytes (``size`` 0, ``crc32`` 0, ``path`` unused), so an
    empty folder unpacks too. ``modified_at`` is Unix time in seconds.
    """

    name: str
    path: str
    size: int
    modified_at: float
    crc32: int


class ZipSourceChanged(OSError):
    """A member's file held fewer bytes than promised: the announced length can no longer be met.

    An ``OSError``, as a failed read is: the server then closes the connection,
    and the client sees a body shorter than its ``Content-Length``.
    """


def unique_names(names: Iterable[str]) -> list[str]:
    """The same names, with later duplicates renamed ``a (2).txt``, ``a (3).txt``, ….

    Compared case-insensitively, because unpacking ``A.txt`` and ``a.txt`` on
    Windows or macOS would overwrite one with the other. The first of each name
    keeps it; a generated name never takes a name that appears elsewhere in the list.
    """
    names = list(names)
    every_original = {name.casefold() for name in names}
    taken: set[str] = set()
    result = []
    for name in names:
        candidate = name
        if candidate.casefold() in taken:
            stem, extension = posixpath.splitext(name)
            number = 2
            candidate = f"{stem} ({number}){extension}"
            while candidate.casefold() in taken or candidate.casefold() in every_original:
                number += 1
                candidate = f"{stem} ({number}){extension}"
        taken.add(candidate.casefold())
        result.append(candidate)
    return result


@dataclasses.dataclass(frozen=True)
class FilePiece:
    """``size`` bytes of the file at ``path``, from its start."""

    path: str
    size: int


class ZipArchive:
    """The archive of ``members`` as a read-only, seekable file (what ``wsgi.file_wrapper`` wants).

    A member's file is opened when the reading reaches it and closed when it
    moves on. ``os.pread`` reads at an offset without moving a file position,
    so seeking costs nothing.

    A read returns at most ``max_read_bytes``, whatever is asked: waitress asks
    for as much as the socket's send buffer holds (up to 4 MiB), and reads of
    such sizes that vary at every member's end make the C allocator map fresh
    memory for each one and fault in every page — measured eight times slower
    than 1 MiB reads, which reuse the same memory.
    """

    def __init__(self, members: Sequence[ZipMember], max_read_bytes: int = 1024 * 1024):
        self.max_read_bytes = max_read_bytes
        self.pieces: list[bytes | FilePiece] = list(_pieces(members))
        self.starts: list[int] = []  # where each piece starts in the archive
        self.length = 0
        for piece in self.pieces:
            self.starts.append(self.length)
            self.length += _piece_size(piece)
        self.position = 0
        self.open_path: str | None = None
        self.open_descriptor: int | None = None
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (and ``max_read_bytes``), across pieces."""
        if size < 0:
            size = self.length - self.position
        size = min(size, self.max_read_bytes)
        chunks = []
        while size > 0 and self.position < self.length:
            index = bisect.bisect_right(self.starts, self.position) - 1
            piece = self.pieces[index]
            chunk = self._read_piece(piece, self.position - self.starts[index], size)
            chunks.append(chunk)
            self.position += len(chunk)
            size -= len(chunk)
        return b"".join(chunks)  # a single chunk is returned as it is, not copied

    def _read_piece(self, piece: bytes | FilePiece, offset: int, size: int) -> bytes:
        size = min(size, _piece_size(piece) - offset)
        if isinstance(piece, bytes):
            return piece[offset:offset + size]
        if self.open_path != piece.path:
            self._close_file()
            self.open_descriptor = os.open(piece.path, os.O_RDONLY)
            self.open_path = piece.path
        data = os.pread(self.open_descriptor, size, offset)
        if not data:
            raise ZipSourceChanged(f"{piece.path} ended {piece.size - offset} bytes early")
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self.position, os.SEEK_END: self.length}[whence]
        self.position = min(max(base + offset, 0), self.length)
        return self.position

    def tell(self) -> int:
        return self.position

    def seekable(self) -> bool:
        return True

    def _close_file(self) -> None:
        if self.open_descriptor is not None:
            os.close(self.open_descriptor)
            self.open_descriptor = self.open_path = None

    def close(self) -> None:
        self._close_file()
        self.closed = True


def _pieces(members: Sequence[ZipMember]) -> Iterator[bytes | FilePiece]:
    entries = list(_layout(members))
    for entry in entries:
        yield _local_header(entry)
        if entry.member.size:
            yield FilePiece(entry.member.path, entry.member.size)
        yield _data_descriptor(entry)
    central = b"".join(_central_header(entry) for entry in entries)
    yield central
    yield _end_records(len(entries), _offset_after(entries), len(central))


def _piece_size(piece: bytes | FilePiece) -> int:
    return piece.size if isinstance(piece, FilePiece) else len(piece)


# --- layout ----------------------------------------------------------------------


@dataclasses.dataclass
class _Entry:
    member: ZipMember
    encoded_name: bytes
    offset: int  # of the local header, from the start of the archive

    @property
    def size_needs_zip64(self) -> bool:
        return self.member.size >= ZIP64_SIZE_LIMIT

    @property
    def offset_needs_zip64(self) -> bool:
        return self.offset >= ZIP64_SIZE_LIMIT

    @property
    def version_needed(self) -> int:
        return VERSION_ZIP64 if self.size_needs_zip64 or self.offset_needs_zip64 else VERSION_DEFAULT

    @property
    def end(self) -> int:
        return self.offset + len(_local_header(self)) + self.member.size + _descriptor_length(self)


def _layout(members: Sequence[ZipMember]) -> Iterator[_Entry]:
    """Each member with its encoded name and the offset of its local header."""
    offset = 0
    for member in members:
        entry = _Entry(member, member.name.encode("utf-8"), offset)
        offset = entry.end
        yield entry


def _offset_after(entries: list[_Entry]) -> int:
    return entries[-1].end if entries else 0


# --- records -------------------------------------------------------------------


def _local_header(entry: _Entry) -> bytes:
    extra = _unix_time_extra(entry.member.modified_at)
    if entry.size_needs_zip64:
        # Sizes unknown-until-the-descriptor are zero here too; this field's
        # presence is what tells a reader the descriptor holds 8-byte sizes.
        extra = struct.pack("<HHQQ", EXTRA_ZIP64, 16, 0, 0) + extra
        sizes_marker = ZIP64_MARKER
    else:
        sizes_marker = 0
    dos_time, dos_date = _dos_time_and_date(entry.member.modified_at)
    header = LOCAL_HEADER.pack(
        LOCAL_HEADER_SIGNATURE, entry.version_needed, FLAG_DATA_DESCRIPTOR | FLAG_UTF8_NAME, METHOD_STORED,
        dos_time, dos_date, 0, sizes_marker, sizes_marker, len(entry.encoded_name), len(extra),
    )
    return header + entry.encoded_name + extra


def _descriptor_length(entry: _Entry) -> int:
    return DATA_DESCRIPTOR_ZIP64.size if entry.size_needs_zip64 else DATA_DESCRIPTOR.size


def _data_descriptor(entry: _Entry) -> bytes:
    # Stored: the compressed size is the uncompressed size.
    layout = DATA_DESCRIPTOR_ZIP64 if entry.size_needs_zip64 else DATA_DESCRIPTOR
    return layout.pack(DATA_DESCRIPTOR_SIGNATURE, entry.member.crc32, entry.member.size, entry.member.size)


def _central_header(entry: _Entry) -> bytes:
    # APPNOTE §4.5.3: the ZIP64 extra holds only the fields whose classic slot says 0xFFFFFFFF, in this order.
    zip64_values = []
    size_field = entry.member.size
    offset_field = entry.offset
    if entry.size_needs_zip64:
        zip64_values += [entry.member.size, entry.member.size]  # uncompressed, then compressed
        size_field = ZIP64_MARKER
    if entry.offset_needs_zip64:
        zip64_values.append(entry.offset)
        offset_field = ZIP64_MARKER
    extra = b""
    if zip64_values:
        extra = struct.pack(f"<HH{len(zip64_values)}Q", EXTRA_ZIP64, 8 * len(zip64_values), *zip64_values)
    extra += _unix_time_extra(entry.member.modified_at)
    dos_time, dos_date = _dos_time_and_date(entry.member.modified_at)
    header = CENTRAL_HEADER.pack(
        CENTRAL_HEADER_SIGNATURE, MADE_BY_UNIX | entry.version_needed, entry.version_needed,
        FLAG_DATA_DESCRIPTOR | FLAG_UTF8_NAME, METHOD_STORED, dos_time, dos_date, entry.member.crc32,
        size_field, size_field, len(entry.encoded_name), len(extra), 0, 0, 0, _external_attributes(entry), offset_field,
    )
    return header + entry.encoded_name + extra


def _external_attributes(entry: _Entry) -> int:
    """Unix mode bits in the upper half (with ``MADE_BY_UNIX``), MS-DOS attributes in the low byte."""
    if entry.member.name.endswith("/"):
        return FOLDER_MODE << 16 | MSDOS_FOLDER
    return REGULAR_FILE_MODE << 16


def _end_records(count: int, central_offset: int, central_size: int) -> bytes:
    needs_zip64 = (
        count >= ZIP64_COUNT_LIMIT or central_offset >= ZIP64_SIZE_LIMIT or central_size >= ZIP64_SIZE_LIMIT
    )
    if not needs_zip64:
        return END_OF_CENTRAL_DIRECTORY.pack(END_SIGNATURE, 0, 0, count, count, central_size, central_offset, 0)
    zip64_end_offset = central_offset + central_size
    # "Size of the ZIP64 end record" counts the bytes after its own first 12 (§4.3.14.1).
    zip64_end = ZIP64_END.pack(
        ZIP64_END_SIGNATURE, ZIP64_END.size - 12, MADE_BY_UNIX | VERSION_ZIP64, VERSION_ZIP64,
        0, 0, count, count, central_size, central_offset,
    )
    locator = ZIP64_LOCATOR.pack(ZIP64_LOCATOR_SIGNATURE, 0, zip64_end_offset, 1)
    end = END_OF_CENTRAL_DIRECTORY.pack(
        END_SIGNATURE, 0, 0, ZIP64_COUNT_MARKER, ZIP64_COUNT_MARKER, ZIP64_MARKER, ZIP64_MARKER, 0
    )
    return zip64_end + locator + end


def _unix_time_extra(modified_at: float) -> bytes:
    seconds = min(max(int(modified_at), 0), LARGEST_UNIX_TIME)
    return struct.pack("<HHBI", EXTRA_UNIX_TIME, 5, UNIX_TIME_HAS_MTIME, seconds)


def _dos_time_and_date(modified_at: float) -> tuple[int, int]:
    """DOS fields (APPNOTE §4.4.6): years 1980–2107, seconds in steps of two; clamped to that range."""
    moment = time.gmtime(max(modified_at, 315532800))  # 1980-01-01T00:00:00Z, the earliest DOS date
    if moment.tm_year > 2107:
        return (23 << 11) | (59 << 5) | (58 // 2), ((2107 - 1980) << 9) | (12 << 5) | 31
    dos_time = (moment.tm_hour << 11) | (moment.tm_min << 5) | (moment.tm_sec // 2)
    dos_date = ((moment.tm_year - 1980) << 9) | (moment.tm_mon << 5) | moment.tm_mday
    return dos_time, dos_date
