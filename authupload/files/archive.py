"""ZIP downloads of a selection: ``POST /api/archive`` → a short-lived link to a ZIP of it.

How it works
------------
The selection (files and folders) is checked and stored as a row of
``archives``: a list of ids may be far too long for a URL. The answer is a link
like a single file's download link — a ``download`` token, here naming the
archive — so a browser can save the ZIP without holding it in page memory.

When the link is opened, the selection is read again (a file trashed since is
left out) and each folder is expanded to the live files below it, each named
by its path from the chosen folder (``photos/2024/a.jpg``: folders are kept as
paths, and each folder also has an entry of its own, ``photos/2024/``, so
an empty folder unpacks too). ``zipstream`` lays out a stored ZIP around the files as they are, sent
like a single file, with its exact ``Content-Length`` known before the first
byte and memory flat whatever the size. Names that clash in any letter case
get a suffix (``a (2).jpg``). A file stored before CRC-32s were kept has its
CRC computed here, once, and kept with its row.

Bounds: at most ``MAX_ARCHIVE_ITEMS`` files in one archive, and no member
path longer than the ZIP format's 65 535-byte name field; past either, a clear
``400 archive_too_large`` rather than a broken archive.
"""

from __future__ import annotations

import json

from ..accounts.tokens import DOWNLOAD
from ..web.http import HTTPError, Request, Response, envelope
from .downloads import content_disposition, link_claims, open_file_body
from .folders import MAX_FOLDER_DEPTH, find_folder
from .hashing import file_digest
from .storage import new_id
from .zipstream import ZipArchive, ZipMember, unique_names

MAX_ARCHIVE_ITEMS = 10_000  # files and folders in one ZIP: a year of photos, and a bounded selection query
MAX_ZIP_NAME_BYTES = 0xFFFF  # APPNOTE §4.4.10: the file name length is a 16-bit field
ARCHIVE_NAME = "files.zip"
# One folder and the live folders below it, each with its path from that folder (its own name first).
BELOW_FOLDER = """
    WITH RECURSIVE below (id, path, depth, created_at) AS (
        SELECT id, name, 1, created_at FROM folders WHERE id = ?
        UNION ALL
        SELECT folders.id, below.path || '/' || folders.name, below.depth + 1, folders.created_at
        FROM folders JOIN below ON folders.parent_id = below.id
        WHERE folders.trashed_at IS NULL AND below.depth <= ?
    )
"""
# The folders' own entries: "photos/", "photos/2024/" (APPNOTE §4.4.17.1: a trailing slash names a folder).
FOLDER_ENTRIES_SQL = BELOW_FOLDER + "SELECT path || '/' AS member_name, created_at FROM below ORDER BY path LIMIT ?"
# The live files in them.
FOLDER_FILES_SQL = BELOW_FOLDER + """
    SELECT below.path || '/' || files.name AS member_name, files.*
    FROM below JOIN files ON files.folder_id = below.id AND files.trashed_at IS NULL
    ORDER BY below.path, files.name
    LIMIT ?
"""


def id_list(body: dict, field: str) -> list[str]:
    """``body[field]``: a list of id strings (absent: empty), else ``400 invalid_field``."""
    value = body.get(field, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise HTTPError(400, "invalid_field", field=field)
    return list(dict.fromkeys(value))  # each once, in the order given


def selected_items(app, owner: int, file_ids: list[str], folder_ids: list[str], strict: bool) -> tuple[list, list]:
    """The file rows and folder entries to archive, each with its ``member_name``.

    ``strict``: a missing id is 404 (else skipped, as when a link is opened later).
    """
    connection = app.database.connection()
    files, folders = [], []
    for file_id in file_ids:
        row = connection.execute(
            "SELECT name AS member_name, * FROM files WHERE id = ? AND user_id = ? AND trashed_at IS NULL",
            (file_id, owner)).fetchone()
        if row is None and strict:
            raise HTTPError(404, "not_found")
        files += [row] if row else []
    for folder_id in folder_ids:
        try:
            find_folder(connection, owner, folder_id)
        except HTTPError:
            if strict:
                raise
            continue
        for query, items in ((FOLDER_ENTRIES_SQL, folders), (FOLDER_FILES_SQL, files)):
            items += connection.execute(query, (folder_id, MAX_FOLDER_DEPTH, MAX_ARCHIVE_ITEMS + 1)).fetchall()
        if len(files) + len(folders) > MAX_ARCHIVE_ITEMS:
            break
    if len(files) + len(folders) > MAX_ARCHIVE_ITEMS:
        raise HTTPError(400, "archive_too_large")
    return files, folders


def member_names(rows, folders=(), name_column: str = "member_name") -> list[str]:
    """Each file row's name in the archive (``row[name_column]`` made unique); too long for ZIP: ``400``."""
    names = unique_names(row[name_column] for row in rows)
    if any(len(name.encode("utf-8")) > MAX_ZIP_NAME_BYTES for name in [*names, *(f["member_name"] for f in folders)]):
        raise HTTPError(400, "archive_too_large")
    return names


def zip_members(app, rows, folders=(), name_column: str = "member_name") -> list[ZipMember]:
    """The archive's members: ``folders``' entries, then one per file row, named as ``member_names`` says."""
    members = [ZipMember(folder["member_name"], "", 0, folder["created_at"], 0) for folder in folders]
    for name, row in zip(member_names(rows, folders, name_column), rows):
        path = app.storage.path_of(row["user_id"], row["id"])
        members.append(ZipMember(name, str(path), row["size"], row["uploaded_at"], known_crc32(app, row, path)))
    return members


def known_crc32(app, row, path) -> int:
    """The file's CRC-32: from its row, or read from its bytes once and kept (a file stored before migration 12)."""
    if row["crc32"] is not None:
        return row["crc32"]
    crc32 = file_digest(path, app.config.read_chunk_bytes).crc32
    app.database.execute("UPDATE files SET crc32 = ? WHERE id = ?", (crc32, row["id"]))
    return crc32


def zip_response(request: Request, members: list[ZipMember], name: str, extra_headers=(), on_complete=None):
    """The ZIP of ``members`` as a download named ``name``; ``on_complete`` as for a file (downloads.py)."""
    archive = ZipArchive(members, request.app.config.read_chunk_bytes)
    headers = [
        ("Content-Type", "application/zip"),
        ("Content-Disposition", content_disposition(name)),
        # Stored members: the exact length is known before the first byte (RFC 9110 §8.6).
        ("Content-Length", str(archive.length)),
        ("Content-Security-Policy", "sandbox"),
        *extra_headers,
    ]
    if request.method == "HEAD":
        return Response(200, headers)
    return Response(200, headers, open_file_body(request, archive, archive.length, on_complete))


def create_archive(request: Request) -> Response:
    """``POST /api/archive`` ``{"file_ids"?, "folder_ids"?}``: a short-lived link to their ZIP."""
    body = request.json()
    file_ids, folder_ids = id_list(body, "file_ids"), id_list(body, "folder_ids")
    if not file_ids and not folder_ids:
        raise HTTPError(400, "invalid_field", field="file_ids")
    app, owner = request.app, request.user_id
    member_names(*selected_items(app, owner, file_ids, folder_ids, strict=True))  # refuse now, not at download
    ttl = app.config.link_ttl_seconds
    now = app.config.clock()
    archive_id = new_id()
    with app.database.transaction() as connection:
        connection.execute("DELETE FROM archives WHERE expires_at <= ?", (now,))  # the links that died
        connection.execute("INSERT INTO archives (id, user_id, file_ids, folder_ids, expires_at) VALUES (?, ?, ?, ?, ?)",
                           (archive_id, owner, json.dumps(file_ids), json.dumps(folder_ids), now + ttl))
    claims = request.user
    # Like a download link: the caller's token_version, so a password change kills it.
    token = app.tokens.issue(owner, claims["name"], claims["ver"], DOWNLOAD, ttl, account_key=claims["acct"],
                             archive=archive_id)
    data = {"url": f"/api/archive/{archive_id}?token={token}", "expires_in": ttl}
    return envelope(request.language, 200, "archive_created", data)


def download_archive(request: Request) -> Response:
    """``GET /api/archive/{archive_id}?token=…``: the ZIP, sent straight from the stored files."""
    archive_id = request.params["archive_id"]
    claims = link_claims(request, "archive", archive_id)
    app, owner = request.app, int(claims["sub"])
    archive = app.database.execute("SELECT * FROM archives WHERE id = ? AND user_id = ? AND expires_at > ?",
                                   (archive_id, owner, app.config.clock())).fetchone()
    if archive is None:
        raise HTTPError(404, "not_found")
    files, folders = selected_items(app, owner, json.loads(archive["file_ids"]), json.loads(archive["folder_ids"]),
                                    strict=False)
    return zip_response(request, zip_members(app, files, folders), ARCHIVE_NAME)
