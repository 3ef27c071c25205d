"""The admin API, ``/api/admin/*``: accounts, invites and the audit log (API.md "Operators").

Every route takes an access token (the router refuses upload tokens and
download links with 401 before a handler runs); ``require_admin`` then reads
the caller's row on every request, so a demoted admin is ``403 forbidden`` from
the next request on, whatever token they still hold.

Request bodies are checked field by field before anything changes: a wrong JSON
type, a negative or absurd number, is ``400 invalid_field`` naming the field,
and nothing is written.
"""

from __future__ import annotations

from ..accounts.audit import EVENT_COLUMNS, admin_actor, event_json, record_event
from ..accounts import invites
from ..web.http import MAX_OFFSET, HTTPError, Request, Response, envelope, page_bounds, query_number, string_field
from . import users
from .users import Operator, check_quota_bytes

DAY_SECONDS = 24 * 3600
INVITE_USES = (1, 1000)  # API.md: 1–1000 registrations, 1 by default
INVITE_LIFETIME_SECONDS = (1, 90 * DAY_SECONDS)  # API.md: 1 s to 90 days, 7 days by default
DEFAULT_INVITE_SECONDS = 7 * DAY_SECONDS
MAX_EVENT_TYPE_CHARS = 64


def require_admin(request: Request) -> Operator:
    """403 ``forbidden`` unless the caller's account is an admin now; else who they are, for the log."""
    row = request.app.database.execute(
        "SELECT admin FROM users WHERE id = ?", (request.user_id,)).fetchone()
    if row is None or not row["admin"]:
        raise HTTPError(403, "forbidden")
    return Operator(admin_actor(request.user_id), request.client_address)


def path_id(request: Request, name: str) -> int:
    """A numeric id from the path; anything else names nothing (404)."""
    text = request.params[name]
    if not (text.isascii() and text.isdigit() and len(text) < 19):
        raise HTTPError(404, "not_found")
    return int(text)


def whole_number(body: dict, name: str, default: int, bounds: tuple[int, int]) -> int:
    """``body[name]``: a JSON integer within ``bounds`` (its default if absent), else 400 naming it."""
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not bounds[0] <= value <= bounds[1]:
        raise HTTPError(400, "invalid_field", field=name)
    return value


def boolean(body: dict, name: str) -> bool:
    value = body[name]
    if not isinstance(value, bool):
        raise HTTPError(400, "invalid_field", field=name)
    return value


# --- accounts ------------------------------------------------------------------------


def list_users(request: Request) -> Response:
    """``GET /api/admin/users?q=&limit=&offset=``: accounts by name, with their usage."""
    require_admin(request)
    limit, offset = page_bounds(request)
    rows, total = users.list_users(request.app.database.connection(), request.query.get("q", ""), limit, offset)
    quota = request.app.config.quota_bytes
    return envelope(request.language, 200, "user_list",
                    {"users": [users.user_json(row, quota) for row in rows], "total": total})


def create_user(request: Request) -> Response:
    """``POST /api/admin/users``: an account made by an admin, in any registration mode."""
    operator = require_admin(request)
    body = request.json()
    username = string_field(body, "username")
    password = string_field(body, "password")
    admin = boolean(body, "admin") if "admin" in body else False
    quota_bytes = check_quota_bytes(body.get("quota_bytes"))
    row = users.create_user(request.app, username, password, admin, quota_bytes, operator)
    return envelope(request.language, 201, "user_created", users.user_json(row, request.app.config.quota_bytes))


def change_user(request: Request) -> Response:
    """``PATCH /api/admin/users/{id}``: any of admin, disabled, quota_bytes, totp (false only)."""
    operator = require_admin(request)
    user_id = path_id(request, "user_id")
    body = request.json()
    changes = {}
    for flag in ("admin", "disabled"):
        if flag in body:
            changes[flag] = boolean(body, flag)
    if "quota_bytes" in body:
        changes["quota_bytes"] = check_quota_bytes(body["quota_bytes"])
    if "totp" in body:
        if body["totp"] is not False:
            raise HTTPError(400, "invalid_field", field="totp")  # a second factor is only ever removed here
        changes["totp"] = False
    row = users.change_user(request.app, user_id, changes, operator)
    return envelope(request.language, 200, "user_changed", users.user_json(row, request.app.config.quota_bytes))


def reset_password(request: Request) -> Response:
    """``POST /api/admin/users/{id}/password``: a new password; every session of that account ends."""
    operator = require_admin(request)
    user_id = path_id(request, "user_id")
    new_password = string_field(request.json(), "new_password")
    users.reset_password(request.app, user_id, new_password, operator)
    return envelope(request.language, 200, "password_reset")


def delete_user(request: Request) -> Response:
    """``DELETE /api/admin/users/{id}``: the account and everything it owns; its name is free again."""
    operator = require_admin(request)
    users.delete_user(request.app, path_id(request, "user_id"), operator)
    return envelope(request.language, 200, "user_deleted")


# --- invites -------------------------------------------------------------------------


def list_invites(request: Request) -> Response:
    """``GET /api/admin/invites``: live invites first, each with its code and link."""
    require_admin(request)
    app = request.app
    rows = invites.list_invites(app.database.connection(), app.config.clock())
    return envelope(request.language, 200, "invite_list",
                    {"invites": [invites.invite_json(row, app.tokens.key, request.base_url) for row in rows]})


def create_invite(request: Request) -> Response:
    """``POST /api/admin/invites``: ``uses`` 1–1000, ``expires_in`` 1 s–90 days, ``quota_bytes``."""
    operator = require_admin(request)
    body = request.json()
    uses = whole_number(body, "uses", 1, INVITE_USES)
    expires_in = whole_number(body, "expires_in", DEFAULT_INVITE_SECONDS, INVITE_LIFETIME_SECONDS)
    quota_bytes = check_quota_bytes(body.get("quota_bytes"))
    app = request.app
    admin_name = request.user["name"]
    now = app.config.clock()
    with app.database.transaction() as connection:
        row = invites.create_invite(connection, now, uses, expires_in, quota_bytes, admin_name)
        record_event(connection, now, "invite_created", user_id=request.user_id, username=admin_name,
                     actor=operator.actor, address=operator.address,
                     detail={"invite_id": row["id"], "uses": uses, "expires_in": expires_in,
                             "quota_bytes": quota_bytes})
    return envelope(request.language, 201, "invite_created",
                    invites.invite_json(row, app.tokens.key, request.base_url))


def revoke_invite(request: Request) -> Response:
    """``DELETE /api/admin/invites/{id}``: the code stops working at once."""
    operator = require_admin(request)
    invite_id = path_id(request, "invite_id")
    with request.app.database.transaction() as connection:
        invites.revoke_invite(connection, invite_id)
        record_event(connection, request.app.config.clock(), "invite_revoked", user_id=request.user_id,
                     username=request.user["name"], actor=operator.actor, address=operator.address,
                     detail={"invite_id": invite_id})
    return envelope(request.language, 200, "invite_revoked")


# --- the audit log ------------------------------------------------------------------


def list_events(request: Request) -> Response:
    """``GET /api/admin/events?user=&type=&limit=&offset=``: the audit log, newest first.

    The answer says ``has_more`` instead of a total: counting a million events
    would cost more than reading the page, and paging needs only "is there an
    older page?" (one row beyond the page answers it).
    """
    require_admin(request)
    limit, offset = page_bounds(request)
    user = query_number(request, "user", 0, minimum=1, maximum=MAX_OFFSET) if "user" in request.query else None
    event_type = request.query.get("type") or None
    if event_type is not None and not (len(event_type) <= MAX_EVENT_TYPE_CHARS and event_type.isascii()):
        raise HTTPError(400, "invalid_query", field="type")
    rows = event_page(request.app.database.connection(), user, event_type, limit + 1, offset)
    return envelope(request.language, 200, "event_list",
                    {"events": [event_json(row) for row in rows[:limit]], "has_more": len(rows) > limit})


def event_page(connection, user_id: int | None, event_type: str | None, limit: int, offset: int) -> list:
    """Events newest first, optionally of one account and one type.

    Each filter has its index, ``(user_id, id)`` and ``(type, id)``: walked
    backwards they give the newest events of that account or type directly, so
    a filtered first page costs the same however long the log is.
    """
    conditions, parameters = [], []
    if user_id is not None:
        conditions.append("user_id = ?")
        parameters.append(user_id)
    if event_type is not None:
        conditions.append("type = ?")
        parameters.append(event_type)
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""  # fixed fragments only; values are bound
    return connection.execute(f"SELECT {EVENT_COLUMNS} FROM events {where} ORDER BY id DESC LIMIT ? OFFSET ?",
                              (*parameters, limit, offset)).fetchall()
