"""Account security: what a second factor adds to a login, and lists that stay flat.

1. The second-factor check itself — ``second_factor.use_code``: the secret
   unsealed (one HMAC-SHA256), three HMAC-SHA1 (the current step and one
   either side), then one ``UPDATE`` of the last step
   used, on a real SQLite file, inside the transaction that begins the session
   (the login commits that transaction anyway, so the commit is not the check's
   cost) — beside the password check every login already pays (one bcrypt at
   the server's default cost). Target: under a millisecond. Measured in
   process, because a code works once and only a movable clock yields a fresh
   one per try; the clock moves one step before each check.
2. ``GET /api/activity`` and ``GET /api/sessions`` through a real ``serve.py``
   for an account with 50 events (one page) against one with 10 000 (rows inserted
   straight into the stopped server's database, as file_list_scaling does).
   A page is 50 events through the ``events_by_user`` index, whatever the
   total: flat means the 10 000-event latency within 2× the 50-event one.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import bcrypt

from common import Figure, Sample, percentile, section
from file_list_scaling import checked_flat, latencies_ms, server_with_two_accounts

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from authupload import Config, create_app  # noqa: E402
from authupload.accounts import second_factor, totp  # noqa: E402

FEW_EVENTS = 50  # one full page: both accounts answer 50 events, only the totals differ
MANY_EVENTS = 10_000
CHECK_LIMIT_MS = 1.0


class SteppingClock:
    def __init__(self):
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


def code_check_ms(checks: int) -> list[float]:
    """Milliseconds per accepted TOTP check, each with a fresh code one step later."""
    clock = SteppingClock()
    with tempfile.TemporaryDirectory(prefix="authupload-bench-totp-") as directory:
        app = create_app(Config(data_dir=Path(directory) / "data", bcrypt_cost=4, clock=clock))
        database = app.services.database
        user_id = database.execute(
            "INSERT INTO users (username, username_key, password_hash, created_at) VALUES ('bench1', 'bench1', '', 0)"
            " RETURNING id").fetchone()[0]
        with database.transaction() as connection:
            secret = second_factor.begin_setup(connection, user_id, app.services.tokens.key)
            connection.execute("UPDATE users SET totp_enabled = 1 WHERE id = ?", (user_id,))
        found = []
        for _ in range(checks):
            clock.now += totp.STEP_SECONDS
            code = totp.code_at(secret, clock.now)
            with database.transaction() as connection:  # the login's own transaction: it commits anyway
                started = time.perf_counter()
                accepted = second_factor.use_code(connection, user_id, code, clock.now, app.services.tokens.key)
                found.append((time.perf_counter() - started) * 1000)
            if accepted != second_factor.TOTP:
                raise RuntimeError("a fresh code was refused")
    return found


def bcrypt_check_ms(checks: int, cost: int = 12) -> list[float]:
    password = b"x" * 44  # what the server gives bcrypt: base64 of the password's SHA-256
    stored = bcrypt.hashpw(password, bcrypt.gensalt(cost))
    found = []
    for _ in range(checks):
        started = time.perf_counter()
        bcrypt.checkpw(password, stored)
        found.append((time.perf_counter() - started) * 1000)
    return found


def insert_events(database: Path, user_id: int, count: int) -> None:
    """``count`` audit events of one account, one second apart, as its logins would leave them."""
    now = time.time()
    with sqlite3.connect(database) as connection:
        username = connection.execute("SELECT username FROM users WHERE id = ?", (user_id,)).fetchone()[0]
        rows = [(now - count + n, "login" if n % 3 else "login_failed", user_id, username, "self", "203.0.113.9",
                 "{}") for n in range(count)]
        connection.executemany(
            "INSERT INTO events (at, type, user_id, username, actor, address, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows)


def run(workdir: Path, quick: bool) -> list[Figure]:
    section(f"Account security: the second-factor check; activity and sessions with {FEW_EVENTS} vs {MANY_EVENTS} events")
    checks, repeats, requests = (50, 2, 20) if quick else (300, 3, 60)
    figures = []
    check = Sample([percentile(code_check_ms(checks), 0.5) for _ in range(repeats)])
    password = Sample([percentile(bcrypt_check_ms(2 if quick else 5), 0.5) for _ in range(repeats)])
    figure = Figure("Second-factor check (unseal + 3 HMACs + UPDATE, in the login's transaction): p50", "ms", check, password,
                    "bcrypt password check, cost 12", higher_is_better=False)
    figure.check_below(CHECK_LIMIT_MS)
    figure.print_line()
    figures.append(figure)

    server, tokens = server_with_two_accounts(workdir, insert_events, FEW_EVENTS, MANY_EVENTS)
    try:
        for path in ("/api/activity", "/api/sessions"):
            p50 = {FEW_EVENTS: Sample([]), MANY_EVENTS: Sample([])}
            for _ in range(repeats):
                for count in (FEW_EVENTS, MANY_EVENTS):
                    p50[count].values.append(percentile(latencies_ms(server.url, tokens[count], path, requests), 0.5))
            figure = Figure(f"GET {path}, {MANY_EVENTS} events: p50 latency", "ms", p50[MANY_EVENTS],
                            p50[FEW_EVENTS], f"{FEW_EVENTS} events", higher_is_better=False)
            figures.append(checked_flat(figure))
    finally:
        server.stop()
    return figures
