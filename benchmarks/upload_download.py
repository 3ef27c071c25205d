#!/usr/bin/env python3
"""How fast does a file go through authupload, compared with the machine itself?

    python benchmarks/upload_download.py               # a 1 GiB file
    python benchmarks/upload_download.py --size-mib 256  # a quicker run

In one run, on one disk, with one file of random bytes:

upload
  - baseline "disk copy": copy the file on the same disk (read + write + fsync);
  - baseline "loopback socket": push the bytes through a plain TCP socket on
    127.0.0.1 into a file (another process receives, writes, fsyncs);
  - authupload: ``curl -F file=@…`` to ``POST /api/files`` of a real serve.py.
download
  - baseline "loopback socket": another process reads the file and sends it
    through a plain socket; we receive and discard;
  - authupload: ``curl -o /dev/null`` from ``GET /api/files/{id}``.

It prints MB/s (10^6 bytes per second), each result's ratio to its baseline,
and the server's peak resident memory above idle, and writes everything as JSON
to benchmarks/results/. Every step runs once with a warm page cache (the file
was just written): figures for comparing paths on one machine, not disk specs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from live_server import LiveServer  # noqa: E402  (the test suite's way to run serve.py)

MIB = 1024 * 1024
CHUNK_BYTES = 1 * MIB  # the server's default read_chunk_bytes, used by every baseline too


# --- the test file ---------------------------------------------------------------


def create_file(path: Path, size: int) -> str:
    """``size`` random bytes at ``path``, fsynced; returns their sha256."""
    digest = hashlib.sha256()
    with open(path, "wb") as out:
        for offset in range(0, size, CHUNK_BYTES):
            block = os.urandom(min(CHUNK_BYTES, size - offset))
            digest.update(block)
            out.write(block)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


# --- baselines ---------------------------------------------------------------------


def copy_on_disk(source: Path, destination: Path) -> None:
    with open(source, "rb") as reader, open(destination, "wb") as writer:
        shutil.copyfileobj(reader, writer, CHUNK_BYTES)
        writer.flush()
        os.fsync(writer.fileno())


def receive_into_file(listener: socket.socket, destination: str) -> None:
    """Child process: accept one connection, write what arrives to a file, fsync."""
    connection, _ = listener.accept()
    buffer = bytearray(CHUNK_BYTES)
    with connection, open(destination, "wb") as out:
        while received := connection.recv_into(buffer):
            out.write(memoryview(buffer)[:received])
        out.flush()
        os.fsync(out.fileno())
        connection.sendall(b"ok")  # tell the sender the bytes are on disk


def send_from_file(listener: socket.socket, source: str) -> None:
    """Child process: accept one connection and send the file through it."""
    connection, _ = listener.accept()
    with connection, open(source, "rb") as reader:
        while block := reader.read(CHUNK_BYTES):
            connection.sendall(block)


def socket_upload(source: Path, destination: Path) -> float:
    """Seconds to push ``source`` through loopback TCP into ``destination`` (on disk, fsynced)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        receiver = multiprocessing.Process(target=receive_into_file, args=(listener, str(destination)))
        receiver.start()
        started = time.perf_counter()
        with socket.create_connection(listener.getsockname()) as connection, open(source, "rb") as reader:
            while block := reader.read(CHUNK_BYTES):
                connection.sendall(block)
            connection.shutdown(socket.SHUT_WR)
            assert connection.recv(2) == b"ok"
        elapsed = time.perf_counter() - started
        receiver.join()
    return elapsed


def socket_download(source: Path) -> float:
    """Seconds to receive ``source`` through loopback TCP from another process, discarding it."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        sender = multiprocessing.Process(target=send_from_file, args=(listener, str(source)))
        sender.start()
        buffer = bytearray(CHUNK_BYTES)
        started = time.perf_counter()
        with socket.create_connection(listener.getsockname()) as connection:
            while connection.recv_into(buffer):
                pass
        elapsed = time.perf_counter() - started
        sender.join()
    return elapsed


# --- through authupload -----------------------------------------------------------------


def bearer_token(server: LiveServer) -> str:
    def post(path: str, body: dict) -> dict:
        request = urllib.request.Request(server.url + path, json.dumps(body).encode(),
                                         {"Content-Type": "application/json"})
        with urllib.request.urlopen(request) as answer:
            return json.load(answer)

    credentials = {"username": "benchmark01", "password": "benchmark password"}
    post("/api/register", credentials)
    return post("/api/login", credentials)["data"]["access_token"]


def curl(*arguments: str) -> str:
    return subprocess.run(["curl", "--silent", "--show-error", "--fail-with-body", *arguments],
                          check=True, capture_output=True, text=True).stdout


# --- the run ---------------------------------------------------------------------------------


def throughput(size: int, seconds: float) -> float:
    return size / seconds / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="size of the test file (default 1024 = 1 GiB)")
    parser.add_argument("--work-dir", type=Path, default=None,
                        help="where the file, its copies and the server's data go (default: a temp dir)")
    arguments = parser.parse_args()
    size = arguments.size_mib * MIB
    work_dir = Path(tempfile.mkdtemp(prefix="authupload-bench-", dir=arguments.work_dir))
    try:
        results = run(size, work_dir)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    print_table(results)
    results_dir = ROOT / "benchmarks" / "results"
    results_dir.mkdir(exist_ok=True)
    out = results_dir / f"upload_download-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten to {out.relative_to(ROOT)}")


def run(size: int, work_dir: Path) -> dict:
    source = work_dir / "source.bin"
    print(f"creating {size / MIB:.0f} MiB of random bytes in {work_dir} …", flush=True)
    expected_sha256 = create_file(source, size)

    copy = work_dir / "copy.bin"
    copy_seconds = timed(lambda: copy_on_disk(source, copy))
    copy.unlink()
    socket_up_seconds = socket_upload(source, copy)
    copy.unlink()
    socket_down_seconds = socket_download(source)

    # waitress spools request bodies to temporary files: keep them on the same disk.
    with LiveServer(work_dir / "data", env={"TMPDIR": str(work_dir)}) as server:
        token = bearer_token(server)
        auth = f"Authorization: Bearer {token}"
        curl("-H", auth, server.url + "/api/files")  # warm the code paths before measuring idle memory
        idle_rss = server.rss_bytes()
        started = time.perf_counter()
        answer = json.loads(curl("-H", auth, "-F", f"file=@{source}", server.url + "/api/files"))
        upload_seconds = time.perf_counter() - started
        (stored,) = answer["data"]["files"]
        assert stored["sha256"] == expected_sha256, "the server stored other bytes than it was sent"
        upload_peak_rss = server.rss_bytes(peak=True)
        download_seconds = timed(lambda: curl("-H", auth, "-o", os.devnull, f"{server.url}/api/files/{stored['id']}"))
        peak_rss = server.rss_bytes(peak=True)

    upload_mb_s = throughput(size, upload_seconds)
    download_mb_s = throughput(size, download_seconds)
    return {
        "size_bytes": size,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "curl": curl("--version").splitlines()[0]},
        "upload": {
            "disk_copy_mb_s": throughput(size, copy_seconds),
            "loopback_socket_mb_s": throughput(size, socket_up_seconds),
            "authupload_curl_mb_s": upload_mb_s,
            "ratio_to_disk_copy": upload_mb_s / throughput(size, copy_seconds),
            "ratio_to_loopback_socket": upload_mb_s / throughput(size, socket_up_seconds),
            "server_peak_rss_above_idle_bytes": upload_peak_rss - idle_rss,
        },
        "download": {
            "loopback_socket_mb_s": throughput(size, socket_down_seconds),
            "authupload_curl_mb_s": download_mb_s,
            "ratio_to_loopback_socket": download_mb_s / throughput(size, socket_down_seconds),
        },
        "server_idle_rss_bytes": idle_rss,
        "server_peak_rss_above_idle_bytes": peak_rss - idle_rss,
    }


def print_table(results: dict) -> None:
    up, down = results["upload"], results["download"]
    rows = [
        ("upload", "disk copy (same disk, fsync)", up["disk_copy_mb_s"], ""),
        ("upload", "loopback socket → file (fsync)", up["loopback_socket_mb_s"], ""),
        ("upload", "authupload, curl -F", up["authupload_curl_mb_s"],
         f"{up['ratio_to_disk_copy']:.2f}× disk copy, {up['ratio_to_loopback_socket']:.2f}× socket"),
        ("download", "loopback socket ← file", down["loopback_socket_mb_s"], ""),
        ("download", "authupload, curl -o /dev/null", down["authupload_curl_mb_s"],
         f"{down['ratio_to_loopback_socket']:.2f}× socket"),
    ]
    print(f"\n{results['size_bytes'] / MIB:.0f} MiB file, {results['machine']['cpus']} CPUs, "
          f"Python {results['machine']['python']}\n")
    print(f"| direction | path | MB/s | ratio |\n|---|---|---:|---|")
    for direction, path, mb_s, ratio in rows:
        print(f"| {direction} | {path} | {mb_s:.0f} | {ratio} |")
    print(f"\nserver peak RSS above idle: {results['server_peak_rss_above_idle_bytes'] / MIB:.1f} MiB "
          f"(upload alone {up['server_peak_rss_above_idle_bytes'] / MIB:.1f} MiB; "
          f"idle {results['server_idle_rss_bytes'] / MIB:.1f} MiB)")


if __name__ == "__main__":
    main()
