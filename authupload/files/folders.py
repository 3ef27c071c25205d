"""Folders: a tree of rows by parent pointer, and the handlers that shape it.

How it works
------------
A folder row knows only its parent (``parent_id``, NULL at the top level); a
file knows only its folder (``files.folder_id``). Nothing stores a path, so
moving or renaming a folder is one UPDATE of one row, whatever it holds, and a
path is read by walking up the parents (a recursive query, one step per level).

Names are cleaned like file names, but a folder name that is a path (``a/b``)
or that cleans to nothing (``..``, spaces, control characters only) is refused
rather than guessed at. Siblings are unique regardless of letter case: the
casefolded name sits in ``name_key`` under a UNIQUE index among live folders,
so two requests racing to create ``Photos`` and ``photos`` cannot both win (the
loser gets ``409 name_taken``).

A folder cannot move into itself or below itself: before the move, the new
parent's ancestors are walked up to the top (``409 folder_cycle`` if the folder
is among them). Depth is bounded (``MAX_FOLDER_DEPTH``) so no path can grow
without end; a deeper create, move or upload path is ``400 folder_too_deep``.

Folders in the trash (``trashed_at`` set) are as missing as other users'
folders: ``404``. The trash itself lives in trash.py.
"""

from __future__ import annotations

import re
import sqlite3

from ..web.http import HTTPError, Request, Response, envelope, iso_time, string_field
from .storage import clean_filename, file_json, name_key, new_id, owned_row

ROOT = "root"  # the id clients use for the top level
MAX_FOLDER_DEPTH = 128  # levels below the top; far beyond any real tree, small enough to walk
PATH_SEPARATORS = re.compile(r"[/\\]")
# A parent walk stops one step past the depth bound: a longer chain (cannot be
# made through the API) is reported as too deep rather than walked for ever.
ANCESTORS_SQL = """
    WITH RECURSIVE chain (id, parent_id, depth) AS (
        SELECT id, parent_id, 1 FROM folders WHERE id = ? AND user_id = ?
        UNION ALL
        SELECT folders.id, folders.parent_id, chain.depth + 1
        FROM folders JOIN chain ON folders.id = chain.parent_id
        WHERE chain.depth <= ?
    )
    SELECT folders.* FROM chain JOIN folders ON folders.id = chain.id ORDER BY chain.depth DESC
"""


def folder_json(row) -> dict:
    """A folders row in the ``<folder>`` shape of API.md."""
    return {"id": row["id"], "name": row["name"], "parent_id": row["parent_id"],
            "created_at": iso_time(row["created_at"])}


def clean_folder_name(raw: str, field: str = "name") -> str:
    """A folder name by the file-name rules; a path or a name of nothing is ``400 invalid_field``."""
    if PATH_SEPARATORS.search(raw):
        raise HTTPError(400, "invalid_field", field=field)
    name = clean_filename(raw)
    if name == "unnamed" and raw.strip(" .") != "unnamed":
        raise HTTPError(400, "invalid_field", field=field)  # cleaned to nothing
    return name


def clean_relative_path(raw: str) -> list[str]:
    """The folder names of a dropped file's ``relativePath`` (``photos/2024/a.jpg`` → photos, 2024).

    The last segment is the file itself. Empty segments, ``.`` and ``..`` are
    dropped — never a step up — and so are names that clean to nothing; each
    other segment is cleaned like a folder name. What is left can only name
    folders below the upload's target, inside the user's own tree. More levels
    than ``MAX_FOLDER_DEPTH`` are ``400 folder_too_deep``.
    """
    names = []
    for segment in PATH_SEPARATORS.split(raw)[:-1]:
        name = clean_filename(segment)
        if name != "unnamed" or segment.strip(" .") == "unnamed":
            names.append(name)
    check_depth(len(names))
    return names


# --- reading the tree ----------------------------------------------------------------


def find_folder(connection, owner: int, folder_id: str):
    """One of this user's live folders; another user's, a trashed or a missing one is 404."""
    return owned_row(connection, "folders", owner, folder_id)


def resolve_parent(connection, owner: int, value, field: str) -> str | None:
    """A client's folder reference: ``None``/``"root"`` is the top level, else a live folder of theirs."""
    if value is None or value == ROOT:
        return None
    if not isinstance(value, str):
        raise HTTPError(400, "invalid_field", field=field)
    return find_folder(connection, owner, value)["id"]


def live_folder_or_top(connection, owner: int, folder_id: str | None) -> str | None:
    """``folder_id`` if it is still one of ``owner``'s live folders, else the top level (None).

    For a folder chosen earlier by someone who cannot choose again (an upload
    request's folder, met by a sender who sees none of the owner's folders).
    """
    if folder_id is None or connection.execute(
            "SELECT 1 FROM folders WHERE id = ? AND user_id = ? AND trashed_at IS NULL",
            (folder_id, owner)).fetchone() is None:
        return None
    return folder_id


def ancestors(connection, owner: int, folder_id: str | None) -> list:
    """The folders from the top down to ``folder_id`` itself (empty for the top level)."""
    if folder_id is None:
        return []
    return connection.execute(ANCESTORS_SQL, (folder_id, owner, MAX_FOLDER_DEPTH)).fetchall()


def subtree_height(connection, folder_id: str) -> int:
    """Levels from ``folder_id`` down to its deepest live descendant (1 for a leaf).

    This walks folders only, never files: a folder of 10 000 files costs what an
    empty one does.
    """
    (height,) = connection.execute(
        """
        WITH RECURSIVE below (id, depth) AS (
            SELECT ?, 1
            UNION ALL
            SELECT folders.id, below.depth + 1 FROM folders JOIN below ON folders.parent_id = below.id
            WHERE folders.trashed_at IS NULL AND below.depth <= ?
        )
        SELECT max(depth) FROM below
        """,
        (folder_id, MAX_FOLDER_DEPTH),
    ).fetchone()
    return height


def check_depth(levels: int) -> None:
    if levels > MAX_FOLDER_DEPTH:
        raise HTTPError(400, "folder_too_deep")


def children(connection, owner: int, parent_id: str | None) -> list:
    """The live folders directly inside ``parent_id``, by name."""
    return connection.execute(
        "SELECT * FROM folders WHERE user_id = ? AND ifnull(parent_id, '') = ? AND trashed_at IS NULL"
        " ORDER BY name_key",
        (owner, parent_id or ""),
    ).fetchall()


def child_named(connection, owner: int, parent_id: str | None, name: str):
    """The live folder called ``name`` (in any letter case) inside ``parent_id``, or None."""
    return connection.execute(
        "SELECT * FROM folders WHERE user_id = ? AND ifnull(parent_id, '') = ? AND name_key = ?"
        " AND trashed_at IS NULL",
        (owner, parent_id or "", name_key(name)),
    ).fetchone()


# --- changing the tree -----------------------------------------------------------------


def insert_folder(connection, config, owner: int, parent_id: str | None, name: str) -> dict:
    """A new live folder; ``409 name_taken`` if a sibling has the name in any case.

    The UNIQUE index decides, not an earlier SELECT: that is what makes racing
    creations safe (DESIGN.md: race safety from a constraint). Past
    ``max_folders_per_user`` (the trash included), ``413 too_many_folders``:
    counted inside the caller's transaction, so racing creations cannot pass it.
    """
    held = connection.execute("SELECT count(*) FROM folders WHERE user_id = ?", (owner,)).fetchone()[0]
    if held >= config.max_folders_per_user:
        raise HTTPError(413, "too_many_folders")
    row = {"id": new_id(), "user_id": owner, "parent_id": parent_id, "name": name,
           "name_key": name_key(name), "created_at": config.clock()}
    try:
        connection.execute(
            "INSERT INTO folders (id, user_id, parent_id, name, name_key, created_at)"
            " VALUES (:id, :user_id, :parent_id, :name, :name_key, :created_at)", row)
    except sqlite3.IntegrityError:
        raise HTTPError(409, "name_taken", field="name") from None
    return row


def ensure_path(connection, config, owner: int, parent_id: str | None, names: list[str]) -> str | None:
    """The folder at ``names`` below ``parent_id``, creating what is missing; its id.

    For uploads of a dropped folder (tus ``relativePath``): an existing folder of
    the same name in any letter case is reused, so ``Photos/a.jpg`` and
    ``photos/b.jpg`` land together. Call inside a transaction.
    """
    check_depth(len(ancestors(connection, owner, parent_id)) + len(names))
    for name in names:
        existing = child_named(connection, owner, parent_id, name)
        parent_id = existing["id"] if existing else insert_folder(connection, config, owner, parent_id, name)["id"]
    return parent_id


def place_folder(connection, owner: int, folder, parent_id: str | None, name: str) -> None:
    """Give ``folder`` a new parent and name in one step (a move, a rename, or both).

    Refused into itself or below it (``409 folder_cycle``), past the depth bound,
    or onto a sibling's name (``409 name_taken``, from the UNIQUE index). One
    statement: a move and a rename can never half-happen.
    """
    if parent_id != folder["parent_id"]:
        path_to_new_parent = ancestors(connection, owner, parent_id)
        if any(step["id"] == folder["id"] for step in path_to_new_parent):
            raise HTTPError(409, "folder_cycle", field="parent_id")
        check_depth(len(path_to_new_parent) + subtree_height(connection, folder["id"]))
    try:
        connection.execute("UPDATE folders SET parent_id = ?, name = ?, name_key = ? WHERE id = ?",
                           (parent_id, name, name_key(name), folder["id"]))
    except sqlite3.IntegrityError:
        raise HTTPError(409, "name_taken", field="name") from None


# --- handlers ---------------------------------------------------------------------------


def create_folder(request: Request) -> Response:
    """``POST /api/folders`` ``{"name", "parent_id"?}``: a new folder, ``201``."""
    body = request.json()
    name = clean_folder_name(string_field(body, "name"))
    owner = request.user_id
    with request.app.database.transaction() as connection:
        parent_id = resolve_parent(connection, owner, body.get("parent_id"), "parent_id")
        check_depth(len(ancestors(connection, owner, parent_id)) + 1)
        row = insert_folder(connection, request.app.config, owner, parent_id, name)
    return envelope(request.language, 201, "folder_created", folder_json(row))


def show_folder(request: Request) -> Response:
    """``GET /api/folders/{id}`` (``root`` for the top level): the folder, its path and its subfolders."""
    owner = request.user_id
    connection = request.app.database.connection()
    folder_id = request.params["folder_id"]
    if folder_id == ROOT:
        folder, path, inside = None, [], None
    else:
        path = ancestors(connection, owner, find_folder(connection, owner, folder_id)["id"])
        folder, inside = folder_json(path[-1]), folder_id
    data = {"folder": folder, "path": [folder_json(step) for step in path],
            "folders": [folder_json(row) for row in children(connection, owner, inside)]}
    return envelope(request.language, 200, "folder", data)


def update_folder(request: Request) -> Response:
    """``PATCH /api/folders/{id}`` ``{"name"?, "parent_id"?}``: rename and/or move; the same cost either way."""
    body = request.json()
    owner = request.user_id
    name = clean_folder_name(string_field(body, "name")) if "name" in body else None
    with request.app.database.transaction() as connection:
        folder = find_folder(connection, owner, request.params["folder_id"])
        parent_id = folder["parent_id"]
        if "parent_id" in body:
            parent_id = resolve_parent(connection, owner, body["parent_id"], "parent_id")
        place_folder(connection, owner, folder, parent_id, name or folder["name"])
        row = find_folder(connection, owner, folder["id"])
    return envelope(request.language, 200, "folder_updated", folder_json(row))


def update_file(request: Request) -> Response:
    """``PATCH /api/files/{id}`` ``{"name"?, "folder_id"?}``: rename and/or move a file.

    A file name is cleaned as on upload; two files may share a name, so
    there is no clash to refuse.
    """
    body = request.json()
    owner = request.user_id
    with request.app.database.transaction() as connection:
        row = request.app.storage.find(owner, request.params["file_id"], connection)
        name = clean_filename(string_field(body, "name")) if "name" in body else row["name"]
        folder_id = row["folder_id"]
        if "folder_id" in body:
            folder_id = resolve_parent(connection, owner, body["folder_id"], "folder_id")
        connection.execute("UPDATE files SET name = ?, name_key = ?, folder_id = ? WHERE id = ?",
                           (name, name_key(name), folder_id, row["id"]))
        row = request.app.storage.find(owner, row["id"], connection)
    return envelope(request.language, 200, "file_updated", file_json(row))
