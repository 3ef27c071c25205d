"""A file's checksums, computed on a helper thread so hashing overlaps the reading and writing of an upload.

Every stored file gets two, in the same pass over its bytes as they arrive
(``FileDigest``): its SHA-256, which the API shows and downloads use as their
ETag, and its CRC-32, which a ZIP member must declare (zipstream.py) — known
in advance, a ZIP is only headers around files sent as they are.

hashlib and zlib release the GIL while they hash a buffer of a few KiB or more,
so on a second core the hash of one chunk runs while the event loop or the
request's thread parses and writes the next. Multipart uploads (uploads.py) and
resumable ones (resumable.py) both hash this way; ``file_digest`` hashes a file
already stored.
"""

from __future__ import annotations

import collections
import hashlib
import os
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor

# Threads that hash for all requests of the process: hashing is CPU work, so more
# threads than cores would not hash faster.
hashing_threads = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="hashing")
FILE_READ_BYTES = 1024 * 1024  # pieces in which a stored file is read to hash it
MAX_QUEUED_BYTES = 8 * 1024 * 1024  # per hash: given but not yet hashed (a tus chunk's worth)


class FileDigest:
    """A file's SHA-256 and CRC-32 at once, with hashlib's ``update``/``copy``/``hexdigest``."""

    def __init__(self, sha256=None, crc32: int = 0):
        self.sha256 = hashlib.sha256() if sha256 is None else sha256
        self.crc32 = crc32  # zlib's running value: 0 for no bytes yet

    def update(self, chunk: bytes) -> None:
        self.sha256.update(chunk)
        self.crc32 = zlib.crc32(chunk, self.crc32)

    def copy(self) -> "FileDigest":
        return FileDigest(self.sha256.copy(), self.crc32)

    def hexdigest(self) -> str:
        return self.sha256.hexdigest()

    def digest(self) -> bytes:
        return self.sha256.digest()


def file_digest(path, chunk_bytes: int = FILE_READ_BYTES) -> FileDigest:
    """The checksums of a whole file, read in pieces so memory stays flat."""
    digest = FileDigest()
    with open(path, "rb") as file:
        while chunk := file.read(chunk_bytes):
            digest.update(chunk)
    return digest


class BackgroundHash:
    """A hash (a ``FileDigest`` unless another is given) computed on a helper thread, behind the caller.

    ``update`` only queues the chunk: the caller — often waitress's event loop,
    which serves every connection (server.py) — goes on at once, and waits only
    when more than ``MAX_QUEUED_BYTES`` are still unhashed, so memory stays
    bounded. One task at a time drains the queue, so the bytes are hashed in
    order. Chunks must be ``bytes``, which nothing can change while they wait.
    """

    def __init__(self, hash=None):
        self.hash = FileDigest() if hash is None else hash  # a fresh digest, or a hash to continue
        self.queue: collections.deque[bytes] = collections.deque()
        self.queued_bytes = 0
        self.draining = False  # a task of hashing_threads is emptying the queue
        self.changed = threading.Condition()

    def update(self, chunk: bytes) -> None:
        with self.changed:
            while self.queued_bytes > MAX_QUEUED_BYTES:
                self.changed.wait()
            self.queue.append(chunk)
            self.queued_bytes += len(chunk)
            if not self.draining:
                self.draining = True
                hashing_threads.submit(self.drain)

    def drain(self) -> None:
        while True:
            with self.changed:
                if not self.queue:
                    self.draining = False
                    self.changed.notify_all()
                    return
                chunk = self.queue[0]
            self.hash.update(chunk)  # outside the lock: hashlib releases the GIL, update() may queue meanwhile
            with self.changed:
                self.queue.popleft()
                self.queued_bytes -= len(chunk)
                self.changed.notify_all()

    def wait(self) -> None:
        """Until every chunk given so far is hashed."""
        with self.changed:
            while self.draining:
                self.changed.wait()

    def result(self):
        """The hash, once every chunk given so far is in it."""
        self.wait()
        return self.hash

    def hexdigest(self) -> str:
        return self.result().hexdigest()

    def digest(self) -> bytes:
        return self.result().digest()

    def copy(self) -> "BackgroundHash":
        """An independent hash of the same bytes, as ``hashlib``'s ``copy``."""
        return BackgroundHash(self.result().copy())
