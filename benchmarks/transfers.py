"""Multipart upload and download of big files, against the machine's own limits.

The primitives are the multipart benchmark's (``upload_download.py``: the test
file, the disk-copy and loopback-socket baselines, curl); this module repeats
them so each figure is a median with its spread, samples the server's RSS while
each transfer runs, adds a ``Range`` download, and runs at several sizes so
the scaling from 64 MiB to 1 GiB shows.

Per size, each repeat runs in this order (interleaved, so a noisy neighbour
hurts figures and baselines alike):
1. baseline: copy the file on the same disk (read, write, fsync);
2. baseline: push it through a loopback socket into a file (fsync);
3. ``curl -F file=@…`` to ``POST /api/files`` (server RSS sampled; sha256 checked);
4. baselines: another process reads the file (page cache) and sends it through a
   loopback socket, received by Python's ``recv_into`` (the multipart benchmark's)
   and by curl behind a minimal HTTP header (ours: the same client as the figure,
   since curl alone receives about 30 % slower than a 1 MiB ``recv_into`` here);
5. ``curl -o /dev/null`` of ``GET /api/files/{id}``, then with ``Range: bytes=1048576-``
   (all but the first MiB: the ranged path, on nearly the same byte count as the baseline);
6. ``DELETE`` the file and purge it from the trash, so disk and quota do not fill up.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import time
from pathlib import Path

from common import GIB, MIB, Figure, RssSampler, Sample, delete_file, mb_per_s, new_account, section, start_server
import upload_download  # the multipart benchmark: baselines, test file, curl

UPLOAD_TARGET_RATIO = 0.8
DOWNLOAD_TARGET_RATIO = 0.8
RSS_LIMIT_MIB = 64


def copy_mb_s(source: Path, workdir: Path) -> float:
    """Baseline: MB/s of copying ``source`` on the same disk (upload_download.copy_on_disk)."""
    copy = workdir / "baseline-copy.bin"
    try:
        return mb_per_s(source.stat().st_size, upload_download.timed(lambda: upload_download.copy_on_disk(source, copy)))
    finally:
        copy.unlink(missing_ok=True)


def socket_upload_mb_s(source: Path, workdir: Path) -> float:
    """Baseline: MB/s through a loopback socket into a file (upload_download.socket_upload)."""
    received = workdir / "baseline-received.bin"
    try:
        return mb_per_s(source.stat().st_size, upload_download.socket_upload(source, received))
    finally:
        received.unlink(missing_ok=True)


def socket_download_mb_s(source: Path) -> float:
    """Baseline: MB/s of reading the file (page cache) and receiving it through a loopback socket."""
    return mb_per_s(source.stat().st_size, upload_download.socket_download(source))


def send_as_http(listener: socket.socket, source: str) -> None:
    """Child process: answer one request with the file's bytes behind a minimal HTTP/1.1 header."""
    connection, _ = listener.accept()
    with connection, open(source, "rb") as reader:
        request = b""
        while b"\r\n\r\n" not in request:
            request += connection.recv(65536)
        size = os.fstat(reader.fileno()).st_size
        connection.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n".encode())
        while block := reader.read(upload_download.CHUNK_BYTES):
            connection.sendall(block)


def curl_socket_download_mb_s(source: Path) -> float:
    """Baseline with the figure's client: curl receiving the file from a plain socket sender."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        sender = multiprocessing.Process(target=send_as_http, args=(listener, str(source)))
        sender.start()
        started = time.perf_counter()
        upload_download.curl("-o", os.devnull, f"http://127.0.0.1:{listener.getsockname()[1]}/")
        elapsed = time.perf_counter() - started
        sender.join()
    return mb_per_s(source.stat().st_size, elapsed)


def curl_upload(server, token: str, source: Path) -> tuple[float, int, dict]:
    """(MB/s, RSS growth in bytes, the stored <file>) of one multipart upload with curl."""
    with RssSampler(server.process.pid) as rss:
        started = time.perf_counter()
        answer = upload_download.curl("-H", f"Authorization: Bearer {token}", "-F", f"file=@{source}",
                                      server.url + "/api/files")
        elapsed = time.perf_counter() - started
    (stored,) = json.loads(answer)["data"]["files"]
    return mb_per_s(source.stat().st_size, elapsed), rss.growth, stored


def curl_download(server, token: str, file_id: str, byte_range: str | None = None) -> tuple[float, int]:
    """(MB/s, RSS growth in bytes) of downloading a file (or a ``Range`` of it) to /dev/null."""
    extra = ["-r", byte_range] if byte_range else []
    with RssSampler(server.process.pid) as rss:
        started = time.perf_counter()
        output = upload_download.curl("-H", f"Authorization: Bearer {token}", *extra, "-o", os.devnull,
                                      "-w", "%{http_code} %{size_download}", f"{server.url}/api/files/{file_id}")
        elapsed = time.perf_counter() - started
    status, size = output.split()
    if status != ("206" if byte_range else "200"):
        raise RuntimeError(f"download answered {status}")
    return mb_per_s(int(size), elapsed), rss.growth


def run(workdir: Path, quick: bool) -> list[Figure]:
    sizes = [16 * MIB, 64 * MIB] if quick else [64 * MIB, 256 * MIB, 1 * GIB]
    repeats = 2 if quick else 3
    section("Multipart upload and download (curl) vs disk copy and loopback-socket baselines, "
            + ", ".join(f"{size // MIB} MiB" for size in sizes))
    # waitress spools request bodies to temporary files: keep them on the same disk, in our workdir.
    server = start_server(workdir, "--bcrypt-cost", "4", "--quota-bytes", str(64 * GIB), env={"TMPDIR": str(workdir)})
    figures, by_size = [], {}
    try:
        _, token = new_account(server.url)
        for size in sizes:
            source = workdir / f"source-{size // MIB}.bin"
            expected_sha256 = upload_download.create_file(source, size)
            s = {key: Sample([]) for key in ("copy", "socket_up", "upload", "socket_down", "curl_down", "download", "range")}
            growth = {"upload": [], "download": [], "range": []}
            try:
                for _ in range(repeats):
                    s["copy"].values.append(copy_mb_s(source, workdir))
                    s["socket_up"].values.append(socket_upload_mb_s(source, workdir))
                    rate, grown, stored = curl_upload(server, token, source)
                    if stored["sha256"] != expected_sha256:
                        raise RuntimeError("the server stored other bytes than it was sent")
                    s["upload"].values.append(rate)
                    growth["upload"].append(grown / MIB)
                    s["socket_down"].values.append(socket_download_mb_s(source))
                    s["curl_down"].values.append(curl_socket_download_mb_s(source))
                    rate, grown = curl_download(server, token, stored["id"])
                    s["download"].values.append(rate)
                    growth["download"].append(grown / MIB)
                    rate, grown = curl_download(server, token, stored["id"], f"{MIB}-{size - 1}")
                    s["range"].values.append(rate)
                    growth["range"].append(grown / MIB)
                    delete_file(server.url, token, stored["id"])
            finally:
                source.unlink(missing_ok=True)
            by_size[size] = s
            figures += size_figures(size, s, growth, is_target=size >= 256 * MIB or size == sizes[-1])
        figures += scaling_figures(sizes, by_size)
    finally:
        server.stop()
    return figures


def size_figures(size: int, s: dict, growth: dict, is_target: bool) -> list[Figure]:
    label = f"{size // MIB} MiB"
    upload = Figure(f"multipart upload {label} (curl -F)", "MB/s", s["upload"], s["socket_up"],
                    "loopback socket → file", note=f"{s['upload'].median / s['copy'].median:.2f}× disk copy "
                    f"({s['copy'].median:.0f} MB/s)", extra={"disk_copy_mb_s": s["copy"].as_json()})
    python_receiver = s["socket_down"].median
    download = Figure(f"download {label} (curl -o /dev/null)", "MB/s", s["download"], s["curl_down"],
                      "file → loopback socket → curl",
                      note=f"{s['download'].median / python_receiver:.2f}× the Python-receiver baseline "
                      f"({python_receiver:.0f} MB/s)", extra={"python_receiver_mb_s": s["socket_down"].as_json()})
    ranged = Figure(f"download {label} with Range (from 1 MiB to the end)", "MB/s", s["range"], s["curl_down"],
                    "file → loopback socket → curl",
                    note=f"{s['range'].median / python_receiver:.2f}× the Python-receiver baseline")
    figures = [upload, download, ranged]
    if is_target:
        upload.check_ratio(UPLOAD_TARGET_RATIO)
        download.check_ratio(DOWNLOAD_TARGET_RATIO)
        ranged.check_ratio(DOWNLOAD_TARGET_RATIO)
        for kind in ("upload", "download"):
            figures.append(Figure(f"server RSS growth during {kind} of {label}", "MiB", Sample(growth[kind]),
                                  higher_is_better=False).check_below(RSS_LIMIT_MIB, f"≤ {RSS_LIMIT_MIB} MiB"))
    for figure in figures:
        figure.print_line()
    return figures


def scaling_figures(sizes: list[int], by_size: dict) -> list[Figure]:
    """How MB/s changes from the smallest to the largest file: ideally a ratio near 1."""
    small, big = sizes[0], sizes[-1]
    figures = []
    for key, what in (("upload", "multipart upload"), ("download", "download")):
        figure = Figure(f"scaling: {what} {big // MIB} MiB vs {small // MIB} MiB", "MB/s",
                        by_size[big][key], by_size[small][key], f"{small // MIB} MiB",
                        note="ratio = big-file MB/s ÷ small-file MB/s")
        figure.print_line()
        figures.append(figure)
    return figures
