"""Account handlers: register, login, me, logout, password change, token refresh.

Each takes a ``Request`` and returns an envelope. The rules they enforce are
API.md's "Accounts" and "Tokens" sections; the pure checks are at the top so
they can be tested without a server.

Usernames: 6–32 ASCII letters, digits or CJK ideographs (U+4E00–U+9FA5).
That alphabet has no look-alikes, no combining marks and no invisible
characters, so Unicode normalisation cannot make two different-looking names
equal or two equal-looking names different: the only folding needed is ASCII
letter case, done by ``username_key``.
"""

from __future__ import annotations

import json
import logging
import re

from . import tokens
from .. import i18n
from ..web.http import HTTPError, Request, Response, envelope, iso_time, string_field

auth_log = logging.getLogger("authupload.auth")

USERNAME_MIN_CHARS, USERNAME_MAX_CHARS = 6, 32
USERNAME_PATTERN = re.compile(rf"[A-Za-z0-9\u4e00-\u9fa5]{{{USERNAME_MIN_CHARS},{USERNAME_MAX_CHARS}}}")


def username_key(username: str) -> str:
    """The form that must be unique: ASCII letters lowercased, everything else as is."""
    return username.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def check_username(username: str) -> None:
    """400 unless the username follows the registration rule."""
    if not USERNAME_PATTERN.fullmatch(username):
        raise HTTPError(400, "invalid_field", field="username")


def check_new_password(password: str, field: str, min_chars: int, max_chars: int) -> None:
    """400 unless the length, in Unicode code points, is within the limits; nothing else is required."""
    if not min_chars <= len(password) <= max_chars:
        raise HTTPError(400, "invalid_field", field=field,
                        values={"min_chars": min_chars, "max_chars": max_chars})


def log_login(outcome: str, address: str, username: str) -> None:
    """One line per attempt, e.g. for fail2ban: ``login failed address=203.0.113.9 user="bob"``.

    The username is JSON-quoted: quotes, backslashes and control characters are
    escaped, so no input can forge a second line or a fake field.
    """
    auth_log.info("login %s address=%s user=%s", outcome, address, json.dumps(username[:64]))


def user_json(row) -> dict:
    return {"id": row["id"], "username": row["username"], "created_at": iso_time(row["created_at"])}


def token_json(request: Request, user, auth_time: float) -> dict:
    """A fresh access token for ``user``, in the shape login, password and refresh return."""
    ttl = request.app.config.token_ttl_seconds
    access_token = request.app.tokens.issue(
        user["id"], user["username"], user["token_version"], tokens.ACCESS, ttl,
        account_key=user["account_key"], auth_time=int(auth_time),
    )
    return {"access_token": access_token, "token_type": "bearer", "expires_in": ttl}


def current_user(request: Request):
    """The users row of the token's subject (the bearer middleware checked that it exists)."""
    row = request.app.database.execute(
        "SELECT * FROM users WHERE id = ?", (request.user_id,)
    ).fetchone()
    if row is None:
        raise tokens.unauthorized("token_revoked")
    return row


# --- handlers ------------------------------------------------------------------


def register(request: Request) -> Response:
    config = request.app.config
    body = request.json()
    username = string_field(body, "username")
    password = string_field(body, "password")
    check_username(username)
    check_new_password(password, "password", config.password_min_chars, config.password_max_chars)
    database = request.app.database
    # A cheap early answer for the common case; the UNIQUE constraint below is what really decides.
    if database.execute("SELECT 1 FROM users WHERE username_key = ?", (username_key(username),)).fetchone():
        raise HTTPError(409, "username_taken")
    password_hash = hash_new_password(request, password)
    # Race-safe: of two registrations for one name, the UNIQUE(username_key)
    # constraint lets exactly one insert a row; the other gets no id back.
    row = database.execute(
        "INSERT INTO users (username, username_key, password_hash, created_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (username_key) DO NOTHING RETURNING *",
        (username, username_key(username), password_hash, config.clock()),
    ).fetchone()
    if row is None:
        raise HTTPError(409, "username_taken")
    return envelope(request.language, 200, "registered", user_json(row))


def hash_new_password(request: Request, password: str) -> str:
    """bcrypt for a new account, counted against the client address's registrations first.

    Two guards keep sign-ups from crowding out logins: the throttle is asked
    before the hash, so a flood from one address is refused (429) without any
    bcrypt work; and new accounts hash through a gate of their own
    (``Services.registration_passwords``), so even a flood from many addresses
    fills that gate, never the one logins wait at.
    """
    app = request.app
    hasher = app.registration_passwords
    hasher.gate.raise_if_full()  # under a burst, refuse before any database write
    address = request.client_address
    reserved_at = app.registrations.reserve(address)
    try:
        return hasher.hash_password(password)
    except HTTPError:
        app.registrations.release(address, reserved_at)  # 503: the gate filled up meanwhile; nothing was hashed
        raise


def password_matches(request: Request, username: str, password: str, user) -> bool:
    """Check a password under the failed-login throttle, and log the attempt.

    The throttle reserves a failure first (429 if the username or the address is
    locked), then bcrypt judges; a match forgives the reservation. An unknown
    user (``user`` None) is checked against a dummy hash, so it takes as long as
    a wrong password.
    """
    app = request.app
    address = request.client_address
    app.passwords.gate.raise_if_full()  # under a burst, refuse before any database write
    try:
        attempt = app.throttle.reserve_attempt(username_key(username), address)
    except HTTPError:
        log_login("throttled", address, username)
        raise
    try:
        matched = app.passwords.verify_password(password, user["password_hash"] if user else None)
    except HTTPError:
        app.throttle.release(attempt)  # 503: the gate filled up meanwhile; this attempt was never judged
        raise
    if matched:
        app.throttle.forgive(attempt)
    log_login("succeeded" if matched else "failed", address, username)
    return matched


def login(request: Request) -> Response:
    body = request.json()
    username = string_field(body, "username")
    password = string_field(body, "password")
    user = request.app.database.execute(
        "SELECT * FROM users WHERE username_key = ?", (username_key(username),)
    ).fetchone()
    if not password_matches(request, username, password, user):
        raise HTTPError(401, "invalid_credentials")
    return envelope(request.language, 200, "logged_in", token_json(request, user, request.app.config.clock()))


def me(request: Request) -> Response:
    user = current_user(request)
    usage = request.app.storage.usage(user["id"])
    data = user_json(user)
    data["usage"] = {"files": usage["files"], "bytes": usage["bytes"], "quota_bytes": usage["quota_bytes"]}
    return envelope(request.language, 200, "profile", data)


def logout(request: Request) -> Response:
    request.app.tokens.revoke(request.user)
    return envelope(request.language, 200, "logged_out")


def change_password(request: Request) -> Response:
    config = request.app.config
    body = request.json()
    old_password = string_field(body, "old_password")
    new_password = string_field(body, "new_password")
    check_new_password(new_password, "new_password", config.password_min_chars, config.password_max_chars)
    user = current_user(request)
    # Throttled like a login: a stolen token must not become a password-guessing oracle.
    if not password_matches(request, user["username"], old_password, user):
        # 400, not 401: the session is fine, only the form field is wrong.
        raise HTTPError(400, "wrong_old_password", field="old_password")
    new_hash = request.app.passwords.hash_password(new_password)
    # Bumping token_version kills every token and download link issued before.
    user = request.app.database.execute(
        "UPDATE users SET password_hash = ?, token_version = token_version + 1 WHERE id = ? RETURNING *",
        (new_hash, user["id"]),
    ).fetchone()
    return envelope(request.language, 200, "password_changed", token_json(request, user, config.clock()))


def refresh_token(request: Request) -> Response:
    config = request.app.config
    auth_time = request.user.get("auth_time", request.user["iat"])
    if config.clock() - auth_time > config.session_max_seconds:
        raise tokens.unauthorized("token_expired")  # the session is too old: log in with the password
    return envelope(request.language, 200, "token_refreshed", token_json(request, current_user(request), auth_time))


def client_settings(request: Request) -> Response:
    """``GET /api/config``: the server's settings a client needs before it asks anything.

    Pages take every limit they show or check from here, never from a constant
    of their own, so ``--password-min-chars 12`` changes the register page too.
    Public: nothing secret, nothing about any user.
    """
    config = request.app.config
    return envelope(request.language, 200, "server_settings", {
        "registration": config.registration,
        "username": {"min_chars": USERNAME_MIN_CHARS, "max_chars": USERNAME_MAX_CHARS},
        "password": {"min_chars": config.password_min_chars, "max_chars": config.password_max_chars},
        "max_file_bytes": config.max_file_bytes,
        "languages": list(i18n.LANGUAGES),
        "trash_days": config.trash_days,
        "share_max_seconds": config.share_max_seconds,
        "request_max_seconds": config.request_max_seconds,
        "max_files_per_user": config.max_files_per_user,
        "max_open_uploads_per_user": config.max_open_uploads_per_user,
    })
