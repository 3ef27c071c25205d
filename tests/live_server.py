"""Run the real ``serve.py`` as a child process on a free loopback port, for tests
that need what only a real server shows (sockets, waitress, process memory).

    with LiveServer(tmp_path / "data", "--bcrypt-cost", "4") as server:
        requests.get(server.url + "/api/health")

Start-up waits for ``/api/health`` to answer (never a fixed sleep); leaving the
``with`` block stops the process and waits for it. Every test client comes from
loopback, so registrations per address are unbounded unless a test passes its
own ``--max-registrations-per-address``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from support import UNBOUNDED_REGISTRATIONS

ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_SECONDS = 20
# The access-log line is written when the server closes the response body
# (PEP 3333), which may be just after the client has read the last byte.
LOG_WAIT_SECONDS = 20


def free_port() -> int:
    """A port the OS says is free now (it could be taken before we bind it; rare enough)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LiveServer:
    def __init__(self, data_dir: Path, *flags: str, env: dict | None = None, port: int | None = None):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        if "--max-registrations-per-address" not in flags:
            flags = ("--max-registrations-per-address", str(UNBOUNDED_REGISTRATIONS), *flags)
        self.flags = flags
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen | None = None
        self.log_path = self.data_dir.parent / f"server-{self.port}.log"

    def start(self) -> "LiveServer":
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.log_file = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "serve.py"), "--host", "127.0.0.1", "--port", str(self.port),
             "--data-dir", str(self.data_dir), *self.flags],
            cwd=ROOT, env=self.env, stdout=self.log_file, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve.py exited with {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + "/api/health", timeout=1) as answer:
                    if json.load(answer)["data"]["status"] == "ok":
                        return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"serve.py did not answer /api/health in time:\n{self.log()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "log_file", None):
            self.log_file.close()

    def kill(self) -> None:
        """SIGKILL: the server gets no chance to clean up (crash tests)."""
        self.process.kill()
        self.process.wait()
        self.log_file.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_once_it_holds(self, text: str) -> str:
        """The log as soon as it holds ``text`` (or as it is after LOG_WAIT_SECONDS, for the assert to show).

        A request's access-log line comes after its response reached the client,
        so a test that has just read a response waits for the line, never a fixed sleep.
        """
        deadline = time.monotonic() + LOG_WAIT_SECONDS
        while text not in (log := self.log()) and time.monotonic() < deadline:
            time.sleep(0.05)
        return log

    def rss_bytes(self, peak: bool = False) -> int:
        """The server's resident memory now, or its peak (VmHWM), from /proc."""
        field = "VmHWM" if peak else "VmRSS"
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        raise RuntimeError(f"no {field} in /proc status")

    def __enter__(self) -> "LiveServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
