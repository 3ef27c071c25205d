"""tus chunks appended to their partial file as they arrive: one write per byte.

How this works
--------------
A ``PATCH`` whose upload, token, offset and room check out (resumable.py,
right after its headers: web/early.py) gets an ``ArrivingChunk``: it takes the
upload's lock, cuts the partial file back to the recorded offset (bytes past it
were never acknowledged), and from then on waitress's event loop hands it each
piece of the body as it is read (server.py). A piece is written into the page
cache and given to the running hashes' threads, and every 16 MiB the disk is
asked to start on them (writeback.py); nothing here waits for the disk, so the
other connections the event loop serves do not wait either.

The request then ends one of four ways:

- complete: the handler (``resumable.append_chunk``, on a worker thread)
  calls ``settle``: the checksum is compared (tus §Checksum), the bytes are
  fsynced, and only then is the new offset recorded. The lock is released
  before the ``204`` leaves, so the client's next chunk never finds it held;
- cut off halfway (the client hung up): tus allows the server to keep what
  arrived (tus §PATCH), and resuming on a flaky network then costs only the
  rest. A keeper thread fsyncs the arrived bytes and records the offset, in
  that order, then releases the lock; until then the upload is busy (409) and
  ``HEAD`` tells the offset before the cut. A chunk that carries an
  ``Upload-Checksum`` cannot be checked half-way, so none of it is kept;
- refused mid-way (a full disk): the file is cut back to the recorded offset;
- refused once whole: the application had the body and answered without
  settling it (the token's session ended while the body arrived: 401). A
  refusal means nothing was done, so the file is cut back to the recorded
  offset, as for a failed checksum.

Whatever happens, the recorded offset only moves after an fsync of the bytes
it counts: a kill -9 at any instant leaves at most unacknowledged bytes past
it, which the next append cuts off.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from ..web.early import BodyReceiver
from ..web.http import HTTPError
from .hashing import BackgroundHash
from .writeback import EarlyWriteback

log = logging.getLogger("authupload")

# fsyncs the bytes of cut-off chunks: blocking work, off the event loop. One thread:
# a cut-off is rare, and each holds only its own upload's lock while it waits.
keeper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="keep-arrived")


class ArrivingChunk(BodyReceiver):
    """One ``PATCH`` body being appended to its upload's partial file, under the upload's lock."""

    def __init__(self, uploads, upload, checksum, lock):
        """``lock``: the upload's held lock (an ExitStack), released by ``close``."""
        self.uploads = uploads
        self.upload = upload
        self.start = upload["offset"]  # the recorded offset: the truth until settled
        self.checksum = checksum
        self.lock = lock
        self.closed = False
        self.settled = False
        self.close_lock = threading.Lock()  # close may come from the event loop and a worker at once
        try:
            self.file = open(uploads.partial_path(upload["id"]), "r+b")
        except BaseException:
            lock.close()
            raise
        self.file.truncate(self.start)  # bytes past the recorded offset were never acknowledged
        self.file.seek(self.start)
        self.writeback = EarlyWriteback(self.file)
        self.running = uploads.running_hashes.resume(upload["id"], self.start)
        self.checksum_running = BackgroundHash(checksum.running) if checksum else None

    def write(self, data: bytes) -> None:
        """On the event loop: into the page cache, and to the hashing threads."""
        try:
            self.file.write(data)
        except OSError as failure:
            if failure.errno in (errno.ENOSPC, errno.EDQUOT):
                self.error = HTTPError(507, "insufficient_storage")  # RFC 4918 §11.5
            else:
                log.error("cannot append to upload %s: %s", self.upload["id"], failure)
                self.error = HTTPError(500, "server_error")
            return
        self.writeback.wrote(len(data))
        for running in (self.running, self.checksum_running):
            if running is not None:
                running.update(data)

    def settle(self) -> int:
        """On a worker thread, once the whole body is here: check, fsync, and return the new offset.

        A failed checksum (tus §Checksum: 460, the chunk discarded) or a
        failed write cuts the file back to the recorded offset.
        """
        self.settled = True
        try:
            if self.error is not None:
                raise self.error
            if self.checksum_running is not None:
                if self.checksum_running.digest() != self.checksum.expected:
                    raise HTTPError(460, "checksum_mismatch")
            self.file.flush()
            os.fsync(self.file.fileno())  # on disk before the offset says so
            return self.file.tell()
        except BaseException:
            self.file.truncate(self.start)
            raise

    def close(self) -> None:
        """Release the upload; an unsettled chunk cut off halfway keeps what arrived, if it may.

        Unsettled but handed over is no cut-off: the application refused the
        request, and a refused chunk keeps nothing.
        """
        with self.close_lock:
            if self.closed:
                return
            self.closed = True
        if self.settled:
            self.release()
            return
        self.file.flush()
        if (self.error is None and self.checksum is None and not self.handed_over
                and self.file.tell() > self.start):
            keeper.submit(self.keep_arrived)
        else:
            self.file.truncate(self.start)
            self.release()

    def keep_arrived(self) -> None:
        """On the keeper thread: fsync what a cut-off chunk brought, then record it (in that order)."""
        try:
            os.fsync(self.file.fileno())
            # All of it, if the client hung up just before reading the answer: then the upload completes.
            self.uploads.record_received(self.upload, self.file.tell(), self.running)
        except Exception:
            log.exception("cannot keep the arrived part of upload %s", self.upload["id"])
            self.file.truncate(self.start)
        finally:
            self.release()

    def release(self) -> None:
        self.file.close()
        self.lock.close()

    def __enter__(self) -> "ArrivingChunk":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
