"""Early writeback: the disk is asked to write an upload's bytes as they arrive, and the writer never waits for it."""

from __future__ import annotations

import os
import threading

import pytest

from authupload.files import writeback
from authupload.files.writeback import EARLY_WRITEBACK_BYTES, EarlyWriteback

PIECE = b"x" * (1024 * 1024)


@pytest.fixture
def flushed(monkeypatch):
    """The real fdatasync, watched: the inode of every file it flushes, and a gate that can hold it (a slow disk)."""
    inodes: list[int] = []
    disk_free = threading.Event()
    disk_free.set()
    real = writeback.write_data_out

    def watched(descriptor: int) -> None:
        disk_free.wait(10)
        inodes.append(os.fstat(descriptor).st_ino)
        real(descriptor)

    monkeypatch.setattr(writeback, "write_data_out", watched)
    return inodes, disk_free


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def write_pieces(file, early: EarlyWriteback, count: int) -> None:
    for _ in range(count):
        file.write(PIECE)
        early.wrote(len(PIECE))


def test_the_disk_is_asked_to_start_once_enough_is_written(tmp_path, flushed):
    inodes, _ = flushed
    path = tmp_path / "upload"
    with open(path, "wb") as file:
        early = EarlyWriteback(file)
        write_pieces(file, early, EARLY_WRITEBACK_BYTES // len(PIECE) - 1)
        assert early.flushing is None  # less than EARLY_WRITEBACK_BYTES: nothing asked yet
        write_pieces(file, early, 1)
        early.flushing.result(timeout=10)
    assert inodes == [path.stat().st_ino]


def test_a_writer_never_waits_for_a_slow_disk_and_may_close_meanwhile(tmp_path, flushed):
    inodes, disk_free = flushed
    disk_free.clear()  # the first flush hangs until the test lets it go
    descriptors_before = open_descriptors()
    path = tmp_path / "upload"
    with open(path, "wb") as file:
        early = EarlyWriteback(file)
        write_pieces(file, early, 3 * EARLY_WRITEBACK_BYTES // len(PIECE))  # would ask three times
        first_flush = early.flushing
        assert not first_flush.done()  # the writes went on while it hung, and no second one was queued behind it
    # The writer closed its file (a client that hung up); the flush has its own descriptor.
    disk_free.set()
    assert first_flush.result(timeout=10) is None  # no EBADF
    assert inodes == [path.stat().st_ino]
    assert open_descriptors() == descriptors_before  # the duplicate was closed


def test_a_flush_that_fails_is_left_to_the_uploads_own_fsync(tmp_path, monkeypatch):
    def failing(descriptor: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(writeback, "write_data_out", failing)
    descriptors_before = open_descriptors()
    with open(tmp_path / "upload", "wb") as file:
        early = EarlyWriteback(file)
        write_pieces(file, early, EARLY_WRITEBACK_BYTES // len(PIECE))
        assert early.flushing.result(timeout=10) is None
    assert open_descriptors() == descriptors_before
