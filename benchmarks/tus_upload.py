"""tus uploads: a big file in 8 MiB and 32 MiB ``PATCH`` chunks, against the machine's limits.

The client is plain ``http.client`` on one keep-alive connection, as a careful
script would be: ``POST /api/uploads`` (with the access token) creates the
upload, then each chunk is read from the (page-cached) source file and sent as
one ``PATCH`` with the ``Upload-Token`` the server answered. The clock runs
from the ``POST`` to the last ``204``, so it includes the server hashing the
finished file and moving it into place — what a user waits for.

Baselines are the multipart benchmark's, measured again here in the same run:
copying the file on the same disk, and pushing its bytes through a plain
loopback socket into a file. Also recorded: the server's RSS growth over idle
while an upload runs, and how MB/s changes from a 64 MiB file to the big one.
"""

from __future__ import annotations

import base64
import http.client
import time
from pathlib import Path

from common import (
    GIB, MIB, Figure, RssSampler, Sample, delete_file, make_random_file, mb_per_s, new_account, section, start_server,
)
from transfers import copy_mb_s, socket_upload_mb_s  # the multipart benchmark's baselines

TUS_TARGET_RATIO = 0.7  # 8 MiB chunks vs the loopback-socket-to-disk baseline
RSS_LIMIT_MIB = 64


def tus_upload(base_url: str, access_token: str, path: Path, chunk_bytes: int) -> str:
    """Upload ``path`` with tus in ``chunk_bytes`` pieces; returns the new file's id."""
    size = path.stat().st_size
    connection = http.client.HTTPConnection(base_url.split("//", 1)[1], timeout=300)
    try:
        name = base64.b64encode(path.name.encode()).decode()
        connection.request("POST", "/api/uploads", headers={
            "Authorization": f"Bearer {access_token}", "Tus-Resumable": "1.0.0",
            "Upload-Length": str(size), "Upload-Metadata": f"filename {name}", "Content-Length": "0"})
        created = connection.getresponse()
        created.read()
        if created.status != 201:
            raise RuntimeError(f"tus POST answered {created.status}")
        location = created.getheader("Location")
        upload_token = created.getheader("Upload-Token") or access_token
        offset, file_id = 0, None
        with open(path, "rb") as source:
            while offset < size:
                chunk = source.read(chunk_bytes)
                connection.request("PATCH", location, body=chunk, headers={
                    "Authorization": f"Bearer {upload_token}", "Tus-Resumable": "1.0.0",
                    "Content-Type": "application/offset+octet-stream", "Upload-Offset": str(offset)})
                answer = connection.getresponse()
                answer.read()
                if answer.status != 204:
                    raise RuntimeError(f"tus PATCH at {offset} answered {answer.status}")
                offset = int(answer.getheader("Upload-Offset"))
                file_id = answer.getheader("Upload-File-Id") or file_id
        if not file_id:
            raise RuntimeError("the last PATCH carried no Upload-File-Id")
        return file_id
    finally:
        connection.close()


def measure_tus(server, token: str, path: Path, chunk_bytes: int) -> tuple[float, int]:
    """(MB/s, server RSS growth in bytes) for one tus upload; the file is deleted after."""
    with RssSampler(server.process.pid) as rss:
        started = time.perf_counter()
        file_id = tus_upload(server.url, token, path, chunk_bytes)
        elapsed = time.perf_counter() - started
    delete_file(server.url, token, file_id)
    return mb_per_s(path.stat().st_size, elapsed), rss.growth


def run(workdir: Path, quick: bool) -> list[Figure]:
    big = 64 * MIB if quick else 1 * GIB
    small = 16 * MIB if quick else 64 * MIB
    repeats = 2 if quick else 3
    section(f"tus upload of {big // MIB} MiB in 8 and 32 MiB chunks vs copy and loopback-socket baselines")
    source = make_random_file(workdir / "source.bin", big)
    small_source = make_random_file(workdir / "small.bin", small)
    server = start_server(workdir, "--bcrypt-cost", "4", "--quota-bytes", str(64 * GIB), env={"TMPDIR": str(workdir)})
    try:
        _, token = new_account(server.url)
        copy, socket_ = Sample([]), Sample([])
        tus = {8 * MIB: Sample([]), 32 * MIB: Sample([])}
        growth = {8 * MIB: [], 32 * MIB: []}
        small_tus = Sample([])
        for _ in range(repeats):  # interleaved: noise hits figure and baselines alike
            copy.values.append(copy_mb_s(source, workdir))
            socket_.values.append(socket_upload_mb_s(source, workdir))
            for chunk_bytes in tus:
                rate, grown = measure_tus(server, token, source, chunk_bytes)
                tus[chunk_bytes].values.append(rate)
                growth[chunk_bytes].append(grown / MIB)
            small_tus.values.append(measure_tus(server, token, small_source, 8 * MIB)[0])
    finally:
        server.stop()
        source.unlink(missing_ok=True)
        small_source.unlink(missing_ok=True)

    figures = [
        Figure(f"baseline: copy {big // MIB} MiB on the same disk", "MB/s", copy),
        Figure(f"baseline: {big // MIB} MiB through a loopback socket into a file", "MB/s", socket_),
    ]
    for chunk_bytes, sample in tus.items():
        figure = Figure(f"tus upload {big // MIB} MiB, {chunk_bytes // MIB} MiB chunks", "MB/s", sample,
                        socket_, "loopback socket → file", note=f"copy baseline ratio "
                        f"{sample.median / copy.median:.2f}", extra={"rss_growth_mib": growth[chunk_bytes]})
        if chunk_bytes == 8 * MIB:
            figure.check_ratio(TUS_TARGET_RATIO)
        figures.append(figure)
        figures.append(Figure(f"server RSS growth during tus {big // MIB} MiB, {chunk_bytes // MIB} MiB chunks",
                              "MiB", Sample(growth[chunk_bytes]), higher_is_better=False
                              ).check_below(RSS_LIMIT_MIB, f"≤ {RSS_LIMIT_MIB} MiB"))
    figures.append(Figure(f"scaling: tus {big // MIB} MiB vs {small // MIB} MiB (8 MiB chunks)", "MB/s",
                          tus[8 * MIB], small_tus, f"{small // MIB} MiB upload",
                          note="ratio = big-file MB/s ÷ small-file MB/s"))
    for figure in figures:
        figure.print_line()
    return figures
