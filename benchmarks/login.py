"""Logins: how close the server gets to raw bcrypt, and whether a login burst starves others.

bcrypt is the whole cost of a login by design, and it releases the GIL, so the
ceiling is the raw ``bcrypt.checkpw`` rate on as many threads as there are cores.
We measure that ceiling in 1 and 2 threads at the server's cost, then logins/s
through a real ``serve.py`` at concurrency 1, 4 and 16 (one persistent connection
per client, each logging in again as soon as it is answered).

Past ``hash_concurrency`` running plus ``hash_queue_limit`` waiting, the server's
HashGate answers ``503 server_busy`` with ``Retry-After: 1`` at once instead of
tying up a thread: those answers are expected under overload. A client that gets
one waits as told (what a well-behaved client does) and they are counted apart;
the figure is *successful* logins/s.

Then the starvation check: 50 clients log in at once (and keep at it) while a
probe asks ``GET /api/health`` every 20 ms on its own connection; its p99 must
stay under 50 ms.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from pathlib import Path

import bcrypt

from common import Figure, Sample, new_account, percentile, section, start_server, TEST_PASSWORD

LOGIN_TARGET_RATIO = 0.9
HEALTH_P99_LIMIT_MS = 50
BURST_CLIENTS = 50
PROBE_INTERVAL_SECONDS = 0.02


def bcrypt_rate(cost: int, threads: int, checks_per_thread: int) -> float:
    """checkpw calls per second with ``threads`` threads each doing ``checks_per_thread``."""
    password = b"x" * 44  # the server feeds bcrypt 44 bytes: base64 of the password's SHA-256
    stored = bcrypt.hashpw(password, bcrypt.gensalt(cost))

    def work() -> None:
        for _ in range(checks_per_thread):
            bcrypt.checkpw(password, stored)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return threads * checks_per_thread / (time.perf_counter() - started)


class LoginClients:
    """``count`` threads logging in over their own keep-alive connections until stopped."""

    def __init__(self, base_url: str, username: str, count: int):
        self.host_port = base_url.split("//", 1)[1]
        self.body = json.dumps({"username": username, "password": TEST_PASSWORD}).encode()
        self.count = count
        self.succeeded = 0
        self.busy = 0  # 503 server_busy from the HashGate
        self.other = {}  # any other status: should not happen
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._client, daemon=True) for _ in range(count)]

    def _client(self) -> None:
        connection = http.client.HTTPConnection(self.host_port, timeout=60)
        headers = {"Content-Type": "application/json"}
        while not self._stop.is_set():
            try:
                connection.request("POST", "/api/login", body=self.body, headers=headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException) as error:
                with self._lock:
                    self.other[type(error).__name__] = self.other.get(type(error).__name__, 0) + 1
                connection.close()
                connection = http.client.HTTPConnection(self.host_port, timeout=60)
                continue
            with self._lock:
                if response.status == 200:
                    self.succeeded += 1
                elif response.status == 503:
                    self.busy += 1
                else:
                    self.other[response.status] = self.other.get(response.status, 0) + 1
            if response.status == 503:
                self._stop.wait(float(response.getheader("Retry-After", "1")))
        connection.close()

    def run_for(self, seconds: float) -> float:
        """Start all clients at once, stop them after ``seconds``; successful logins/s."""
        started = time.perf_counter()
        for thread in self._threads:
            thread.start()
        self._stop.wait(seconds)
        with self._lock:
            succeeded = self.succeeded
        elapsed = time.perf_counter() - started
        self._stop.set()
        for thread in self._threads:
            thread.join()
        return succeeded / elapsed


def health_probe(base_url: str, stop: threading.Event, latencies_ms: list[float], statuses: dict) -> None:
    """GET /api/health every PROBE_INTERVAL_SECONDS on one connection, recording each latency."""
    connection = http.client.HTTPConnection(base_url.split("//", 1)[1], timeout=30)
    while not stop.is_set():
        started = time.perf_counter()
        connection.request("GET", "/api/health")
        response = connection.getresponse()
        response.read()
        latencies_ms.append((time.perf_counter() - started) * 1000)
        statuses[response.status] = statuses.get(response.status, 0) + 1
        stop.wait(PROBE_INTERVAL_SECONDS)
    connection.close()


def run(workdir: Path, quick: bool) -> list[Figure]:
    cost = 10 if quick else 12  # quick: cheaper hashes so a short window still holds enough logins
    seconds, repeats = (2.0, 1) if quick else (4.0, 3)
    checks_per_thread = 8 if quick else 6
    section(f"Login at bcrypt cost {cost} vs raw bcrypt.checkpw")
    figures = []

    # Interleaved: before each server measurement, the raw rate it is compared with,
    # so that load from other processes on a shared machine hits both alike.
    raw = {threads: Sample([]) for threads in (1, 2)}
    logins = {concurrency: Sample([]) for concurrency in (1, 4, 16)}
    busy = {concurrency: 0 for concurrency in logins}
    other = {concurrency: {} for concurrency in logins}
    server = start_server(workdir, "--bcrypt-cost", str(cost))
    try:
        username, _ = new_account(server.url)
        for _ in range(repeats):
            for concurrency in logins:
                threads = 1 if concurrency == 1 else 2
                raw[threads].values.append(bcrypt_rate(cost, threads, checks_per_thread))
                clients = LoginClients(server.url, username, concurrency)
                logins[concurrency].values.append(clients.run_for(seconds))
                busy[concurrency] += clients.busy
                other[concurrency].update(clients.other)
        for threads, sample in raw.items():
            figure = Figure(f"raw bcrypt.checkpw, {threads} thread{'s' if threads > 1 else ''} (cost {cost})",
                            "checks/s", sample)
            figure.print_line()
            figures.append(figure)
        for concurrency, rates in logins.items():
            threads = 1 if concurrency == 1 else 2
            figure = Figure(
                f"logins/s at concurrency {concurrency} (cost {cost})", "logins/s", rates,
                raw[threads], f"raw bcrypt, {threads} thread{'s' if threads > 1 else ''}",
                note=f"{busy[concurrency]} × 503 server_busy"
                     + (f", other answers {other[concurrency]}" if other[concurrency] else ""),
                extra={"server_busy_503": busy[concurrency],
                       "other_answers": {str(k): v for k, v in other[concurrency].items()}},
            )
            if concurrency >= 4:
                figure.check_ratio(LOGIN_TARGET_RATIO)
            figure.print_line()
            figures.append(figure)

        p99s, busy, succeeded, probes = Sample([]), 0, 0, 0
        for _ in range(repeats):
            stop, latencies, statuses = threading.Event(), [], {}
            probe = threading.Thread(target=health_probe, args=(server.url, stop, latencies, statuses))
            clients = LoginClients(server.url, username, BURST_CLIENTS)
            probe.start()
            time.sleep(0.2)  # the probe is connected and warm before the burst
            clients.run_for(seconds)
            stop.set()
            probe.join()
            p99s.values.append(percentile(latencies, 0.99))
            busy += clients.busy
            succeeded += clients.succeeded
            probes += len(latencies)
        figure = Figure(
            f"GET /api/health p99 during a {BURST_CLIENTS}-client login burst", "ms", p99s,
            note=f"{probes} probes; {succeeded} logins succeeded, {busy} × 503 server_busy",
            extra={"server_busy_503": busy, "logins_succeeded": succeeded, "probes": probes},
        ).check_below(HEALTH_P99_LIMIT_MS)
        figure.print_line()
        figures.append(figure)
    finally:
        server.stop()
    return figures

