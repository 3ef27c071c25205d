"""This tree beside another checkout: does a change cost the everyday paths anything?

    python benchmarks/before_after.py --before DIR [--repeats 5] [--size-mib 256]

``DIR`` is another checkout of authupload (``git worktree add /tmp/before <commit>``);
both servers run from this environment on the same settings, and every figure is
taken from both in turn, each repeat (interleaved: a noisy neighbour hurts both),
the order swapped every repeat.

- ``GET /api/health`` and ``GET /api/me`` with wrk (2 threads, 8 connections, 3 s):
  requests per second, and the server's CPU time per request (user + system, all
  threads, from /proc) — the steadier figure on a shared machine, where the
  throughput of one run can jump by a tenth;
- a multipart upload (``curl -F``) and a download (``curl -o /dev/null``) of the same
  random file, in MB/s.

Medians with min–max; the ratio is this tree ÷ before (for CPU, before ÷ this tree,
so that above 1 is better everywhere). Results: printed, and written to
``results/before-after.md``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from common import MIB, make_random_file, mb_per_s
from small_requests import WRK, parse_wrk, write_lua
from upload_references import Authupload, cpu_seconds
import upload_download  # curl

HERE = Path(__file__).resolve().parent
WRK_SETTINGS = ["-t2", "-c8", "-d3s"]


def requests_and_cpu(server: Authupload, path: str, script: Path) -> tuple[float, float]:
    """Requests per second, and server CPU microseconds per request, of one wrk run."""
    cpu_before = cpu_seconds(server.pid)
    output = subprocess.run([WRK, *WRK_SETTINGS, "--latency", "-s", str(script), server.url + path],
                            capture_output=True, text=True, timeout=60).stdout
    cpu = cpu_seconds(server.pid) - cpu_before
    rate = parse_wrk(output)["requests_per_s"]
    seconds = float(WRK_SETTINGS[-1][2:-1])
    return rate, cpu / (rate * seconds) * 1e6


def timed_mb_per_s(size: int, action) -> float:
    return mb_per_s(size, upload_download.timed(action))


def measure(servers: list[Authupload], repeats: int, size: int, workdir: Path) -> dict:
    source = make_random_file(workdir / "source.bin", size)
    figures: dict[tuple[str, str], list[float]] = {}
    scripts = {server.name: (write_lua(workdir / f"{server.name.replace(' ', '-')}.lua", {}),
                             write_lua(workdir / f"{server.name.replace(' ', '-')}-me.lua",
                                       {"Authorization": f"Bearer {server.token}"})) for server in servers}
    stored = {}
    for server in servers:
        answer = upload_download.curl("-H", f"Authorization: Bearer {server.token}", "-F", f"file=@{source}",
                                      server.url + "/api/files")
        stored[server.name] = answer.split('"id":"', 1)[1].split('"', 1)[0]
    for repeat in range(repeats):
        for server in servers if repeat % 2 == 0 else servers[::-1]:  # ABBA: whoever goes first gains nothing
            plain, with_token = scripts[server.name]
            for name, path, script in (("GET /api/health", "/api/health", plain), ("GET /api/me", "/api/me", with_token)):
                rate, cpu = requests_and_cpu(server, path, script)
                figures.setdefault((name + " req/s", server.name), []).append(rate)
                figures.setdefault((name + " CPU µs/request", server.name), []).append(cpu)
            figures.setdefault((f"multipart upload {size // MIB} MiB MB/s", server.name), []).append(
                timed_mb_per_s(size, lambda: server.multipart(source)))
            figures.setdefault((f"download {size // MIB} MiB MB/s", server.name), []).append(timed_mb_per_s(
                size, lambda: upload_download.curl("-o", "/dev/null", "-H", f"Authorization: Bearer {server.token}",
                                                   f"{server.url}/api/files/{stored[server.name]}")))
        print(f"repeat {repeat + 1} of {repeats} done", flush=True)
    return figures


def table(figures: dict, names: list[str]) -> list[str]:
    now, before = names
    lines = [f"| figure | {now} | {before} | ratio (above 1: {now} better) |", "|---|---|---|---|"]
    for figure in dict.fromkeys(name for name, _ in figures):
        medians = [statistics.median(figures[(figure, server)]) for server in names]
        spreads = [f"{medians[i]:.0f} ({min(figures[(figure, s)]):.0f}–{max(figures[(figure, s)]):.0f})"
                   for i, s in enumerate(names)]
        ratio = medians[1] / medians[0] if "CPU" in figure else medians[0] / medians[1]
        lines.append(f"| {figure} | {spreads[0]} | {spreads[1]} | {ratio:.2f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="another checkout whose serve.py to compare")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--size-mib", type=int, default=256, help="the file uploaded and downloaded")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="before-after-") as workdir:
        servers = [Authupload("this tree", Path(workdir)), Authupload("before", Path(workdir), arguments.before)]
        try:
            figures = measure(servers, arguments.repeats, arguments.size_mib * MIB, Path(workdir))
        finally:
            for server in servers:
                server.stop()
    text = "\n".join(table(figures, [server.name for server in servers])) + "\n"
    print(text)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "before-after.md").write_text(
        f"`python benchmarks/before_after.py {' '.join(sys.argv[1:])}`\n\n{text}")


if __name__ == "__main__":
    main()
