"""Listing scales: ``GET /api/files`` for a user with 10 files vs one with 100 000.

A page is 50 files (the default ``limit``) whatever the total, so with the
``files_by_user`` index the latency must stay flat. Uploading 100 000 files
would take minutes, so the rows are inserted straight into the server's SQLite
``files`` table while it is stopped (the listing never opens the bytes), then
the server is started again on the same data directory.

Each user's latency is measured with sequential requests on one keep-alive
connection (concurrency 1: pure per-request cost, no queueing), the first page
and a deep page (``offset`` near the end, where ``OFFSET`` has to skip rows).
``GET /api/me`` is measured too: its usage figures sum over all of a user's files.
"""

from __future__ import annotations

import http.client
import secrets
import sqlite3
import time
from pathlib import Path

from common import Figure, Sample, login_token, new_account, percentile, section, start_server

FEW_FILES = 10
MANY_FILES = 100_000
FLATNESS_LIMIT = 2.0  # "flat": the 100 000-file latency within 2× the 10-file one


def insert_file_rows(database: Path, user_id: int, count: int) -> None:
    """``count`` file rows for ``user_id``, one second apart, as uploads would leave them."""
    now = time.time()
    rows = [(secrets.token_hex(16), user_id, f"file-{n:06d}.txt", f"file-{n:06d}.txt", 1000 + n, "0" * 64,
             "text/plain", now - count + n) for n in range(count)]  # name, and name_key as storage.name_key makes it
    with sqlite3.connect(database) as connection:
        connection.executemany(
            "INSERT INTO files (id, user_id, name, name_key, size, sha256, content_type, uploaded_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)


def server_with_two_accounts(workdir: Path, insert_rows, few: int, many: int):
    """A running server with two new accounts given ``few`` and ``many`` rows by ``insert_rows(database,
    user_id, count)`` while it was stopped; returns the server and each count's access token."""
    data_dir = workdir / "data"
    server = start_server(workdir, "--bcrypt-cost", "4", data_dir=data_dir)
    try:
        usernames = {few: new_account(server.url)[0], many: new_account(server.url)[0]}
    finally:
        server.stop()
    with sqlite3.connect(data_dir / "authupload.db") as connection:
        ids = dict(connection.execute("SELECT username, id FROM users").fetchall())
    for count, username in usernames.items():
        insert_rows(data_dir / "authupload.db", ids[username], count)
    server = start_server(workdir, "--bcrypt-cost", "4", data_dir=data_dir)
    return server, {count: login_token(server.url, username) for count, username in usernames.items()}


def checked_flat(figure: Figure) -> Figure:
    """Target: the many-row latency within ``FLATNESS_LIMIT`` × the few-row one; printed."""
    figure.target = f"ratio ≤ {FLATNESS_LIMIT:g} (flat)"
    figure.met = figure.ratio is not None and figure.ratio <= FLATNESS_LIMIT
    figure.print_line()
    return figure


def latencies_ms(base_url: str, token: str, path: str, requests: int) -> list[float]:
    connection = http.client.HTTPConnection(base_url.split("//", 1)[1], timeout=30)
    headers = {"Authorization": f"Bearer {token}"}
    found = []
    try:
        for _ in range(requests + 5):  # the first few warm the connection and SQLite's cache
            started = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"GET {path} answered {response.status}")
            found.append((time.perf_counter() - started) * 1000)
    finally:
        connection.close()
    return found[5:]


def run(workdir: Path, quick: bool) -> list[Figure]:
    section(f"Scaling: GET /api/files with {FEW_FILES} vs {MANY_FILES} files (limit 50, concurrency 1)")
    requests, repeats = (20, 2) if quick else (60, 3)  # a deep page of 100 000 files is slow: keep it bounded
    server, tokens = server_with_two_accounts(workdir, insert_file_rows, FEW_FILES, MANY_FILES)
    figures = []
    try:
        cases = {
            "GET /api/files (first page)": lambda count: "/api/files?limit=50",
            "GET /api/files (last page, offset n-50)": lambda count: f"/api/files?limit=50&offset={count - 50}",
            "GET /api/me (usage sums all files)": lambda count: "/api/me",
        }
        for name, path_for in cases.items():
            p50 = {FEW_FILES: Sample([]), MANY_FILES: Sample([])}
            p99 = {FEW_FILES: [], MANY_FILES: []}
            for _ in range(repeats):
                for count in (FEW_FILES, MANY_FILES):
                    path = path_for(count) if count >= 50 else path_for(50)
                    found = latencies_ms(server.url, tokens[count], path, requests)
                    p50[count].values.append(percentile(found, 0.5))
                    p99[count].append(percentile(found, 0.99))
            figure = Figure(
                f"{name}, {MANY_FILES} files: p50 latency", "ms", p50[MANY_FILES], p50[FEW_FILES],
                f"{FEW_FILES} files", higher_is_better=False,
                note=f"p99 {Sample(p99[MANY_FILES]).median:.2f} ms vs {Sample(p99[FEW_FILES]).median:.2f} ms",
                extra={"p99_ms_many": p99[MANY_FILES], "p99_ms_few": p99[FEW_FILES]},
            )
            figures.append(checked_flat(figure))
    finally:
        server.stop()
    return figures
