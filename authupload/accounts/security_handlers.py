"""Account security handlers: two-factor sign-in, my sessions, my activity (API.md "Account security").

Two-factor sign-in, as a person meets it:
1. ``POST /api/totp/setup`` with the password: a new secret and its
   ``otpauth://`` URI (the page draws it as a QR code); nothing is on yet.
2. ``POST /api/totp/enable`` with the first code the app shows: on, and ten
   recovery codes, shown this once.
3. From then on ``POST /api/login`` with the right password answers an
   ``mfa_token`` instead of an access token, and ``POST /api/login/totp``
   with that token and a code (or a recovery code) finishes the login.

Every code is judged under the login throttle of the account's name: a wrong
code counts as a failed login, so ten wrong codes lock the name like ten wrong
passwords (429), whichever route they came through.
"""

from __future__ import annotations

from ..web.http import HTTPError, Request, Response, envelope, page_bounds, string_field, unauthorized
from . import second_factor, sessions, tokens, totp
from .audit import EVENT_COLUMNS, event_json, record_event
from .handlers import (current_user, log_login, password_matches, record_failed_login, session_lifetime,
                       sign_in, signed_in, username_key)

ISSUER = "authupload"  # the name an authenticator app shows above the code


def require_password(request: Request, user, password: str) -> None:
    """400 wrong_old_password unless ``password`` is this account's (throttled like a login)."""
    if not password_matches(request, user["username"], password, user):
        # 400, not 401: the session is fine, only the form field is wrong (as for a password change).
        raise HTTPError(400, "wrong_old_password", field="password")


def accept_code(request: Request, user, use):
    """Run ``use(connection)`` — which checks a code and records what it changed — under the login throttle.

    A failure is reserved first (429 if the name or the address is locked); a
    code that ``use`` accepts forgives it, a wrong one leaves it counted.
    """
    app = request.app
    attempt = app.throttle.reserve_attempt(username_key(user["username"]), request.client_address)
    with app.database.transaction() as connection:
        accepted = use(connection)
    if accepted:
        app.throttle.forgive(attempt)
    return accepted


def record(request: Request, connection, user, event_type: str, detail: dict | None = None) -> None:
    record_event(connection, request.app.config.clock(), event_type, user_id=user["id"],
                 username=user["username"], address=request.client_address, detail=detail)


# --- two-factor sign-in -----------------------------------------------------------


def totp_setup(request: Request) -> Response:
    password = string_field(request.json(), "password")
    user = current_user(request)
    require_password(request, user, password)
    with request.app.database.transaction() as connection:
        secret = second_factor.begin_setup(connection, user["id"], request.app.tokens.key)
    return envelope(request.language, 200, "totp_setup", {
        "secret": totp.base32_secret(secret),
        "otpauth_uri": totp.otpauth_uri(ISSUER, user["username"], secret),
    })


def totp_enable(request: Request) -> Response:
    code = string_field(request.json(), "code")
    user = current_user(request)
    if user["totp_enabled"]:
        raise HTTPError(409, "totp_already_enabled")

    def confirm(connection):
        recovery_codes = second_factor.enable(connection, user["id"], code, request.app.config.clock(),
                                              request.app.tokens.key)
        if recovery_codes:
            record(request, connection, user, "totp_enabled")
        return recovery_codes

    recovery_codes = accept_code(request, user, confirm)
    if not recovery_codes:
        raise HTTPError(400, "invalid_code", field="code")
    return envelope(request.language, 200, "totp_enabled", {"recovery_codes": recovery_codes})


def totp_disable(request: Request) -> Response:
    user, code = enabled_user_with_password_and_code(request)

    def turn_off(connection):
        kind = use_code(request, connection, user, code)
        if kind:
            second_factor.remove_second_factor(connection, user["id"])
            record(request, connection, user, "totp_disabled")
        return kind

    if not accept_code(request, user, turn_off):
        raise HTTPError(400, "invalid_code", field="code")
    return envelope(request.language, 200, "totp_disabled")


def totp_recovery_codes(request: Request) -> Response:
    user, code = enabled_user_with_password_and_code(request)

    def replace(connection):
        if use_code(request, connection, user, code):
            return second_factor.replace_recovery_codes(connection, user["id"])
        return None

    recovery_codes = accept_code(request, user, replace)
    if not recovery_codes:
        raise HTTPError(400, "invalid_code", field="code")
    return envelope(request.language, 200, "recovery_codes", {"recovery_codes": recovery_codes})


def enabled_user_with_password_and_code(request: Request):
    """For turning off and for new recovery codes: both fields, a second factor that is on, the right password."""
    body = request.json()
    password = string_field(body, "password")
    code = string_field(body, "code")
    user = current_user(request)
    if not user["totp_enabled"]:
        raise HTTPError(409, "totp_not_enabled")
    require_password(request, user, password)
    return user, code


def use_code(request: Request, connection, user, code: str) -> str | None:
    """Accept a code of ``user`` once; a recovery code leaves a ``recovery_code_used`` event."""
    kind = second_factor.use_code(connection, user["id"], code, request.app.config.clock(), request.app.tokens.key)
    if kind == second_factor.RECOVERY_CODE:
        left = connection.execute("SELECT count(*) FROM recovery_codes WHERE user_id = ?", (user["id"],)).fetchone()[0]
        record(request, connection, user, "recovery_code_used", {"left": left})
    return kind


def login_totp(request: Request) -> Response:
    """The second login step: the ``mfa_token`` from the password step, and a code."""
    body = request.json()
    mfa_token = string_field(body, "mfa_token")
    code = string_field(body, "code")
    claims = request.app.tokens.verify(mfa_token)  # 401 if forged, expired, or its user's password changed
    if claims["purpose"] != tokens.MFA:
        raise unauthorized("token_invalid")  # an access or upload token is no ticket to this step
    user = request.app.database.execute("SELECT * FROM users WHERE id = ?", (int(claims["sub"]),)).fetchone()

    def finish(connection):
        # The code is spent and the session begins in one transaction: one commit for both.
        kind = use_code(request, connection, user, code)
        return kind and sign_in(request, connection, user, {"second_factor": kind})

    session_id = accept_code(request, user, finish)
    if not session_id:
        log_login("failed", request.client_address, user["username"])
        record_failed_login(request, user["username"], user, "invalid_code")
        raise HTTPError(401, "invalid_code", field="code")
    log_login("succeeded", request.client_address, user["username"])
    return signed_in(request, user, session_id)


# --- sessions and activity ----------------------------------------------------------


def list_sessions(request: Request) -> Response:
    config = request.app.config
    rows = sessions.list_sessions(request.app.database, request.user_id, config.clock(), session_lifetime(config))
    current = request.user["sid"]
    return envelope(request.language, 200, "session_list",
                    {"sessions": [sessions.session_json(row, current) for row in rows]})


def end_session(request: Request) -> Response:
    """``DELETE /api/sessions/{id}``: another account's session id answers like a missing one, 404."""
    session_id = request.params["session_id"]
    user = current_user(request)
    with request.app.database.transaction() as connection:
        if not sessions.end_session(connection, user["id"], session_id):
            raise HTTPError(404, "not_found")
        record(request, connection, user, "session_revoked", {"sessions": 1})
    return envelope(request.language, 200, "session_ended")


def end_other_sessions(request: Request) -> Response:
    """``DELETE /api/sessions``: sign out everywhere else; this session stays."""
    user = current_user(request)
    with request.app.database.transaction() as connection:
        ended = sessions.end_other_sessions(connection, user["id"], request.user["sid"])
        if ended:
            record(request, connection, user, "session_revoked", {"sessions": ended})
    return envelope(request.language, 200, "sessions_ended", {"ended": ended})


def activity(request: Request) -> Response:
    """``GET /api/activity``: my own account's audit events, newest first (the events_by_user index),
    and how many there are (``users.event_count``, kept by triggers)."""
    limit, offset = page_bounds(request)
    database = request.app.database
    rows = database.execute(
        f"SELECT {EVENT_COLUMNS} FROM events WHERE user_id = ? ORDER BY id DESC LIMIT ? OFFSET ?",
        (request.user_id, limit, offset)
    ).fetchall()
    total = database.execute("SELECT event_count FROM users WHERE id = ?", (request.user_id,)).fetchone()[0]
    return envelope(request.language, 200, "activity", {"events": [event_json(row) for row in rows], "total": total})
