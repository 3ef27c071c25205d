"""Bearer tokens (API.md "Tokens"): HS256 only, required claims, purposes, expiry, revocation, the key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import sqlite3
import stat

import jwt
import pytest

from authupload import create_app
from authupload.config import Config
from authupload.accounts.tokens import ACCESS, DOWNLOAD, UPLOAD, MIN_KEY_BYTES, load_signing_key
from support import validated_client

INVALID = 'Bearer error="invalid_token"'


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def craft(header: dict, claims: dict, key: bytes | None, digest=hashlib.sha256) -> str:
    """A JWT built by hand, so nothing in PyJWT stops us from making a bad one."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = b"" if key is None else hmac.new(key, signing_input.encode(), digest).digest()
    return f"{signing_input}.{b64(signature)}"


@pytest.fixture
def key(app):
    return app.services.tokens.key


@pytest.fixture
def claims(user, key):
    return jwt.decode(user["token"], key, algorithms=["HS256"], options={"verify_exp": False, "verify_iat": False})


def me(client, token: str):
    return client.get("/api/me", headers={"Authorization": f"Bearer {token}"}, expect_errors=True)


def assert_refused(response, key: str, challenge: str = INVALID):
    assert response.status_int == 401, response.text
    assert response.json["code"] == 401
    assert response.json["data"] == {"error": key}
    assert response.headers["WWW-Authenticate"] == challenge


def test_a_valid_access_token_opens_me(client, user):
    assert me(client, user["token"]).status_int == 200


def test_token_claims_are_the_documented_ones(claims, user, clock):
    assert {"sub", "name", "iat", "exp", "jti", "purpose", "ver", "acct"} <= set(claims)
    assert claims["sub"] == str(user["id"])
    assert claims["name"] == user["username"]
    assert claims["iat"] == int(clock())
    assert claims["purpose"] == ACCESS


def test_alg_none_is_refused(client, claims):
    assert_refused(me(client, craft({"alg": "none", "typ": "JWT"}, claims, None)), "token_invalid")


@pytest.mark.parametrize("alg", ["None", "NONE", "nOnE"])
def test_alg_none_in_any_case_is_refused(client, claims, alg):
    assert_refused(me(client, craft({"alg": alg, "typ": "JWT"}, claims, None)), "token_invalid")


def test_hs512_signed_with_the_right_key_is_refused(client, claims, key):
    token = craft({"alg": "HS512", "typ": "JWT"}, claims, key, hashlib.sha512)
    assert_refused(me(client, token), "token_invalid")


def test_rs256_header_with_an_hmac_signature_is_refused(client, claims, key):
    # Algorithm confusion: the attacker signs with HMAC and hopes the server trusts the header.
    token = craft({"alg": "RS256", "typ": "JWT"}, claims, key)
    assert_refused(me(client, token), "token_invalid")


def test_token_signed_with_another_key_is_refused(client, claims):
    token = jwt.encode(claims, os.urandom(32), algorithm="HS256")
    assert_refused(me(client, token), "token_invalid")


def test_tampered_payload_is_refused(client, user, claims, auth):
    other = auth.register()
    header, _, signature = user["token"].split(".")
    payload = b64(json.dumps({**claims, "sub": str(other["id"]), "name": other["username"]}).encode())
    assert_refused(me(client, f"{header}.{payload}.{signature}"), "token_invalid")


def test_tampered_signature_is_refused(client, user):
    header, payload, signature = user["token"].split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert_refused(me(client, f"{header}.{payload}.{flipped}"), "token_invalid")


@pytest.mark.parametrize("claim", ["sub", "name", "iat", "exp", "jti", "purpose", "acct"])
def test_token_missing_a_required_claim_is_refused(client, claims, key, claim):
    del claims[claim]
    assert_refused(me(client, jwt.encode(claims, key, algorithm="HS256")), "token_invalid")


@pytest.mark.parametrize("claim, value", [
    ("sub", 1),  # RFC 7519: sub is a string
    ("sub", "not-a-number"),
    ("exp", "tomorrow"),
    ("purpose", None),
    ("acct", 5),
])
def test_token_with_a_malformed_claim_is_refused(client, claims, key, claim, value):
    claims[claim] = value
    assert_refused(me(client, jwt.encode(claims, key, algorithm="HS256")), "token_invalid")


def test_expired_token_is_refused_as_token_expired(client, user, clock):
    clock.advance(30 * 60 - 1)
    assert me(client, user["token"]).status_int == 200
    clock.advance(1)
    assert_refused(me(client, user["token"]), "token_expired")


def test_token_lifetime_is_a_setting(make_config, clock):
    client = validated_client(create_app(make_config(token_ttl_seconds=60)))
    client.post_json("/api/register", {"username": "alice123", "password": "correct horse"})
    response = client.post_json("/api/login", {"username": "alice123", "password": "correct horse"})
    assert response.json["data"]["expires_in"] == 60
    clock.advance(60)
    assert_refused(me(client, response.json["data"]["access_token"]), "token_expired")


def test_revoked_token_is_refused_as_token_revoked(client, user):
    client.post("/api/logout", headers={"Authorization": f"Bearer {user['token']}"})
    assert_refused(me(client, user["token"]), "token_revoked")


def test_token_of_a_deleted_user_is_refused(client, user, app):
    with sqlite3.connect(app.services.config.data_dir / "authupload.db") as connection:
        connection.execute("DELETE FROM users WHERE id = ?", (user["id"],))
    response = me(client, user["token"])
    assert response.status_int == 401
    assert response.json["data"]["error"] in ("token_revoked", "token_invalid")
    assert response.headers["WWW-Authenticate"] == INVALID


def test_a_deleted_accounts_token_does_not_open_the_account_that_takes_its_name(client, user, app, auth):
    # Deleting the newest row used to free its id: the next account got it, and with it the old token.
    with sqlite3.connect(app.services.config.data_dir / "authupload.db") as connection:
        connection.execute("DELETE FROM users WHERE id = ?", (user["id"],))
    successor = auth.new_user()
    assert successor["username"] != user["username"]
    namesake = auth.register(user["username"])
    assert user["id"] not in (successor["id"], namesake["id"])  # AUTOINCREMENT: ids are never handed out again
    assert_refused(me(client, user["token"]), "token_revoked")


def test_a_token_does_not_open_another_account_that_has_its_id(client, user, app):
    """A restored backup can hand an id out again (its sqlite_sequence is older): the account key tells them apart."""
    with sqlite3.connect(app.services.config.data_dir / "authupload.db") as connection:
        connection.execute("DELETE FROM users WHERE id = ?", (user["id"],))
        connection.execute(
            "INSERT INTO users (id, username, username_key, password_hash, created_at) VALUES (?, ?, ?, 'x', 0)",
            (user["id"], user["username"], user["username"].lower()))
    assert_refused(me(client, user["token"]), "token_revoked")


def test_every_account_gets_its_own_random_key(app, auth):
    keys = {claims_of(app, auth.new_user())["acct"] for _ in range(3)}
    assert len(keys) == 3 and all(len(key) == 32 for key in keys)  # 128 bits, hex


def claims_of(app, user) -> dict:
    return jwt.decode(user["token"], app.services.tokens.key, algorithms=["HS256"],
                      options={"verify_exp": False, "verify_iat": False})


@pytest.mark.parametrize("purpose", [UPLOAD, DOWNLOAD, "admin", ""])
def test_token_of_another_purpose_does_not_open_the_api(client, user, app, purpose):
    token = app.services.tokens.issue(user["id"], user["username"], 0, purpose, 300,
                                      account_key=claims_of(app, user)["acct"], upload_id="x", file_id="y")
    for response in (me(client, token),
                     client.post("/api/logout", headers={"Authorization": f"Bearer {token}"}, expect_errors=True),
                     client.post("/api/token/refresh", headers={"Authorization": f"Bearer {token}"},
                                 expect_errors=True)):
        assert_refused(response, "token_invalid")
    assert me(client, user["token"]).status_int == 200  # the real access token was not revoked


@pytest.mark.parametrize("header", [
    "Bearer",
    "Bearer ",
    "Bearer  ",
    "Basic YWxpY2UxMjM6Y29ycmVjdCBob3JzZQ==",
    "Token abc",
    "garbage",
])
def test_authorization_without_a_bearer_token_is_401_token_missing(client, header):
    response = client.get("/api/me", headers={"Authorization": header}, expect_errors=True)
    assert_refused(response, "token_missing", "Bearer")


@pytest.mark.parametrize("value", [
    "garbage",
    "a.b.c",
    "a.b",
    "....",
    "Bearer x.y.z",
    "not base64!.also not.nope",
])
def test_a_malformed_bearer_token_is_401_token_invalid(client, value):
    response = client.get("/api/me", headers={"Authorization": f"Bearer {value}"}, expect_errors=True)
    assert_refused(response, "token_invalid")


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer", "bEaReR"])
def test_the_bearer_scheme_is_case_insensitive(client, user, scheme):
    # RFC 9110 §11.1: the authentication scheme is case-insensitive.
    response = client.get("/api/me", headers={"Authorization": f"{scheme} {user['token']}"})
    assert response.status_int == 200


def test_extra_spaces_around_the_token_are_tolerated(client, user):
    response = client.get("/api/me", headers={"Authorization": f"Bearer   {user['token']}  "})
    assert response.status_int == 200


def test_a_bad_token_does_not_block_routes_that_need_none(client):
    response = client.get("/api/health", headers={"Authorization": "Bearer garbage"})
    assert response.status_int == 200


def test_a_token_in_a_cookie_or_query_is_ignored(client, user):
    client.set_cookie("access_token", user["token"])
    response = client.get("/api/me?access_token=" + user["token"], expect_errors=True)
    assert_refused(response, "token_missing", "Bearer")


# --- the signing key ---------------------------------------------------------------


def test_key_file_is_created_with_mode_0600_and_32_random_bytes(tmp_path):
    key = load_signing_key("", tmp_path)
    path = tmp_path / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(key) >= MIN_KEY_BYTES
    assert len(set(key)) > 8  # not a constant filler
    assert path.read_text().strip().encode() == key


def test_key_file_differs_between_data_directories(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert load_signing_key("", tmp_path / "a") != load_signing_key("", tmp_path / "b")


def test_key_file_is_reused_across_restarts(make_config, tmp_path):
    first = validated_client(create_app(make_config()))
    first.post_json("/api/register", {"username": "alice123", "password": "correct horse"})
    token = first.post_json("/api/login", {"username": "alice123", "password": "correct horse"}).json["data"][
        "access_token"]
    second = validated_client(create_app(make_config()))
    assert me(second, token).status_int == 200
    assert not list((tmp_path / "data").glob("secret.key.*"))  # no draft left behind


def test_configured_secret_signs_the_tokens_and_no_key_file_is_written(make_config, tmp_path):
    secret = "s" * 40
    app = create_app(make_config(secret=secret))
    client = validated_client(app)
    client.post_json("/api/register", {"username": "alice123", "password": "correct horse"})
    token = client.post_json("/api/login", {"username": "alice123", "password": "correct horse"}).json["data"][
        "access_token"]
    assert jwt.decode(token, secret.encode(), algorithms=["HS256"], options={"verify_exp": False, "verify_iat": False})
    assert not (tmp_path / "data" / "secret.key").exists()


def test_authupload_secret_environment_variable_sets_the_key(tmp_path):
    config = Config.from_sources(["--data-dir", str(tmp_path)], {"AUTHUPLOAD_SECRET": "k" * 32})
    assert config.secret == "k" * 32
    assert load_signing_key(config.secret, tmp_path) == b"k" * 32


@pytest.mark.parametrize("secret", ["short", "x" * 31])
def test_a_short_secret_is_refused_at_start(make_config, secret):
    with pytest.raises(ValueError):
        create_app(make_config(secret=secret))
