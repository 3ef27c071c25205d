"""Time-based one-time codes (TOTP, RFC 6238) over HOTP (RFC 4226), with the stdlib only.

How it works: the server and the authenticator app share a random secret (20
bytes, RFC 4226 §4 R6: at least 128 bits, 160 recommended). Both count time in
30-second steps since the Unix epoch (RFC 6238 §4: ``T = floor(now / 30)``) and
compute ``HMAC-SHA1(secret, T)``; four bytes of that MAC, picked by its last
nibble ("dynamic truncation", RFC 4226 §5.3), modulo 10^6 are the six digits.

The app and the server may disagree about the time a little, so a code of the
step before or after the current one is accepted too (RFC 6238 §5.2
recommends at most one step of drift). A code that was accepted once is never
accepted again (RFC 6238 §5.2: "MUST NOT accept the second attempt of the same
OTP"): the caller stores the last step used and passes it back here.

Everything here is pure: values in, values out. The database side is in
second_factor.py.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import struct
from urllib.parse import quote, urlencode

SECRET_BYTES = 20  # RFC 4226 §4 R6: 160 bits, the length of the SHA-1 output
STEP_SECONDS = 30  # RFC 6238 §5.2: the default time step, the one every app assumes
DIGITS = 6
DRIFT_STEPS = 1  # one step either way: up to 30 s of clock disagreement
CODE_PATTERN = re.compile(r"[0-9]{6}")
# What people type between digit groups: "123 456", "123-456", a pasted tab or newline.
TYPED_SEPARATORS = re.compile(r"[\s\-]+")


def new_secret() -> bytes:
    return secrets.token_bytes(SECRET_BYTES)


def base32_secret(secret: bytes) -> str:
    """The secret as people type it into an app: RFC 4648 base32, without the ``=`` padding apps dislike."""
    return base64.b32encode(secret).decode("ascii").rstrip("=")


def secret_from_base32(text: str) -> bytes:
    return base64.b32decode(text + "=" * (-len(text) % 8))


def hotp(secret: bytes, counter: int, digits: int = DIGITS) -> str:
    """RFC 4226 §5.3: HMAC-SHA-1 of the 8-byte big-endian counter, dynamically truncated."""
    mac = hmac.new(secret, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF  # the top bit is dropped (§5.3)
    return str(value % 10 ** digits).zfill(digits)  # leading zeros are part of the code


def time_step(now: float) -> int:
    """RFC 6238 §4.2: T = floor((now - T0) / X), with T0 = 0 and X = 30 s."""
    return int(now // STEP_SECONDS)


def code_at(secret: bytes, now: float, digits: int = DIGITS) -> str:
    """The code an authenticator app shows at ``now``."""
    return hotp(secret, time_step(now), digits)


def typed_code(text: str) -> str:
    """The code as a person typed it, without the spaces and dashes between digit groups."""
    return TYPED_SEPARATORS.sub("", text)


def matching_step(secret: bytes, code: str, now: float, last_used_step: int) -> int | None:
    """The time step whose code ``code`` is, within the drift and after ``last_used_step``; else None.

    ``code`` must already be six ASCII digits. Every candidate is compared in
    constant time (``hmac.compare_digest``), so a near miss takes as long as a
    far one.
    """
    if not CODE_PATTERN.fullmatch(code):
        return None
    current = time_step(now)
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(hotp(secret, step), code) and step > last_used_step:
            found = step
    return found


def otpauth_uri(issuer: str, account: str, secret: bytes) -> str:
    """The key URI authenticator apps read from a QR code (Google Authenticator "Key Uri Format").

    ``otpauth://totp/Issuer:account?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30``:
    the label and parameters are percent-encoded, so a Chinese username survives.
    """
    label = quote(f"{issuer}:{account}", safe=":")
    parameters = urlencode({"secret": base32_secret(secret), "issuer": issuer, "algorithm": "SHA1",
                            "digits": DIGITS, "period": STEP_SECONDS}, quote_via=quote)
    return f"otpauth://totp/{label}?{parameters}"
