"""Small requests: what a page's many little JSON calls cost, against a hello-world app.

wrk (Debian's ``/usr/bin/wrk``, a native load generator, so the client does not
compete for the GIL) drives each endpoint with 2 threads and 4 connections for a
few seconds, ``--latency`` for p50/p99. A tiny Lua script per endpoint sets its
headers (the bearer token, ``If-None-Match``). The baseline is
``benchmarks/hello_app.py`` on the same waitress settings, run interleaved with
the endpoints so that noise from other processes hits both alike.

Endpoints: ``GET /api/health`` (no auth, no disk), ``GET /api/me`` (token check +
two queries), ``GET /api/files`` with 100 files (when the files API is in), and a
``304`` of ``/login.html`` via ``If-None-Match``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from common import (
    ROOT, Figure, Sample, call, endpoint_ready, free_port, new_account, section, start_process,
    start_server, stop_process,
)

WRK = "/usr/bin/wrk"
WRK_SETTINGS = ["-t2", "-c4"]  # concurrency 4: a few pages open at once
TARGET_RATIO = 0.7
SMALL_FILES = 100


def write_lua(path: Path, headers: dict[str, str]) -> Path:
    """A wrk script that sends ``headers`` with every request."""
    lines = [f'wrk.headers["{name}"] = "{value}"' for name, value in headers.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def run_wrk(url: str, seconds: float, script: Path | None) -> dict:
    """One wrk run: requests/s, p50 and p99 in ms, and how many answers were not 2xx/3xx."""
    command = [WRK, *WRK_SETTINGS, f"-d{seconds:g}s", "--latency", "--timeout", "5s"]
    if script:
        command += ["-s", str(script)]
    output = subprocess.run(command + [url], capture_output=True, text=True, timeout=seconds + 30).stdout
    return parse_wrk(output)


def _milliseconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(output: str) -> dict:
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*", output)
    if not (rate and p50 and p99):
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    return {
        "requests_per_s": float(rate.group(1)),
        "p50_ms": _milliseconds(p50.group(1)),
        "p99_ms": _milliseconds(p99.group(1)),
        "non_2xx_3xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(0) if errors else "",
    }


def upload_small_files(base_url: str, token: str, count: int) -> None:
    """``count`` files of a few bytes each, in one multipart request."""
    import requests  # only this setup step needs multipart encoding

    parts = [("file", (f"note-{n:03d}.txt", f"small file {n}\n".encode(), "text/plain")) for n in range(count)]
    answer = requests.post(base_url + "/api/files", files=parts,
                           headers={"Authorization": f"Bearer {token}"}, timeout=60)
    if answer.status_code != 200:
        raise RuntimeError(f"uploading {count} small files answered {answer.status_code}: {answer.text[:200]}")


def run(workdir: Path, quick: bool) -> list[Figure]:
    section("Small requests (wrk -t2 -c4) vs a hello-world WSGI app on the same waitress")
    seconds, repeats = (1, 2) if quick else (3, 3)
    server = start_server(workdir, "--bcrypt-cost", "4")
    hello_port = free_port()
    hello = start_process([sys.executable, str(ROOT / "benchmarks" / "hello_app.py"), "--port", str(hello_port)],
                          f"http://127.0.0.1:{hello_port}/", workdir / "hello.log")
    try:
        _, token = new_account(server.url)
        auth = {"Authorization": f"Bearer {token}"}
        _, page_headers, _ = call(server.url, "GET", "/login.html")
        endpoints = {
            "GET /api/health": ("/api/health", {}),
            "GET /api/me": ("/api/me", auth),
        }
        if endpoint_ready(server.url, token, "GET", "/api/files"):
            upload_small_files(server.url, token, SMALL_FILES)
            endpoints[f"GET /api/files ({SMALL_FILES} files, limit 50)"] = ("/api/files", auth)
        else:
            print("  (GET /api/files not implemented yet: skipped)")
        endpoints["GET /login.html → 304 (If-None-Match)"] = ("/login.html", {"If-None-Match": page_headers["etag"]})

        scripts = {name: write_lua(workdir / f"small-{n}.lua", headers)
                   for n, (name, (_, headers)) in enumerate(endpoints.items())}
        hello_runs, endpoint_runs = [], {name: [] for name in endpoints}
        for _ in range(repeats):
            hello_runs.append(run_wrk(f"http://127.0.0.1:{hello_port}/", seconds, None))
            for name, (path, _) in endpoints.items():
                endpoint_runs[name].append(run_wrk(server.url + path, seconds, scripts[name]))

        hello_rate = Sample([r["requests_per_s"] for r in hello_runs])
        hello_p50 = Sample([r["p50_ms"] for r in hello_runs]).median
        hello_p99 = Sample([r["p99_ms"] for r in hello_runs]).median
        figures = []
        for name, runs in endpoint_runs.items():
            p50 = Sample([r["p50_ms"] for r in runs]).median
            p99 = Sample([r["p99_ms"] for r in runs]).median
            bad = sum(r["non_2xx_3xx"] for r in runs)
            figure = Figure(
                name, "req/s", Sample([r["requests_per_s"] for r in runs]), hello_rate, "hello WSGI app",
                note=f"p50 {p50:.2f} ms, p99 {p99:.2f} ms (hello: {hello_p50:.2f} / {hello_p99:.2f} ms)"
                     + (f"; {bad} non-2xx/3xx answers!" if bad else ""),
                extra={"p50_ms": p50, "p99_ms": p99, "hello_p50_ms": hello_p50, "hello_p99_ms": hello_p99,
                       "non_2xx_3xx": bad, "runs": runs, "hello_runs": hello_runs},
            ).check_ratio(TARGET_RATIO)
            figure.print_line()
            figures.append(figure)
        return figures
    finally:
        stop_process(hello)
        server.stop()
