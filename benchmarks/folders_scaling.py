"""Folders at scale: 100 000 files in all, 10 000 in one folder.

What is measured, each beside the baseline it must stay close to:

- the big folder's first page vs the first page of a 10-file folder (the
  per-folder indexes make both one short index range);
- the big folder's last page, and the last page of all 100 000 files, reached
  by ``next_cursor`` vs their first pages (keyset paging seeks, never skips);
- a name search over all 100 000 files, p50 (target ≤ 50 ms);
- moving and renaming the folder that holds 10 000 files vs an empty folder
  (one parent pointer either way);
- a ZIP of a folder of 1 GiB vs a single-file download of 1 GiB (streamed as
  it is built: throughput ≥ 0.7×, the server's memory flat).

The rows are inserted straight into SQLite while the server is stopped (the
listing never opens a file); only the ZIP section writes real bytes.
"""

from __future__ import annotations

import http.client
import json
import secrets
import sqlite3
import time
from pathlib import Path

from common import GIB, MIB, Figure, RssSampler, Sample, call, login_token, make_random_file, mb_per_s, new_account
from common import percentile, section, start_server

ALL_FILES = 100_000
BIG_FOLDER_FILES = 10_000
SMALL_FOLDER_FILES = 10
FLATNESS_LIMIT = 2.0
SEARCH_TARGET_MS = 50.0
ZIP_TARGET_RATIO = 0.7


def insert_tree(data_dir: Path, user_id: int, total: int, big: int) -> dict:
    """Folders big/, small/, empty/, parking/ and ``total`` files: ``big`` in big/, 10 in small/, the rest on top.

    Each row gets an empty file under files/: the start-up reconciliation
    removes rows whose bytes are missing.
    """
    now = time.time()
    folders = {name: secrets.token_hex(16) for name in ("big", "small", "empty", "parking")}
    placed = [folders["big"]] * big + [folders["small"]] * SMALL_FOLDER_FILES
    placed += [None] * (total - len(placed))
    # name_key as storage.name_key makes it: the casefolded name that search and the name sort use
    rows = [(secrets.token_hex(16), user_id, f"file-{n:06d}.txt", f"file-{n:06d}.txt", 1000 + n, "0" * 64,
             "text/plain", now - total + n, folder) for n, folder in enumerate(placed)]
    owned = data_dir / "files" / str(user_id)
    owned.mkdir(parents=True, exist_ok=True)
    for row in rows:
        (owned / row[0]).touch()
    with sqlite3.connect(data_dir / "authupload.db") as connection:
        connection.executemany(
            "INSERT INTO folders (id, user_id, parent_id, name, name_key, created_at) VALUES (?, ?, NULL, ?, ?, ?)",
            [(folder_id, user_id, name, name, now) for name, folder_id in folders.items()])
        connection.executemany(
            "INSERT INTO files (id, user_id, name, name_key, size, sha256, content_type, uploaded_at, folder_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return folders


class Client:
    """One keep-alive connection, timing each request."""

    def __init__(self, base_url: str, token: str):
        self.connection = http.client.HTTPConnection(base_url.split("//", 1)[1], timeout=60)
        self.headers = {"Authorization": f"Bearer {token}"}

    def timed(self, method: str, path: str, body: dict | None = None) -> tuple[float, dict]:
        headers = dict(self.headers)
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        self.connection.request(method, path, body=payload, headers=headers)
        response = self.connection.getresponse()
        raw = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            raise RuntimeError(f"{method} {path} answered {response.status}: {raw[:200]!r}")
        return elapsed, json.loads(raw)["data"]

    def p50(self, requests: int, method: str, path_or_paths, body_for=None) -> Sample:
        """The median latency in ms of ``requests`` requests (after 5 warm-up ones)."""
        found = []
        for n in range(requests + 5):
            path = path_or_paths(n) if callable(path_or_paths) else path_or_paths
            elapsed, _ = self.timed(method, path, body_for(n) if body_for else None)
            found.append(elapsed)
        return Sample([percentile(found[5:], 0.5)])

    def last_cursor(self, query: str) -> str:
        """The cursor that opens the last page of 50, walked to with big pages."""
        cursor, previous = None, None
        while True:
            path = f"/api/files?{query}&limit=500" + (f"&cursor={cursor}" if cursor else "")
            _, data = self.timed("GET", path)
            if data["next_cursor"] is None:
                break
            previous, cursor = cursor, data["next_cursor"]
        # The last cursor before the end starts a page of ≤ 500: step into it 450 rows.
        path = f"/api/files?{query}&limit=450" + (f"&cursor={cursor}" if cursor else "")
        _, data = self.timed("GET", path)
        return data["next_cursor"] or cursor or previous

    def close(self):
        self.connection.close()


def side_by_side(client: Client, requests: int, repeats: int, *cases) -> list[Sample]:
    """Each case's p50, its runs interleaved with the others' so that a busy moment hits them all alike.

    A case is ``(method, path or path(n), body(n) or None)``; the answer is one Sample per case.
    """
    samples = [Sample([]) for _ in cases]
    for _ in range(repeats):
        for sample, (method, path, body_for) in zip(samples, cases):
            sample.values += client.p50(requests, method, path, body_for).values
    return samples


def flat(name: str, value: Sample, baseline: Sample, baseline_name: str, limit: float = FLATNESS_LIMIT) -> Figure:
    figure = Figure(name, "ms", value, baseline, baseline_name, higher_is_better=False)
    figure.target = f"ratio ≤ {limit:g}"
    figure.met = figure.ratio is not None and figure.ratio <= limit
    figure.print_line()
    return figure


def listing_figures(workdir: Path, quick: bool) -> list[Figure]:
    total, big = (20_000, 2_000) if quick else (ALL_FILES, BIG_FOLDER_FILES)
    requests, repeats = (20, 1) if quick else (40, 3)
    section(f"Folders: listing, cursors, search and moves with {total} files, {big} in one folder")
    data_dir = workdir / "data"
    server = start_server(workdir, "--bcrypt-cost", "4", data_dir=data_dir)
    try:
        username, _ = new_account(server.url)
    finally:
        server.stop()
    with sqlite3.connect(data_dir / "authupload.db") as connection:
        (user_id,) = connection.execute("SELECT id FROM users WHERE username = ?", (username,)).fetchone()
    folders = insert_tree(data_dir, user_id, total, big)

    server = start_server(workdir, "--bcrypt-cost", "4", data_dir=data_dir)
    figures = []
    client = Client(server.url, login_token(server.url, username))
    try:
        big_cursor = client.last_cursor(f"folder_id={folders['big']}")
        all_cursor = client.last_cursor("sort=-uploaded_at")
        searches = ["file-04242", "999", "nothing-like-this", "file-0123"]
        big_first, small_first, big_last, all_first, all_last, search = side_by_side(
            client, requests, repeats,
            ("GET", f"/api/files?folder_id={folders['big']}&limit=50", None),
            ("GET", f"/api/files?folder_id={folders['small']}&limit=50", None),
            ("GET", f"/api/files?folder_id={folders['big']}&limit=50&cursor={big_cursor}", None),
            ("GET", "/api/files?sort=-uploaded_at&limit=50", None),
            ("GET", f"/api/files?sort=-uploaded_at&limit=50&cursor={all_cursor}", None),
            ("GET", lambda n: f"/api/files?q={searches[n % len(searches)]}&limit=50", None),
        )
        figures.append(flat(f"first page of a {big}-file folder, p50", big_first, small_first,
                            f"a {SMALL_FOLDER_FILES}-file folder"))
        figures.append(flat(f"last page of the {big}-file folder by cursor, p50", big_last, big_first,
                            "its first page"))
        figures.append(flat(f"last page of all {total} files by cursor, p50", all_last, all_first, "the first page"))
        figure = Figure(f"name search over {total} files, p50", "ms", search, all_first, "first page, no search",
                        higher_is_better=False)
        figures.append(figure.check_below(SEARCH_TARGET_MS, f"≤ {SEARCH_TARGET_MS:g} ms"))
        figure.print_line()
        for verb, body_for in (
            ("move", lambda folder, n: {"parent_id": folders["parking"] if n % 2 == 0 else None}),
            ("rename", lambda folder, n: {"name": f"{folder} renamed {n}"}),
        ):
            loaded, empty = side_by_side(
                client, requests, repeats,
                ("PATCH", f"/api/folders/{folders['big']}", lambda n, body_for=body_for: body_for("big", n)),
                ("PATCH", f"/api/folders/{folders['empty']}", lambda n, body_for=body_for: body_for("empty", n)),
            )
            figures.append(flat(f"{verb} a folder holding {big} files, p50", loaded, empty, "an empty folder"))
    finally:
        client.close()
        server.stop()
    return figures


def zip_figures(workdir: Path, quick: bool) -> list[Figure]:
    total = 64 * MIB if quick else 1 * GIB
    parts = 8 if quick else 16
    section(f"Folders: ZIP of a {total // MIB} MiB folder ({parts} files) vs a single {total // MIB} MiB download")
    server = start_server(workdir, "--bcrypt-cost", "4", "--quota-bytes", str(8 * GIB),
                          "--max-file-bytes", str(2 * GIB), env={"TMPDIR": str(workdir)})
    figures = []
    try:
        _, token = new_account(server.url)
        status, _, folder = call(server.url, "POST", "/api/folders", {"name": "photos"}, token=token)
        folder_id = folder["data"]["id"]
        single = upload(server.url, token, make_random_file(workdir / "single.bin", total), None)
        for n in range(parts):
            upload(server.url, token, make_random_file(workdir / f"part{n}.bin", total // parts), folder_id)
        zip_speeds, single_speeds, zip_growth, single_growth = [], [], [], []
        for _ in range(2 if quick else 3):
            status, _, answer = call(server.url, "POST", "/api/archive", {"folder_ids": [folder_id]}, token=token)
            speed, growth = stream_to_nowhere(server, answer["data"]["url"])
            zip_speeds.append(speed), zip_growth.append(growth)
            status, _, answer = call(server.url, "POST", f"/api/files/{single}/link", token=token)
            speed, growth = stream_to_nowhere(server, answer["data"]["url"])
            single_speeds.append(speed), single_growth.append(growth)
        figure = Figure(f"ZIP of a {total // MIB} MiB folder", "MB/s", Sample(zip_speeds), Sample(single_speeds),
                        f"single {total // MIB} MiB download", note=(
                            f"server RSS growth {max(zip_growth) / MIB:.1f} MiB (ZIP) vs "
                            f"{max(single_growth) / MIB:.1f} MiB (single)"),
                        extra={"rss_growth_zip": zip_growth, "rss_growth_single": single_growth})
        figures.append(figure.check_ratio(ZIP_TARGET_RATIO))
        figure.print_line()
    finally:
        server.stop()
    return figures


def upload(base_url: str, token: str, path: Path, folder_id: str | None) -> str:
    """A multipart upload of ``path`` (streamed from disk), into ``folder_id``; returns the file id."""
    boundary = "bench" + secrets.token_hex(8)
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{path.name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"folder_id\"\r\n\r\n{folder_id or 'root'}" \
           f"\r\n--{boundary}--\r\n".encode()
    connection = http.client.HTTPConnection(base_url.split("//", 1)[1], timeout=600)
    try:
        connection.putrequest("POST", "/api/files")
        connection.putheader("Authorization", f"Bearer {token}")
        connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        connection.putheader("Content-Length", str(len(head) + path.stat().st_size + len(tail)))
        connection.endheaders()
        connection.send(head)
        with open(path, "rb") as source:
            while chunk := source.read(MIB):
                connection.send(chunk)
        connection.send(tail)
        response = connection.getresponse()
        answer = json.loads(response.read())
        if response.status != 200:
            raise RuntimeError(f"upload answered {response.status}: {answer}")
        return answer["data"]["files"][0]["id"]
    finally:
        connection.close()
        path.unlink()


def stream_to_nowhere(server, url: str) -> tuple[float, int]:
    """(MB/s, server RSS growth) of reading a download link's body and dropping it."""
    connection = http.client.HTTPConnection(server.url.split("//", 1)[1], timeout=600)
    received = 0
    try:
        with RssSampler(server.process.pid) as rss:
            started = time.perf_counter()
            connection.request("GET", url)
            response = connection.getresponse()
            while chunk := response.read(MIB):
                received += len(chunk)
            elapsed = time.perf_counter() - started
        if response.status != 200 or received != int(response.getheader("Content-Length")):
            raise RuntimeError(f"download answered {response.status} with {received} bytes")
    finally:
        connection.close()
    return mb_per_s(received, elapsed), rss.growth


def run(workdir: Path, quick: bool) -> list[Figure]:
    listing_dir, zip_dir = workdir / "listing", workdir / "zip"
    listing_dir.mkdir()
    zip_dir.mkdir()
    return zip_figures(zip_dir, quick) + listing_figures(listing_dir, quick)
