"""Four multipart uploads at once: total MB/s and the server's peak memory.

Four ``curl -F`` processes start together, each with its own 64 MiB file, to
``POST /api/files`` of one server; the clock runs until the last one is
answered. The baseline is one stream of the same total through a loopback
socket into a file (the multipart benchmark's), measured in the same run. The
server's RSS is sampled throughout: four streams must not cost four files'
worth of memory.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from common import GIB, MIB, Figure, RssSampler, Sample, delete_file, mb_per_s, new_account, section, start_server
from transfers import socket_upload_mb_s
import upload_download

UPLOADS = 4
RSS_LIMIT_MIB = 64


def upload_together(server, token: str, sources: list[Path]) -> float:
    """Start one curl per file at once; seconds until all are answered (each checked 200)."""
    started = time.perf_counter()
    clients = [subprocess.Popen(["curl", "--silent", "--show-error", "--fail-with-body",
                                 "-H", f"Authorization: Bearer {token}", "-F", f"file=@{source}",
                                 server.url + "/api/files"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for source in sources]
    answers = [client.communicate(timeout=600) for client in clients]
    elapsed = time.perf_counter() - started
    for client, (out, err) in zip(clients, answers):
        if client.returncode != 0:
            raise RuntimeError(f"curl failed: {err.decode()[:200]} {out.decode()[:200]}")
    for (out, _) in answers:
        (stored,) = json.loads(out)["data"]["files"]
        delete_file(server.url, token, stored["id"])
    return elapsed


def run(workdir: Path, quick: bool) -> list[Figure]:
    size = 16 * MIB if quick else 64 * MIB
    repeats = 2 if quick else 3
    section(f"{UPLOADS} concurrent multipart uploads of {size // MIB} MiB (curl -F)")
    sources = [workdir / f"source-{n}.bin" for n in range(UPLOADS)]
    for source in sources:
        upload_download.create_file(source, size)
    combined = workdir / "combined.bin"  # the same total bytes, for the one-stream baseline
    with open(combined, "wb") as out:
        for source in sources:
            out.write(source.read_bytes())
    server = start_server(workdir, "--bcrypt-cost", "4", "--quota-bytes", str(64 * GIB), env={"TMPDIR": str(workdir)})
    total, baseline, growth = Sample([]), Sample([]), Sample([])
    try:
        _, token = new_account(server.url)
        for _ in range(repeats):
            baseline.values.append(socket_upload_mb_s(combined, workdir))
            with RssSampler(server.process.pid) as rss:
                seconds = upload_together(server, token, sources)
            total.values.append(mb_per_s(UPLOADS * size, seconds))
            growth.values.append(rss.growth / MIB)
    finally:
        server.stop()
        for path in [*sources, combined]:
            path.unlink(missing_ok=True)
    figures = [
        Figure(f"{UPLOADS} concurrent multipart uploads of {size // MIB} MiB: total", "MB/s", total, baseline,
               f"one loopback socket → file, {UPLOADS * size // MIB} MiB"),
        Figure(f"server RSS growth during {UPLOADS} concurrent uploads", "MiB", growth,
               higher_is_better=False).check_below(RSS_LIMIT_MIB, f"≤ {RSS_LIMIT_MIB} MiB"),
    ]
    for figure in figures:
        figure.print_line()
    return figures
