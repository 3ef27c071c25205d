"""Checking the JSON fields of share and upload-request bodies, and the shapes shared by both.

Every check answers ``400 invalid_field`` naming the field, before anything is
stored. Lengths count Unicode code points, as everywhere in the API. JSON
numbers are checked for type first: ``true`` is a number in Python (``bool`` is
an ``int``) and ``1.5`` is not a count, so both are refused.
"""

from __future__ import annotations

from ..web.http import HTTPError, Request, string_field

LARGEST_COUNT = 2**53  # beyond what JSON clients represent exactly; far beyond any real limit
DEFAULT_LIFETIME_SECONDS = 7 * 24 * 3600  # API.md: seven days unless the owner says otherwise
SHORTEST_SHARE_SECONDS = 60


def optional_count(body: dict, name: str) -> int | None:
    """A whole number ≥ 1, or None when absent or null."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= LARGEST_COUNT:
        raise HTTPError(400, "invalid_field", field=name)
    return value


def lifetime_seconds(body: dict, shortest: int, longest: int) -> int:
    """``expires_in``: seconds from now, ``shortest``–``longest``; seven days (at most ``longest``) if absent."""
    value = body.get("expires_in")
    if value is None:
        return min(DEFAULT_LIFETIME_SECONDS, longest)
    if isinstance(value, bool) or not isinstance(value, int) or not shortest <= value <= longest:
        raise HTTPError(400, "invalid_field", field="expires_in")
    return value


def optional_text(body: dict, name: str, max_chars: int) -> str:
    """A string of at most ``max_chars`` code points; empty when absent or null."""
    if body.get(name) is None:
        return ""
    value = string_field(body, name)
    if len(value) > max_chars:
        raise HTTPError(400, "invalid_field", field=name)
    return value


def optional_password_hash(request: Request, body: dict) -> str | None:
    """The bcrypt hash of ``password``, or None when absent, null or empty (no password).

    Hashed with the accounts' ``PasswordHasher`` (bcrypt, through the gate that
    bounds concurrent hashing), and bounded like an account password's length
    so a megabyte "password" costs nothing.
    """
    if body.get("password") in (None, ""):
        return None
    password = string_field(body, "password")
    if len(password) > request.app.config.password_max_chars:
        raise HTTPError(400, "invalid_field", field="password")
    return request.app.passwords.hash_password(password)


def public_base_url(request: Request) -> str:
    """Where people reach the box: ``--public-url``, else this request's own scheme and host."""
    configured = request.app.config.public_url
    if configured:
        return configured.rstrip("/")
    environ = request.environ
    host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
    return f"{environ['wsgi.url_scheme']}://{host}"
