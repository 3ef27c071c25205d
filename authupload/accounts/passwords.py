"""Password hashing with bcrypt: slow on purpose, exact, and bounded.

Slow on purpose: bcrypt's cost makes each guess against a stolen database
expensive (cost 12 ≈ 0.25 s here). The same slowness makes login the most
expensive request, so ``HashGate`` keeps it in check:

- only ``hash_concurrency`` hashes run at once (more than the cores only adds
  waiting; bcrypt releases the GIL, so the slots run truly in parallel);
- ``hash_queue_limit`` more may wait for a slot. That bound is a latency
  budget (config.py: 10 s of waiting ÷ the time a hash takes per core), so an
  ordinary burst — 16 people signing in at once — is served in full, only
  slower. Each waiting request holds a server thread, so server.py adds a
  thread for every place, and health checks and downloads keep theirs;
- past that, real overload: ``503 server_busy`` at once, with ``Retry-After``
  saying when the queue will have drained (from the hashes' measured time).

Exact: bcrypt reads at most 72 bytes (and bcrypt 5 refuses more). Every password
is first reduced to the base64 of its SHA-256 (44 ASCII bytes, no NUL), so two
passwords that differ anywhere — even after byte 72 — stay different, and a
1024-character password is no crash.

Timing: ``verify_password(password, None)`` checks against a dummy hash of the
same cost, so "no such user" takes as long as "wrong password" and the two
cannot be told apart by a stopwatch.
"""

from __future__ import annotations

import base64
import hashlib
import math
import threading
import time

import bcrypt

from ..config import HASH_SECONDS
from ..web.http import HTTPError


def _prehash(password: str) -> bytes:
    return base64.b64encode(hashlib.sha256(password.encode("utf-8")).digest())


class HashGate:
    """At most ``running`` hashes at once, at most ``waiting`` more queued; the rest get 503."""

    def __init__(self, running: int, waiting: int, hash_seconds: float = HASH_SECONDS):
        self._slots = threading.BoundedSemaphore(running)
        self._running = running
        self.places = running + waiting  # requests inside at most: each holds a server thread
        self._admitted = 0  # hashing or waiting for a slot now
        self._lock = threading.Lock()
        self._hash_seconds = hash_seconds  # a running average of the time in a slot, from an estimate
        self._this_thread = threading.local()  # when this thread's hash started

    def raise_if_full(self) -> None:
        """503 now if no place is free: a cheap look before work that a 503 would waste.

        Only a hint (another thread may take the last place right after); the
        binding check is entering the gate.
        """
        if self._admitted >= self.places:
            raise self.busy()

    def busy(self) -> HTTPError:
        """503 with ``Retry-After`` (RFC 9110 §10.2.3): when the places taken now will have been hashed."""
        drain_seconds = self.places / self._running * self._hash_seconds
        return HTTPError(503, "server_busy", headers=[("Retry-After", str(max(1, math.ceil(drain_seconds))))])

    def __enter__(self):
        with self._lock:
            if self._admitted >= self.places:
                raise self.busy()
            self._admitted += 1
        self._slots.acquire()
        self._this_thread.started = time.perf_counter()
        return self

    def __exit__(self, *exc_info):
        seconds = time.perf_counter() - self._this_thread.started
        self._slots.release()
        with self._lock:
            self._admitted -= 1
            self._hash_seconds += (seconds - self._hash_seconds) / 8  # the last few hashes count most


def registration_gate(hash_concurrency: int, hash_queue_limit: int) -> HashGate:
    """The gate new passwords go through: one hash at a time, apart from the logins' slots.

    Its queue is as long as one login slot's share of the logins' queue, so a
    sign-up waits at most as long as a login does (the same latency budget,
    config.py): a queue as long as the logins' own, on one slot instead of
    all the cores, would make the last sign-up wait cores times longer.
    """
    return HashGate(1, hash_queue_limit // hash_concurrency)


class PasswordHasher:
    """Hash and verify passwords at a configured bcrypt cost, through one HashGate."""

    def __init__(self, cost: int, gate: HashGate):
        self.cost = cost
        self.gate = gate
        # For unknown users: a well-formed hash at our cost that no password matches.
        # checkpw spends the full cost on it; building it costs nothing (no hashpw at start).
        self._dummy_hash = bcrypt.gensalt(cost) + b"A" * 31

    def hash_password(self, password: str) -> str:
        """A new salted bcrypt hash of ``password``, as text for the database."""
        with self.gate:
            return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(self.cost)).decode("ascii")

    def verify_password(self, password: str, stored_hash: str | None) -> bool:
        """True if ``password`` matches ``stored_hash``; with None, spend the same time and say False."""
        with self.gate:
            if stored_hash is None:
                bcrypt.checkpw(_prehash(password), self._dummy_hash)
                return False
            return bcrypt.checkpw(_prehash(password), stored_hash.encode("ascii"))
