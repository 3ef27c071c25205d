"""PEP 3333: the whole application passes wsgiref.validate.validator on a sample of routes."""

from __future__ import annotations

import warnings
from wsgiref.validate import WSGIWarning

import pytest

from authupload import create_app
from support import validated_client


@pytest.fixture
def strict(make_config):
    """The app inside the validator, with the validator's warnings turned into failures."""
    return validated_client(create_app(make_config()))


SAMPLE = [
    ("GET", "/api/health", {}, 200),
    ("HEAD", "/api/health", {}, 200),
    ("GET", "/api/openapi.json", {}, 200),
    ("GET", "/api/nothing", {}, 404),
    ("DELETE", "/api/login", {}, 405),
    ("GET", "/api/me", {}, 401),
    ("GET", "/api/me", {"Authorization": "Bearer garbage"}, 401),
    ("OPTIONS", "/api/register", {"Origin": "https://x.example", "Access-Control-Request-Method": "POST"}, 204),
    ("GET", "/", {}, 302),
    ("GET", "/welcome.html", {}, 200),
    ("HEAD", "/welcome.html", {}, 200),
    ("GET", "/welcome.html", {"If-None-Match": "*"}, 304),
    ("GET", "/../serve.py", {}, 404),
]


@pytest.mark.parametrize("method, path, headers, status", SAMPLE)
def test_the_app_passes_the_pep_3333_validator(strict, method, path, headers, status):
    with warnings.catch_warnings():
        warnings.simplefilter("error", WSGIWarning)
        response = strict.request(path, method=method, headers=headers, expect_errors=True)
    assert response.status_int == status


def test_a_whole_account_flow_passes_the_validator(strict):
    with warnings.catch_warnings():
        warnings.simplefilter("error", WSGIWarning)
        strict.post_json("/api/register", {"username": "alice123", "password": "correct horse"})
        strict.post_json("/api/register", {"username": "alice123", "password": "correct horse"}, status=409)
        strict.post("/api/register", b"{", content_type="application/json", status=400)
        token = strict.post_json("/api/login", {"username": "alice123", "password": "correct horse"}).json["data"][
            "access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        strict.get("/api/me", headers=headers)
        token = strict.post("/api/token/refresh", headers=headers).json["data"]["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        token = strict.post_json("/api/password", {"old_password": "correct horse", "new_password": "new horse 1"},
                                 headers=headers).json["data"]["access_token"]
        strict.post("/api/logout", headers={"Authorization": f"Bearer {token}"})
