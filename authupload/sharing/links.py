"""Link tokens for shares and upload requests, and a share's one-hour access string.

How this works: a link is ``/s/<token>`` or ``/r/<token>``, and the token is

    base64url( id (8 bytes) ‖ HMAC-SHA256(link_key, kind ‖ id)[:16] )     → 32 characters

The id says which row; the 128-bit MAC proves the server made the link. Only
the id is stored, never the token: the owner's list can show the link again
(the server recomputes it), while a copy of the database alone opens nothing,
because ``link_key`` is derived from the signing key, which lives outside the
database (``secret.key`` or ``AUTHUPLOAD_SECRET``). Deriving a key of its own
(RFC 2104 HMAC as a key-derivation step, labelled) keeps link MACs and JWT
signatures from ever being interchangeable. Changing the signing key retires
every link at once, exactly like every session.

``kind`` (``share`` or ``request``) is inside the MAC, so a share's token is no
request's token even where ids coincide. Tokens are compared in constant time
(``hmac.compare_digest``): a timing difference must not reveal how many leading
bytes of a guess were right.

After a share's password is given, the visitor holds an *access string*:

    base64url( expires_at (8 bytes) ‖ HMAC-SHA256(link_key, "access" ‖ id ‖ expires_at)[:16] )

valid for this share only, until ``expires_at``; stateless like the link.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import struct

from ..accounts.tokens import derived_key

SHARE = b"share"
REQUEST = b"request"
ACCESS = b"access"
ID_BYTES = 8  # 64 random bits name a row: collisions are for the PRIMARY KEY to refuse, never to guess
MAC_BYTES = 16  # 128 bits: the unguessable part of a link (API.md: at least 128)
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{32}")  # base64url of 24 bytes, no padding
ACCESS_SECONDS = 3600  # an unlocked share stays open this long (API.md: one hour)
LINK_KEY_LABEL = b"authupload share and request links"


def new_link_id() -> str:
    """A random id for a share or a request (16 hex characters)."""
    return secrets.token_hex(ID_BYTES)


class LinkTokens:
    """Make and check link tokens and access strings with a key derived from the signing key."""

    def __init__(self, signing_key: bytes):
        self.key = derived_key(signing_key, LINK_KEY_LABEL)

    def _mac(self, *parts: bytes) -> bytes:
        return hmac.new(self.key, b"\0".join(parts), hashlib.sha256).digest()[:MAC_BYTES]

    def token(self, kind: bytes, link_id: str) -> str:
        """The token of the share or request ``link_id``."""
        raw_id = bytes.fromhex(link_id)
        return _encode(raw_id + self._mac(kind, raw_id))

    def link_id(self, kind: bytes, token: str) -> str | None:
        """The id a genuine token of ``kind`` names, or None for anything else."""
        raw = _decode(token)
        if raw is None:
            return None
        raw_id, mac = raw[:ID_BYTES], raw[ID_BYTES:]
        if not hmac.compare_digest(mac, self._mac(kind, raw_id)):
            return None
        return raw_id.hex()

    def access(self, share_id: str, expires_at: int) -> str:
        """An access string for one share, good until ``expires_at`` (whole seconds)."""
        moment = struct.pack(">Q", expires_at)
        return _encode(moment + self._mac(ACCESS, bytes.fromhex(share_id), moment))

    def access_valid(self, share_id: str, access: str, now: float) -> bool:
        """Whether ``access`` was made for this share and has not expired."""
        raw = _decode(access)
        if raw is None:
            return False
        moment, mac = raw[:8], raw[8:]
        genuine = hmac.compare_digest(mac, self._mac(ACCESS, bytes.fromhex(share_id), moment))
        return genuine and struct.unpack(">Q", moment)[0] > now


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _decode(text: str) -> bytes | None:
    """24 bytes from 32 base64url characters (RFC 4648 §5), or None for any other text."""
    if not TOKEN_PATTERN.fullmatch(text):
        return None
    try:
        return base64.urlsafe_b64decode(text)
    except (binascii.Error, ValueError):
        return None
