"""Listing files: by folder or everything, search by name, sort, and cursor paging.

How it works
------------
``GET /api/files`` reads one range of one index. Migration 9 keeps an index of
live files per sort key (date, size, name), both over all of a user's files and
per folder, so every listing is "walk this index from here, take ``limit``".

Paging two ways:

- ``offset`` (as before): skip that many rows. Simple, but the skipped rows are
  still walked, so a deep page costs more than the first.
- ``cursor`` (keyset paging): ``next_cursor`` remembers the last row's sort key
  and rowid; the next page asks for rows *after* that key, ``(key, rowid) >
  (?, ?)``, which the index seeks to directly: the last page of 100 000 files
  costs what the first does. Ties on the key are ordered by rowid, so no row is
  skipped or repeated between pages, even when many share a date.

A cursor is opaque to clients: base64url of a small JSON list, with an HMAC
(RFC 2104) over it and over the listing it belongs to (user, folder, search,
sort). A cursor that was altered, or that belongs to another user or another
listing, fails the check: ``400 invalid_query`` (``field: cursor``), never a
page of something else.

Searching (``q``) matches names that contain the text in any letter case,
across every folder unless ``folder_id`` narrows it. SQL's ``LIKE`` and
``NOCASE`` fold ASCII letters only, so each file keeps its name casefolded
in ``name_key`` (migration 13), and the search compares that with the
casefolded text (``instr``: no wildcards to escape). The name sort uses it too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json

from ..accounts.tokens import derived_key
from ..web.http import HTTPError, Request, Response, envelope, page_bounds
from .folders import ROOT, find_folder
from .storage import file_json, name_key

MAX_QUERY_CHARS = 255  # a name is at most 255 characters: a longer search cannot match
MAX_CURSOR_CHARS = 1024  # a real cursor is well under this; longer is not ours
SEARCH_CANDIDATES = 1000  # a search matching at most this many files is paged from its matches alone
CURSOR_KEY_LABEL = b"authupload listing cursor"

# Sort keys → the SQL that orders by them. Only these fixed fragments are ever
# put into the SQL text; every value the client sends is a parameter.
SORT_COLUMNS = {"uploaded_at": "uploaded_at", "size": "size", "name": "name_key"}  # each with its own index
DEFAULT_SORT = "-uploaded_at"


def parse_sort(text: str) -> tuple[str, bool]:
    """``"-size"`` → ``("size", True)`` (descending); anything unknown is ``400 invalid_query``."""
    key = text.removeprefix("-")
    if key not in SORT_COLUMNS:
        raise HTTPError(400, "invalid_query", field="sort")
    return key, text.startswith("-")


# --- cursors ----------------------------------------------------------------------------


def listing_scope(owner: int, folder: str | None, query: str, sort: str) -> bytes:
    """What a cursor is bound to: the same user, folder, search and sort."""
    return json.dumps([owner, folder, query, sort]).encode()


def cursor_tag(key: bytes, scope: bytes, payload: bytes) -> bytes:
    """128 bits of HMAC over the listing and the position: a cursor cannot be forged or moved to another listing."""
    return hmac.new(key, scope + b"\0" + payload, hashlib.sha256).digest()[:16]


def encode_cursor(key: bytes, scope: bytes, last_value, last_rowid: int) -> str:
    payload = json.dumps([last_value, last_rowid], separators=(",", ":")).encode()
    tag = cursor_tag(key, scope, payload)
    return base64.urlsafe_b64encode(tag + payload).decode().rstrip("=")


def decode_cursor(key: bytes, scope: bytes, text: str) -> tuple:
    """The ``(last value, last rowid)`` a cursor carries, if it is ours for this very listing."""
    invalid = HTTPError(400, "invalid_query", field="cursor")
    if len(text) > MAX_CURSOR_CHARS or not text.isascii():
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise invalid from None
    tag, payload = raw[:16], raw[16:]
    if not hmac.compare_digest(tag, cursor_tag(key, scope, payload)):  # constant time: no guessing a tag byte by byte
        raise invalid
    value, rowid = json.loads(payload)
    return value, rowid


# --- the query -----------------------------------------------------------------------------


def list_files(request: Request) -> Response:
    """``GET /api/files``: ``folder_id``, ``q``, ``sort``, ``limit``, ``offset`` or ``cursor``.

    Answers ``{"files", "total", "next_cursor"}``; ``next_cursor`` is null on the last page.
    """
    owner = request.user_id
    query = request.query
    limit, offset = page_bounds(request)
    sort_text = query.get("sort", DEFAULT_SORT)
    sort, descending = parse_sort(sort_text)
    search = query.get("q", "")
    if len(search) > MAX_QUERY_CHARS:
        raise HTTPError(400, "invalid_query", field="q")
    connection = request.app.database.connection()

    conditions, parameters = ["user_id = ?", "trashed_at IS NULL"], [owner]
    folder = query.get("folder_id")
    folder_row = None
    if folder is not None:
        folder_row = None if folder == ROOT else find_folder(connection, owner, folder)
        conditions.append("folder_id IS ?")
        parameters.append(folder_row["id"] if folder_row else None)
    if search:
        conditions.append("instr(name_key, ?) > 0")
        parameters.append(name_key(search))
        total, conditions, parameters = search_matches(connection, folder, conditions, parameters)
    else:
        total = unsearched_total(connection, owner, folder, folder_row)

    key = derived_key(request.app.tokens.key, CURSOR_KEY_LABEL)
    scope = listing_scope(owner, folder, search, sort_text)
    column = SORT_COLUMNS[sort]
    direction, after = ("DESC", "<") if descending else ("ASC", ">")
    page_conditions, page_parameters = list(conditions), list(parameters)
    if "cursor" in query:
        if offset:
            raise HTTPError(400, "invalid_query", field="offset")  # two ways to say where to start
        page_conditions.append(f"({column}, rowid) {after} (?, ?)")
        page_parameters.extend(decode_cursor(key, scope, query["cursor"]))
    rows = connection.execute(
        f"SELECT rowid AS position, * FROM files WHERE {' AND '.join(page_conditions)}"
        f" ORDER BY {column} {direction}, rowid {direction} LIMIT ? OFFSET ?",
        (*page_parameters, limit + 1, offset),
    ).fetchall()
    next_cursor = None
    if len(rows) > limit:  # one row more than asked for: there is a next page
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(key, scope, last[column], last["position"])
    data = {"files": [file_json(row) for row in rows], "total": total, "next_cursor": next_cursor}
    return envelope(request.language, 200, "file_list", data)


def search_matches(connection, folder: str | None, conditions: list[str], parameters: list) -> tuple:
    """How many files a search matches, and the conditions that page through them.

    A name containing the text can be anywhere in the name index, so one pass
    over it is the least a search costs. Few matches (a rare word): that pass
    collects them all, and a page is sorted from those rows alone — walking a
    date or size index instead would visit every file to find them. Many
    matches: they are counted, and a page walks the sort key's index, where
    matches are dense enough to fill a page soon.
    """
    name_index = "files_by_name" if folder is None else "files_in_folder_by_name"  # fixed names, as SORT_COLUMNS
    where = " AND ".join(conditions)
    matches = connection.execute(f"SELECT rowid FROM files INDEXED BY {name_index} WHERE {where} LIMIT ?",
                                 (*parameters, SEARCH_CANDIDATES + 1)).fetchall()
    if len(matches) <= SEARCH_CANDIDATES:
        rowids = json.dumps([row[0] for row in matches])
        return len(matches), ["rowid IN (SELECT value FROM json_each(?))"], [rowids]
    (total,) = connection.execute(f"SELECT count(*) FROM files WHERE {where}", parameters).fetchone()
    return total, conditions, parameters


def unsearched_total(connection, owner: int, folder: str | None, folder_row) -> int:
    """How many live files a listing without a search holds, from the counters triggers keep (db.py).

    Counting the rows instead would cost as much as the folder is big.
    """
    if folder_row is not None:
        return folder_row["file_count"]
    column = "file_count" if folder is None else "top_files"  # everything, or the top level
    (total,) = connection.execute(f"SELECT {column} FROM users WHERE id = ?", (owner,)).fetchone()
    return total
