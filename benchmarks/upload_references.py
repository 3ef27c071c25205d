"""Uploads beside copyparty and a bare waitress app, measured in the same run.

    pip install copyparty        # the benchmark's own reference, never a dependency of authupload
    python benchmarks/upload_references.py [--before DIR] [--sizes-mib 256 1024] [--repeats 3]

Each repeat uploads the same random file to every server in turn (interleaved,
copyparty last and first by turns, so a noisy neighbour hurts all alike);
figures are medians with min–max:

- authupload: ``curl -F file=@…`` to ``POST /api/files`` (multipart), and tus in
  8 MiB ``PATCH`` chunks (tus_upload.py's client); the file is deleted after
  each, and purged from the trash, as copyparty's folder is removed;
- ``--before DIR``: the same against another checkout's ``serve.py`` (e.g. main,
  to compare a change), on the same settings;
- bare waitress: bare_upload_app.py, which copies ``wsgi.input`` to a file and
  fsyncs — the floor of any WSGI app on waitress (multipart only: it parses nothing);
- copyparty: ``curl -F act=bput -F f=@…`` (multipart), and its own resumable client
  ``u2c`` (chunked, parallel, hashing the file first on the client). copyparty is
  restarted on a fresh folder every repeat, or it would deduplicate the file.
  Note: copyparty does not fsync an upload; authupload and the bare app do,
  so an acknowledged upload survives a power cut only with them. Before each
  upload the machine syncs (off the clock), so no upload waits behind the bytes
  another server left for the disk to write.

Also per upload: the server's CPU time (user + system, from /proc, all threads)
per GiB, and its RSS growth over idle. And the latency of ``GET /api/health`` on
another connection while a 1 GiB upload runs (p50/p99/max), idle first: the event
loop must not stall other requests while it writes bodies (server.py).
Results: printed, and written to ``results/upload-references.md``.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import (GIB, MIB, RssSampler, delete_file, free_port, make_random_file, mb_per_s, new_account,
                    start_process, start_server, stop_process)
from tus_upload import tus_upload
import upload_download  # curl

HERE = Path(__file__).resolve().parent
TUS_CHUNK_BYTES = 8 * MIB
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads, so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class Measured:
    """Seconds, server CPU seconds and RSS growth of each repeat of one upload kind."""

    def __init__(self):
        self.seconds: list[float] = []
        self.cpu: list[float] = []
        self.rss: list[int] = []

    def run(self, pid: int, upload) -> None:
        # Whatever an earlier upload left unwritten goes to the disk first, off the clock:
        # copyparty does not fsync, and the next server's fsyncs would wait behind its gigabytes.
        os.sync()
        cpu_before = cpu_seconds(pid)
        with RssSampler(pid) as rss:
            started = time.perf_counter()
            upload()
            self.seconds.append(time.perf_counter() - started)
        self.cpu.append(cpu_seconds(pid) - cpu_before)
        self.rss.append(rss.peak - rss.idle)


class Authupload:
    """A serve.py (this tree's, or ``root``'s) with one account."""

    def __init__(self, name: str, workdir: Path, root: Path | None = None):
        self.name = name
        flags = ("--bcrypt-cost", "4", "--quota-bytes", str(64 * GIB))  # flags every release knows (--before)
        data_dir = workdir / f"data-{name.replace(' ', '-')}"
        if root is None:
            self.server = start_server(workdir, *flags, data_dir=data_dir)
            self.url, self.pid, self.stop = self.server.url, self.server.process.pid, self.server.stop
        else:
            port = free_port()
            self.url = f"http://127.0.0.1:{port}"
            process = start_process([sys.executable, str(root / "serve.py"), "--host", "127.0.0.1", "--port", str(port),
                                     "--data-dir", str(data_dir), *flags], self.url + "/api/health",
                                    workdir / f"{data_dir.name}.log")
            self.pid, self.stop = process.pid, lambda: stop_process(process)
        self.token = new_account(self.url)[1]

    def multipart(self, source: Path) -> None:
        answer = upload_download.curl("-H", f"Authorization: Bearer {self.token}", "-F", f"file=@{source}",
                                      self.url + "/api/files")
        self.delete(answer.split('"id":"', 1)[1].split('"', 1)[0])

    def tus(self, source: Path) -> None:
        self.delete(tus_upload(self.url, self.token, source, TUS_CHUNK_BYTES))

    def delete(self, file_id: str) -> None:
        delete_file(self.url, self.token, file_id)


class Copyparty:
    """copyparty on a fresh folder (its deduplication would skip a file it has seen)."""

    name = "copyparty"

    def __init__(self, workdir: Path):
        self.folder = workdir / "copyparty"
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir()
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.process = start_process([sys.executable, "-m", "copyparty", "-i", "127.0.0.1", "-p", str(port),
                                      "-v", f"{self.folder}::rw", "-q"], self.url + "/", workdir / "copyparty.log")
        self.pid = self.process.pid

    def multipart(self, source: Path) -> None:
        upload_download.curl("-F", "act=bput", "-F", f"f=@{source}", self.url + "/")

    def resumable(self, source: Path) -> None:
        u2c = Path(__import__("copyparty").__file__).parent / "web" / "a" / "u2c.py"
        subprocess.run([sys.executable, str(u2c), self.url + "/", str(source)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self) -> None:
        stop_process(self.process)


class Bare:
    name = "bare waitress"

    def __init__(self, workdir: Path):
        self.folder = workdir / "bare"
        self.folder.mkdir(exist_ok=True)
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.process = start_process([sys.executable, str(HERE / "bare_upload_app.py"), str(port), str(self.folder)],
                                     self.url + "/", workdir / "bare.log")
        self.pid = self.process.pid

    def multipart(self, source: Path) -> None:
        upload_download.curl("-F", f"file=@{source}", self.url + "/upload")
        for stored in self.folder.iterdir():
            stored.unlink()

    def stop(self) -> None:
        stop_process(self.process)


def health_latencies(url: str, during) -> list[float]:
    """Milliseconds of each ``GET /api/health`` on one keep-alive connection, asked in a loop while ``during()`` runs."""
    latencies: list[float] = []
    done = threading.Event()

    def probe():
        connection = http.client.HTTPConnection(url.split("//", 1)[1], timeout=60)
        while not done.is_set():
            started = time.perf_counter()
            connection.request("GET", "/api/health")
            connection.getresponse().read()
            latencies.append((time.perf_counter() - started) * 1000)
            done.wait(0.01)
        connection.close()

    thread = threading.Thread(target=probe)
    thread.start()
    try:
        during()
    finally:
        done.set()
        thread.join()
    return latencies


def latency_text(values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered):.1f} / p99 {p99:.1f} / max {ordered[-1]:.1f} ms ({len(ordered)} requests)"


def figure_text(size: int, measured: Measured) -> str:
    speeds = sorted(mb_per_s(size, seconds) for seconds in measured.seconds)
    return f"{statistics.median(speeds):.0f} MB/s ({speeds[0]:.0f}–{speeds[-1]:.0f})"


def run_copyparty(workdir: Path, source: Path, results: dict) -> None:
    """copyparty's two uploads of ``source``, on a fresh copyparty."""
    copyparty = Copyparty(workdir)
    try:
        results[("copyparty", "multipart")].run(copyparty.pid, lambda: copyparty.multipart(source))
        results[("copyparty", "resumable (u2c)")].run(copyparty.pid, lambda: copyparty.resumable(source))
    finally:
        copyparty.stop()


def run(sizes: list[int], repeats: int, before: Path | None, workdir: Path, latency_size: int) -> list[str]:
    lines = ["| upload | size | server | MB/s median (min–max) | server CPU s/GiB | RSS growth MiB |",
             "|---|---|---|---|---|---|"]
    servers = [Authupload("authupload", workdir)]
    if before is not None:
        servers.append(Authupload("authupload before", workdir, before))
    bare = Bare(workdir)
    try:
        for size in sizes:
            source = make_random_file(workdir / f"source-{size}.bin", size)
            kinds = [(f"{server.name}", "multipart", server, server.multipart) for server in servers]
            kinds += [(bare.name, "multipart", bare, bare.multipart)]
            kinds += [(f"{server.name}", "resumable (tus 8 MiB)", server, server.tus) for server in servers]
            results = {(name, mode): Measured() for name, mode, _, _ in kinds}
            results[("copyparty", "multipart")] = Measured()
            results[("copyparty", "resumable (u2c)")] = Measured()
            for repeat in range(repeats):
                # copyparty goes last, then first, then last…: a slow spell of the machine
                # that spans a few uploads hurts both sides alike.
                if repeat % 2:
                    run_copyparty(workdir, source, results)
                for name, mode, server, upload in kinds:
                    results[(name, mode)].run(server.pid, lambda: upload(source))
                if not repeat % 2:
                    run_copyparty(workdir, source, results)
                print(f"{size // MIB} MiB: repeat {repeat + 1} of {repeats} done", flush=True)
            for (name, mode), measured in sorted(results.items(), key=lambda item: (item[0][1], item[0][0])):
                cpu = statistics.median(measured.cpu) * GIB / size
                rss = statistics.median(measured.rss) / MIB
                lines.append(f"| {mode} | {size // MIB} MiB | {name} | {figure_text(size, measured)} | {cpu:.2f} | {rss:.0f} |")
            source.unlink()
        source = make_random_file(workdir / "source-latency.bin", latency_size)
        lines += ["", "| `GET /api/health` latency | server | during |", "|---|---|---|"]
        for server in servers:
            lines.append(f"| idle | {server.name} | {latency_text(health_latencies(server.url, lambda: time.sleep(2)))} |")
            for mode, upload in ((f"a {latency_size // MIB} MiB multipart upload", server.multipart),
                                 (f"a {latency_size // MIB} MiB tus upload", server.tus)):
                latencies = health_latencies(server.url, lambda: upload(source))
                lines.append(f"| {mode} | {server.name} | {latency_text(latencies)} |")
    finally:
        for server in [*servers, bare]:
            server.stop()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes-mib", type=int, nargs="+", default=[256, 1024])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--latency-mib", type=int, default=1024, help="the upload during which latency is measured")
    parser.add_argument("--before", type=Path, default=None, help="another checkout whose serve.py to compare")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="upload-references-") as workdir:
        os.environ["TMPDIR"] = workdir  # every server's spool (waitress's included) on one disk, cleaned up
        lines = run([size * MIB for size in arguments.sizes_mib], arguments.repeats, arguments.before, Path(workdir),
                    arguments.latency_mib * MIB)
    text = "\n".join(lines) + "\n"
    print(text)
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / "upload-references.md").write_text(f"`python benchmarks/upload_references.py {' '.join(sys.argv[1:])}`"
                                                  f"\n\n{text}")


if __name__ == "__main__":
    main()
