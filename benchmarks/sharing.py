"""Sharing: a public share's download and ZIP, and an upload request's drop, each beside
the owner's own transfer of the same bytes, measured side by side in one run.

1. The same 1 GiB file downloaded by its owner (``GET /api/files/{id}`` with the
   bearer token) and by a visitor (``GET /api/public/shares/<token>/files/{id}``),
   with ``curl -o /dev/null``, interleaved. Target: public ≥ 0.9× owner.
2. A ZIP of 1 GiB spread over 100 files (``GET /api/public/shares/<token>/zip``),
   written while it is sent (CRC computed on the way), beside that single-file
   public download, with the server's RSS sampled while it runs. Targets: ZIP ≥
   0.7× the single file; RSS growth ≤ 32 MiB.
3. A drop upload of 1 GiB through an upload request (the drop token creates the
   tus upload; its ``Upload-Token`` sends 8 MiB chunks, as the drop page's tus.js
   does) beside the owner's own tus upload of the file. Target: within 10 %.

The clients are curl (downloads) and the tus benchmark's ``http.client`` uploader
(the browser's tus.js speaks the same requests; a browser would measure the
browser). ``--quick`` uses 64 MiB (and 100 files of 640 KiB).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from urllib.parse import urlsplit

from common import GIB, MIB, Figure, RssSampler, Sample, call, make_random_file, mb_per_s, new_account, section, \
    start_server
from tus_upload import tus_upload
import upload_download  # curl

PUBLIC_TARGET_RATIO = 0.9
ZIP_TARGET_RATIO = 0.7
ZIP_RSS_LIMIT_MIB = 32
DROP_TARGET_RATIO = 0.9  # "within 10 %"
ZIP_FILES = 100


def curl_download_mb_s(url: str, size: int, token: str | None = None) -> float:
    headers = ["-H", f"Authorization: Bearer {token}"] if token else []
    started = time.perf_counter()
    upload_download.curl("-o", os.devnull, *headers, url)
    return mb_per_s(size, time.perf_counter() - started)


def share(server, token: str, file_ids: list[str]) -> str:
    status, _, answer = call(server.url, "POST", "/api/shares", {"file_ids": file_ids}, token=token)
    if status != 201:
        raise RuntimeError(f"POST /api/shares answered {status}: {answer}")
    return urlsplit(answer["data"]["url"]).path.removeprefix("/s/")


def drop_token(server, token: str) -> str:
    status, _, answer = call(server.url, "POST", "/api/requests", {"title": "benchmark"}, token=token)
    if status != 201:
        raise RuntimeError(f"POST /api/requests answered {status}: {answer}")
    link = urlsplit(answer["data"]["url"]).path.removeprefix("/r/")
    status, _, answer = call(server.url, "POST", f"/api/public/requests/{link}/session", {"name": "bench"})
    if status != 200:
        raise RuntimeError(f"drop session answered {status}: {answer}")
    return answer["data"]["access_token"]


def timed_tus(server, token: str, source: Path, owner_token: str) -> float:
    """MB/s of one tus upload of ``source`` with ``token``; the file is deleted after (by its owner)."""
    started = time.perf_counter()
    file_id = tus_upload(server.url, token, source, 8 * MIB)
    rate = mb_per_s(source.stat().st_size, time.perf_counter() - started)
    call(server.url, "DELETE", f"/api/files/{file_id}", token=owner_token)
    return rate


def run(workdir: Path, quick: bool) -> list[Figure]:
    big = 64 * MIB if quick else 1 * GIB
    repeats = 2 if quick else 3
    section(f"sharing: public download, ZIP of {ZIP_FILES} files and drop upload of {big // MIB} MiB, "
            "each beside the owner's own")
    source = make_random_file(workdir / "source.bin", big)
    part = make_random_file(workdir / "part.bin", big // ZIP_FILES)
    server = start_server(workdir, "--bcrypt-cost", "4", "--quota-bytes", str(64 * GIB), env={"TMPDIR": str(workdir)})
    try:
        _, token = new_account(server.url)
        file_id = tus_upload(server.url, token, source, 32 * MIB)
        single_token = share(server, token, [file_id])
        part_ids = [tus_upload(server.url, token, part, 32 * MIB) for _ in range(ZIP_FILES)]
        zip_token = share(server, token, part_ids)
        zip_size = int(upload_download.curl("-I", "-o", os.devnull, "-w", "%header{content-length}",
                                            f"{server.url}/api/public/shares/{zip_token}/zip"))
        drop = drop_token(server, token)

        owner, public, zipped, growth = Sample([]), Sample([]), Sample([]), []
        owner_tus, drop_tus = Sample([]), Sample([])
        for _ in range(repeats):  # interleaved: noise hits figure and baseline alike
            owner.values.append(curl_download_mb_s(f"{server.url}/api/files/{file_id}", big, token))
            public.values.append(curl_download_mb_s(
                f"{server.url}/api/public/shares/{single_token}/files/{file_id}", big))
            with RssSampler(server.process.pid) as rss:
                zipped.values.append(curl_download_mb_s(f"{server.url}/api/public/shares/{zip_token}/zip", zip_size))
            growth.append(rss.growth / MIB)
            owner_tus.values.append(timed_tus(server, token, source, token))
            drop_tus.values.append(timed_tus(server, drop, source, token))
    finally:
        server.stop()
        source.unlink(missing_ok=True)
        part.unlink(missing_ok=True)

    size = f"{big // MIB} MiB"
    return [
        Figure(f"owner's download of {size}", "MB/s", owner),
        Figure(f"public share download of {size}", "MB/s", public, owner, "owner's download"
               ).check_ratio(PUBLIC_TARGET_RATIO),
        Figure(f"ZIP of {size} in {ZIP_FILES} files", "MB/s", zipped, public, "public single-file download"
               ).check_ratio(ZIP_TARGET_RATIO),
        Figure(f"server RSS growth during the ZIP of {size}", "MiB", Sample(growth), higher_is_better=False
               ).check_below(ZIP_RSS_LIMIT_MIB, f"≤ {ZIP_RSS_LIMIT_MIB} MiB"),
        Figure(f"owner's tus upload of {size}", "MB/s", owner_tus),
        Figure(f"drop upload of {size} through an upload request", "MB/s", drop_tus, owner_tus,
               "owner's tus upload").check_ratio(DROP_TARGET_RATIO),
    ]
