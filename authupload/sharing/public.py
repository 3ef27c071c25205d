"""The visitor's side of a share: ``/api/public/shares/<token>/…``, with no account.

How this works:

1. ``open_share`` turns the token into the share (links.py checks the MAC in
   constant time): unknown, revoked, owner gone or no file left → ``404``; past
   its time → ``410 share_expired``; used up → ``410 share_exhausted``.
2. A share with a password shows its files only with a valid ``access`` query
   parameter, which ``POST …/unlock`` hands out for the right password (one
   hour, this share only). Wrong passwords are throttled per share and per
   address exactly like logins (accounts/throttle.py, scopes of their own).
3. A file is sent by the same ``serve_file`` as an owner's download (Range,
   ETag, ``HEAD``, ``CSP: sandbox``); the ZIP of the whole share is sent the
   same way as an owner's ZIP (files/archive.py), its length known in advance.

Counting downloads. A download counts when its *last byte has been sent* — a
whole ``200``, a ``206`` that ends at the last byte, a ZIP once — never when
the response starts: a link preview bot that fetches the start, a connection
that drops, a ``HEAD``, none of them uses up a limited share, and a download
resumed to the end counts once (its earlier, cut-off part never counted). In
WSGI terms the count runs when the response body is used up (see
``downloads.open_file_body``), which may be long after the handler returned — so a
download already under way when the limit is reached still finishes; it just
does not count past the limit. The count itself is one ``UPDATE … WHERE
downloads < max_downloads`` under ``BEGIN IMMEDIATE``: of any number of racing
completions exactly ``max_downloads`` succeed, and the table's ``CHECK`` would
refuse a bug that tried one more.
"""

from __future__ import annotations

import logging
import math
from concurrent.futures import ThreadPoolExecutor

from ..accounts.audit import ANONYMOUS, record_event
from ..accounts.throttle import LINK, LINK_ADDRESS, LoginThrottle
from ..files.archive import zip_members, zip_response
from ..files.downloads import serve_file
from ..web.http import HTTPError, Request, Response, envelope, iso_time, string_field
from .links import ACCESS_SECONDS, SHARE
from .shares import ACTIVE, EXPIRED, share_state, shared_files

log = logging.getLogger("authupload")

ZIP_NAME = "shared-files.zip"
# Counts completed downloads. A file wrapper's last byte is sent, and its close()
# called, by waitress's event loop, which serves every connection: a database write
# there would make all of them wait for SQLite's write lock. One thread: counts are
# short, and their order does not matter.
counter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="count-downloads")


def link_throttle(database, config) -> LoginThrottle:
    """Failed link passwords (shares and requests), counted per link and per address."""
    return LoginThrottle(database, config, key_scope=LINK, address_scope=LINK_ADDRESS)


def open_share(request: Request):
    """The live share named by the path's token, with its owner's name; else 404 or 410."""
    app = request.app
    share_id = app.links.link_id(SHARE, request.params["token"])
    share = share_id and app.database.execute(
        "SELECT shares.*, users.username AS owner FROM shares JOIN users ON users.id = shares.user_id"
        " WHERE shares.id = ? AND NOT users.disabled", (share_id,)).fetchone()  # a disabled owner shares nothing
    if not share:
        raise HTTPError(404, "not_found")
    if not app.database.execute(
            "SELECT 1 FROM share_files JOIN files ON files.id = share_files.file_id"
            " WHERE share_files.share_id = ? AND files.trashed_at IS NULL LIMIT 1", (share_id,)).fetchone():
        raise HTTPError(404, "not_found")  # every file deleted or in the trash since: nothing left to share
    state = share_state(share, app.config.clock())
    if state != ACTIVE:
        raise HTTPError(410, "share_expired" if state == EXPIRED else "share_exhausted")
    return share


def check_link_password(request: Request, link_key: str, password_hash: str | None, password: str) -> None:
    """401 ``invalid_credentials`` unless ``password`` matches (nothing to check without a hash).

    Throttled like a login: a failure is reserved before bcrypt runs, per link
    and per client address, so parallel guesses cannot outrun the limit (429).
    """
    if password_hash is None:
        return
    app = request.app
    app.passwords.gate.raise_if_full()  # under a burst, refuse before any database write
    attempt = app.link_throttle.reserve_attempt(link_key, request.client_address)
    try:
        matched = app.passwords.verify_password(password, password_hash)
    except HTTPError:
        app.link_throttle.release(attempt)  # 503: the gate filled up meanwhile; never judged
        raise
    if not matched:
        raise HTTPError(401, "invalid_credentials", field="password")
    app.link_throttle.forgive(attempt)


def unlocked(request: Request, share) -> bool:
    """Whether this request may see the share's files: no password, or a valid ``access``."""
    if share["password_hash"] is None:
        return True
    access = request.query.get("access", "")
    return request.app.links.access_valid(share["id"], access, request.app.config.clock())


def require_unlocked(request: Request, share) -> None:
    if not unlocked(request, share):
        raise HTTPError(403, "forbidden", field="access")  # the password comes first (POST …/unlock)


def visitor_file(row) -> dict:
    """What a visitor sees of a file: no upload time, no folder, nothing about the owner's box."""
    return {key: row[key] for key in ("id", "name", "size", "sha256", "content_type")}


# --- counting completed downloads ---------------------------------------------------


def count_download(app, share_id: str, address: str, what: dict) -> None:
    """Count one completed download, unless the share is used up (or gone) by now."""
    now = app.config.clock()
    with app.database.transaction() as connection:
        counted = connection.execute(
            "UPDATE shares SET downloads = downloads + 1"
            " WHERE id = ? AND (max_downloads IS NULL OR downloads < max_downloads)"
            " RETURNING user_id", (share_id,)).fetchone()
        if counted is None:
            return
        owner = connection.execute("SELECT username FROM users WHERE id = ?", (counted["user_id"],)).fetchone()
        record_event(connection, now, "share_downloaded", user_id=counted["user_id"],
                     username=owner["username"] if owner else "", actor=ANONYMOUS, address=address,
                     detail={"share_id": share_id, **what})


def completion_counter(request: Request, share, what: dict):
    """A callback for the body's end: count the download on the ``counter`` thread, never failing the response."""
    app, share_id, address = request.app, share["id"], request.client_address

    def count():
        try:
            count_download(app, share_id, address, what)
        except Exception:
            # The bytes are already sent; a failed count is logged, not turned into a broken response.
            log.exception("counting a download of share %s failed", share_id)

    return lambda: counter.submit(count)


# --- handlers ------------------------------------------------------------------


def share_info(request: Request) -> Response:
    """``GET /api/public/shares/<token>``: what the share page shows (files only once unlocked)."""
    share = open_share(request)
    is_unlocked = unlocked(request, share)
    files = []
    if is_unlocked:
        files = [visitor_file(row) for row in shared_files(request.app.database.connection(), [share["id"]])[share["id"]]]
    left = None if share["max_downloads"] is None else share["max_downloads"] - share["downloads"]
    data = {
        "owner": share["owner"],
        "note": share["note"],
        "expires_at": iso_time(share["expires_at"]),
        "password_required": share["password_hash"] is not None,
        "unlocked": is_unlocked,
        "files": files,
        "downloads_left": left,
    }
    return envelope(request.language, 200, "share_info", data)


def unlock_share(request: Request) -> Response:
    """``POST /api/public/shares/<token>/unlock``: the password for a one-hour access string."""
    share = open_share(request)
    password = string_field(request.json(), "password")
    app = request.app
    check_link_password(request, f"share:{share['id']}", share["password_hash"], password)
    expires_at = math.floor(app.config.clock()) + ACCESS_SECONDS
    data = {"access": app.links.access(share["id"], expires_at), "expires_in": ACCESS_SECONDS}
    return envelope(request.language, 200, "share_unlocked", data)


def download_shared_file(request: Request) -> Response:
    """``GET``/``HEAD /api/public/shares/<token>/files/<file_id>``: one file, like an owner's download."""
    share = open_share(request)
    require_unlocked(request, share)
    row = request.app.database.execute(
        "SELECT files.* FROM share_files JOIN files ON files.id = share_files.file_id"
        " WHERE share_files.share_id = ? AND share_files.file_id = ? AND files.trashed_at IS NULL",
        (share["id"], request.params["file_id"])).fetchone()
    if row is None:
        raise HTTPError(404, "not_found")
    return serve_file(request, row, on_complete=completion_counter(request, share, {"file_id": row["id"]}))


def download_share_zip(request: Request) -> Response:
    """``GET``/``HEAD /api/public/shares/<token>/zip``: every file of the share in one stored ZIP."""
    share = open_share(request)
    require_unlocked(request, share)
    rows = shared_files(request.app.database.connection(), [share["id"]])[share["id"]]
    on_complete = completion_counter(request, share, {"zip": True})
    return zip_response(request, zip_members(request.app, rows, name_column="name"), ZIP_NAME,
                        [("Cache-Control", "private")], on_complete)
