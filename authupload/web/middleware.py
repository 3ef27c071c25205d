"""Four thin WSGI layers around the router, outermost first.

A middleware is a WSGI application that calls another: it may look at
``environ`` on the way in, and change the status and headers on the way out by
wrapping ``start_response``. app.py stacks them:

    access_log(security_headers(cors(bearer(router))))

- ``access_log``: one line per request, in the common log format plus the time
  taken (who, which user, when, what, status, bytes, milliseconds); the path
  without the query string: download links carry a token there.
- ``security_headers``: what every response must say to a browser.
- ``cors``: lets pages on other origins call the API (the Fetch standard).
- ``bearer``: verifies an ``Authorization: Bearer`` token once, for the router.
"""

from __future__ import annotations

import logging
import re
import time

from .http import BEARER_VERDICT, BearerVerdict, HTTPError, Response, unauthorized

access_log_lines = logging.getLogger("authupload.access")
log = logging.getLogger("authupload")

# A share or upload-request link carries its secret in the path itself (/s/<token>,
# /r/<token>, /api/public/shares/<token>/…): the log keeps the shape, not the token.
LINK_TOKEN_IN_PATH = re.compile(r"^(/s/|/r/|/api/public/(?:shares|requests)/)[^/]*")

# Content-Security-Policy for our pages: scripts and styles only from our own
# origin (no inline script, so an injected <script> cannot run), and no framing
# (clickjacking). https://www.w3.org/TR/CSP3/
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def access_log(app):
    """Log one line per request when its body has been sent, in the common log format plus the time taken.

    ``203.0.113.9 - 42 [30/Nov/2026:05:23:18 +0000] "GET /api/files HTTP/1.1" 200 1234 3.2ms``

    The fields of the common log format (httpd's ``%h %l %u %t "%r" %>s %b``), so
    log tools parse it: the client address (REMOTE_ADDR, which waitress takes
    from ``X-Forwarded-For`` only for ``--trusted-proxy``), ``-`` for the unused
    identd name, the user id when the bearer middleware verified a token (else
    ``-``), the time in UTC, the request line with the path alone (never the
    query string: download links carry a token there), the status and the body
    bytes sent; then the milliseconds taken. Never a token or a password.
    """

    def logged(environ, start_response):
        started = time.perf_counter()
        seen = {}

        def start(status, headers, exc_info=None):
            seen["status"] = status.split(" ", 1)[0]
            seen["length"] = next((v for k, v in headers if k.lower() == "content-length"), None)
            return start_response(status, headers, exc_info)

        def write_line(sent_bytes):
            access_log_lines.info(
                '%s - %s [%s] "%s %s %s" %s %s %.1fms',
                environ.get("REMOTE_ADDR") or "-",
                logged_user(environ),
                time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
                environ["REQUEST_METHOD"],
                logged_path(environ),
                environ.get("SERVER_PROTOCOL", "HTTP/1.0"),
                seen.get("status", "-"),
                sent_bytes,
                (time.perf_counter() - started) * 1000,
            )

        body = app(environ, start)
        if isinstance(body, environ.get("wsgi.file_wrapper", ())):
            # The server sends this file itself (waitress: straight from the file);
            # wrapping it would force a slower copy loop. Log its declared length now.
            write_line(seen.get("length") or 0)
            return body
        return CountingBody(body, write_line)

    return logged


def logged_user(environ) -> str:
    """The verified token's user id, or ``-``: a refused or absent token names nobody."""
    verdict = environ.get(BEARER_VERDICT)
    return verdict.claims["sub"] if verdict is not None and verdict.claims else "-"


def logged_path(environ) -> str:
    """The path as the log may show it: escaped, so a crafted path cannot forge a line or a field."""
    # repr escapes control characters (a newline would start a forged line); the
    # quote would end the request field early.
    return repr(loggable_path(environ.get("PATH_INFO", "")))[1:-1].replace('"', '\\"')


def loggable_path(path: str) -> str:
    """The path as the access log writes it: a link's token replaced by ``…``."""
    return LINK_TOKEN_IN_PATH.sub(r"\1…", path, count=1)


class CountingBody:
    """Pass a response body through, count its bytes, report when the server closes it."""

    def __init__(self, body, on_close):
        self.body = body
        self.on_close = on_close
        self.sent = 0

    def __iter__(self):
        for chunk in self.body:
            self.sent += len(chunk)
            yield chunk

    def close(self):
        if hasattr(self.body, "close"):
            self.body.close()  # PEP 3333: close() must reach the inner body
        self.on_close(self.sent)


def security_headers_for(is_api: bool, present: set[str]) -> list[tuple[str, str]]:
    """The headers every response carries, to add to those ``present`` (lowercase names).

    The one definition: the middleware below and waitress's own error answers
    (server.EnvelopeErrorTask) both use it.
    """
    headers = [
        # Never guess a type from the content: a text file must not become a script.
        ("X-Content-Type-Options", "nosniff"),
        # Never leak a URL (download links carry a token) to another site.
        ("Referrer-Policy", "no-referrer"),
    ]
    if is_api:
        if "cache-control" not in present:
            headers.append(("Cache-Control", "no-store"))  # answers about one user: never cache
    else:
        headers.append(("Content-Security-Policy", PAGE_CSP))
    return headers


def security_headers(app):
    """Headers every response carries, and the caching rule of the API."""

    def secured(environ, start_response):
        is_api = environ.get("PATH_INFO", "").startswith("/api/")

        def start(status, headers, exc_info=None):
            headers += security_headers_for(is_api, {name.lower() for name, _ in headers})
            return start_response(status, headers, exc_info)

        return app(environ, start)

    return secured


def cors(app, allowed_origins: tuple[str, ...], max_age_seconds: int):
    """Cross-origin access for browsers (Fetch standard, "CORS protocol").

    A browser asks first with a preflight — ``OPTIONS`` plus
    ``Access-Control-Request-Method`` — before a request a plain form could
    not send (JSON bodies, ``Authorization``, ``PATCH``, tus headers). We answer
    it here, ``204`` with what is allowed, without reaching the router.
    ``Access-Control-Allow-Credentials`` is never sent: auth is a header that
    page script adds, not a cookie the browser attaches by itself, so ``*``
    lets no foreign site act as our users.
    """
    allow_headers = ("Authorization, Content-Type, Accept-Language, Tus-Resumable, Upload-Length, "
                     "Upload-Metadata, Upload-Offset, Upload-Checksum, X-HTTP-Method-Override, "
                     "X-Requested-With")
    allow_methods = "GET, HEAD, POST, PATCH, DELETE, OPTIONS"
    expose_headers = ("Location, Upload-Offset, Upload-Length, Upload-Metadata, Upload-Expires, "
                      "Upload-Token, Upload-File-Id, Tus-Resumable, Tus-Version, Tus-Extension, "
                      "Tus-Max-Size, Tus-Checksum-Algorithm, Retry-After, Content-Disposition, ETag, "
                      "Content-Range, Accept-Ranges")

    def allow_origin(origin: str) -> str | None:
        if "*" in allowed_origins:
            return "*"
        return origin if origin in allowed_origins else None

    def crossing(environ, start_response):
        origin = environ.get("HTTP_ORIGIN")
        allowed = allow_origin(origin) if origin else None
        is_preflight = (environ["REQUEST_METHOD"] == "OPTIONS"
                        and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ)
        if is_preflight and environ.get("PATH_INFO", "").startswith("/api/"):
            headers = [("Content-Length", "0")]
            if allowed:
                headers += [
                    ("Access-Control-Allow-Origin", allowed),
                    ("Access-Control-Allow-Methods", allow_methods),
                    ("Access-Control-Allow-Headers", allow_headers),
                    ("Access-Control-Max-Age", str(max_age_seconds)),
                ]
            # A refused origin gets the 204 without Allow-* headers: the browser then blocks the call.
            headers.append(("Vary", "Origin"))
            return Response(204, headers).start(start_response)

        def start(status, headers, exc_info=None):
            if allowed:
                headers.append(("Access-Control-Allow-Origin", allowed))
                headers.append(("Access-Control-Expose-Headers", expose_headers))
            if allowed != "*":
                headers.append(("Vary", "Origin"))  # the answer depends on who asks
            return start_response(status, headers, exc_info)

        return app(environ, start)

    return crossing


def bearer(app, tokens):
    """Verify ``Authorization: Bearer <token>`` for the router (RFC 6750 §2.1).

    The verdict goes into ``environ[BEARER_VERDICT]``, one ``BearerVerdict``:
    the claims of a good token, or the refusal (401) a bad one earns. Nothing is
    refused here: only the router knows whether the route needs a token at all.
    """

    def verified(environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/api/"):
            verdict = bearer_verdict(environ, tokens)
            if verdict is not None:
                environ[BEARER_VERDICT] = verdict
        return app(environ, start_response)

    return verified


def bearer_verdict(environ, tokens, note_activity: bool = True) -> BearerVerdict | None:
    """What this request's ``Authorization`` header proves; None if it sends none.

    Also asked before a body is read (early.py), so both get the same answer;
    there ``note_activity=False`` keeps the check read-only (tokens.verify).
    """
    header = environ.get("HTTP_AUTHORIZATION", "")
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    try:
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("token_missing")  # another scheme is no bearer token
        return BearerVerdict(claims=tokens.verify(token.strip(), note_activity=note_activity))
    except HTTPError as error:
        return BearerVerdict(refusal=error)
    except Exception:  # e.g. the database failing: still an envelope, from the router
        log.exception("token verification failed")
        return BearerVerdict(refusal=HTTPError(500, "server_error"))
