"""Sessions: one row per sign-in, so a person can see where they are signed in and end it.

How it works: a login (the password, and the code when two-factor sign-in is
on) inserts a ``sessions`` row with a random id. Every token issued for that
sign-in — the first access token, each refreshed one, each resumable upload's
``Upload-Token`` — carries that id as its ``sid`` claim. ``TokenService.verify``
finds the row in the same indexed lookup as the user, so ending a session is
deleting its row: all of its tokens are refused on their next request, wherever
they are. Download links carry no ``sid``: API.md lets them outlive a logout.

``last_seen_at`` shows when a session was last used. Writing it on every
request would turn every read into a write; it is written only when the stored
value is a minute old or more (API.md: it may lag by up to a minute).

A session lives until logout, revocation, a password change, or
``session_max_seconds`` after its login plus one token lifetime (the last
refreshed token then expires); older rows are hidden and cleared at the next
login of that account.
"""

from __future__ import annotations

import secrets
import sqlite3

from ..web.http import iso_time

LAST_SEEN_RESOLUTION_SECONDS = 60  # API.md: last_seen_at may lag by up to a minute
USER_AGENT_MAX_CHARS = 200  # API.md: user_agent cut to 200 characters


def start_session(connection: sqlite3.Connection, user_id: int, now: float, address: str, user_agent: str,
                  lifetime_seconds: float) -> str:
    """Insert a new session (clearing this account's expired ones) and return its id."""
    connection.execute("DELETE FROM sessions WHERE user_id = ? AND created_at <= ?", (user_id, now - lifetime_seconds))
    session_id = secrets.token_urlsafe(16)  # 128 random bits: never reused, so a dead session never revives
    connection.execute(
        "INSERT INTO sessions (id, user_id, created_at, last_seen_at, address, user_agent) VALUES (?, ?, ?, ?, ?, ?)",
        (session_id, user_id, now, now, address, user_agent[:USER_AGENT_MAX_CHARS]),
    )
    return session_id


def record_activity(database, session_id: str, last_seen_at: float, now: float) -> None:
    """Move ``last_seen_at`` forward, at most once a minute per session."""
    if now - last_seen_at >= LAST_SEEN_RESOLUTION_SECONDS:
        database.execute("UPDATE sessions SET last_seen_at = ? WHERE id = ?", (now, session_id))


def list_sessions(database, user_id: int, now: float, lifetime_seconds: float) -> list[sqlite3.Row]:
    """This account's live sessions, the most recently used first."""
    return database.execute(
        "SELECT * FROM sessions WHERE user_id = ? AND created_at > ? ORDER BY last_seen_at DESC, created_at DESC",
        (user_id, now - lifetime_seconds),
    ).fetchall()


def end_session(connection: sqlite3.Connection, user_id: int, session_id: str) -> bool:
    """End one of this account's sessions; False if it has none by that id (another account's included)."""
    return connection.execute(
        "DELETE FROM sessions WHERE id = ? AND user_id = ?", (session_id, user_id)
    ).rowcount == 1


def end_other_sessions(connection: sqlite3.Connection, user_id: int, keep_session_id: str) -> int:
    """End every session of this account but one; returns how many ended."""
    return connection.execute(
        "DELETE FROM sessions WHERE user_id = ? AND id != ?", (user_id, keep_session_id)
    ).rowcount


def end_all_sessions(connection: sqlite3.Connection, user_id: int) -> int:
    """End every session of this account (a password change, a reset by an admin)."""
    return connection.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,)).rowcount


def session_json(row: sqlite3.Row, current_session_id: str) -> dict:
    return {
        "id": row["id"], "created_at": iso_time(row["created_at"]), "last_seen_at": iso_time(row["last_seen_at"]),
        "address": row["address"], "user_agent": row["user_agent"], "current": row["id"] == current_session_id,
    }
