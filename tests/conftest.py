"""Shared fixtures, flaskr-style: ``app`` on a temporary data directory, ``client``
(WebTest, with PEP 3333 validation), and ``auth`` to register and log in.

Nothing here touches ./data or a fixed port. bcrypt runs at cost 4 (a config
value) so the suite stays fast; tests where the real cost matters set their own.
"""

from __future__ import annotations

import itertools
from wsgiref.validate import validator

import pytest
import webtest

from authupload import Config, create_app


class MovableClock:
    """A clock that tests move forward instead of sleeping."""

    def __init__(self, now: float = 1_900_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock():
    return MovableClock()


@pytest.fixture
def make_config(tmp_path, clock):
    """Config for a test: temporary data dir, cheap bcrypt, the movable clock; override what you need."""

    def make(**overrides) -> Config:
        settings = {"data_dir": tmp_path / "data", "bcrypt_cost": 4, "clock": clock}
        settings.update(overrides)
        return Config(**settings)

    return make


@pytest.fixture
def app(make_config):
    return create_app(make_config())


@pytest.fixture
def client(app):
    return webtest.TestApp(validator(app))


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


@pytest.fixture
def auth(client):
    return Auth(client)
