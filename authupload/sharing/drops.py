"""The sender's side of an upload request: ``/api/public/requests/<token>/…`` and the ``drop`` token.

How this works:

1. ``GET /api/public/requests/<token>`` tells the drop page what to show:
   title, note, what room is left. Unknown or closed → ``404``; past its time
   → ``410 request_expired``; its limit reached → ``410 request_full``.
2. ``POST …/session`` (with the password, if the request has one, throttled
   like a login) answers a token of purpose ``drop``: one hour, this request
   only, carrying the sender's name. The router accepts it on exactly two
   routes, ``POST /api/uploads`` (tus creation) and ``POST /api/files``
   (multipart); anywhere else it is ``401 token_invalid``.
3. Those two handlers live in files/ and know nothing of requests: they ask
   ``request.app.drops`` (a ``Drops``, built by create_app) whether the caller
   is a sender (``receipt_for``) and, inside their own ``BEGIN IMMEDIATE``
   transaction, whether the request has room (``require_room``). What arrives is
   the owner's file — the owner's quota, the request's folder — stamped with
   the request and the sender's name (``files.received_*``).

Room. ``max_files`` and ``max_bytes`` count what was received (a trigger keeps
the counters) plus what open resumable uploads through the request have
reserved: a tus upload reserves its ``Upload-Length`` at creation, before any
byte, just like the quota, so two senders racing for the last place cannot
both get it. A multipart upload is checked as its parts arrive and once more
in the transaction that commits it.
"""

from __future__ import annotations

from ..accounts.tokens import DROP
from ..files.folders import live_folder_or_top
from ..files.storage import Received, without_hidden_characters
from ..web.http import HTTPError, Request, Response, envelope, iso_time, string_field
from .links import REQUEST, ACCESS_SECONDS
from .public import check_link_password
from .requests import CLOSED, EXPIRED, FULL, request_state

MAX_SENDER_NAME_CHARS = 100
DROP_SESSION_SECONDS = ACCESS_SECONDS  # API.md: a drop token lives one hour


def clean_sender_name(raw: str) -> str:
    """The sender's name as the owner will see it: cleaned like a file name's characters, trimmed."""
    return without_hidden_characters(raw).strip()


def open_request(request: Request):
    """The upload request named by the path's token, with its owner; else 404 or 410."""
    app = request.app
    request_id = app.links.link_id(REQUEST, request.params["token"])
    row = request_id and app.database.execute(
        "SELECT upload_requests.*, users.username AS owner, users.token_version AS owner_token_version,"
        " users.account_key AS owner_account_key"
        " FROM upload_requests JOIN users ON users.id = upload_requests.user_id"
        " WHERE upload_requests.id = ? AND NOT users.disabled", (request_id,)).fetchone()  # nor receives
    if not row:
        raise HTTPError(404, "not_found")
    refuse_unless_open(row, app.config.clock())
    return row


def refuse_unless_open(row, now: float) -> None:
    state = request_state(row, now)
    if state == CLOSED:
        raise HTTPError(404, "not_found")  # API.md: a closed request is as gone as an unknown one
    if state == EXPIRED:
        raise HTTPError(410, "request_expired")
    if state == FULL:
        raise HTTPError(410, "request_full")


def room_left(connection, row, now: float) -> tuple[int | None, int | None]:
    """Files and bytes the request can still take, open uploads' reservations deducted; None: no limit."""
    reserved_files, reserved_bytes = connection.execute(
        "SELECT count(*), coalesce(sum(length), 0) FROM uploads"
        " WHERE request_id = ? AND file_id IS NULL AND expires_at > ?", (row["id"], now)).fetchone()
    files_left = bytes_left = None
    if row["max_files"] is not None:
        files_left = max(0, row["max_files"] - row["files_received"] - reserved_files)
    if row["max_bytes"] is not None:
        bytes_left = max(0, row["max_bytes"] - row["bytes_received"] - reserved_bytes)
    return files_left, bytes_left


class Drops:
    """What the upload handlers in files/ ask about a caller who holds a ``drop`` token."""

    def __init__(self, database, clock):
        self.database = database
        self.clock = clock

    def receipt_for(self, request: Request) -> Received | None:
        """The request a sender's upload goes through, checked open; None for the owner's own uploads."""
        claims = request.user
        if claims["purpose"] != DROP:
            return None
        row = self.database.execute("SELECT * FROM upload_requests WHERE id = ? AND user_id = ?",
                                    (claims["request"], int(claims["sub"]))).fetchone()
        if row is None:
            raise HTTPError(404, "not_found")
        refuse_unless_open(row, self.clock())
        folder_id = live_folder_or_top(self.database.connection(), row["user_id"], row["folder_id"])
        return Received(row["id"], row["title"], claims["uploader"], request.client_address, folder_id)

    def require_room(self, connection, received: Received, files: int, size: int) -> None:
        """413 ``request_full`` unless ``files`` more files of ``size`` bytes fit.

        Called inside the transaction that stores the upload (so racing senders
        are serialized), and before a body is read (web/early.py), to refuse at once.
        """
        row = connection.execute("SELECT * FROM upload_requests WHERE id = ?", (received.request_id,)).fetchone()
        now = self.clock()
        refuse_unless_open(row, now)
        files_left, bytes_left = room_left(connection, row, now)
        if (files_left is not None and files > files_left) or (bytes_left is not None and size > bytes_left):
            raise HTTPError(413, "request_full")

    def room(self, received: Received) -> tuple[int | None, int | None]:
        """Files and bytes the request can take now (a multipart upload stops early past them)."""
        connection = self.database.connection()
        row = connection.execute("SELECT * FROM upload_requests WHERE id = ?", (received.request_id,)).fetchone()
        return room_left(connection, row, self.clock())


# --- handlers ------------------------------------------------------------------


def request_info(request: Request) -> Response:
    """``GET /api/public/requests/<token>``: what the drop page shows."""
    row = open_request(request)
    app = request.app
    files_left, bytes_left = room_left(app.database.connection(), row, app.config.clock())
    data = {
        "owner": row["owner"],
        "title": row["title"],
        "note": row["note"],
        "expires_at": iso_time(row["expires_at"]),
        "password_required": row["password_hash"] is not None,
        "files_left": files_left,
        "bytes_left": bytes_left,
        "max_file_bytes": app.config.max_file_bytes,
    }
    return envelope(request.language, 200, "request_info", data)


def start_session(request: Request) -> Response:
    """``POST /api/public/requests/<token>/session``: a one-hour ``drop`` token for this request."""
    row = open_request(request)
    body = request.json()
    password = string_field(body, "password") if body.get("password") is not None else ""
    name = ""
    if body.get("name") is not None:
        name = clean_sender_name(string_field(body, "name"))
        if len(name) > MAX_SENDER_NAME_CHARS:
            raise HTTPError(400, "invalid_field", field="name")
    check_link_password(request, f"request:{row['id']}", row["password_hash"], password)
    # Issued in the owner's name with the owner's token_version: what the sender
    # uploads is the owner's, and a password change ends these sessions too.
    token = request.app.tokens.issue(row["user_id"], row["owner"], row["owner_token_version"], DROP,
                                     DROP_SESSION_SECONDS, account_key=row["owner_account_key"],
                                     request=row["id"], uploader=name)
    data = {"access_token": token, "token_type": "bearer", "expires_in": DROP_SESSION_SECONDS}
    return envelope(request.language, 200, "drop_session", data)
