"""The browser pages: files from ``public/``, with validators so browsers can revalidate cheaply.

Every answer carries an ``ETag`` (from the file's size and modification time)
and ``Last-Modified``, and ``Cache-Control: no-cache``: the browser keeps its
copy but asks each time, and a ``304 Not Modified`` without a body answers
when nothing changed (RFC 9110 §13, §15.4.5). So a new version of a page is
seen at once, and an unchanged one costs a few hundred bytes.

No path outside ``public/`` can be reached: the server has already decoded
``%2e%2e`` into ``..`` by the time we see the path, so we refuse any ``.`` or
``..`` segment, any hidden name and any backslash, and still check that the
resolved file lies inside the folder (a symbolic link could point out).
"""

from __future__ import annotations

import functools
import mimetypes
import os
from pathlib import Path

from .http import HTTPError, Request, Response, http_date, not_modified

START_PAGE = "/welcome.html"  # the workspace sends visitors without a token on to login.html
TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")


def content_type_of(path: Path) -> str:
    """The Content-Type for a file, by its extension; text types say their charset."""
    guessed = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith(TEXT_TYPES) else guessed


@functools.lru_cache(maxsize=4)
def real_path(folder: Path) -> Path:
    """``folder`` with every symbolic link resolved, worked out once (it costs a stat per component)."""
    return folder.resolve()


def resolve_public_path(public_dir: Path, url_path: str) -> Path:
    """The file under ``public_dir`` that ``url_path`` names, or 404."""
    segments = url_path.split("/")[1:]
    if any(s in ("", ".", "..") or s.startswith(".") or "\\" in s or "\0" in s for s in segments):
        raise HTTPError(404, "not_found")
    root = real_path(public_dir)
    try:
        path = Path(os.path.realpath(os.path.join(root, *segments)))
        found = path.is_relative_to(root) and path.is_file()
    except OSError:
        # A name longer than the file system allows (ENAMETOOLONG) names no file: 404, not a 500.
        found = False
    if not found:
        raise HTTPError(404, "not_found")
    return path


def serve_public(request: Request) -> Response:
    """GET or HEAD a page or asset; ``/`` redirects to the start page."""
    if request.method not in ("GET", "HEAD"):
        raise HTTPError(405, "method_not_allowed", headers=[("Allow", "GET, HEAD")])
    if request.path == "/":
        # 302 keeps the method (GET); a relative Location is fine (RFC 9110 §10.2.2).
        # An empty body still names its type: PEP 3333's validator wants one on every non-204/304 answer.
        return Response(302, [("Location", START_PAGE), ("Content-Type", "text/plain; charset=utf-8"),
                              ("Content-Length", "0")])
    path = resolve_public_path(request.app.config.public_dir, request.path)
    stat = path.stat()
    etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
    validators = [
        ("ETag", etag),
        ("Last-Modified", http_date(stat.st_mtime)),
        ("Cache-Control", "no-cache"),
    ]
    if not_modified(request, etag, stat.st_mtime):
        return Response(304, validators)
    body = path.read_bytes()  # pages and assets are small
    return Response(200, [
        ("Content-Type", content_type_of(path)),
        ("Content-Length", str(len(body))),
        *validators,
    ], [body])
