"""Login bursts: n people press "log in" at the same moment.

Each of n clients — n different accounts — opens its own connection, waits at
a barrier, and sends one login; we record every answer's status and latency. The ideal for a burst on a
machine whose bcrypt runs on every core is that the last answer comes after
``n ÷ cores × one hash`` (the hashes are the work; the rest is small), so the
p50 and p99 are printed beside that figure. Meanwhile a probe asks
``GET /api/health`` every 20 ms on its own connection: its p99 shows whether
the burst starves everything else.

What the server promises (API.md "Accounts", config.py ``hash_queue_limit``):
a burst that fits the bcrypt queue (sized for a 10 s wait) is served in full,
only slower — 16 and 64 at cost 12 on 2 cores; beyond it, ``503 server_busy``
with ``Retry-After`` at once. The full run adds a burst of 120 to show that.
"""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
from pathlib import Path

from common import Figure, Sample, new_account, percentile, section, start_server, TEST_PASSWORD
from login import HEALTH_P99_LIMIT_MS, bcrypt_rate, health_probe


def accounts(base_url: str, count: int) -> list[str]:
    """``count`` fresh usernames, registered 16 at a time (a burst is of different people)."""
    names = []

    def register() -> None:
        username, _ = new_account(base_url)
        names.append(username)

    for start in range(0, count, 16):
        batch = [threading.Thread(target=register) for _ in range(min(16, count - start))]
        for thread in batch:
            thread.start()
        for thread in batch:
            thread.join()
    return names


def burst(base_url: str, usernames: list[str]) -> tuple[dict, list[float]]:
    """One login per username, released together; (answers by status, latencies in seconds)."""
    host_port = base_url.split("//", 1)[1]
    barrier = threading.Barrier(len(usernames))
    statuses, latencies, lock = {}, [], threading.Lock()

    def client(username: str) -> None:
        body = json.dumps({"username": username, "password": TEST_PASSWORD}).encode()
        connection = http.client.HTTPConnection(host_port, timeout=120)
        connection.connect()  # connected before the barrier: the burst is of logins, not of handshakes
        barrier.wait()
        started = time.perf_counter()
        try:
            connection.request("POST", "/api/login", body=body, headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as error:
            status = type(error).__name__
        with lock:
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
        connection.close()

    threads = [threading.Thread(target=client, args=(username,)) for username in usernames]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses, latencies


def run(workdir: Path, quick: bool) -> list[Figure]:
    cost = 10 if quick else 12
    repeats = 1 if quick else 3
    sizes = (16, 64) if quick else (16, 64, 120)
    cores = os.cpu_count() or 2
    section(f"Login bursts at bcrypt cost {cost}: 16 and 64 at once, on {cores} cores")
    figures = []
    # Every client here shares one address, as people behind one proxy would: lift the
    # per-address bounds (connections; sign-ups per hour; login failures, which count a
    # login as a failure until bcrypt clears it) so the burst measures the bcrypt queue alone.
    server = start_server(workdir, "--bcrypt-cost", str(cost), "--max-connections-per-address", "1000",
                          "--max-registrations-per-address", "1000", "--max-failures-per-address", "1000")
    try:
        usernames = accounts(server.url, max(sizes))
        for size in sizes:
            p50s, p99s, health_p99s, hashes, answers = Sample([]), Sample([]), Sample([]), Sample([]), {}
            for _ in range(repeats):
                # Interleaved with the bursts, so load from other processes hits both alike.
                hashes.values.append(1 / bcrypt_rate(cost, 1, 3))
                stop, probe_latencies, probe_statuses = threading.Event(), [], {}
                probe = threading.Thread(target=health_probe,
                                         args=(server.url, stop, probe_latencies, probe_statuses))
                probe.start()
                time.sleep(0.2)  # the probe is connected and warm before the burst
                statuses, latencies = burst(server.url, usernames[:size])
                stop.set()
                probe.join()
                p50s.values.append(percentile(latencies, 0.5))
                p99s.values.append(percentile(latencies, 0.99))
                health_p99s.values.append(percentile(probe_latencies, 0.99))
                for status, count in statuses.items():
                    answers[str(status)] = answers.get(str(status), 0) + count
            one_hash = hashes.median
            ideal = Sample([size / cores * seconds for seconds in hashes.values])
            by_status = ", ".join(f"{count} × {status}" for status, count in sorted(answers.items()))
            served = Figure(f"{size} simultaneous logins: p99 latency — answers {by_status}", "s", p99s,
                            ideal, f"{size} ÷ {cores} cores × one hash ({one_hash:.3f} s)",
                            higher_is_better=False,
                            extra={"answers": answers, "p50_s": p50s.as_json(), "one_hash_s": one_hash})
            if size <= 64:
                served.target = "all 200 (served in full)"
                served.met = set(answers) == {"200"}
            median = Figure(f"{size} simultaneous logins: p50 latency", "s", p50s,
                            ideal, "the same ideal", higher_is_better=False)
            health = Figure(f"GET /api/health p99 during the {size}-login burst", "ms", health_p99s,
                            ).check_below(HEALTH_P99_LIMIT_MS)
            for figure in (served, median, health):
                figure.print_line()
                figures.append(figure)
    finally:
        server.stop()
    return figures
