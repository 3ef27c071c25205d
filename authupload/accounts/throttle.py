"""Failed-login and registration throttling, shared by every thread and process through SQLite.

Two counters, each a sliding window of recent failures: one per username
(ASCII-lowercased, so ``Alice123`` and ``alice123`` share it, and counted for
names that do not exist too, so a lock reveals nothing) and one per client
address. Past its limit a counter locks for ``login_lock_seconds`` after its
latest failure; while locked every attempt is ``429`` — the right password
included, or the lock would tell a guesser when they hit.

Race-free by construction: an attempt *reserves* a failure row for its username
and its address inside a ``BEGIN IMMEDIATE`` transaction, after checking the
counts, before the slow bcrypt check runs. Thirty parallel guesses therefore
see each other's rows and at most the limit get through, however many threads
or processes serve them. A successful login deletes its reservation and clears
the username's failures; the address counter keeps its history.

The same two-counter lock guards the passwords of share and upload-request
links: a ``LoginThrottle`` built with other scopes counts per link (instead of
per username) and per address, in counters of their own, so guessing a link's
password from an address never locks that address out of logging in.

Registrations are counted per client address too (``RegistrationThrottle``):
each costs a bcrypt hash, drawn from the same bounded pool as logins, so an
unthrottled flood of sign-ups would answer everybody's login with 503. An
address may register ``max_registrations_per_address`` accounts an hour; the
reservation is made, the same race-free way, before the hash.
"""

from __future__ import annotations

import dataclasses
import math

from ..web.http import HTTPError

USERNAME = "username"
ADDRESS = "address"
LINK = "link"  # a share or an upload request, keyed "share:<id>" / "request:<id>"
LINK_ADDRESS = "link_address"
REGISTRATION_WINDOW_SECONDS = 3600  # max_registrations_per_address counts per hour


@dataclasses.dataclass(frozen=True)
class Attempt:
    """One attempt's reserved failure rows: which keys, stamped when."""

    key: str  # the case-folded username, or the link
    address: str
    at: float


class LoginThrottle:
    def __init__(self, database, config, key_scope: str = USERNAME, address_scope: str = ADDRESS):
        self.database = database
        self.config = config
        self.key_scope = key_scope
        self.address_scope = address_scope
        self.limits = {
            key_scope: config.max_failures_per_username,
            address_scope: config.max_failures_per_address,
        }

    def reserve_attempt(self, key: str, address: str) -> Attempt:
        """Record a presumed failure for this attempt, or raise 429 if either key is locked.

        ``key`` is the case-folded name (accounts.username_key), so ``Alice123``
        and ``alice123`` share one counter; or the link whose password is tried.
        """
        attempt = Attempt(key, address, self.config.clock())
        since = attempt.at - self.config.login_window_seconds
        keys = {self.key_scope: attempt.key, self.address_scope: attempt.address}
        with self.database.transaction() as connection:
            connection.execute("DELETE FROM login_failures WHERE at <= ?", (since,))
            for scope, key in keys.items():
                count, latest = connection.execute(
                    "SELECT count(*), max(at) FROM login_failures WHERE scope = ? AND key = ? AND at > ?",
                    (scope, key, since),
                ).fetchone()
                if count >= self.limits[scope]:
                    locked_until = latest + self.config.login_lock_seconds
                    if attempt.at < locked_until:
                        raise retry_after(locked_until - attempt.at)
            for scope, key in keys.items():
                connection.execute(
                    "INSERT INTO login_failures (scope, key, at) VALUES (?, ?, ?)", (scope, key, attempt.at)
                )
        return attempt

    def release(self, attempt: Attempt) -> None:
        """Take back this attempt's reservation, and only that.

        For an attempt never judged (the server was busy), and for a right
        password that only leads to the second factor: the failures already
        counted against the name stay.
        """
        with self.database.transaction() as connection:
            self._delete_reservation(connection, self.key_scope, attempt.key, attempt.at)
            self._delete_reservation(connection, self.address_scope, attempt.address, attempt.at)

    def forgive(self, attempt: Attempt) -> None:
        """The attempt succeeded: clear the key's failures and this attempt's address row."""
        with self.database.transaction() as connection:
            connection.execute(
                "DELETE FROM login_failures WHERE scope = ? AND key = ?", (self.key_scope, attempt.key)
            )
            self._delete_reservation(connection, self.address_scope, attempt.address, attempt.at)

    @staticmethod
    def _delete_reservation(connection, scope: str, key: str, at: float) -> None:
        connection.execute(
            "DELETE FROM login_failures WHERE rowid IN ("
            " SELECT rowid FROM login_failures WHERE scope = ? AND key = ? AND at = ? LIMIT 1)",
            (scope, key, at),
        )


def retry_after(seconds: float) -> HTTPError:
    """429 ``too_many_attempts``; RFC 9110 §10.2.3: Retry-After in whole seconds, rounded up."""
    return HTTPError(429, "too_many_attempts", headers=[("Retry-After", str(math.ceil(seconds)))])


class RegistrationThrottle:
    """At most ``max_registrations_per_address`` registrations from one address an hour."""

    def __init__(self, database, config):
        self.database = database
        self.config = config

    def reserve(self, address: str) -> float:
        """Count this registration (before its bcrypt hash), or raise 429 if the address used its share.

        Returns the reservation's timestamp, for ``release``.
        """
        at = self.config.clock()
        since = at - REGISTRATION_WINDOW_SECONDS
        with self.database.transaction() as connection:
            connection.execute("DELETE FROM registration_attempts WHERE at <= ?", (since,))
            count, oldest = connection.execute(
                "SELECT count(*), min(at) FROM registration_attempts WHERE address = ? AND at > ?", (address, since)
            ).fetchone()
            if count >= self.config.max_registrations_per_address:
                raise retry_after(oldest + REGISTRATION_WINDOW_SECONDS - at)
            connection.execute("INSERT INTO registration_attempts (address, at) VALUES (?, ?)", (address, at))
        return at

    def release(self, address: str, at: float) -> None:
        """The registration never hashed (the server was busy): give the address its place back."""
        self.database.execute(
            "DELETE FROM registration_attempts WHERE rowid IN ("
            " SELECT rowid FROM registration_attempts WHERE address = ? AND at = ? LIMIT 1)", (address, at))
