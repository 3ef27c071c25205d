"""The small HTTP vocabulary the handlers speak: Request, Response, HTTPError.

WSGI (PEP 3333) hands an application a dict of CGI-style variables (``environ``)
and a ``start_response`` callable. Only the router and the middleware touch
those directly; a handler receives a ``Request`` and returns a ``Response`` or
raises an ``HTTPError``. Every answer under ``/api/`` is the JSON envelope
``{"code", "message", "data"}``, built here by ``envelope()``.
"""

from __future__ import annotations

import dataclasses
import json
import time
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from typing import Any, Iterable, Iterator
from urllib.parse import parse_qsl
from wsgiref.util import application_uri

from .. import i18n

JSON_TYPE = "application/json; charset=utf-8"

# Statuses that http.HTTPStatus does not know: 460 comes from the tus protocol.
EXTRA_REASONS = {460: "Checksum Mismatch"}


class HTTPError(Exception):
    """An answer other than success, raised anywhere below the router.

    ``status`` is the HTTP status; ``key`` the stable error key of API.md that
    clients switch on; ``field`` names the request field at fault, if one is;
    ``headers`` are added to the response (``Retry-After``, ``Allow`` …);
    ``values`` fill placeholders of the human message.
    """

    def __init__(self, status: int, key: str, *, field: str | None = None,
                 headers: Iterable[tuple[str, str]] = (), values: dict | None = None):
        super().__init__(f"{status} {key}" + (f" ({field})" if field else ""))
        self.status = status
        self.key = key
        self.field = field
        self.headers = list(headers)
        self.values = values or {}


@dataclasses.dataclass
class Response:
    """A status, its headers and a body: an iterable of bytes (PEP 3333)."""

    status: int
    headers: list[tuple[str, str]]
    body: Iterable[bytes] = (b"",)

    def start(self, start_response) -> Iterable[bytes]:
        start_response(status_line(self.status), self.headers)
        return self.body


def status_line(status: int) -> str:
    """``404`` → ``"404 Not Found"``: WSGI wants the reason phrase too."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = EXTRA_REASONS.get(status, "Unknown")
    return f"{status} {reason}"


def envelope(language: str, status: int, key: str, data: Any = None,
             headers: Iterable[tuple[str, str]] = (), field: str | None = None,
             values: dict | None = None) -> Response:
    """The JSON envelope: ``code`` equals the HTTP status, always."""
    body = json.dumps(
        {"code": status, "message": i18n.message(key, language, field, **(values or {})), "data": data},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")
    return Response(status, [
        ("Content-Type", JSON_TYPE),
        ("Content-Length", str(len(body))),
        # The message depends on Accept-Language, so caches must key on it;
        # Content-Language names the one chosen (RFC 9110 §8.5).
        ("Vary", "Accept-Language"),
        ("Content-Language", language),
        *headers,
    ], [body])


def error_envelope(language: str, error: HTTPError) -> Response:
    """The envelope of an error: ``data`` names its key (and field) for programs."""
    data = {"error": error.key}
    if error.field:
        data["field"] = error.field
    headers = list(error.headers)
    if error.status == 401 and not any(name == "WWW-Authenticate" for name, _ in headers):
        headers.append(("WWW-Authenticate", "Bearer"))  # RFC 9110 §11.6.1: every 401 names a scheme
    return envelope(language, error.status, error.key, data, headers, error.field, error.values)


def media_type(content_type: str) -> str:
    """``"Application/JSON; charset=utf-8"`` → ``"application/json"`` (RFC 9110 §8.3.1)."""
    return content_type.split(";", 1)[0].strip().lower()


# The bearer middleware's one word to the router and the access log (see BearerVerdict).
BEARER_VERDICT = "authupload.bearer"


@dataclasses.dataclass(frozen=True)
class BearerVerdict:
    """What ``Authorization: Bearer`` proved: the token's claims, or why it proves nothing.

    The bearer middleware puts one in ``environ[BEARER_VERDICT]`` whenever a
    request under ``/api/`` sends an ``Authorization`` header, and refuses
    nothing itself: only the router knows whether a route needs a token (like
    flaskr's ``g.user``, set for every request, and ``login_required``, applied
    per view). Exactly one of the two fields is set.
    """

    claims: dict | None = None  # the verified claims (sub, name, purpose, ...)
    refusal: HTTPError | None = None  # the 401 (or 500) to answer if the route needs a token


class Request:
    """A read-only view of one WSGI request, plus what the router learned about it."""

    def __init__(self, environ: dict, app=None, params: dict | None = None):
        self.environ = environ
        self.app = app  # the Services of app.py: config, database, tokens …
        self.params = params or {}  # values captured from the path, e.g. {"file_id": "…"}
        self.method: str = environ["REQUEST_METHOD"].upper()
        # WSGI carries the raw path as latin-1 code points; the URL itself is UTF-8.
        self.path: str = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
        self.language: str = i18n.negotiate_language(environ.get("HTTP_ACCEPT_LANGUAGE", ""))

    def header(self, name: str, default: str = "") -> str:
        """A request header by its HTTP name (``"Upload-Offset"``)."""
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            return self.environ.get(key, default)  # these two have no HTTP_ prefix in WSGI
        return self.environ.get("HTTP_" + key, default)

    @property
    def query(self) -> dict[str, str]:
        """Query parameters; the last of repeated names wins."""
        return dict(parse_qsl(self.environ.get("QUERY_STRING", ""), keep_blank_values=True))

    @property
    def content_length(self) -> int:
        """The body size waitress measured (it de-chunks and sets this); 0 if absent."""
        try:
            return max(0, int(self.environ.get("CONTENT_LENGTH") or 0))
        except ValueError:
            raise HTTPError(400, "bad_request") from None

    @property
    def bearer(self) -> "BearerVerdict | None":
        """What the bearer middleware found in ``Authorization``; None if no token was sent."""
        return self.environ.get(BEARER_VERDICT)

    @property
    def user(self) -> dict | None:
        """The verified token claims of the caller, or None (no token, or a refused one)."""
        verdict = self.bearer
        return verdict.claims if verdict else None

    @property
    def user_id(self) -> int:
        """The caller's user id; only on routes that require a token (the router checked it)."""
        return int(self.user["sub"])

    @property
    def client_address(self) -> str:
        """Who is calling: REMOTE_ADDR, which waitress rewrites from a trusted proxy's header."""
        return self.environ.get("REMOTE_ADDR", "")

    @property
    def base_url(self) -> str:
        """Where people reach this server: ``--public-url`` if set, else this request's scheme and host.

        Behind a proxy the request's own host may be an internal one, which is
        why links meant for other people (invites) prefer the setting.
        """
        return self.app.config.public_url.rstrip("/") or application_uri(self.environ).rstrip("/")

    def body_chunks(self, chunk_bytes: int) -> Iterator[bytes]:
        """The body in pieces of at most ``chunk_bytes``: memory stays flat whatever its size.

        PEP 3333: an application must never read past ``CONTENT_LENGTH`` (the
        server need not signal the end, and the next bytes may be the next
        request). A short body — the client went away — simply ends early.
        """
        stream = self.environ["wsgi.input"]
        remaining = self.content_length
        while remaining:
            chunk = stream.read(min(remaining, chunk_bytes))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk

    def read_body(self, limit: int) -> bytes:
        """The whole body, which must not exceed ``limit`` bytes (else 413)."""
        if self.content_length > limit:
            raise HTTPError(413, "body_too_large")
        return b"".join(self.body_chunks(limit))

    def json(self) -> dict:
        """The body as a JSON object, checked as API.md says: 415, 413, then 400."""
        if media_type(self.header("Content-Type")) != "application/json":
            raise HTTPError(415, "unsupported_media_type")
        raw = self.read_body(self.app.config.max_json_bytes)
        try:
            value = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise HTTPError(400, "invalid_json") from None
        if not isinstance(value, dict):
            raise HTTPError(400, "invalid_json")
        return value


def string_field(body: dict, name: str) -> str:
    """``body[name]`` if it is a string that can be stored as UTF-8, else 400 naming the field.

    JSON can carry lone surrogates (``"\\ud800"``) that Python accepts but
    UTF-8 cannot encode; refusing them here keeps them out of the database.
    """
    value = body.get(name)
    if not isinstance(value, str):
        raise HTTPError(400, "invalid_field", field=name)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise HTTPError(400, "invalid_field", field=name) from None
    return value


# 10**18 bytes is an exabyte: more than any real size, offset, range or count, and
# still below 2**63, the largest INTEGER SQLite stores.
MAX_DECIMAL_DIGITS = 18
MAX_HTTP_DATE_CHARS = 64  # "Sunday, 06-Nov-1994 08:49:37 GMT" (the longest RFC 9110 form) is 33


def parse_decimal(text: str) -> int | None:
    """A non-negative whole number of 1–18 ASCII digits; None for anything else.

    The length is checked *before* ``int()``: Python refuses to convert more
    than 4300 digits (a ValueError that became a 500) and would spend quadratic
    time on fewer, and no number a client sends us needs more than 18.
    """
    if 0 < len(text) <= MAX_DECIMAL_DIGITS and text.isascii() and text.isdigit():
        return int(text)
    return None


DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_OFFSET = 2**63 - 1  # SQLite's largest integer: a bigger OFFSET would be a 500, not a 400


def query_number(request: Request, name: str, default: int, minimum: int, maximum: int) -> int:
    """A whole-number query parameter within bounds, its default if absent, else 400 ``invalid_query``."""
    text = request.query.get(name)
    if text is None:
        return default
    number = parse_decimal(text)
    if number is None or not minimum <= number <= maximum:
        raise HTTPError(400, "invalid_query", field=name)
    return number


def page_bounds(request: Request) -> tuple[int, int]:
    """``?limit=&offset=`` of any listing: 50 by default, 1–500, offset from 0 (API.md, Files)."""
    limit = query_number(request, "limit", DEFAULT_PAGE_SIZE, minimum=1, maximum=MAX_PAGE_SIZE)
    offset = query_number(request, "offset", 0, minimum=0, maximum=MAX_OFFSET)
    return limit, offset


def http_date(timestamp: float) -> str:
    """Seconds since the epoch → ``"Sun, 06 Nov 1994 08:49:37 GMT"`` (RFC 9110 §5.6.7)."""
    return formatdate(timestamp, usegmt=True)


def parse_http_date(text: str) -> float | None:
    """An HTTP date → seconds since the epoch; None if absent, not a date, or out of range.

    The year 99999999999 parses as a date and then overflows the platform's
    time functions (OverflowError): for a conditional header that is just
    "not a date", which RFC 9110 §13.1.3 says to ignore.
    """
    if not text or len(text) > MAX_HTTP_DATE_CHARS:
        return None
    try:
        return parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, OverflowError):
        return None


def iso_time(timestamp: float) -> str:
    """Seconds since the epoch → ``"2026-11-25T04:30:00Z"`` (RFC 3339, UTC)."""
    # time.gmtime + strftime: a third of datetime's cost, and a listing calls this per row.
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def not_modified(request: Request, etag: str, modified_at: float) -> bool:
    """Whether a GET/HEAD may be answered ``304 Not Modified`` (RFC 9110 §13.2.2).

    ``If-None-Match`` decides when present (weak comparison: ``W/"x"`` equals
    ``"x"``); only without it is ``If-Modified-Since`` considered, at one-second
    resolution since HTTP dates have no finer.
    """
    if_none_match = request.header("If-None-Match")
    if if_none_match:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag.removeprefix("W/") in tags
    since = parse_http_date(request.header("If-Modified-Since"))
    # An absent or unparseable date is ignored (RFC 9110 §13.1.3).
    return since is not None and int(modified_at) <= since


def unauthorized(key: str) -> HTTPError:
    """A 401 with the challenge RFC 6750 §3 asks for: say *why* when a token was sent."""
    challenge = "Bearer" if key == "token_missing" else 'Bearer error="invalid_token"'
    return HTTPError(401, key, headers=[("WWW-Authenticate", challenge)])
