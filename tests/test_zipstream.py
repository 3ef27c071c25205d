"""The ZIP as a file: readable by Python's zipfile and Info-ZIP's unzip, exact length, seekable, ZIP64."""

from __future__ import annotations

import calendar
import io
import os
import shutil
import struct
import subprocess
import zipfile
import zlib

import pytest

from authupload.files import zipstream
from authupload.files.zipstream import ZipArchive, ZipMember, ZipSourceChanged, unique_names

UNZIP = shutil.which("unzip")
MODIFIED_AT = calendar.timegm((2024, 5, 17, 13, 45, 31))


def member(tmp_path, name, content: bytes, modified_at=MODIFIED_AT) -> ZipMember:
    path = tmp_path / f"blob-{len(list(tmp_path.iterdir()))}"
    path.write_bytes(content)
    return ZipMember(name, str(path), len(content), modified_at, zlib.crc32(content))


def read_in_chunks(archive: ZipArchive, chunk_bytes: int):
    while chunk := archive.read(chunk_bytes):
        yield chunk


def archive_bytes(members, chunk_bytes=64 * 1024) -> bytes:
    archive = ZipArchive(members)
    try:
        return b"".join(read_in_chunks(archive, chunk_bytes))
    finally:
        archive.close()


def zip_length(members) -> int:
    return ZipArchive(members).length


def unzip_test(archive_path) -> None:
    """``unzip -t``: Info-ZIP checks every CRC and size against the central directory."""
    if UNZIP is None:
        return
    result = subprocess.run([UNZIP, "-t", str(archive_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No errors detected" in result.stdout


@pytest.fixture
def sample(tmp_path):
    blobs = tmp_path / "blobs"
    blobs.mkdir()
    return [
        member(blobs, "notes.txt", b"hello, zip\n"),
        member(blobs, "empty.bin", b""),
        member(blobs, "照片/海边 ü.jpg", os.urandom(200_000)),
        member(blobs, "big.bin", os.urandom(1_000_003)),
    ]


def test_zipfile_reads_every_member_with_its_bytes_name_and_time(sample, tmp_path):
    data = archive_bytes(sample)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None  # every CRC matches
        assert archive.namelist() == [m.name for m in sample]
        for info, source in zip(archive.infolist(), sample):
            assert archive.read(info) == open(source.path, "rb").read()
            assert info.compress_type == zipfile.ZIP_STORED
            assert info.flag_bits & 0x0800  # UTF-8 names
            assert info.flag_bits & 0x0008  # sizes and CRC in a data descriptor
            assert info.date_time == (2024, 5, 17, 13, 45, 30)  # UTC, two-second steps
            assert info.external_attr >> 16 == 0o100644
    path = tmp_path / "sample.zip"
    path.write_bytes(data)
    unzip_test(path)


@pytest.mark.skipif(UNZIP is None, reason="unzip is not installed")
def test_unzip_extracts_the_same_bytes_and_the_exact_modification_time(sample, tmp_path):
    path = tmp_path / "sample.zip"
    path.write_bytes(archive_bytes(sample))
    target = tmp_path / "out"
    subprocess.run([UNZIP, "-q", str(path), "-d", str(target)], check=True, env={**os.environ, "TZ": "Asia/Tokyo"})
    for source in sample:
        extracted = target / source.name
        assert extracted.read_bytes() == open(source.path, "rb").read()
        # The extended timestamp carries the exact UTC second, whatever the unpacker's time zone.
        assert extracted.stat().st_mtime == MODIFIED_AT


@pytest.mark.skipif(UNZIP is None, reason="unzip is not installed")
def test_a_folder_entry_unpacks_as_an_empty_folder(tmp_path):
    blobs = tmp_path / "blobs"
    blobs.mkdir()
    members = [ZipMember("photos/", "", 0, MODIFIED_AT, 0), ZipMember("photos/empty/", "", 0, MODIFIED_AT, 0),
               member(blobs, "photos/a.txt", b"a")]
    path = tmp_path / "folders.zip"
    path.write_bytes(archive_bytes(members))
    with zipfile.ZipFile(path) as archive:
        assert [info.is_dir() for info in archive.infolist()] == [True, True, False]
        assert archive.testzip() is None
    unzip_test(path)
    target = tmp_path / "out"
    subprocess.run([UNZIP, "-q", str(path), "-d", str(target)], check=True)
    assert (target / "photos" / "empty").is_dir() and list((target / "photos" / "empty").iterdir()) == []
    assert (target / "photos" / "a.txt").read_bytes() == b"a"


def test_length_is_known_before_any_byte_and_exact(sample):
    assert zip_length(sample) == len(archive_bytes(sample))
    assert zip_length([]) == len(archive_bytes([])) == 22  # just the end record


def test_the_same_archive_whatever_the_chunk_size(sample):
    reference = archive_bytes(sample)
    assert archive_bytes(sample, chunk_bytes=1) == reference
    assert archive_bytes(sample, chunk_bytes=7919) == reference
    assert archive_bytes(sample, chunk_bytes=10**7) == reference


def test_reads_never_exceed_the_size_asked_so_memory_stays_bounded(sample):
    chunks = list(read_in_chunks(ZipArchive(sample), 4096))
    assert max(len(chunk) for chunk in chunks) <= 4096


def test_a_read_never_exceeds_its_bound_whatever_is_asked(sample):
    """waitress asks for a socket buffer's worth (up to 4 MiB); memory per read stays at the bound."""
    reference = archive_bytes(sample)
    archive = ZipArchive(sample, max_read_bytes=1000)
    chunks = list(read_in_chunks(archive, 10**7))
    assert max(len(chunk) for chunk in chunks) == 1000 and b"".join(chunks) == reference


def test_seeking_reads_the_same_bytes_as_reading_through(sample):
    """What waitress does with a file wrapper: read, seek back, seek forward by what was sent."""
    reference = archive_bytes(sample)
    archive = ZipArchive(sample)
    for position in (0, 5, 100, 200_050, len(reference) - 30, len(reference) - 1):
        archive.seek(position)
        assert archive.read(40) == reference[position:position + 40]
    archive.seek(0, os.SEEK_END)
    assert archive.tell() == len(reference) and archive.read(10) == b""
    archive.seek(-22, os.SEEK_END)
    archive.seek(2, os.SEEK_CUR)
    assert archive.read() == reference[-20:]
    archive.close()


def test_an_empty_archive_is_a_valid_zip():
    with zipfile.ZipFile(io.BytesIO(archive_bytes([]))) as archive:
        assert archive.namelist() == []


def test_a_file_shorter_than_announced_stops_the_stream(tmp_path):
    path = tmp_path / "shrunk"
    path.write_bytes(b"12345")
    with pytest.raises(ZipSourceChanged):
        archive_bytes([ZipMember("a", str(path), 10, MODIFIED_AT, 0)])


def descriptors_open_on(folder) -> int:
    """How many of this process's file descriptors point into ``folder`` (other tests' threads open files too)."""
    targets = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            targets.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            pass  # closed between listing and reading
    return sum(target.startswith(str(folder)) for target in targets)


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_one_file_is_open_at_a_time_and_closing_early_closes_it(sample, tmp_path):
    archive = ZipArchive(sample)
    assert descriptors_open_on(tmp_path / "blobs") == 0  # nothing opened before the first read
    archive.read(1024)
    archive.read(1024)  # the first member's file is open now
    assert descriptors_open_on(tmp_path / "blobs") == 1
    archive.read(300_000)
    archive.read(300_000)
    archive.read(300_000)  # into the third member's bytes: the first is closed
    assert descriptors_open_on(tmp_path / "blobs") == 1
    archive.close()  # what a WSGI server does when the client hangs up
    assert descriptors_open_on(tmp_path / "blobs") == 0


def test_times_outside_the_dos_range_are_clamped(tmp_path):
    members = [member(tmp_path, "old", b"x", modified_at=0), member(tmp_path, "future", b"y", modified_at=2**33)]
    with zipfile.ZipFile(io.BytesIO(archive_bytes(members))) as archive:
        old, future = archive.infolist()
        assert old.date_time == (1980, 1, 1, 0, 0, 0)
        assert future.date_time == (2107, 12, 31, 23, 59, 58)


@pytest.mark.parametrize(
    "names, expected",
    [
        (["a.txt", "b.txt"], ["a.txt", "b.txt"]),
        (["a.txt", "a.txt", "a.txt"], ["a.txt", "a (2).txt", "a (3).txt"]),
        (["a.txt", "A.TXT"], ["a.txt", "A (2).TXT"]),  # one file on Windows and macOS
        (["a.txt", "a.txt", "a (2).txt"], ["a.txt", "a (3).txt", "a (2).txt"]),  # never steals a later name
        (["README", "README"], ["README", "README (2)"]),
        (["photos/x.jpg", "photos/x.jpg"], ["photos/x.jpg", "photos/x (2).jpg"]),
        ([".env", ".env"], [".env", ".env (2)"]),
    ],
)
def test_unique_names(names, expected):
    assert unique_names(names) == expected


# --- ZIP64 ---------------------------------------------------------------------


def end_records(data: bytes) -> tuple[bytes, ...]:
    """The classic end record's entry count and central directory offset fields."""
    end = data[-22:]
    signature, _, _, on_disk, total, size, offset, _ = struct.unpack("<IHHHHIIH", end)
    assert signature == 0x06054B50
    return on_disk, total, size, offset


def test_zip64_fields_when_the_limits_are_lowered(sample, tmp_path, monkeypatch):
    """Every ZIP64 path (sizes, offsets, entry count) with small files: the limits forced down."""
    monkeypatch.setattr(zipstream, "ZIP64_SIZE_LIMIT", 1000)
    monkeypatch.setattr(zipstream, "ZIP64_COUNT_LIMIT", 3)
    data = archive_bytes(sample)
    assert len(data) == zip_length(sample)
    assert end_records(data) == (0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        infos = archive.infolist()
        assert [info.file_size for info in infos] == [m.size for m in sample]
        assert archive.read("big.bin") == open(sample[3].path, "rb").read()
    path = tmp_path / "forced64.zip"
    path.write_bytes(data)
    unzip_test(path)


def test_more_than_65535_entries(tmp_path):
    path = tmp_path / "one"
    path.write_bytes(b"1")
    members = [ZipMember(f"{n}.txt", str(path), 1, MODIFIED_AT, zlib.crc32(b"1")) for n in range(70_000)]
    data = archive_bytes(members)
    assert len(data) == zip_length(members)
    assert end_records(data)[:2] == (0xFFFF, 0xFFFF)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert len(archive.infolist()) == 70_000
        assert archive.read("69999.txt") == b"1"
    archive_path = tmp_path / "many.zip"
    archive_path.write_bytes(data)
    unzip_test(archive_path)


def write_sparsely(chunks, path, chunk_bytes) -> None:
    """Write the archive to disk, skipping runs of zeros so 4 GiB of them take no space."""
    zeros = bytes(chunk_bytes)
    with open(path, "wb") as out:
        for piece in chunks:
            if len(piece) == chunk_bytes and piece == zeros:
                out.seek(chunk_bytes, os.SEEK_CUR)
            else:
                out.write(piece)
        out.truncate()


@pytest.mark.slow
def test_a_member_past_4_gib_and_a_member_after_it(tmp_path):
    """The real thing: a sparse 4 GiB + 3 byte file, so its size and the next offset need ZIP64."""
    huge = tmp_path / "huge"
    size = 2**32 + 3
    with open(huge, "wb") as f:
        f.truncate(size - 3)
        f.seek(size - 3)
        f.write(b"end")
    small = tmp_path / "small"
    small.write_bytes(b"after")
    chunk = 1024 * 1024
    huge_crc = 0
    for _ in range((size - 3) // chunk):
        huge_crc = zlib.crc32(bytes(chunk), huge_crc)
    huge_crc = zlib.crc32(b"end", huge_crc)
    members = [ZipMember("huge.bin", str(huge), size, MODIFIED_AT, huge_crc),
               ZipMember("small.txt", str(small), 5, MODIFIED_AT, zlib.crc32(b"after"))]
    archive_path = tmp_path / "huge.zip"
    write_sparsely(read_in_chunks(ZipArchive(members), chunk), archive_path, chunk)
    assert archive_path.stat().st_size == zip_length(members)
    with zipfile.ZipFile(archive_path) as archive:
        huge_info, small_info = archive.infolist()
        assert huge_info.file_size == size
        assert small_info.header_offset > 2**32
        assert archive.read("small.txt") == b"after"
        with archive.open("huge.bin") as member_file:
            member_file.seek(size - 3)
            assert member_file.read() == b"end"
        assert archive.testzip() is None
    unzip_test(archive_path)
