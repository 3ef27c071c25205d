"""Account handlers: register, login, me, logout, password change, token refresh.

A login that succeeds begins a session (sessions.py): the tokens it issues carry
the session's id, refreshes keep it, logout ends it, a password change ends
every session of the account and begins a new one for the fresh token. An
account with two-factor sign-in gets an ``mfa`` token instead of an access token
at the password step; security_handlers.login_totp finishes the login.

Each takes a ``Request`` and returns an envelope. The rules they enforce are
API.md's "Accounts" and "Tokens" sections, and the registration modes of
"Operators" (open, invite, closed); the pure checks are at the top so they can
be tested without a server. What matters to an account's safety (register,
login, failed login, logout, password change) is written to the audit log.

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

from . import sessions, tokens
from .. import i18n
from .audit import ANONYMOUS, record_event
from .invites import usable_invite, use_invite
from ..web.http import HTTPError, Request, Response, envelope, iso_time, string_field

auth_log = logging.getLogger("authupload.auth")

USERNAME_MIN_CHARS, USERNAME_MAX_CHARS = 6, 32
USERNAME_PATTERN = re.compile(rf"[A-Za-z0-9\u4e00-\u9fa5]{{{USERNAME_MIN_CHARS},{USERNAME_MAX_CHARS}}}")
MFA_TOKEN_SECONDS = 300  # API.md: five minutes to type the code after the password


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


def token_json(request: Request, user, auth_time: float, session_id: str) -> dict:
    """A fresh access token of one session, in the shape login, password and refresh return."""
    ttl = request.app.config.token_ttl_seconds
    access_token = request.app.tokens.issue(
        user["id"], user["username"], user["token_version"], tokens.ACCESS, ttl,
        account_key=user["account_key"], auth_time=int(auth_time), sid=session_id,
    )
    return {"access_token": access_token, "token_type": "bearer", "expires_in": ttl}


def session_lifetime(config) -> float:
    """How long a session can live: its last refresh at the limit, plus that token's lifetime."""
    return config.session_max_seconds + config.token_ttl_seconds


def begin_session(request: Request, connection, user, now: float) -> str:
    """Start a session for this request's client (address, browser); returns its id."""
    return sessions.start_session(connection, user["id"], now, request.client_address,
                                  request.header("User-Agent"), session_lifetime(request.app.config))


def sign_in(request: Request, connection, user, detail: dict | None = None) -> str:
    """Finish a login inside ``connection``'s transaction: a new session, ``last_login_at`` and the
    ``login`` event; returns the session id."""
    now = request.app.config.clock()
    session_id = begin_session(request, connection, user, now)
    connection.execute("UPDATE users SET last_login_at = ? WHERE id = ?", (now, user["id"]))
    record_event(connection, now, "login", user_id=user["id"], username=user["username"],
                 address=request.client_address, detail=detail)
    return session_id


def signed_in(request: Request, user, session_id: str) -> Response:
    """Login's answer: the first access token of the new session."""
    return envelope(request.language, 200, "logged_in",
                    token_json(request, user, request.app.config.clock(), session_id))


def record_failed_login(request: Request, username: str, user, reason: str) -> None:
    """A ``login_failed`` event: the account's owner sees it in their activity, with the address."""
    with request.app.database.transaction() as connection:
        record_event(connection, request.app.config.clock(), "login_failed", user_id=user["id"] if user else None,
                     username=user["username"] if user else username[:64], actor=ANONYMOUS,
                     address=request.client_address, detail={"reason": reason})


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
    """``POST /api/register``: mode, invite, fields, name taken — all before any bcrypt work."""
    config = request.app.config
    body = request.json()
    invite = registration_invite(request, body)
    username = string_field(body, "username")
    password = string_field(body, "password")
    check_username(username)
    check_new_password(password, "password", config.password_min_chars, config.password_max_chars)
    database = request.app.database
    # A cheap early answer for the common case; the UNIQUE constraint below is what really decides.
    if database.execute("SELECT 1 FROM users WHERE username_key = ?", (username_key(username),)).fetchone():
        raise HTTPError(409, "username_taken")
    password_hash = hash_new_password(request, password)
    now = config.clock()
    with database.transaction() as connection:
        if invite is not None:
            # Taken inside this transaction: if the insert below fails, the use is given back.
            invite = use_invite(connection, invite["id"], now)
        # Race-safe: of two registrations for one name, the UNIQUE(username_key)
        # constraint lets exactly one insert a row; the other gets no id back.
        row = connection.execute(
            "INSERT INTO users (username, username_key, password_hash, created_at, quota_bytes)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (username_key) DO NOTHING RETURNING *",
            (username, username_key(username), password_hash, now, invite["quota_bytes"] if invite else None),
        ).fetchone()
        if row is None:
            raise HTTPError(409, "username_taken")
        detail = {"invite_id": invite["id"]} if invite else {}
        record_event(connection, now, "register", user_id=row["id"], username=username,
                     address=request.client_address, detail=detail)
        if invite is not None:
            record_event(connection, now, "invite_used", user_id=row["id"], username=username,
                         address=request.client_address, detail={"invite_id": invite["id"]})
    return envelope(request.language, 200, "registered", user_json(row))


def registration_invite(request: Request, body: dict):
    """Whether this registration may go on, by ``--registration``; the invite row it will use, if any.

    ``closed``: 403 ``registration_closed``. ``invite``: no code → 403
    ``invite_required``; a code that names no live invite → 403 ``invite_invalid``.
    ``open``: anyone, and an ``invite`` field is ignored.
    """
    mode = request.app.config.registration
    if mode == "closed":
        raise HTTPError(403, "registration_closed")
    if mode != "invite":
        return None
    if body.get("invite") in (None, ""):
        raise HTTPError(403, "invite_required")
    code = string_field(body, "invite")
    return usable_invite(request.app.database.connection(), request.app.tokens.key, code,
                         request.app.config.clock())


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


def password_matches(request: Request, username: str, password: str, user, completes_login: bool = True) -> bool:
    """Check a password under the failed-login throttle, and log the attempt.

    The throttle reserves a failure first (429 if the username or the address is
    locked), then bcrypt judges; a match forgives the reservation. An unknown
    user (``user`` None) is checked against a dummy hash, so it takes as long as
    a wrong password.

    A right password that does not complete the login (a second factor follows)
    takes back only its own reservation: were it to clear the name's failures,
    someone holding the password could guess codes forever, nine between logins.
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
    if matched and completes_login:
        app.throttle.forgive(attempt)
    elif matched:
        app.throttle.release(attempt)
    log_login("succeeded" if matched else "failed", address, username)
    return matched


def login(request: Request) -> Response:
    app = request.app
    body = request.json()
    username = string_field(body, "username")
    password = string_field(body, "password")
    user = app.database.execute(
        "SELECT * FROM users WHERE username_key = ?", (username_key(username),)
    ).fetchone()
    # Only judged attempts reach the audit log: one refused by the throttle (429)
    # is not written, so a flood of guesses cannot flood the log either.
    second_factor = bool(user and user["totp_enabled"] and not user["disabled"])
    if not password_matches(request, username, password, user, completes_login=not second_factor):
        record_failed_login(request, username, user, "invalid_credentials")
        raise HTTPError(401, "invalid_credentials")
    if user["disabled"]:
        record_failed_login(request, username, user, "account_disabled")
        # Only after the right password: a wrong one stays 401, so this tells a guesser nothing.
        raise HTTPError(403, "account_disabled")
    if second_factor:
        return envelope(request.language, 200, "mfa_required", mfa_token_json(request, user))
    with app.database.transaction() as connection:
        session_id = sign_in(request, connection, user)
    return signed_in(request, user, session_id)


def mfa_token_json(request: Request, user) -> dict:
    """The second login step's ticket: names the user, opens nothing but ``POST /api/login/totp``."""
    mfa_token = request.app.tokens.issue(user["id"], user["username"], user["token_version"], tokens.MFA,
                                         MFA_TOKEN_SECONDS, account_key=user["account_key"])
    return {"mfa_required": True, "mfa_token": mfa_token, "expires_in": MFA_TOKEN_SECONDS}


def me(request: Request) -> Response:
    user = current_user(request)
    data = user_json(user)
    data["admin"] = bool(user["admin"])
    data["totp"] = bool(user["totp_enabled"])
    data["usage"] = request.app.storage.stored_usage(user)  # from the row read anyway: no query more
    return envelope(request.language, 200, "profile", data)


def logout(request: Request) -> Response:
    """End this token's session: it and every token refreshed from it are refused from now on."""
    claims = request.user
    with request.app.database.transaction() as connection:
        sessions.end_session(connection, request.user_id, claims["sid"])
        record_event(connection, request.app.config.clock(), "logout", user_id=request.user_id,
                     username=claims["name"], address=request.client_address)
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
    now = config.clock()
    with request.app.database.transaction() as connection:
        # Every session ends (someone who knew the old password may hold one), and
        # bumping token_version kills every download link and pending login step too.
        user = connection.execute(
            "UPDATE users SET password_hash = ?, token_version = token_version + 1 WHERE id = ? RETURNING *",
            (new_hash, user["id"]),
        ).fetchone()
        sessions.end_all_sessions(connection, user["id"])
        session_id = begin_session(request, connection, user, now)
        record_event(connection, now, "password_changed", user_id=user["id"], username=user["username"],
                     address=request.client_address)
    return envelope(request.language, 200, "password_changed", token_json(request, user, now, session_id))


def refresh_token(request: Request) -> Response:
    config = request.app.config
    auth_time = request.user.get("auth_time", request.user["iat"])
    if config.clock() - auth_time > config.session_max_seconds:
        raise tokens.unauthorized("token_expired")  # the session is too old: log in with the password
    return envelope(request.language, 200, "token_refreshed",
                    token_json(request, current_user(request), auth_time, request.user["sid"]))


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
        "max_folders_per_user": config.max_folders_per_user,
        "max_open_uploads_per_user": config.max_open_uploads_per_user,
    })
