"""Test helpers shared by the test modules (importable, unlike conftest.py)."""

from __future__ import annotations

import itertools
from wsgiref.validate import validator

import bcrypt
import webtest

UNBOUNDED_REGISTRATIONS = 1_000_000  # tests register many accounts from one address


class MovableClock:
    """A clock that tests move forward instead of sleeping."""

    def __init__(self, now: float = 1_900_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Auth:
    """Register, log in and build the Authorization header, as a user of the API would."""

    _numbers = itertools.count(1)

    def __init__(self, client):
        self.client = client

    def new_username(self) -> str:
        return f"user{next(self._numbers):04d}x"

    def register(self, username: str | None = None, password: str = "correct horse"):
        username = username or self.new_username()
        response = self.client.post_json("/api/register", {"username": username, "password": password})
        return response.json["data"]

    def login(self, username: str, password: str = "correct horse") -> str:
        response = self.client.post_json("/api/login", {"username": username, "password": password})
        return response.json["data"]["access_token"]

    def new_user(self, password: str = "correct horse") -> dict:
        """Register and log in a fresh user: returns its id, username, token and headers."""
        user = self.register(password=password)
        token = self.login(user["username"], password)
        return {**user, "token": token, "headers": self.bearer(token)}

    @staticmethod
    def bearer(token: str) -> dict:
        return {"Authorization": f"Bearer {token}"}


def validated_client(wsgi_app) -> webtest.TestApp:
    """A WebTest client whose every request and answer is checked against PEP 3333 (wsgiref's validator)."""
    return webtest.TestApp(validator(wsgi_app))


def assert_error(response, status: int, key: str, field: str | None = None) -> None:
    """``response`` is the error envelope of API.md: this status and key, this field (or none), no detail."""
    assert response.status_int == status, response.text
    assert response.content_type == "application/json"
    assert response.json["code"] == status
    assert response.json["data"]["error"] == key
    assert response.json["data"].get("field") == field
    assert "Traceback" not in response.text and "/authupload/" not in response.text


def count_bcrypt_calls(monkeypatch) -> list[str]:
    """Record every bcrypt hash and check the server makes from now on (the real functions still run)."""
    calls = []
    for name in ("hashpw", "checkpw"):
        real = getattr(bcrypt, name)

        def counted(*args, _real=real, _name=name):
            calls.append(_name)
            return _real(*args)

        monkeypatch.setattr(bcrypt, name, counted)
    return calls
