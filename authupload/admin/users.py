"""Managing accounts: what an admin (``/api/admin/users``) and the operator at the
machine (``python -m authupload users``) may do, written once for both.

Every change is one ``BEGIN IMMEDIATE`` transaction that reads the account,
checks the rules, writes the change and its audit event. Two admins editing
one account at once are serialized by SQLite's write lock: each change lands
whole, the later one on top of the earlier; nothing is ever half applied.

The last-admin rule: there is always at least one enabled admin. Demoting,
disabling or deleting the only one is ``409 last_admin``; the check runs under
the write lock, so two admins demoting each other at once cannot both succeed.

Disabling an account or resetting its password bumps ``token_version``: every
token and download link it holds dies at once (tokens.py compares it on every
request), and enabling the account again brings none of them back. Both also
end the account's sessions (accounts/sessions.py), so its list of sessions
starts empty. ``{"totp": false}`` removes a lost second factor
(``second_factor.remove_second_factor``) and says so in the holder's activity.

Deleting an account removes its row; the foreign keys (``ON DELETE CASCADE``)
take its files' and uploads' rows in the same statement, and then its bytes go
from ``files/<user_id>/`` and ``partial/``: row first, then bytes, as for a
single file, so a crash in between leaves unlisted bytes, never a listed hole.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

from ..accounts.audit import record_event
from ..accounts.second_factor import remove_second_factor
from ..accounts.sessions import end_all_sessions
from ..accounts.handlers import check_new_password, check_username, username_key
from ..web.http import HTTPError, iso_time

MAX_QUOTA_BYTES = 2**50  # 1 PiB: more than any disk this runs on; beyond it a quota is a typo
USERNAME_CHARACTERS = re.compile(r"[a-z0-9\u4e00-\u9fa5]+")  # what a (lowercased) username is made of
TRIGRAM = 3  # the trigram index answers substrings of at least three characters


@dataclasses.dataclass(frozen=True)
class Operator:
    """Who makes a change, as the audit log records it: ``admin:<id>`` or ``cli``, and from where."""

    actor: str
    address: str = ""


def user_json(row, default_quota_bytes: int) -> dict:
    """A users row as API.md's ``<user>``."""
    return {
        "id": row["id"], "username": row["username"], "admin": bool(row["admin"]),
        "disabled": bool(row["disabled"]), "totp": bool(row["totp_enabled"]),
        "created_at": iso_time(row["created_at"]),
        "last_login_at": iso_time(row["last_login_at"]) if row["last_login_at"] is not None else None,
        "usage": {"files": row["file_count"], "bytes": row["file_bytes"],
                  "quota_bytes": row["quota_bytes"] if row["quota_bytes"] is not None else default_quota_bytes},
    }


def check_quota_bytes(value, field: str = "quota_bytes") -> int | None:
    """A quota as a client may send it: null (the server default) or whole bytes, 0 to 1 PiB."""
    if value is None:
        return None
    # bool is an int in Python, but ``true`` is no number of bytes.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_QUOTA_BYTES:
        raise HTTPError(400, "invalid_field", field=field)
    return value


def list_users(connection, search: str, limit: int, offset: int) -> tuple[list, int]:
    """A page of accounts ordered by name, and how many match; ``search`` is "name contains", any case.

    Three characters or more are looked up in the trigram index (``user_names``,
    db.py migration 7), so a search costs about the same with 10 000 accounts as
    with 10. Shorter ones match so many names that reading the accounts in name
    order is as fast. A character no username can hold matches nothing (and
    so ``%`` and ``_`` are never wildcards).
    """
    needle = username_key(search)
    if not needle:
        rows = connection.execute("SELECT * FROM users ORDER BY username_key LIMIT ? OFFSET ?",
                                  (limit, offset)).fetchall()
        return rows, connection.execute("SELECT count(*) FROM users").fetchone()[0]
    if not USERNAME_CHARACTERS.fullmatch(needle):
        return [], 0
    if len(needle) < TRIGRAM:
        matches = "SELECT id FROM users WHERE instr(username_key, :needle) > 0"
    else:
        matches = "SELECT rowid FROM user_names WHERE username_key LIKE '%' || :needle || '%'"
    rows = connection.execute(f"SELECT * FROM users WHERE id IN ({matches}) ORDER BY username_key"
                              " LIMIT :limit OFFSET :offset",
                              {"needle": needle, "limit": limit, "offset": offset}).fetchall()
    (total,) = connection.execute(f"SELECT count(*) FROM ({matches})", {"needle": needle}).fetchone()
    return rows, total


def find_user(connection, user_id: int):
    """The users row, or 404."""
    row = connection.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
    if row is None:
        raise HTTPError(404, "not_found")
    return row


def find_user_by_name(connection, username: str):
    """The users row of a name (any letter case), or 404."""
    row = connection.execute("SELECT * FROM users WHERE username_key = ?", (username_key(username),)).fetchone()
    if row is None:
        raise HTTPError(404, "not_found")
    return row


def any_admin(connection) -> bool:
    """Whether an enabled admin exists (serve.py says how to make one when none does)."""
    return connection.execute("SELECT 1 FROM users WHERE admin = 1 AND disabled = 0 LIMIT 1").fetchone() is not None


def keep_an_admin(connection, user) -> None:
    """409 ``last_admin`` if ``user`` is the only enabled admin (call it before they stop being one)."""
    if not user["admin"] or user["disabled"]:
        return
    other = connection.execute(
        "SELECT 1 FROM users WHERE admin = 1 AND disabled = 0 AND id != ? LIMIT 1", (user["id"],)).fetchone()
    if other is None:
        raise HTTPError(409, "last_admin")


def create_user(services, username: str, password: str, admin: bool, quota_bytes: int | None,
                operator: Operator):
    """A new account in any registration mode, with the registration's rules; returns its row."""
    config = services.config
    check_username(username)
    check_new_password(password, "password", config.password_min_chars, config.password_max_chars)
    database = services.database
    if database.execute("SELECT 1 FROM users WHERE username_key = ?", (username_key(username),)).fetchone():
        raise HTTPError(409, "username_taken")  # before the bcrypt work, as registration does
    password_hash = services.passwords.hash_password(password)
    now = config.clock()
    with database.transaction() as connection:
        # The UNIQUE(username_key) constraint decides a race with a registration.
        row = connection.execute(
            "INSERT INTO users (username, username_key, password_hash, created_at, admin, quota_bytes)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (username_key) DO NOTHING RETURNING *",
            (username, username_key(username), password_hash, now, int(admin), quota_bytes),
        ).fetchone()
        if row is None:
            raise HTTPError(409, "username_taken")
        record_event(connection, now, "register", user_id=row["id"], username=username, actor=operator.actor,
                     address=operator.address, detail={"admin": admin, "quota_bytes": quota_bytes})
    return row


def change_user(services, user_id: int, changes: dict, operator: Operator):
    """Apply any of ``admin``, ``disabled``, ``quota_bytes``, ``totp`` (False: remove a lost second
    factor) at once, all validated already; returns the row."""
    now = services.config.clock()
    with services.database.transaction() as connection:
        user = find_user(connection, user_id)
        stops_being_admin = changes.get("admin") is False or changes.get("disabled") is True
        if stops_being_admin:
            keep_an_admin(connection, user)
        admin = changes.get("admin", bool(user["admin"]))
        disabled = changes.get("disabled", bool(user["disabled"]))
        quota_bytes = changes["quota_bytes"] if "quota_bytes" in changes else user["quota_bytes"]
        newly_disabled = disabled and not user["disabled"]
        user = connection.execute(
            "UPDATE users SET admin = ?, disabled = ?, quota_bytes = ?, token_version = token_version + ?"
            " WHERE id = ? RETURNING *",
            (int(admin), int(disabled), quota_bytes, int(newly_disabled), user_id),
        ).fetchone()
        if newly_disabled:
            end_all_sessions(connection, user_id)  # its devices' session lists start empty if it comes back
        if changes.get("totp") is False and remove_second_factor(connection, user_id):
            # The holder's own activity says who turned it off (the API lists totp_disabled).
            record_event(connection, now, "totp_disabled", user_id=user_id, username=user["username"],
                         actor=operator.actor, address=operator.address)
            user = connection.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
        record_event(connection, now, "user_changed", user_id=user_id, username=user["username"],
                     actor=operator.actor, address=operator.address, detail=changes)
    return user


def reset_password(services, user_id: int, new_password: str, operator: Operator):
    """Set a new password chosen by an admin; every session of the account ends."""
    config = services.config
    check_new_password(new_password, "new_password", config.password_min_chars, config.password_max_chars)
    find_user(services.database.connection(), user_id)  # 404 before the bcrypt work
    password_hash = services.passwords.hash_password(new_password)
    with services.database.transaction() as connection:
        user = connection.execute(
            "UPDATE users SET password_hash = ?, token_version = token_version + 1 WHERE id = ? RETURNING *",
            (password_hash, user_id)).fetchone()
        if user is None:
            raise HTTPError(404, "not_found")  # deleted while the hash was computed
        end_all_sessions(connection, user_id)
        record_event(connection, config.clock(), "password_reset", user_id=user_id, username=user["username"],
                     actor=operator.actor, address=operator.address)
    return user


def delete_user(services, user_id: int, operator: Operator) -> None:
    """Remove an account and everything it owns: rows (by cascade), stored bytes, partial uploads."""
    data_dir = Path(services.config.data_dir)
    with services.database.transaction() as connection:
        user = find_user(connection, user_id)
        keep_an_admin(connection, user)
        upload_ids = [row["id"] for row in connection.execute(
            "SELECT id FROM uploads WHERE user_id = ?", (user_id,))]
        connection.execute("DELETE FROM users WHERE id = ?", (user_id,))
        record_event(connection, services.config.clock(), "user_deleted", user_id=user_id,
                     username=user["username"], actor=operator.actor, address=operator.address,
                     detail={"files": user["file_count"], "bytes": user["file_bytes"]})
    shutil.rmtree(data_dir / "files" / str(int(user_id)), ignore_errors=True)
    for upload_id in upload_ids:
        (data_dir / "partial" / upload_id).unlink(missing_ok=True)
        (data_dir / "partial" / f"{upload_id}.lock").unlink(missing_ok=True)
