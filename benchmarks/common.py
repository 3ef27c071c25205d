"""What every benchmark module shares: statistics (median, spread, percentiles),
a live server, memory sampling, an account to act as, and the result table.

Theory of operation. A benchmark module measures a *figure* (e.g. MB/s of a 1 GiB
upload) a few times, and its *baseline* (what the machine does without us, e.g. a
plain socket into a file) the same number of times in the same run, interleaved so
that a noisy neighbour hurts both alike. Each is summarised by its median and its
spread (min–max); the figure is reported as a ratio to the baseline's median and
checked against its target (the README lists them). Nothing here asserts: the machine is
shared, so a missed target is printed (✗) and explained, never a test failure.

Servers are real ``serve.py`` processes started through the tests' ``LiveServer``
(free loopback port, waits for ``/api/health``, stops in a ``finally``).
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "benchmarks" / "results"
# The tests' live-server harness is shared; it imports its neighbours as pytest does (tests/ on the path).
for folder in (ROOT, ROOT / "tests"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from live_server import LiveServer, free_port  # noqa: E402  (needs tests/ on sys.path)

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB
TEST_PASSWORD = "benchmark-password-1"


# --- statistics ------------------------------------------------------------------


@dataclasses.dataclass
class Sample:
    """Repeated measurements of one quantity, summarised as median and spread."""

    values: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    @property
    def low(self) -> float:
        return min(self.values) if self.values else float("nan")

    @property
    def high(self) -> float:
        return max(self.values) if self.values else float("nan")

    def spread_text(self) -> str:
        """``"123.4 (110.2–130.9, n=3)"``: the median, then the range of the repeats."""
        if not self.values:
            return "n/a"
        return f"{number(self.median)} ({number(self.low)}–{number(self.high)}, n={len(self.values)})"

    def as_json(self) -> dict:
        return {"median": self.median, "min": self.low, "max": self.high, "values": self.values}


def number(value: float) -> str:
    """About four significant digits, without exponent: 1234, 123.4, 12.34, 0.123."""
    size = abs(value)
    digits = 0 if size >= 1000 else 1 if size >= 100 else 2 if size >= 1 else 3
    return f"{value:.{digits}f}"


def percentile(values: list[float], fraction: float) -> float:
    """The ``fraction`` quantile (0.99 → p99) by nearest rank; nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


def mb_per_s(byte_count: int, seconds: float) -> float:
    """Throughput in MB/s (10^6 bytes: what curl and dd print)."""
    return byte_count / seconds / 1e6 if seconds > 0 else float("nan")


# --- figures and the result table ----------------------------------------------


@dataclasses.dataclass
class Figure:
    """One row of the result table: a measured figure beside its baseline.

    ``target`` is the rule in words; ``met`` is True/False when the
    rule applies to this row, None when the row is informational.
    """

    name: str
    unit: str
    value: Sample
    baseline: Sample | None = None
    baseline_name: str = ""
    higher_is_better: bool = True
    target: str = ""
    met: bool | None = None
    note: str = ""
    extra: dict = dataclasses.field(default_factory=dict)  # more numbers for the JSON (p50, p99, counts …)

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or not self.baseline.values or not self.value.values:
            return None
        if self.baseline.median == 0:
            return None
        return self.value.median / self.baseline.median

    def check_ratio(self, minimum: float) -> "Figure":
        """Target: figure ≥ ``minimum`` × baseline."""
        self.target = f"≥ {minimum:g}× baseline"
        self.met = self.ratio is not None and self.ratio >= minimum
        return self

    def check_below(self, limit: float, text: str | None = None) -> "Figure":
        """Target: figure's median < ``limit`` (in its own unit)."""
        self.target = text or f"< {limit:g} {self.unit}"
        self.met = bool(self.value.values) and self.value.median < limit
        return self

    def as_json(self) -> dict:
        return {
            "name": self.name, "unit": self.unit, "value": self.value.as_json(),
            "baseline_name": self.baseline_name,
            "baseline": self.baseline.as_json() if self.baseline else None,
            "ratio": self.ratio, "target": self.target, "met": self.met, "note": self.note,
            "extra": self.extra,
        }

    def print_line(self) -> None:
        mark = {True: "✓", False: "✗", None: " "}[self.met]
        text = f"  {mark} {self.name}: {self.value.spread_text()} {self.unit}"
        if self.baseline is not None:
            text += f" | {self.baseline_name}: {self.baseline.spread_text()}"
        if self.ratio is not None:
            text += f" | ratio {self.ratio:.2f}"
        if self.target:
            text += f" | target {self.target}"
        if self.note:
            text += f" | {self.note}"
        print(text, flush=True)


def machine_description() -> dict:
    """CPU, cores, memory, kernel and the versions that shape the figures."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_kib = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kib = int(line.split()[1])
    except OSError:
        pass
    versions = {}
    for package in ("waitress", "bcrypt", "multipart", "PyJWT"):
        try:
            from importlib.metadata import version
            versions[package] = version(package)
        except Exception:
            versions[package] = "?"
    try:
        wrk = subprocess.run(["/usr/bin/wrk", "--version"], capture_output=True, text=True, timeout=5)
        versions["wrk"] = (wrk.stdout or wrk.stderr).split()[1]
    except Exception:
        versions["wrk"] = "not installed"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kib / MIB, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "versions": versions,
        "load_average_at_start": os.getloadavg(),
    }


def write_results(figures: list[Figure], machine: dict, settings: dict, sections: list[str],
                  stem: str = "latest") -> Path:
    """Write results/<stem>.json and results/<stem>.md; return the Markdown path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    payload = {"machine": machine, "settings": settings, "sections": sections,
               "figures": [figure.as_json() for figure in figures]}
    (RESULTS_DIR / f"{stem}.json").write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n")
    markdown = RESULTS_DIR / f"{stem}.md"
    markdown.write_text(markdown_table(figures, machine, settings))
    return markdown


def markdown_table(figures: list[Figure], machine: dict, settings: dict) -> str:
    versions = machine["versions"]
    lines = [
        f"Run: `{settings['command']}` on {settings['started']} ({settings['mode']} mode, "
        f"{settings['seconds']:.0f} s).",
        "",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB RAM, "
        f"Linux {machine['kernel']}, Python {machine['python']}, waitress {versions['waitress']}, "
        f"bcrypt {versions['bcrypt']}, multipart {versions['multipart']}, wrk {versions['wrk']}; "
        f"load average at start {', '.join(f'{x:.2f}' for x in machine['load_average_at_start'])}.",
        "",
        "Values are medians over the repeats, with min–max in parentheses.",
        "",
        "| figure | value | baseline | ratio | target | met? |",
        "|---|---|---|---|---|---|",
    ]
    for figure in figures:
        baseline = f"{figure.baseline.spread_text()} ({figure.baseline_name})" if figure.baseline else ""
        ratio = f"{figure.ratio:.2f}" if figure.ratio is not None else ""
        met = {True: "✓", False: "✗", None: ""}[figure.met]
        name = figure.name + (f" — {figure.note}" if figure.note else "")
        lines.append(f"| {name} | {figure.value.spread_text()} {figure.unit} | {baseline} | {ratio} "
                     f"| {figure.target} | {met} |")
    return "\n".join(lines) + "\n"


# --- a live server and its memory --------------------------------------------------


def start_server(workdir: Path, *flags: str, data_dir: Path | None = None, env: dict | None = None) -> LiveServer:
    """A started ``serve.py`` with its data under ``workdir`` (stop it with ``.stop()``).

    Access logs go to a file, as a deployment would have them, so their cost is
    counted. Benchmarks that do not measure logins pass a low ``--bcrypt-cost``.
    """
    data_dir = data_dir or workdir / f"data-{secrets.token_hex(4)}"
    return LiveServer(data_dir, *flags, env=env).start()


def start_process(command: list[str], health_url: str, log_path: Path,
                  timeout_seconds: float = 20) -> subprocess.Popen:
    """Start ``command`` and wait until ``health_url`` answers 200 (a baseline server)."""
    log_file = open(log_path, "wb")
    process = subprocess.Popen(command, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT)
    log_file.close()  # the child holds its own copy
    host_port, _, path = health_url.split("//", 1)[1].partition("/")
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{command} exited with {process.returncode}: {log_path.read_text()}")
        try:
            connection = http.client.HTTPConnection(host_port, timeout=1)
            connection.request("GET", "/" + path)
            if connection.getresponse().status == 200:
                connection.close()
                return process
        except OSError:
            time.sleep(0.02)
    stop_process(process)
    raise RuntimeError(f"{command} did not answer {health_url}")


def stop_process(process: subprocess.Popen) -> None:
    """Terminate a process we started, and wait for it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def rss_of(pid: int, field: str = "VmRSS") -> int:
    """A process's resident memory now (``VmRSS``) or at its peak (``VmHWM``), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * KIB
    return 0


class RssSampler:
    """Sample a process's VmRSS about 20 times a second while a ``with`` block runs.

    ``idle`` is the RSS when sampling began, ``peak`` the highest sample, and
    ``growth`` their difference: what the measured work cost in memory.
    """

    INTERVAL_SECONDS = 0.05

    def __init__(self, pid: int):
        self.pid = pid
        self.idle = 0
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, rss_of(self.pid))
            except OSError:
                return  # the process is gone
            self._stop.wait(self.INTERVAL_SECONDS)

    def __enter__(self) -> "RssSampler":
        self.idle = self.peak = rss_of(self.pid)
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()
        try:
            self.peak = max(self.peak, rss_of(self.pid))
        except OSError:
            pass

    @property
    def growth(self) -> int:
        return max(0, self.peak - self.idle)


# --- talking to the server ---------------------------------------------------------


def call(base_url: str, method: str, path: str, body: dict | None = None,
         token: str | None = None, headers: dict | None = None,
         connection: http.client.HTTPConnection | None = None) -> tuple[int, dict, dict]:
    """One JSON request; returns (status, response headers, parsed envelope or {})."""
    host_port = base_url.split("//", 1)[1]
    own = connection is None
    connection = connection or http.client.HTTPConnection(host_port, timeout=120)
    sent_headers = dict(headers or {})
    payload = None
    if body is not None:
        payload = json.dumps(body).encode("utf-8")
        sent_headers["Content-Type"] = "application/json"
    if token:
        sent_headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request(method, path, body=payload, headers=sent_headers)
        response = connection.getresponse()
        raw = response.read()
        answer_headers = {name.lower(): value for name, value in response.getheaders()}
        try:
            parsed = json.loads(raw) if raw else {}
        except ValueError:
            parsed = {}
        return response.status, answer_headers, parsed
    finally:
        if own:
            connection.close()


def new_account(base_url: str, username: str | None = None) -> tuple[str, str]:
    """Register a fresh user and log in: (username, access token)."""
    username = username or "bench" + secrets.token_hex(6)
    status, _, answer = call(base_url, "POST", "/api/register",
                             {"username": username, "password": TEST_PASSWORD})
    if status != 200:
        raise RuntimeError(f"register answered {status}: {answer}")
    return username, login_token(base_url, username)


def login_token(base_url: str, username: str) -> str:
    status, _, answer = call(base_url, "POST", "/api/login", {"username": username, "password": TEST_PASSWORD})
    if status != 200:
        raise RuntimeError(f"login answered {status}: {answer}")
    return answer["data"]["access_token"]


def endpoint_ready(base_url: str, token: str, method: str, path: str) -> bool:
    """False while a handler is still a stub (it answers 500 or 501)."""
    status, _, _ = call(base_url, method, path, token=token)
    return status < 500


def delete_file(base_url: str, token: str, file_id: str) -> None:
    """Delete an uploaded file for good: ``DELETE`` moves it to the trash, and the trash's own ``DELETE`` purges it.

    Kept in the trash, each upload's bytes would stay on the disk and in the
    page cache, so every next upload would need fresh memory while a reference
    server that removes its files reuses theirs; and trashed files count
    toward the quota. A server without a trash (release 1.0) answers the purge
    with 404: its delete was for good already.
    """
    status, _, _ = call(base_url, "DELETE", f"/api/files/{file_id}", token=token)
    if status != 200:
        raise RuntimeError(f"DELETE /api/files/{file_id} answered {status}")
    status, _, _ = call(base_url, "DELETE", f"/api/trash/file/{file_id}", token=token)
    if status not in (200, 404):
        raise RuntimeError(f"DELETE /api/trash/file/{file_id} answered {status}")


def make_random_file(path: Path, size: int) -> Path:
    """``size`` random bytes, incompressible and never repeating.

    Every 8 MiB block is fresh: a client that skips chunks the server already
    has (copyparty's u2c does) would otherwise send one block and have the
    server copy the rest, and measure its deduplication instead of its upload.
    """
    with open(path, "wb") as file:
        remaining = size
        while remaining > 0:
            piece = os.urandom(min(8 * MIB, remaining))
            file.write(piece)
            remaining -= len(piece)
    return path


def section(title: str) -> None:
    print(f"\n== {title} ==", flush=True)
