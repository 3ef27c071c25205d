"""Cold start: from launching ``serve.py`` to its first answered ``GET /api/health``.

Measured with the default settings (bcrypt cost 12 included: the server hashes
a dummy password at start so unknown users cost a real check), on a fresh data
directory (schema created, signing key written) and on an existing one (the
same directory again, with an account in it). The clock starts just before the
process is spawned and stops when the first health answer is read; the probe
retries every 5 ms, so the figure is at most that much late. The baseline is
``hello_app.py`` started the same way: Python plus waitress, nothing of ours.
"""

from __future__ import annotations

import http.client
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, Figure, Sample, free_port, new_account, section, start_server

TARGET_SECONDS = 0.5
POLL_SECONDS = 0.005


def serve_command(data_dir: Path):
    def command(port: int) -> list[str]:
        return [sys.executable, str(ROOT / "serve.py"), "--host", "127.0.0.1", "--port", str(port),
                "--data-dir", str(data_dir)]
    return command


def hello_command(port: int) -> list[str]:
    return [sys.executable, str(ROOT / "benchmarks" / "hello_app.py"), "--port", str(port)]


def seconds_to_first_answer(make_command, log_path: Path) -> float:
    """Spawn a server, poll /api/health until it answers 200; the elapsed seconds.

    A free port can be taken by another process between asking and binding (the
    machine is shared): then the attempt is repeated once on another port.
    """
    try:
        return _time_start(make_command(free_port()), log_path)
    except RuntimeError:
        return _time_start(make_command(free_port()), log_path)


def _time_start(command: list[str], log_path: Path) -> float:
    port = int(command[command.index("--port") + 1])
    with open(log_path, "ab") as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            while process.poll() is None and time.perf_counter() - started < 10:
                try:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    connection.request("GET", "/api/health")
                    if connection.getresponse().status == 200:
                        return time.perf_counter() - started
                except OSError:
                    time.sleep(POLL_SECONDS)
                finally:
                    connection.close()
            raise RuntimeError(f"{command[1]} did not answer /api/health: see {log_path}")
        finally:
            process.terminate()
            process.wait(timeout=10)


def run(workdir: Path, quick: bool) -> list[Figure]:
    section("Cold start: process start to first answered /api/health (bcrypt cost 12)")
    repeats = 3 if quick else 5
    fresh, existing, hello = Sample([]), Sample([]), Sample([])
    existing_dir = workdir / "existing-data"
    server = start_server(workdir, data_dir=existing_dir)  # an account, like a data dir in use
    try:
        new_account(server.url)
    finally:
        server.stop()
    log = workdir / "cold-start.log"
    for n in range(repeats):
        hello.values.append(seconds_to_first_answer(hello_command, log))
        fresh.values.append(seconds_to_first_answer(serve_command(workdir / f"fresh-data-{n}"), log))
        existing.values.append(seconds_to_first_answer(serve_command(existing_dir), log))
    baseline = "hello WSGI app on waitress"
    figures = [
        Figure("cold start, fresh data dir", "s", fresh, hello, baseline).check_below(TARGET_SECONDS),
        Figure("cold start, existing data dir", "s", existing, hello, baseline).check_below(TARGET_SECONDS),
    ]
    for figure in figures:
        figure.print_line()
    return figures
