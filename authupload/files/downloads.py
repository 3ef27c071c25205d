"""The files API: list, download (with ranges and validators), delete, and download links.

Every lookup goes through ``Storage.find(user_id, file_id)``, which asks for
the id *and* the owner: another user's file is exactly as missing as a file
that never existed (404), so ids cannot be probed.

A download is answered by one function, ``serve_file``, whichever way the
caller proved who they are (a bearer token, or a link's token). In order:

1. ``If-None-Match`` / ``If-Modified-Since`` → ``304`` (RFC 9110 §13.2.2 evaluates
   them before ``Range``);
2. ``Range`` (one range; ``If-Range`` still matching) → ``206`` with
   ``Content-Range``, or ``416`` if it lies outside the file (RFC 9110 §14);
3. otherwise ``200`` with the whole file.

The bytes go out through ``wsgi.file_wrapper`` when the server offers one
(waitress then reads the file itself, in blocks), else through a generator of
chunks. A ``HEAD`` gets the same headers and no file is opened.

A download link is a URL carrying a short-lived token of purpose ``download``
with a ``file`` claim: it opens that one file, nothing else. It carries the
user's ``token_version``, so a password change kills it with every session.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from ..accounts.tokens import DOWNLOAD
from ..web.http import (MAX_DECIMAL_DIGITS, HTTPError, Request, Response, envelope, http_date, not_modified,
                        parse_http_date, query_number, unauthorized)
from .previews import inline_type

# RFC 9110 §14.1.2: byte-range-spec "first-last", "first-" or suffix "-length"; digits are ASCII.
SINGLE_BYTE_RANGE = re.compile(r"([0-9]*)-([0-9]*)")
# RFC 8187 §3.2.1 attr-char, minus what quote() always keeps (letters, digits, "_.-~").
ATTR_CHAR_PUNCTUATION = "!#$&+^`|"


# --- handlers ------------------------------------------------------------------


def download_file(request: Request) -> Response:
    """``GET``/``HEAD /api/files/{file_id}``: the bytes of one of my files; ``?inline=1`` for a preview."""
    inline = query_number(request, "inline", 0, minimum=0, maximum=1) == 1
    row = request.app.storage.find(request.user_id, request.params["file_id"])
    return serve_file(request, row, inline)


def create_link(request: Request) -> Response:
    """``POST /api/files/{file_id}/link``: a URL that downloads this file without a header.

    An optional JSON body ``{"inline": true}`` asks for a preview link (shown
    in the page for the types ``previews.inline_type`` allows). The token rides
    in the query string, which is why the access log drops query strings and
    every response says ``Referrer-Policy: no-referrer``.
    """
    file_id = request.params["file_id"]
    inline = False
    if request.content_length:
        inline = request.json().get("inline", False)
        if not isinstance(inline, bool):
            raise HTTPError(400, "invalid_field", field="inline")
    request.app.storage.find(request.user_id, file_id)  # 404 unless it is mine
    claims = request.user
    ttl = request.app.config.link_ttl_seconds
    # Issued with the caller's token_version: a password change bumps it and the link dies.
    token = request.app.tokens.issue(request.user_id, claims["name"], claims["ver"], DOWNLOAD, ttl,
                                     account_key=claims["acct"], file=file_id, inline=inline)
    data = {"url": f"/api/files/{file_id}/download?token={token}", "expires_in": ttl}
    return envelope(request.language, 200, "link_created", data)


def download_by_link(request: Request) -> Response:
    """``GET /api/files/{file_id}/download?token=…``: a download link, no header needed.

    The token must be a live ``download`` token for this very file: an access
    token, or a link to another file, is refused (401 ``token_invalid``).
    """
    file_id = request.params["file_id"]
    claims = link_claims(request, "file", file_id)
    row = request.app.storage.find(int(claims["sub"]), file_id)
    return serve_file(request, row, inline=claims.get("inline") is True)


def link_claims(request: Request, claim: str, value: str) -> dict:
    """The claims of the link token in ``?token=``: a live ``download`` token whose ``claim`` is ``value``.

    Anything else — no token, an access token, a link to another file or
    archive — is a 401, so one link never opens anything but what it names.
    """
    token = request.query.get("token", "")
    if not token:
        raise unauthorized("token_missing")
    claims = request.app.tokens.verify(token)
    if claims["purpose"] != DOWNLOAD or claims.get(claim) != value:
        raise unauthorized("token_invalid")
    return claims


# --- query parameters ------------------------------------------------------------


# --- serving a file's bytes ---------------------------------------------------------


def serve_file(request: Request, row, inline: bool = False, on_complete=None) -> Response:
    """The response for a download of ``row``: 304, 206, 416 or 200 (see the module docstring).

    ``inline`` asks for a preview: granted only for the types ``inline_type``
    allows, else the file is an attachment as always. ``on_complete()`` is
    called once the file's last byte has been sent, if this response sends it
    (a ``200``, or a ``206`` that ends at the last byte).
    """
    size = row["size"]
    etag = f'"{row["sha256"]}"'  # strong (RFC 9110 §8.8.3): same tag, same bytes — it is their hash
    validators = [
        ("ETag", etag),
        ("Last-Modified", http_date(row["uploaded_at"])),
        # One user's file: a browser may keep it, a shared cache must not (RFC 9111 §5.2.2.7).
        ("Cache-Control", "private"),
    ]
    if not_modified(request, etag, row["uploaded_at"]):
        return Response(304, validators)  # RFC 9110 §15.4.5: no content, no Content-Type
    shown_as = inline_type(row["content_type"]) if inline else None
    headers = [
        # The declared type, yet a download unless it is a type browsers show without script.
        ("Content-Type", shown_as or row["content_type"]),
        ("Content-Disposition", content_disposition(row["name"], "inline" if shown_as else "attachment")),
        # Whatever a browser renders, no script in it may run (CSP3 sandbox); nosniff is on every response.
        ("Content-Security-Policy", "sandbox"),
        ("Accept-Ranges", "bytes"),
        *validators,
    ]
    byte_range = None
    if range_still_valid(request.header("If-Range"), etag, row["uploaded_at"]):
        byte_range = requested_range(request.header("Range"), size)
    if byte_range is None:
        status, first, last = 200, 0, size - 1
    else:
        status, (first, last) = 206, byte_range
        headers.append(("Content-Range", f"bytes {first}-{last}/{size}"))
    length = last - first + 1
    headers.append(("Content-Length", str(length)))
    if request.method == "HEAD":
        return Response(status, headers)  # the same headers, and no file opened for nothing
    path = request.app.storage.path_of(row["user_id"], row["id"])
    reaches_the_end = last == size - 1 or size == 0
    return Response(status, headers, file_body(request, path, first, length,
                                               on_complete if reaches_the_end else None))


def requested_range(header: str, size: int) -> tuple[int, int] | None:
    """The ``(first, last)`` byte positions a ``Range`` header asks for, or None for the whole file.

    RFC 9110 §14.2: a server may ignore ``Range``, so a header in another unit,
    a malformed one, or a list of several ranges gets the whole file (sending
    ``multipart/byteranges`` is optional). A well-formed single range that lies
    outside the file is 416, with ``Content-Range: bytes */size`` (§15.5.17).
    """
    unit, equals, spec = header.partition("=")
    if not equals or unit.strip().lower() != "bytes" or "," in spec:
        return None
    found = SINGLE_BYTE_RANGE.fullmatch(spec.strip())
    if not found or found.group(1) == found.group(2) == "":
        return None
    first_text, last_text = found.groups()
    if len(first_text) > MAX_DECIMAL_DIGITS or len(last_text) > MAX_DECIMAL_DIGITS:
        raise HTTPError(400, "invalid_header", field="Range")  # more digits than any real file has
    if first_text == "":  # "-n": the last n bytes
        suffix = int(last_text)
        if size == 0:
            return None  # an empty file has no bytes to address: send it whole (and empty)
        if suffix == 0:
            raise range_not_satisfiable(size)
        return max(0, size - suffix), size - 1
    first = int(first_text)
    last = size - 1 if last_text == "" else int(last_text)
    if last_text and last < first:
        return None  # "5-2" is invalid, not unsatisfiable: ignore it (§14.1.1)
    if first >= size:
        raise range_not_satisfiable(size)
    return first, min(last, size - 1)


def range_not_satisfiable(size: int) -> HTTPError:
    return HTTPError(416, "range_not_satisfiable", headers=[("Content-Range", f"bytes */{size}")])


def range_still_valid(if_range: str, etag: str, modified_at: float) -> bool:
    """Whether ``Range`` applies under ``If-Range`` (RFC 9110 §13.1.5).

    Without ``If-Range``, yes. With an entity tag, only if it is exactly our
    (strong) tag; with a date, only if it is exactly our Last-Modified second.
    Otherwise the client's partial copy is stale and it gets the whole file.
    """
    if not if_range:
        return True
    if if_range.startswith(('"', "W/")):
        return if_range == etag  # weak tags never match: a strong comparison
    since = parse_http_date(if_range)
    return since is not None and int(since) == int(modified_at)


def content_disposition(name: str, disposition: str = "attachment") -> str:
    """``attachment`` (or ``inline``) with the file name, for every browser (RFC 6266 §4, RFC 8187).

    ``filename="…"`` is a quoted-string that must stay printable ASCII, so other
    characters become ``_`` and ``"`` and ``\\`` are escaped (RFC 9110 §5.6.4);
    it is the fallback for old clients. When that loses anything, ``filename*``
    carries the exact name as percent-encoded UTF-8, which current browsers
    prefer (RFC 6266 §4.3). Names were cleaned of control characters on upload;
    this encoding would keep a CR or LF out of the header even if one slipped by.
    """
    fallback = "".join(c if " " <= c <= "~" else "_" for c in name)
    quoted = fallback.replace("\\", "\\\\").replace('"', '\\"')
    value = f'{disposition}; filename="{quoted}"'
    if quoted != name:
        value += "; filename*=UTF-8''" + quote(name, safe=ATTR_CHAR_PUNCTUATION)
    return value


def file_body(request: Request, path, first: int, length: int, on_complete=None):
    """``length`` bytes of the file at ``path`` from ``first``: a WSGI response body."""
    file = open(path, "rb")
    file.seek(first)
    return open_file_body(request, file, first + length, on_complete)


def open_file_body(request: Request, file, end: int, on_complete=None):
    """An open file from its current position up to ``end``: a WSGI response body.

    ``wsgi.file_wrapper`` sends from the file's current position, and PEP 3333
    says a server sends no more than ``Content-Length``: the caller seeks, and
    the range is exact (waitress reads at most that many bytes). Any object with
    ``read``, ``seek``, ``tell`` and ``close`` will do (a ZIP, archive.py).

    ``on_complete``, if given, runs when the last of those bytes has been sent.
    Not when the response *starts*: a download that is cut off must not count
    (a share's download limit counts completed downloads). So it runs from the
    body's end of life, which PEP 3333 gives us: ``close()`` is called however
    a body ends, sent or abandoned (``SentToTheEnd`` tells the two apart).
    """
    if on_complete is not None:
        file = SentToTheEnd(file, end, on_complete)
    chunk_bytes = request.app.config.read_chunk_bytes
    file_wrapper = request.environ.get("wsgi.file_wrapper")
    if file_wrapper is None:
        return read_chunks(file, end, chunk_bytes)
    return file_wrapper(file, chunk_bytes)


def read_chunks(file, end: int, chunk_bytes: int):
    """The same bytes as a generator, for servers without ``wsgi.file_wrapper`` (WebTest)."""
    try:
        while (left := end - file.tell()) > 0:
            chunk = file.read(min(chunk_bytes, left))
            if not chunk:
                return  # the file shrank under us; Content-Length will tell the client
            yield chunk
    finally:
        file.close()  # exhausted or abandoned, as waitress closes a file wrapper


class SentToTheEnd:
    """A file for ``wsgi.file_wrapper`` that calls ``on_complete`` if it is closed at ``end``.

    waitress sends a file wrapper from the file itself: it reads a block, sends
    what the socket takes, and advances the file position by exactly the bytes
    sent. So when it closes the file (after the last byte, or when the client
    hangs up), the position says how far the download got.
    """

    def __init__(self, file, end: int, on_complete):
        self.file = file
        self.end = end
        self.on_complete = on_complete

    def read(self, size: int = -1) -> bytes:
        return self.file.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.file.seek(offset, whence)

    def tell(self) -> int:
        return self.file.tell()

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        sent_everything = not self.file.closed and self.file.tell() >= self.end
        self.file.close()
        if sent_everything:
            self.on_complete()
