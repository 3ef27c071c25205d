"""The audit log: one row per thing that matters to an account's safety.

Who did what, when, and from where: logins and failed logins, password and
two-factor changes, sessions ended, invites, shares and upload requests. An
owner reads it to answer "was that me?"; an admin reads it to answer "who let
whom in?". It is written in the same transaction as the change it records when
there is one, so a change and its record land together or not at all.

What never goes in: a password, a token, a one-time code, a share or invite
secret, file contents. ``detail`` holds names and ids only.

Rows older than ``event_retention_days`` are removed by ``remove_old_events``
(the server's housekeeping sweep calls it).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from ..web.http import iso_time

# Who did it, as the ``actor`` column says it.
SELF = "self"  # the account's own holder
CLI = "cli"  # the operator at the machine (python -m authupload)
ANONYMOUS = "anonymous"  # somebody without an account: a failed login, a share visitor
SYSTEM = "system"  # the server itself (expiry, housekeeping)


def admin_actor(admin_id: int) -> str:
    """The actor string for something an admin did to another account."""
    return f"admin:{admin_id}"


def record_event(connection: sqlite3.Connection, now: float, event_type: str, *, user_id: int | None,
                 username: str = "", actor: str = SELF, address: str = "", detail: dict[str, Any] | None = None) -> None:
    """Append one event; call it inside the transaction that makes the change it records."""
    connection.execute(
        "INSERT INTO events (at, type, user_id, username, actor, address, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (now, event_type, user_id, username, actor, address, json.dumps(detail or {}, ensure_ascii=False)),
    )


# The columns of an event as the API shows it: the row, and for an actor
# ``admin:<id>`` the name that admin's account has now (NULL once it is gone),
# so a reader sees who acted, not a number. One primary-key lookup per row.
EVENT_COLUMNS = """events.*, (SELECT username FROM users WHERE events.actor GLOB 'admin:*'
                              AND users.id = CAST(substr(events.actor, 7) AS INTEGER)) AS actor_username"""


def event_json(row: sqlite3.Row) -> dict[str, Any]:
    """An ``events`` row, read with ``EVENT_COLUMNS``, as API.md's ``<event>``."""
    return {
        "id": row["id"], "at": iso_time(row["at"]), "type": row["type"], "user_id": row["user_id"],
        "username": row["username"], "actor": row["actor"], "actor_username": row["actor_username"],
        "address": row["address"], "detail": json.loads(row["detail"]),
    }


def remove_old_events(connection: sqlite3.Connection, now: float, retention_seconds: float) -> int:
    """Delete events older than the retention period; returns how many went."""
    return connection.execute("DELETE FROM events WHERE at < ?", (now - retention_seconds,)).rowcount
