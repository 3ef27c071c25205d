"""SHA-256 on a helper thread, so hashing overlaps the reading and writing of an upload.

hashlib releases the GIL while it hashes a buffer longer than 2 KiB, so on a
second core the hash of one chunk runs while the request's thread parses and
writes the next. Multipart uploads (uploads.py) and resumable ones
(resumable.py) both hash this way; ``file_sha256`` hashes a file already stored.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import Future, ThreadPoolExecutor

# Threads that hash for all requests of the process: hashing is CPU work, so more
# threads than cores would not hash faster.
hashing_threads = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="sha256")
FILE_READ_BYTES = 1024 * 1024  # pieces in which a stored file is read to hash it


def file_sha256(path, chunk_bytes: int = FILE_READ_BYTES) -> str:
    """The sha256 (hex) of a whole file, read in pieces so memory stays flat."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


class BackgroundSha256:
    """A SHA-256 computed on a helper thread, one chunk behind the caller.

    At most one chunk is in flight (``update`` first waits for the previous
    one): memory stays flat, and the bytes are hashed in order.
    Chunks must be ``bytes``, which nothing can change while they are hashed.
    """

    def __init__(self, sha256=None):
        self.sha256 = hashlib.sha256() if sha256 is None else sha256  # a fresh hash, or one to continue
        self.pending: Future | None = None

    def update(self, chunk: bytes) -> None:
        self.wait()
        self.pending = hashing_threads.submit(self.sha256.update, chunk)

    def wait(self) -> None:
        """Until every chunk given so far is hashed (re-raising what the thread raised, if anything)."""
        if self.pending is not None:
            self.pending.result()
            self.pending = None

    def hexdigest(self) -> str:
        self.wait()
        return self.sha256.hexdigest()

    def copy(self) -> "BackgroundSha256":
        """An independent hash of the same bytes, as ``hashlib``'s ``copy``."""
        self.wait()
        return BackgroundSha256(self.sha256.copy())
