"""Soak: many clients, mixed traffic, then an audit that nothing was lost.

N client threads (default 16) each register a user and, for T seconds, pick
at random among: me, upload (1 KB – 50 MB, log-uniform so most are small),
list, download (sha256 checked), delete, a duplicate registration (must be
409) and a wrong-password login (must be 401). Every acknowledged upload is
remembered; every acknowledged delete forgets one.

The audit at the end, against the still-running servers and then the stopped
database:
- every remembered file is listed, downloads whole, and has its sha256;
- nothing else is listed; ``usage.bytes`` equals the sum of the sizes;
- ``PRAGMA integrity_check`` is ``ok``; no user twice; every file row has its bytes;
- zero 5xx; and the server's RSS over the second half stayed near the first's.

    python benchmarks/soak.py                        # 16 clients, 60 s, one server
    python benchmarks/soak.py --servers 2 --seconds 30   # two processes, one data dir

Loopback only; bounded in time and count; stops by itself.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import math
import os
import random
import secrets
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from data_audit import audit_data_dir  # noqa: E402
from live_server import LiveServer  # noqa: E402

PASSWORD = "soak password 1"
MIN_UPLOAD_BYTES = 1024
WRONG_PASSWORDS_PER_CLIENT = 2


def upload_size(rng: random.Random, max_bytes: int) -> int:
    """Log-uniform between 1 KB and max_bytes: mostly small files, some large."""
    return int(math.exp(rng.uniform(math.log(MIN_UPLOAD_BYTES), math.log(max_bytes))))


class Tally:
    """Counts and latencies shared by all client threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses = collections.Counter()
        self.latencies_ms: list[float] = []
        self.surprises: list[str] = []

    def record(self, operation: str, status: int, seconds: float) -> None:
        with self.lock:
            self.statuses[(operation, status)] += 1
            self.latencies_ms.append(seconds * 1000)

    def surprise(self, text: str) -> None:
        with self.lock:
            self.surprises.append(text)


class SoakClient(threading.Thread):
    def __init__(self, number: int, urls: list[str], deadline: float, tally: Tally, max_bytes: int, seed: int):
        super().__init__(name=f"client-{number}", daemon=True)
        self.urls = urls
        self.deadline = deadline
        self.tally = tally
        self.max_bytes = max_bytes
        self.rng = random.Random(seed)
        self.session = requests.Session()
        self.username = f"soak{number:03d}{secrets.token_hex(4)}"
        self.files: dict[str, str] = {}  # acknowledged uploads: id → sha256
        self.token = ""
        self.wrong_passwords_sent = 0

    def call(self, operation: str, method: str, path: str, expected: tuple[int, ...], **kwargs):
        url = self.rng.choice(self.urls) + path  # with two servers, either may answer
        started = time.perf_counter()
        response = self.session.request(method, url, timeout=120, **kwargs)
        self.tally.record(operation, response.status_code, time.perf_counter() - started)
        if response.status_code not in expected:
            self.tally.surprise(f"{operation} {path}: {response.status_code} {response.text[:200]}")
        return response

    @property
    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def run(self) -> None:
        credentials = {"username": self.username, "password": PASSWORD}
        self.call("register", "POST", "/api/register", (200,), json=credentials)
        self.token = self.call("login", "POST", "/api/login", (200,), json=credentials).json()["data"]["access_token"]
        actions = [self.me, self.upload, self.upload, self.listing, self.download, self.delete,
                   self.duplicate_registration, self.wrong_password]
        while time.monotonic() < self.deadline:
            self.rng.choice(actions)()

    def me(self) -> None:
        self.call("me", "GET", "/api/me", (200,), headers=self.auth)

    def upload(self) -> None:
        body = self.rng.randbytes(upload_size(self.rng, self.max_bytes))
        response = self.call("upload", "POST", "/api/files", (200,), headers=self.auth,
                             files={"file": ("soak.bin", body, "application/octet-stream")})
        if response.status_code == 200:
            stored = response.json()["data"]["files"][0]
            if stored["sha256"] != hashlib.sha256(body).hexdigest():
                self.tally.surprise(f"upload {stored['id']}: server sha256 differs")
            self.files[stored["id"]] = stored["sha256"]

    def listing(self) -> None:
        self.call("list", "GET", "/api/files?limit=20", (200,), headers=self.auth)

    def download(self) -> None:
        if self.files:
            file_id = self.rng.choice(list(self.files))
            response = self.call("download", "GET", f"/api/files/{file_id}", (200,), headers=self.auth)
            if response.status_code == 200 and hashlib.sha256(response.content).hexdigest() != self.files[file_id]:
                self.tally.surprise(f"download {file_id}: sha256 differs")

    def delete(self) -> None:
        if self.files:
            file_id = self.rng.choice(list(self.files))
            if self.call("delete", "DELETE", f"/api/files/{file_id}", (200,), headers=self.auth).status_code == 200:
                del self.files[file_id]

    def duplicate_registration(self) -> None:
        self.call("duplicate", "POST", "/api/register", (409,),
                  json={"username": self.username.upper(), "password": PASSWORD})

    def wrong_password(self) -> None:
        # Two per client: below the username lock (10), and 16 clients × 2 stay
        # below the lock of their shared address 127.0.0.1 (50).
        if self.wrong_passwords_sent < WRONG_PASSWORDS_PER_CLIENT:
            self.wrong_passwords_sent += 1
            self.call("wrong_password", "POST", "/api/login", (401,),
                      json={"username": self.username, "password": "not it at all"})


def audit_client(client: SoakClient, url: str, tally: Tally) -> int:
    """Check that the server holds exactly what this client was told it holds; returns bytes checked."""
    listed = {}
    offset = 0
    while True:
        page = requests.get(f"{url}/api/files?limit=500&offset={offset}", headers=client.auth, timeout=60).json()["data"]
        listed.update({f["id"]: f for f in page["files"]})
        offset += len(page["files"])
        if offset >= page["total"] or not page["files"]:
            break
    if set(listed) != set(client.files):
        tally.surprise(f"{client.username}: listed {len(listed)} files, acknowledged {len(client.files)}")
    checked = 0
    for file_id, sha256 in client.files.items():
        body = requests.get(f"{url}/api/files/{file_id}", headers=client.auth, timeout=120).content
        if hashlib.sha256(body).hexdigest() != sha256:
            tally.surprise(f"{client.username}: file {file_id} lost or corrupt")
        checked += len(body)
    usage = requests.get(f"{url}/api/me", headers=client.auth, timeout=60).json()["data"]["usage"]
    if usage["bytes"] != sum(f["size"] for f in listed.values()) or usage["files"] != len(listed):
        tally.surprise(f"{client.username}: usage {usage} disagrees with the listing")
    return checked


def sample_rss(servers: list[LiveServer], samples: list[int], stop: threading.Event) -> None:
    while not stop.wait(0.25):
        try:
            samples.append(sum(server.rss_bytes() for server in servers))
        except (OSError, RuntimeError):
            return


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def soak(clients: int, seconds: float, servers: int, max_bytes: int, seed: int, work_dir: Path) -> dict:
    """Run the soak and the audit; returns the figures (``surprises`` empty means it passed)."""
    data_dir = work_dir / "data"
    tally = Tally()
    running = [LiveServer(data_dir, "--bcrypt-cost", "4", "--threads", "8").start() for _ in range(servers)]
    rss_samples: list[int] = []
    stop_sampling = threading.Event()
    sampler = threading.Thread(target=sample_rss, args=(running, rss_samples, stop_sampling), daemon=True)
    try:
        sampler.start()
        deadline = time.monotonic() + seconds
        urls = [server.url for server in running]
        workers = [SoakClient(n, urls, deadline, tally, max_bytes, seed + n) for n in range(clients)]
        started = time.monotonic()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=seconds + 300)
        elapsed = time.monotonic() - started
        stop_sampling.set()
        checked_bytes = sum(audit_client(worker, urls[0], tally) for worker in workers)
    finally:
        stop_sampling.set()
        for server in running:
            server.stop()
    for problem in audit_data_dir(data_dir):
        tally.surprise(problem)
    half = len(rss_samples) // 2
    requests_made = sum(tally.statuses.values())
    return {
        "clients": clients, "servers": servers, "seconds": round(elapsed, 1),
        "requests": requests_made, "requests_per_second": round(requests_made / elapsed, 1),
        "by_status": {f"{op} {status}": n for (op, status), n in sorted(tally.statuses.items())},
        "server_errors": sum(n for (_, status), n in tally.statuses.items() if status >= 500),
        "latency_p50_ms": round(percentile(tally.latencies_ms, 0.50), 1),
        "latency_p99_ms": round(percentile(tally.latencies_ms, 0.99), 1),
        "files_audited": sum(len(worker.files) for worker in workers),
        "bytes_audited": checked_bytes,
        "rss_first_half_median_mib": round(statistics.median(rss_samples[:half]) / 2**20, 1) if half else None,
        "rss_second_half_max_mib": round(max(rss_samples[half:]) / 2**20, 1) if half else None,
        "rss_peak_mib": round(max(rss_samples) / 2**20, 1) if rss_samples else None,
        "surprises": tally.surprises,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--servers", type=int, default=1, choices=(1, 2))
    parser.add_argument("--max-upload-mib", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="authupload-soak-") as work_dir:
        result = soak(args.clients, args.seconds, args.servers, args.max_upload_mib * 2**20, args.seed, Path(work_dir))
    for key, value in result.items():
        if key not in ("by_status", "surprises"):
            print(f"{key:28} {value}")
    print("by operation and status:")
    for key, value in result["by_status"].items():
        print(f"  {key:26} {value}")
    print(f"surprises: {len(result['surprises'])}")
    for line in result["surprises"][:20]:
        print("  " + line)
    return 1 if result["surprises"] or result["server_errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
