"""Invites: codes that let one more person register while sign-up is by invitation.

An invite is a row (how many registrations it may still make, until when, and
the quota the new accounts get) and a code that names it. The database never
holds the code: the code is ``<id>-<mac>``, where ``mac`` is an HMAC-SHA256 of
the id under the server's signing key (RFC 2104), cut to 128 bits. So a copy of
the database alone opens no invite, a guessed code fails the HMAC check, and the
admin can be shown the same code (and link) again at any time.

Using an invite is one conditional ``UPDATE … WHERE uses_left > 0`` inside the
registration's own ``BEGIN IMMEDIATE`` transaction: two registrations racing for
an invite's last use are serialized by SQLite's write lock, so exactly one of
them sees a use left. If the registration then fails (a name taken at the last
moment) the transaction rolls back and the use is given back.
"""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
from urllib.parse import quote

from ..web.http import HTTPError, iso_time

CODE_MAC_BYTES = 16  # 128 bits: beyond guessing, and short enough to read out
MAX_CODE_CHARS = 64  # a longer "code" is refused before any work


def invite_code(key: bytes, invite_id: int) -> str:
    """The code of invite ``invite_id``: its id and an HMAC of it under the signing key."""
    mac = hmac.new(key, f"invite:{invite_id:d}".encode("ascii"), hashlib.sha256).digest()[:CODE_MAC_BYTES]
    return f"{invite_id:d}-{mac.hex()}"


def invite_id_of(key: bytes, code: str) -> int | None:
    """The invite id a code names, if the code is genuine; None for anything else."""
    if len(code) > MAX_CODE_CHARS:
        return None
    number, _, _ = code.strip().partition("-")
    if not (number.isascii() and number.isdigit() and len(number) < 19):
        return None
    # compare_digest: the time taken does not tell how much of a forged code was right.
    if not hmac.compare_digest(invite_code(key, int(number)), code.strip()):
        return None
    return int(number)


def register_url(base_url: str, code: str) -> str:
    """The register page with the code filled in."""
    return f"{base_url.rstrip('/')}/register.html?invite={quote(code)}"


def is_live(row, now: float) -> bool:
    return row["uses_left"] > 0 and row["expires_at"] > now


def invite_json(row, key: bytes, base_url: str) -> dict:
    """An invites row as API.md's ``<invite>``."""
    code = invite_code(key, row["id"])
    return {
        "id": row["id"], "code": code, "url": register_url(base_url, code), "uses_left": row["uses_left"],
        "expires_at": iso_time(row["expires_at"]), "quota_bytes": row["quota_bytes"],
        "created_at": iso_time(row["created_at"]), "created_by": row["created_by"],
    }


def create_invite(connection: sqlite3.Connection, now: float, uses: int, expires_in: int,
                  quota_bytes: int | None, created_by: str):
    """Insert an invite; returns its row."""
    return connection.execute(
        "INSERT INTO invites (uses_left, expires_at, quota_bytes, created_at, created_by)"
        " VALUES (?, ?, ?, ?, ?) RETURNING *",
        (uses, now + expires_in, quota_bytes, now, created_by),
    ).fetchone()


def list_invites(connection: sqlite3.Connection, now: float) -> list:
    """Every invite: live ones first, then used-up and expired ones, newest first within each."""
    return connection.execute(
        "SELECT * FROM invites ORDER BY (uses_left > 0 AND expires_at > ?) DESC, id DESC", (now,)
    ).fetchall()


def revoke_invite(connection: sqlite3.Connection, invite_id: int) -> None:
    """Delete an invite (404 if there is none): its code finds no row from now on."""
    if connection.execute("DELETE FROM invites WHERE id = ?", (invite_id,)).rowcount == 0:
        raise HTTPError(404, "not_found")


def usable_invite(connection: sqlite3.Connection, key: bytes, code: str, now: float):
    """The row of a genuine, live invite; else 403 ``invite_invalid`` (unknown, revoked, expired, used up)."""
    invite_id = invite_id_of(key, code)
    row = None if invite_id is None else connection.execute(
        "SELECT * FROM invites WHERE id = ?", (invite_id,)).fetchone()
    if row is None or not is_live(row, now):
        raise HTTPError(403, "invite_invalid", field="invite")
    return row


def use_invite(connection: sqlite3.Connection, invite_id: int, now: float):
    """Take one use of a live invite inside the caller's transaction; 403 if none is left.

    The ``WHERE`` re-checks under the write lock what ``usable_invite`` saw
    before the password was hashed: another registration may have taken the
    last use meanwhile.
    """
    row = connection.execute(
        "UPDATE invites SET uses_left = uses_left - 1 WHERE id = ? AND uses_left > 0 AND expires_at > ?"
        " RETURNING *", (invite_id, now),
    ).fetchone()
    if row is None:
        raise HTTPError(403, "invite_invalid", field="invite")
    return row
