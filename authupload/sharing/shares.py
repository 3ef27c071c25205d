"""The owner's side of sharing: ``POST``, ``GET`` and ``DELETE /api/shares``.

A share is a row of ``shares`` plus its files in ``share_files`` (in the order
the owner gave them). Its link, ``<public URL>/s/<token>``, is computed from the
row's id each time it is shown (links.py): nothing secret is stored.

What a share allows is counted in *completed* downloads (public.py): the
``downloads`` column only grows when a file's last byte has been sent, and a
``CHECK`` keeps it at or below ``max_downloads`` whatever races.

A file deleted later simply leaves the share (``share_files`` rows go with
their file), and one in the trash is left out of everything a visitor sees
(restored, it is back); a share left with no live file answers ``404`` to visitors. Revoking
deletes the row: the link dies at once and the share leaves the list.
"""

from __future__ import annotations

from ..accounts.audit import record_event
from ..files.storage import file_json
from ..web.http import HTTPError, Request, Response, envelope, iso_time
from . import fields
from .links import SHARE, new_link_id

MAX_FILES_PER_SHARE = 100
MAX_NOTE_CHARS = 500
ACTIVE, EXPIRED, EXHAUSTED = "active", "expired", "exhausted"


def share_state(share, now: float) -> str:
    """``expired`` once past its time (checked first: time ends every share), ``exhausted`` once used up."""
    if share["expires_at"] <= now:
        return EXPIRED
    if share["max_downloads"] is not None and share["downloads"] >= share["max_downloads"]:
        return EXHAUSTED
    return ACTIVE


def share_url(request: Request, share_id: str) -> str:
    return f"{fields.public_base_url(request)}/s/{request.app.links.token(SHARE, share_id)}"


def share_json(request: Request, share, files: list[dict]) -> dict:
    """A shares row and its files as API.md's ``<share>``."""
    return {
        "id": share["id"],
        "url": share_url(request, share["id"]),
        "files": files,
        "note": share["note"],
        "created_at": iso_time(share["created_at"]),
        "expires_at": iso_time(share["expires_at"]),
        "password": share["password_hash"] is not None,
        "max_downloads": share["max_downloads"],
        "downloads": share["downloads"],
        "state": share_state(share, request.app.config.clock()),
    }


def shared_files(connection, share_ids: list[str]) -> dict[str, list]:
    """The file rows of each share, in the owner's order (files deleted or in the trash are simply absent)."""
    found: dict[str, list] = {share_id: [] for share_id in share_ids}
    if not share_ids:
        return found
    marks = ",".join("?" * len(share_ids))
    rows = connection.execute(
        f"SELECT share_files.share_id, files.* FROM share_files JOIN files ON files.id = share_files.file_id"
        f" WHERE share_files.share_id IN ({marks}) AND files.trashed_at IS NULL"
        f" ORDER BY share_files.share_id, share_files.position",
        share_ids,
    ).fetchall()
    for row in rows:
        found[row["share_id"]].append(row)
    return found


def requested_file_ids(body: dict) -> list[str]:
    """``file_ids``: 1–100 distinct strings (400 ``invalid_field`` otherwise)."""
    file_ids = body.get("file_ids")
    if (not isinstance(file_ids, list) or not 1 <= len(file_ids) <= MAX_FILES_PER_SHARE
            or not all(isinstance(file_id, str) for file_id in file_ids)
            or len(set(file_ids)) != len(file_ids)):
        raise HTTPError(400, "invalid_field", field="file_ids")
    return file_ids


# --- handlers ------------------------------------------------------------------


def create_share(request: Request) -> Response:
    """``POST /api/shares``: a link to 1–100 of my files, with optional expiry, password, limit and note."""
    body = request.json()
    config = request.app.config
    file_ids = requested_file_ids(body)
    lifetime = fields.lifetime_seconds(body, fields.SHORTEST_SHARE_SECONDS, config.share_max_seconds)
    max_downloads = fields.optional_count(body, "max_downloads")
    note = fields.optional_text(body, "note", MAX_NOTE_CHARS)
    owner_id = int(request.user["sub"])
    # Every field is checked before the (slow) hash; the files are checked again in the transaction.
    owned_files(request.app.database.connection(), owner_id, file_ids)
    password_hash = fields.optional_password_hash(request, body)
    now = config.clock()
    share_id = new_link_id()
    with request.app.database.transaction() as connection:
        files = owned_files(connection, owner_id, file_ids)  # a file deleted meanwhile: 404, nothing stored
        connection.execute(
            "INSERT INTO shares (id, user_id, note, password_hash, max_downloads, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (share_id, owner_id, note, password_hash, max_downloads, now, now + lifetime),
        )
        connection.executemany(
            "INSERT INTO share_files (share_id, file_id, position) VALUES (?, ?, ?)",
            [(share_id, file_id, position) for position, file_id in enumerate(file_ids)],
        )
        record_event(connection, now, "share_created", user_id=owner_id, username=request.user["name"],
                     address=request.client_address, detail={"share_id": share_id, "files": len(file_ids)})
        share = connection.execute("SELECT * FROM shares WHERE id = ?", (share_id,)).fetchone()
    return envelope(request.language, 201, "share_created", share_json(request, share, files))


def owned_files(connection, owner_id: int, file_ids: list[str]) -> list[dict]:
    """The ``<file>`` shapes of these files, in this order; 404 naming ``file_ids`` if one is not mine."""
    marks = ",".join("?" * len(file_ids))
    rows = {row["id"]: row for row in connection.execute(
        f"SELECT * FROM files WHERE user_id = ? AND trashed_at IS NULL AND id IN ({marks})", (owner_id, *file_ids))}
    if len(rows) != len(file_ids):
        # Another user's file (or one in the trash) is exactly as missing as one that never existed.
        raise HTTPError(404, "not_found", field="file_ids")
    return [file_json(rows[file_id]) for file_id in file_ids]


def list_shares(request: Request) -> Response:
    """``GET /api/shares``: my shares, newest first, expired and used-up ones included."""
    connection = request.app.database.connection()
    shares = connection.execute(
        "SELECT * FROM shares WHERE user_id = ? ORDER BY created_at DESC, rowid DESC",
        (int(request.user["sub"]),),
    ).fetchall()
    files = shared_files(connection, [share["id"] for share in shares])
    data = [share_json(request, share, [file_json(row) for row in files[share["id"]]]) for share in shares]
    return envelope(request.language, 200, "share_list", {"shares": data})


def revoke_share(request: Request) -> Response:
    """``DELETE /api/shares/{share_id}``: the link dies at once; another user's share is 404."""
    owner_id = int(request.user["sub"])
    share_id = request.params["share_id"]
    with request.app.database.transaction() as connection:
        deleted = connection.execute(
            "DELETE FROM shares WHERE id = ? AND user_id = ?", (share_id, owner_id)).rowcount
        if not deleted:
            raise HTTPError(404, "not_found")
        record_event(connection, request.app.config.clock(), "share_revoked", user_id=owner_id,
                     username=request.user["name"], address=request.client_address,
                     detail={"share_id": share_id})
    return envelope(request.language, 200, "share_revoked")
