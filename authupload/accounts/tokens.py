"""Bearer tokens: signed JWTs (RFC 7519) with a purpose, and how they die.

A token is three base64url parts: a header (``{"alg": "HS256", "typ": "JWT"}``),
the claims, and an HMAC-SHA256 signature over both made with the server's key.
Anyone can read the claims; nobody without the key can change them.

Claims: ``sub`` (user id, a string), ``name``, ``iat``, ``exp``, ``jti`` (a random
id), ``purpose``, ``ver``, ``acct`` (the account's random ``account_key``), and for
tokens of a sign-in ``sid`` (its session, see sessions.py). The purpose keeps
tokens in their lane: an ``access`` token opens the API, an ``upload`` token
opens one resumable upload, a ``download`` token one file, an ``mfa`` token only
the second step of a login, a ``drop`` token lets somebody without an account
send files through one upload request (claims ``request`` and ``uploader``) —
never each other.

How a token dies before ``exp``:
- ending its session (logout, "sign out" from another device, a password
  change) deletes the session row its ``sid`` names;
- a password change also bumps the user's ``token_version``, and a token whose
  ``ver`` is older is refused — download links and pending second login steps too;
- a deleted user's tokens find no user, and never another user: ids are not
  reused, and should a restored backup hand an id out again, the new account has
  another ``account_key`` than the one the token carries;
- a disabled account's tokens are refused while it stays disabled (and
  disabling bumps ``token_version`` too, so enabling it again revives none).

Only ``HS256`` is accepted: the algorithm comes from our code, never from the
token's header, which defeats ``alg: none`` and RS256/HS256 confusion.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import secrets
from pathlib import Path

import jwt

from ..web.http import unauthorized
from .sessions import record_activity

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["sub", "name", "iat", "exp", "jti", "purpose", "ver", "acct"]
MIN_KEY_BYTES = 32  # RFC 7518 §3.2: an HS256 key at least as long as the hash
VERIFIED_TOKENS_CACHED = 4096  # signatures remembered: about 2 MiB at most

ACCESS = "access"
UPLOAD = "upload"
DOWNLOAD = "download"
MFA = "mfa"  # between a right password and the second factor: opens nothing but POST /api/login/totp
DROP = "drop"


def derived_key(signing_key: bytes, label: bytes) -> bytes:
    """A key for one purpose (``label``), derived from the signing key with HMAC-SHA256.

    Cursors and share links get keys of their own: a MAC made for one purpose
    can never be passed off as one made for another, and none of them is the
    key that signs tokens.
    """
    return hmac.new(signing_key, label, hashlib.sha256).digest()


def load_signing_key(secret: str, data_dir: Path) -> bytes:
    """The HS256 key: ``secret`` if given, else ``<data_dir>/secret.key``, created on first start.

    The key file holds 32 random bytes (hex) with mode 0600. It is written
    beside its final name and then hard-linked into place, which fails if the
    name exists: two processes starting at once agree on one key.
    """
    if secret:
        key = secret.encode("utf-8")
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(f"AUTHUPLOAD_SECRET must be at least {MIN_KEY_BYTES} bytes")
        return key
    path = data_dir / "secret.key"
    if not path.exists():
        draft = path.with_name(f"secret.key.{secrets.token_hex(8)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_hex(MIN_KEY_BYTES))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process won the race; use its key
        finally:
            os.unlink(draft)
    return path.read_text().strip().encode("ascii")


class TokenService:
    """Issue and verify tokens, checked against the users and sessions tables."""

    def __init__(self, key: bytes, database, clock):
        self.key = key
        self.database = database
        self.clock = clock
        # A token's signature and claims never change, so their check (half the
        # cost of an authenticated request) is remembered for recent tokens.
        # Failures are not cached: lru_cache does not keep raised exceptions.
        self._signed_claims = functools.lru_cache(maxsize=VERIFIED_TOKENS_CACHED)(self._decode)

    def issue(self, user_id: int, username: str, token_version: int, purpose: str,
              ttl_seconds: int, *, account_key: str, **extra) -> str:
        """A signed token for one user and purpose, valid for ``ttl_seconds``.

        ``account_key`` is the users row's random key (or the ``acct`` claim of
        the token this one is issued under). ``extra`` claims whose value is
        None are left out: e.g. the ``sid`` of an upload that no sign-in created
        (a tus upload through a share's drop).
        """
        now = int(self.clock())
        claims = {
            "sub": str(user_id),  # RFC 7519 §4.1.2: sub is a string
            "name": username,
            "iat": now,
            "exp": now + ttl_seconds,
            "jti": secrets.token_urlsafe(16),
            "purpose": purpose,
            "ver": token_version,
            "acct": account_key,
            **{name: value for name, value in extra.items() if value is not None},
        }
        return jwt.encode(claims, self.key, algorithm=ALGORITHM)

    def verify(self, token: str, note_activity: bool = True) -> dict:
        """The claims of a valid, live token; else a 401 saying why.

        The caller still checks ``claims["purpose"]`` against what it serves.
        ``note_activity=False`` makes it read-only (no ``last_seen_at`` write),
        for a caller that must never wait on the database's write lock.
        """
        claims = dict(self._signed_claims(token))  # a copy: the cached one stays pristine
        if claims["exp"] <= self.clock():
            raise unauthorized("token_expired")
        # Liveness is checked on every request, never cached: a logout or a
        # password change must take effect at once. One lookup by primary key
        # finds the user and, for a token of a sign-in, its session. The account
        # key is part of it: a row with this id but another key is another
        # account, which this token must never open.
        live = self.database.execute(
            "SELECT users.token_version, users.disabled, sessions.last_seen_at FROM users"
            " LEFT JOIN sessions ON sessions.id = ? AND sessions.user_id = users.id"
            " WHERE users.id = ? AND users.account_key = ?",
            (claims.get("sid"), int(claims["sub"]), claims["acct"]),
        ).fetchone()
        if live is None or live["disabled"] or live["token_version"] != claims["ver"]:
            raise unauthorized("token_revoked")
        # An access token always belongs to a session (one from before sessions
        # existed has no sid, and its logout can no longer be recorded: refused).
        if "sid" in claims or claims["purpose"] == ACCESS:
            if live["last_seen_at"] is None:
                raise unauthorized("token_revoked")
            if note_activity:
                record_activity(self.database, claims["sid"], live["last_seen_at"], self.clock())
        return claims

    def _decode(self, token: str) -> dict:
        """Check the signature and the claims' shape (the part that never changes for one token)."""
        try:
            claims = jwt.decode(
                token,
                self.key,
                algorithms=[ALGORITHM],
                # exp and iat are checked in verify() against our own clock.
                options={"require": REQUIRED_CLAIMS, "verify_exp": False, "verify_iat": False},
            )
        except jwt.InvalidTokenError:
            raise unauthorized("token_invalid") from None
        if not (isinstance(claims["sub"], str) and claims["sub"].isdigit()
                and isinstance(claims["exp"], (int, float)) and isinstance(claims["ver"], int)
                and isinstance(claims["acct"], str)):
            raise unauthorized("token_invalid")
        return claims
