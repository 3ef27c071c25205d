"""Two-factor sign-in, the database side: setup, confirmation, checking a code, recovery codes.

How it works: ``begin_setup`` stores a fresh secret in ``users.totp_secret``
(sealed, below) with ``totp_enabled`` still 0; nothing changes for the login yet. ``enable``
turns it on only when the person proves their app holds the secret (a right
first code), and hands out ten recovery codes. From then on a login needs a
code: ``use_code`` accepts a TOTP code or a recovery code, once each.

Once means once, across threads and processes: the step of an accepted TOTP
code is written to ``users.totp_last_step`` by an ``UPDATE … WHERE
totp_last_step < step`` (two requests racing with one code: one row changes,
the other finds none), and a recovery code's row is deleted by the request that
uses it (``rowcount`` says who won). Callers run these inside
``Database.transaction()`` (``BEGIN IMMEDIATE``).

The server must keep the TOTP secret itself (it computes the same codes as the
app), but a copy of the database alone must not give it away: with a leaked
backup and a guessed password the second factor would be worth nothing. So the
secret is stored sealed: XORed with a one-time pad HMAC-SHA256(signing key,
nonce ‖ user id), a fresh 16-byte nonce per setup. The signing key lives
outside the database (``secret.key`` or ``AUTHUPLOAD_SECRET``), as for share
links; replacing it makes the stored secrets unreadable, and the holders then
sign in with a recovery code and set up their app again.

Recovery codes carry 80 random bits, so a plain SHA-256 is enough to store
them: unlike a password there is nothing to guess from a dictionary, and 2^80
tries are out of reach. Only the hash is kept; the codes are shown once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3

from ..web.http import HTTPError
from . import totp

RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # 32 symbols (5 bits each), no l/1 or o/0 to misread
RECOVERY_GROUPS = 4  # "abcd-efgh-ijkm-npqr": 16 symbols, 80 bits
RECOVERY_GROUP_CHARS = 4
CODE_MAX_CHARS = 64  # longer than any code, however typed: not worth hashing
SEAL_NONCE_BYTES = 16

TOTP = "totp"
RECOVERY_CODE = "recovery_code"


def seal_secret(key: bytes, user_id: int, secret: bytes) -> str:
    """The secret as stored: hex of nonce ‖ (secret XOR pad), the pad derived from the signing key."""
    nonce = secrets.token_bytes(SEAL_NONCE_BYTES)
    return (nonce + _xor(secret, _pad(key, user_id, nonce))).hex()


def open_secret(key: bytes, user_id: int, sealed: str) -> bytes:
    raw = bytes.fromhex(sealed)
    nonce, cipher = raw[:SEAL_NONCE_BYTES], raw[SEAL_NONCE_BYTES:]
    return _xor(cipher, _pad(key, user_id, nonce))


def _pad(key: bytes, user_id: int, nonce: bytes) -> bytes:
    # The user id is mixed in so a sealed secret copied onto another account opens to garbage.
    return hmac.new(key, b"totp-secret\0" + nonce + str(user_id).encode("ascii"), hashlib.sha256).digest()


def _xor(data: bytes, pad: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(data, pad, strict=False))


def begin_setup(connection: sqlite3.Connection, user_id: int, key: bytes) -> bytes:
    """A new secret for this account, not yet in force; 409 if two-factor sign-in is already on.

    Replacing the secret of an enabled second factor here would let a stolen
    password alone take it over: turning it off needs a code first.
    """
    enabled = connection.execute("SELECT totp_enabled FROM users WHERE id = ?", (user_id,)).fetchone()[0]
    if enabled:
        raise HTTPError(409, "totp_already_enabled")
    secret = totp.new_secret()
    connection.execute("UPDATE users SET totp_secret = ? WHERE id = ?", (seal_secret(key, user_id, secret), user_id))
    return secret


def enable(connection: sqlite3.Connection, user_id: int, code: str, now: float, key: bytes) -> list[str] | None:
    """Turn two-factor sign-in on with a first right code: the recovery codes; None for a wrong code or no setup."""
    user = connection.execute(
        "SELECT totp_secret, totp_last_step FROM users WHERE id = ?", (user_id,)
    ).fetchone()
    if user["totp_secret"] is None or not _accept_totp(connection, user_id, user, code, now, key):
        return None
    connection.execute("UPDATE users SET totp_enabled = 1 WHERE id = ?", (user_id,))
    return replace_recovery_codes(connection, user_id)


def use_code(connection: sqlite3.Connection, user_id: int, code: str, now: float, key: bytes) -> str | None:
    """Accept a TOTP code or a recovery code of this account, once; returns which kind, or None."""
    if len(code) > CODE_MAX_CHARS:
        return None
    user = connection.execute(
        "SELECT totp_secret, totp_enabled, totp_last_step FROM users WHERE id = ?", (user_id,)
    ).fetchone()
    if not user["totp_enabled"]:
        return None
    if _accept_totp(connection, user_id, user, code, now, key):
        return TOTP
    used = connection.execute(
        "DELETE FROM recovery_codes WHERE user_id = ? AND code_hash = ?", (user_id, recovery_code_hash(code))
    ).rowcount
    return RECOVERY_CODE if used else None


def _accept_totp(connection: sqlite3.Connection, user_id: int, user: sqlite3.Row, code: str, now: float,
                 key: bytes) -> bool:
    secret = open_secret(key, user_id, user["totp_secret"])
    step = totp.matching_step(secret, totp.typed_code(code), now, user["totp_last_step"])
    if step is None:
        return False
    # The condition repeats the check in SQL: of two requests racing with one code, one wins.
    return connection.execute(
        "UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?", (step, user_id, step)
    ).rowcount == 1


def replace_recovery_codes(connection: sqlite3.Connection, user_id: int) -> list[str]:
    """Ten new recovery codes for this account; the old ones stop working."""
    codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    connection.execute("DELETE FROM recovery_codes WHERE user_id = ?", (user_id,))
    connection.executemany(
        "INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)",
        [(user_id, recovery_code_hash(code)) for code in codes],
    )
    return codes


def remove_second_factor(connection: sqlite3.Connection, user_id: int) -> bool:
    """Turn two-factor sign-in off and forget its secret and recovery codes; False if it was off.

    For the holder (after password and code) and for an admin removing a lost
    second factor alike; the caller records the event with its own actor.
    """
    changed = connection.execute(
        "UPDATE users SET totp_enabled = 0, totp_secret = NULL WHERE id = ? AND totp_enabled = 1", (user_id,)
    ).rowcount
    connection.execute("DELETE FROM recovery_codes WHERE user_id = ?", (user_id,))
    # totp_last_step stays: a later setup starts from a new secret anyway, and keeping the
    # step costs nothing while forgetting it could never help.
    return changed == 1


def new_recovery_code() -> str:
    groups = ("".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_GROUP_CHARS))
              for _ in range(RECOVERY_GROUPS))
    return "-".join(groups)


def recovery_code_hash(code: str) -> str:
    """SHA-256 of the code as typed, without separators or letter case: ``ABCD EFGH…`` is ``abcd-efgh-…``."""
    return hashlib.sha256(totp.typed_code(code).lower().encode("utf-8")).hexdigest()
