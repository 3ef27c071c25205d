"""The owner's side of upload requests: ``POST``, ``GET`` and ``DELETE /api/requests``.

An upload request is a link, ``<public URL>/r/<token>``, through which somebody
without an account sends files into the owner's box (drops.py is their side).
The row holds the title and note shown to the sender, the optional password,
the limits (``max_files``, ``max_bytes``), the folder received files go to,
and two counters kept by a trigger on ``files`` (db.py, migration 5), so they
always match the files that arrived.

State, in this order: ``closed`` (the owner closed it: ``DELETE``), ``expired``
(past its time), ``full`` (a limit reached), else ``open``. Closing keeps the
row (the owner still sees what came in) and the files already received.
"""

from __future__ import annotations

from ..accounts.audit import record_event
from ..web.http import HTTPError, Request, Response, envelope, iso_time, string_field
from . import fields
from .links import REQUEST, new_link_id

MAX_TITLE_CHARS = 100
MAX_NOTE_CHARS = 1000
SHORTEST_REQUEST_SECONDS = 60
OPEN, EXPIRED, FULL, CLOSED = "open", "expired", "full", "closed"


def request_state(row, now: float) -> str:
    if row["closed_at"] is not None:
        return CLOSED
    if row["expires_at"] <= now:
        return EXPIRED
    if ((row["max_files"] is not None and row["files_received"] >= row["max_files"])
            or (row["max_bytes"] is not None and row["bytes_received"] >= row["max_bytes"])):
        return FULL
    return OPEN


def request_json(request: Request, row) -> dict:
    """An upload_requests row as API.md's ``<request>``."""
    token = request.app.links.token(REQUEST, row["id"])
    return {
        "id": row["id"],
        "url": f"{fields.public_base_url(request)}/r/{token}",
        "title": row["title"],
        "note": row["note"],
        "created_at": iso_time(row["created_at"]),
        "expires_at": iso_time(row["expires_at"]),
        "max_files": row["max_files"],
        "max_bytes": row["max_bytes"],
        "password": row["password_hash"] is not None,
        "folder_id": row["folder_id"],
        "files_received": row["files_received"],
        "bytes_received": row["bytes_received"],
        "state": request_state(row, request.app.config.clock()),
    }


def requested_title(body: dict) -> str:
    title = string_field(body, "title").strip()
    if not 1 <= len(title) <= MAX_TITLE_CHARS:
        raise HTTPError(400, "invalid_field", field="title")
    return title


def requested_folder(request: Request, body: dict) -> str | None:
    """``folder_id``: null or absent for the top level; a folder must be one of mine (404 otherwise)."""
    folder_id = body.get("folder_id")
    if folder_id is None or folder_id == "root":
        return None
    if not isinstance(folder_id, str):
        raise HTTPError(400, "invalid_field", field="folder_id")
    if request.app.database.execute(
            "SELECT 1 FROM folders WHERE id = ? AND user_id = ? AND trashed_at IS NULL",
            (folder_id, int(request.user["sub"]))).fetchone() is None:
        raise HTTPError(404, "not_found", field="folder_id")  # another user's, a trashed or a missing folder
    return folder_id


# --- handlers ------------------------------------------------------------------


def create_request(request: Request) -> Response:
    """``POST /api/requests``: a link that lets somebody send me files."""
    body = request.json()
    config = request.app.config
    title = requested_title(body)
    note = fields.optional_text(body, "note", MAX_NOTE_CHARS)
    lifetime = fields.lifetime_seconds(body, SHORTEST_REQUEST_SECONDS, config.request_max_seconds)
    max_files = fields.optional_count(body, "max_files")
    max_bytes = fields.optional_count(body, "max_bytes")
    folder_id = requested_folder(request, body)
    password_hash = fields.optional_password_hash(request, body)
    owner_id = int(request.user["sub"])
    now = config.clock()
    request_id = new_link_id()
    with request.app.database.transaction() as connection:
        connection.execute(
            "INSERT INTO upload_requests (id, user_id, title, note, password_hash, max_files, max_bytes,"
            " folder_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (request_id, owner_id, title, note, password_hash, max_files, max_bytes, folder_id, now, now + lifetime),
        )
        record_event(connection, now, "request_created", user_id=owner_id, username=request.user["name"],
                     address=request.client_address, detail={"request_id": request_id, "title": title})
        row = connection.execute("SELECT * FROM upload_requests WHERE id = ?", (request_id,)).fetchone()
    return envelope(request.language, 201, "request_created", request_json(request, row))


def list_requests(request: Request) -> Response:
    """``GET /api/requests``: my upload requests, newest first, closed and expired ones included."""
    rows = request.app.database.execute(
        "SELECT * FROM upload_requests WHERE user_id = ? ORDER BY created_at DESC, rowid DESC",
        (int(request.user["sub"]),)).fetchall()
    return envelope(request.language, 200, "request_list", {"requests": [request_json(request, row) for row in rows]})


def close_request(request: Request) -> Response:
    """``DELETE /api/requests/{request_id}``: the link takes no more files; what came stays.

    A resumable upload already under way through it may finish: its room was
    reserved while the request was open (as a share's download under way
    finishes). Closing twice is fine and records one event.
    """
    owner_id = int(request.user["sub"])
    request_id = request.params["request_id"]
    now = request.app.config.clock()
    with request.app.database.transaction() as connection:
        row = connection.execute("SELECT * FROM upload_requests WHERE id = ? AND user_id = ?",
                                 (request_id, owner_id)).fetchone()
        if row is None:
            raise HTTPError(404, "not_found")
        if row["closed_at"] is None:
            connection.execute("UPDATE upload_requests SET closed_at = ? WHERE id = ?", (now, request_id))
            record_event(connection, now, "request_closed", user_id=owner_id, username=request.user["name"],
                         address=request.client_address, detail={"request_id": request_id})
    return envelope(request.language, 200, "request_closed")
