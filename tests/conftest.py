"""Shared fixtures, flaskr-style: ``app`` on a temporary data directory, ``client``
(WebTest, with PEP 3333 validation), and ``auth`` to register and log in.

Nothing here touches ./data or a fixed port. bcrypt runs at cost 4 (a config
value) so the suite stays fast; tests where the real cost matters set their own.
Every in-process request comes from one client address, so the registrations
per address are not bounded here; the tests of that bound set their own.
"""

from __future__ import annotations

import pytest

from authupload import Config, create_app
from support import UNBOUNDED_REGISTRATIONS, Auth, MovableClock, validated_client


@pytest.fixture
def clock():
    return MovableClock()


@pytest.fixture
def make_config(tmp_path, clock):
    """Config for a test: temporary data dir, cheap bcrypt, the movable clock; override what you need."""

    def make(**overrides) -> Config:
        settings = {"data_dir": tmp_path / "data", "bcrypt_cost": 4, "clock": clock,
                    "max_registrations_per_address": UNBOUNDED_REGISTRATIONS}
        settings.update(overrides)
        return Config(**settings)

    return make


@pytest.fixture
def app(make_config):
    return create_app(make_config())


@pytest.fixture
def client(app):
    return validated_client(app)


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def user(auth):
    """A registered, logged-in user: id, username, token and headers (support.Auth.new_user)."""
    return auth.new_user()
