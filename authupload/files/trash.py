"""The trash: deleting keeps things restorable for ``trash_days``, then purges them.

How it works
------------
A file or folder is in the trash when its ``trashed_at`` is set. What the user
deleted is a *trash item* (``trashed_with`` NULL); what went along inside a
deleted folder is marked with that folder's id in ``trashed_with``, so it comes
back (or goes for good) together with it. Deleting a folder therefore touches
every row below it, once; moving or renaming never does.

Files in the trash still hold their bytes and count toward the quota: the
usage counters (triggers of migration 10) move them from ``usage.files/bytes``
to ``usage.trash_files/trash_bytes`` as ``trashed_at`` changes.

Each trash item keeps ``trash_path``, the names of the folders above it when it
was deleted. A restore puts the item back in its folder if that folder is still
live, else recreates the folders by those names (reusing live ones of the same
name); a restored folder whose name is now taken among its new siblings gets a
suffix: ``Photos (2)``. Files have no such clash: two files may share a name.

Purging deletes the rows first and the bytes after (a crash between leaves an
unlisted file, never a listed one without bytes). The housekeeping sweep
purges items ``trash_days`` after their deletion; with ``trash_days`` 0 a
delete purges at once, as before there was a trash.
"""

from __future__ import annotations

import json

from ..web.http import HTTPError, Request, Response, envelope, iso_time, page_bounds
from .folders import MAX_FOLDER_DEPTH, ancestors, child_named, ensure_path, find_folder
from .storage import name_key, owned_row

SECONDS_PER_DAY = 86_400
TABLES = {"file": "files", "folder": "folders"}  # a trash item's kind → its table
MAX_NAME_SUFFIX = 1000  # "Photos (1000)": past that, a restore is refused as name_taken
# Live folders below one folder, itself included: what a folder's deletion takes along.
SUBTREE_SQL = """
    WITH RECURSIVE below (id, depth) AS (
        SELECT ?, 1
        UNION ALL
        SELECT folders.id, below.depth + 1 FROM folders JOIN below ON folders.parent_id = below.id
        WHERE folders.trashed_at IS NULL AND below.depth <= ?
    )
    SELECT id FROM below
"""


def purge_at(config, trashed_at: float) -> float:
    return trashed_at + config.trash_days * SECONDS_PER_DAY


# --- moving into the trash ----------------------------------------------------------------


def trash_file(request: Request, file_id: str) -> None:
    """``DELETE /api/files/{id}``: into the trash, or gone at once when ``trash_days`` is 0."""
    owner, app = request.user_id, request.app
    with app.database.transaction() as connection:
        row = app.storage.find(owner, file_id, connection)
        if app.config.trash_days == 0:
            connection.execute("DELETE FROM files WHERE id = ?", (file_id,))
        else:
            connection.execute(
                "UPDATE files SET trashed_at = ?, trashed_with = NULL, trash_path = ? WHERE id = ?",
                (app.config.clock(), path_names(connection, owner, row["folder_id"]), file_id))
    if app.config.trash_days == 0:
        app.storage.remove_bytes(owner, [file_id])


def trash_folder(request: Request, folder_id: str) -> None:
    """``DELETE /api/folders/{id}``: the folder and everything live below it, together."""
    owner, app = request.user_id, request.app
    with app.database.transaction() as connection:
        folder = find_folder(connection, owner, folder_id)
        now = app.config.clock()
        below = [row["id"] for row in connection.execute(SUBTREE_SQL, (folder_id, MAX_FOLDER_DEPTH))]
        connection.execute(
            "UPDATE folders SET trashed_at = ?, trashed_with = NULL, trash_path = ? WHERE id = ?",
            (now, path_names(connection, owner, folder["parent_id"]), folder_id))
        connection.executemany("UPDATE folders SET trashed_at = ?, trashed_with = ? WHERE id = ?",
                               [(now, folder_id, inner) for inner in below[1:]])
        connection.executemany(
            "UPDATE files SET trashed_at = ?, trashed_with = ? WHERE folder_id = ? AND trashed_at IS NULL",
            [(now, folder_id, inner) for inner in below])
    if app.config.trash_days == 0:
        purge(app, owner, "folder", folder_id)


def path_names(connection, owner: int, folder_id: str | None) -> str:
    """The names from the top down to ``folder_id``, as JSON: how a restore finds its way back."""
    return json.dumps([step["name"] for step in ancestors(connection, owner, folder_id)], ensure_ascii=False)


# --- listing, restoring, purging ------------------------------------------------------------


def trash_items(connection, owner: int, limit: int, offset: int) -> tuple[list, int]:
    """One page of the trash, newest deletion first, and how many items it holds."""
    rows = connection.execute(
        """
        SELECT 'file' AS kind, id, name, size, trashed_at FROM files
            WHERE user_id = ? AND trashed_at IS NOT NULL AND trashed_with IS NULL
        UNION ALL
        SELECT 'folder', folders.id, folders.name,
               (SELECT coalesce(sum(size), 0) FROM files WHERE trashed_with = folders.id), folders.trashed_at
            FROM folders WHERE user_id = ? AND trashed_at IS NOT NULL AND trashed_with IS NULL
        ORDER BY trashed_at DESC, id LIMIT ? OFFSET ?
        """,
        (owner, owner, limit, offset),
    ).fetchall()
    (total,) = connection.execute(
        "SELECT (SELECT count(*) FROM files WHERE user_id = ? AND trashed_at IS NOT NULL AND trashed_with IS NULL)"
        " + (SELECT count(*) FROM folders WHERE user_id = ? AND trashed_at IS NOT NULL AND trashed_with IS NULL)",
        (owner, owner),
    ).fetchone()
    return rows, total


def trash_item(connection, owner: int, kind: str, item_id: str):
    """A trash item of this user (``kind`` is ``file`` or ``folder``); anything else is 404."""
    if kind not in TABLES:
        raise HTTPError(404, "not_found")
    return owned_row(connection, TABLES[kind], owner, item_id, "trash item")


def restore_destination(connection, config, owner: int, kind: str, item) -> str | None:
    """Where a restored item goes: its folder if live, else that folder recreated by its names."""
    parent_id = item["folder_id"] if kind == "file" else item["parent_id"]
    if parent_id is not None:
        parent = connection.execute(
            "SELECT id FROM folders WHERE id = ? AND trashed_at IS NULL", (parent_id,)).fetchone()
        if parent is not None:
            return parent_id
    return ensure_path(connection, config, owner, None, json.loads(item["trash_path"] or "[]"))


def free_name(connection, owner: int, parent_id: str | None, name: str, own_id: str) -> str:
    """``name``, or ``name (2)``, ``name (3)``… : the first that no live sibling holds."""
    candidate = name
    for number in range(2, MAX_NAME_SUFFIX + 2):
        holder = child_named(connection, owner, parent_id, candidate)
        if holder is None or holder["id"] == own_id:
            return candidate
        candidate = f"{name} ({number})"
    raise HTTPError(409, "name_taken")


def restore(app, owner: int, kind: str, item_id: str) -> None:
    """Put a trash item back, with everything that went along with it."""
    with app.database.transaction() as connection:
        item = trash_item(connection, owner, kind, item_id)
        destination = restore_destination(connection, app.config, owner, kind, item)
        if kind == "file":
            connection.execute(
                "UPDATE files SET trashed_at = NULL, trash_path = NULL, folder_id = ? WHERE id = ?",
                (destination, item_id))
            return
        name = free_name(connection, owner, destination, item["name"], item_id)
        connection.execute(
            "UPDATE folders SET trashed_at = NULL, trash_path = NULL, parent_id = ?, name = ?, name_key = ?"
            " WHERE id = ?", (destination, name, name_key(name), item_id))
        connection.execute("UPDATE folders SET trashed_at = NULL, trashed_with = NULL WHERE trashed_with = ?",
                           (item_id,))
        connection.execute("UPDATE files SET trashed_at = NULL, trashed_with = NULL WHERE trashed_with = ?",
                           (item_id,))


def purge(app, owner: int, kind: str, item_id: str) -> None:
    """Delete a trash item for good: rows first (one transaction), then the bytes."""
    with app.database.transaction() as connection:
        trash_item(connection, owner, kind, item_id)
        if kind == "file":
            file_ids = [item_id]
        else:
            file_ids = [row["id"] for row in connection.execute(
                "SELECT id FROM files WHERE trashed_with = ?", (item_id,))]
        connection.executemany("DELETE FROM files WHERE id = ?", [(file_id,) for file_id in file_ids])
        if kind == "folder":
            # Items trashed on their own earlier and still pointing in here lose
            # their parent (ON DELETE SET NULL); their trash_path still leads back.
            connection.execute("DELETE FROM folders WHERE trashed_with = ? OR id = ?", (item_id, item_id))
    app.storage.remove_bytes(owner, file_ids)


def purge_expired(app) -> int:
    """Purge every trash item deleted more than ``trash_days`` ago; returns how many went.

    Runs at start and in the server's housekeeping sweep.
    """
    cutoff = app.config.clock() - app.config.trash_days * SECONDS_PER_DAY
    expired = app.database.execute(
        "SELECT 'file', id, user_id FROM files WHERE trashed_with IS NULL AND trashed_at <= ?"
        " UNION ALL SELECT 'folder', id, user_id FROM folders WHERE trashed_with IS NULL AND trashed_at <= ?",
        (cutoff, cutoff),
    ).fetchall()
    for kind, item_id, owner in expired:
        try:
            purge(app, owner, kind, item_id)
        except HTTPError:
            continue  # restored or purged by its owner a moment ago
    return len(expired)


# --- handlers ----------------------------------------------------------------------------------


def delete_file(request: Request) -> Response:
    """``DELETE /api/files/{id}``: the file moves to the trash; from now on it is 404 and unlisted."""
    trash_file(request, request.params["file_id"])
    return envelope(request.language, 200, "file_deleted")


def delete_folder(request: Request) -> Response:
    """``DELETE /api/folders/{id}``: the folder and everything in it move to the trash together."""
    trash_folder(request, request.params["folder_id"])
    return envelope(request.language, 200, "folder_deleted")


def list_trash(request: Request) -> Response:
    """``GET /api/trash``: the items, newest deletion first, each with when it will be purged."""
    limit, offset = page_bounds(request)
    rows, total = trash_items(request.app.database.connection(), request.user_id, limit, offset)
    config = request.app.config
    items = [{"kind": row["kind"], "id": row["id"], "name": row["name"], "size": row["size"],
              "deleted_at": iso_time(row["trashed_at"]), "purge_at": iso_time(purge_at(config, row["trashed_at"]))}
             for row in rows]
    return envelope(request.language, 200, "trash", {"items": items, "total": total})


def restore_item(request: Request) -> Response:
    restore(request.app, request.user_id, request.params["kind"], request.params["item_id"])
    return envelope(request.language, 200, "restored")


def purge_item(request: Request) -> Response:
    purge(request.app, request.user_id, request.params["kind"], request.params["item_id"])
    return envelope(request.language, 200, "purged")


def empty_trash(request: Request) -> Response:
    """``DELETE /api/trash``: every item purged."""
    owner, app = request.user_id, request.app
    items = app.database.execute(
        "SELECT 'file', id FROM files WHERE user_id = ? AND trashed_at IS NOT NULL AND trashed_with IS NULL"
        " UNION ALL SELECT 'folder', id FROM folders WHERE user_id = ? AND trashed_at IS NOT NULL"
        " AND trashed_with IS NULL", (owner, owner)).fetchall()
    for kind, item_id in items:
        try:
            purge(app, owner, kind, item_id)
        except HTTPError:
            continue  # purged by another request meanwhile
    return envelope(request.language, 200, "trash_emptied")
