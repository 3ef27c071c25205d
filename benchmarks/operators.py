"""Operators at scale: the admin's user list and audit log, and what the audit log costs logins.

1. ``GET /api/admin/users`` (first page, and a search) with 10 000 accounts vs 10,
   and ``GET /api/admin/events`` (first page, and a page filtered by account and
   type) with 1 000 000 events vs 100; each within 2× (the issue's target). The
   rows are inserted straight into SQLite while the servers are stopped (making
   10 000 accounts through bcrypt would take an hour), then both servers run at
   once and are measured in turns, on keep-alive connections at concurrency 1.
2. Login throughput with audit events (every login writes one) vs the same server
   without them (benchmarks/serve_without_audit.py), side by side, at bcrypt cost
   4 where a database write weighs the most against the hash; within 5 %.
"""

from __future__ import annotations

import random
import sqlite3
import string
import sys
import time
from pathlib import Path

from common import (ROOT, Figure, Sample, free_port, login_token, new_account, percentile, section,
                    start_process, start_server, stop_process)
from file_list_scaling import latencies_ms
from login import LoginClients

FEW_USERS, MANY_USERS = 10, 10_000
FEW_EVENTS, MANY_EVENTS = 100, 1_000_000
SCALING_LIMIT = 2.0
AUDIT_COST_LIMIT = 0.95  # with events ≥ 95 % of the logins/s without


def fill(database: Path, users: int, events: int, admin_name: str) -> int:
    """``users`` accounts and ``events`` audit events; returns the id of the account the filter asks for.

    Names are varied, as people's are (letters of random length, a number):
    the search looks for a part of one of them.
    """
    now = time.time()
    picker = random.Random(users)
    names = {"".join(picker.choices(string.ascii_lowercase, k=picker.randint(5, 10))) + str(picker.randint(1, 99))
             for _ in range(users - 1)}
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE users SET admin = 1 WHERE username = ?", (admin_name,))
        connection.executemany(
            "INSERT OR IGNORE INTO users (username, username_key, password_hash, created_at) VALUES (?, ?, 'x', ?)",
            ((name, name, now) for name in sorted(names)))
        (target,) = connection.execute("SELECT max(id) FROM users").fetchone()
        types = ("login", "login", "login", "logout", "login_failed", "register")
        connection.executemany(
            "INSERT INTO events (at, type, user_id, username, actor, address)"
            " VALUES (?, ?, ?, 'someone', 'self', '203.0.113.9')",
            ((now - events + n, types[n % len(types)], 1 + n % users) for n in range(events)))
    return target


def search_term(database: Path) -> str:
    """Five letters from the middle of the name in the middle of the list."""
    with sqlite3.connect(database) as connection:
        (count,) = connection.execute("SELECT count(*) FROM users").fetchone()
        (name,) = connection.execute("SELECT username_key FROM users ORDER BY username_key LIMIT 1 OFFSET ?",
                                     (count // 2,)).fetchone()
    return name[1:6]


def scaling(workdir: Path, quick: bool) -> list[Figure]:
    section(f"Admin lists: {MANY_USERS} vs {FEW_USERS} accounts, {MANY_EVENTS} vs {FEW_EVENTS} events (concurrency 1)")
    requests, repeats = (20, 1) if quick else (60, 3)
    many_events = 50_000 if quick else MANY_EVENTS
    sizes = {"few": (FEW_USERS, FEW_EVENTS), "many": (MANY_USERS, many_events)}
    admins, targets, searches, servers, tokens = {}, {}, {}, {}, {}
    for label in sizes:
        server = start_server(workdir, "--bcrypt-cost", "4", data_dir=workdir / label)
        try:
            admins[label], _ = new_account(server.url)
        finally:
            server.stop()
        targets[label] = fill(workdir / label / "authupload.db", *sizes[label], admins[label])
        searches[label] = search_term(workdir / label / "authupload.db")
    try:
        for label in sizes:
            servers[label] = start_server(workdir, "--bcrypt-cost", "4", data_dir=workdir / label)
            tokens[label] = login_token(servers[label].url, admins[label])
        cases = {
            "GET /api/admin/users (first page)": lambda label: "/api/admin/users",
            "GET /api/admin/users?q= (search)": lambda label: f"/api/admin/users?q={searches[label].upper()}",
            "GET /api/admin/events (first page)": lambda label: "/api/admin/events",
            "GET /api/admin/events?user=&type= (filtered)":
                lambda label: f"/api/admin/events?user={targets[label]}&type=login_failed",
        }
        figures = []
        for name, path_for in cases.items():
            p50 = {label: Sample([]) for label in sizes}
            for _ in range(repeats):
                for label in sizes:
                    found = latencies_ms(servers[label].url, tokens[label], path_for(label), requests)
                    p50[label].values.append(percentile(found, 0.5))
            scale = f"{MANY_USERS} accounts" if "users" in name else f"{many_events} events"
            figure = Figure(f"{name}, {scale}: p50 latency", "ms", p50["many"], p50["few"],
                            f"{FEW_USERS} accounts / {FEW_EVENTS} events", higher_is_better=False)
            figure.target = f"ratio ≤ {SCALING_LIMIT:g}"
            figure.met = figure.ratio is not None and figure.ratio <= SCALING_LIMIT
            figure.print_line()
            figures.append(figure)
        return figures
    finally:
        for server in servers.values():
            server.stop()


def audit_cost(workdir: Path, quick: bool) -> list[Figure]:
    section("Login throughput with audit events vs without (bcrypt cost 4, 4 clients)")
    seconds, repeats = (1.5, 1) if quick else (4.0, 3)
    flags = ["--bcrypt-cost", "4", "--max-failures-per-username", "1000000"]
    with_audit = start_server(workdir, *flags, data_dir=workdir / "with")
    port = free_port()
    without_audit = start_process(
        [sys.executable, str(ROOT / "benchmarks" / "serve_without_audit.py"), "--port", str(port),
         "--data-dir", str(workdir / "without"), *flags],
        f"http://127.0.0.1:{port}/api/health", workdir / "without.log")
    urls = {"with": with_audit.url, "without": f"http://127.0.0.1:{port}"}
    try:
        names = {label: new_account(url)[0] for label, url in urls.items()}
        rates = {label: Sample([]) for label in urls}
        for _ in range(repeats):
            for label, url in urls.items():
                rates[label].values.append(LoginClients(url, names[label], 4).run_for(seconds))
        figure = Figure("logins/s with an audit event each", "logins/s", rates["with"], rates["without"],
                        "without audit events")
        figure.target = f"≥ {AUDIT_COST_LIMIT:g}× (≤ 5 % cost)"
        figure.met = figure.ratio is not None and figure.ratio >= AUDIT_COST_LIMIT
        figure.print_line()
        return [figure]
    finally:
        with_audit.stop()
        stop_process(without_audit)


def run(workdir: Path, quick: bool) -> list[Figure]:
    return scaling(workdir, quick) + audit_cost(workdir, quick)
