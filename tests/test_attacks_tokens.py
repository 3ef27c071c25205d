"""Attacks on bearer tokens and download links (docs/threats.md, "Tokens").

test_tokens.py holds the everyday rules (alg none, HS512, another key, missing
claims, expiry, revocation); these are the forging tricks on top: algorithm
confusion with a real RSA key pair, header tampering (kid, jku, jwk injection),
and tokens of one purpose pushed into another's lane after they should have died.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

INVALID = 'Bearer error="invalid_token"'
TUS = {"Tus-Resumable": "1.0.0"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def craft(header: dict, claims: dict, key: bytes) -> str:
    """An HS256-shaped JWT signed by hand with ``key`` (whatever the header claims)."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())}"


@pytest.fixture
def claims(user, app):
    return jwt.decode(user["token"], app.services.tokens.key, algorithms=["HS256"],
                      options={"verify_exp": False, "verify_iat": False})


@pytest.fixture(scope="module")
def rsa_pair():
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public_pem


def me(client, token: str):
    return client.get("/api/me", headers={"Authorization": f"Bearer {token}"}, expect_errors=True)


def assert_refused(response, key: str = "token_invalid"):
    assert response.status_int == 401, response.text
    assert response.json["data"] == {"error": key}
    assert response.headers["WWW-Authenticate"] == INVALID


# --- algorithm confusion -------------------------------------------------------------


def test_rs256_token_signed_with_a_real_private_key_is_refused(client, claims, rsa_pair):
    private, _ = rsa_pair
    assert_refused(me(client, jwt.encode(claims, private, algorithm="RS256")))


def test_hs256_signed_with_a_public_key_as_the_hmac_secret_is_refused(client, claims, rsa_pair):
    # The classic confusion: a server that verifies RS256 with a public key would accept
    # an HS256 token whose HMAC key is that (public!) PEM. Our key is a secret, never a PEM.
    _, public_pem = rsa_pair
    assert_refused(me(client, craft({"alg": "HS256", "typ": "JWT"}, claims, public_pem)))


@pytest.mark.parametrize("alg", ["HS384", "HS512", "RS256", "ES256", "PS256", "EdDSA", "hs256", ""])
def test_changing_the_alg_header_and_keeping_the_signature_is_refused(client, user, alg):
    _, payload, signature = user["token"].split(".")
    header = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    assert_refused(me(client, f"{header}.{payload}.{signature}"))


# --- header tampering ----------------------------------------------------------------


@pytest.mark.parametrize("extra", [
    {"kid": "../../../../../../dev/null"},  # a server that reads its key from a file named by kid
    {"kid": "x' UNION SELECT 'attacker-key"},  # ... or from a database row named by kid
    {"jku": "https://attacker.example/jwks.json"},  # ... or fetches keys from a URL in the token
    {"jwk": {"kty": "oct", "k": b64(b"attacker-key")}},  # ... or trusts a key embedded in it
], ids=["kid path traversal", "kid sql injection", "jku", "embedded jwk"])
@pytest.mark.parametrize("attacker_key", [b"", b"attacker-key", b"\x00"], ids=["empty", "own", "nul"])
def test_a_header_naming_its_own_key_is_ignored(client, claims, extra, attacker_key):
    assert_refused(me(client, craft({"alg": "HS256", "typ": "JWT", **extra}, claims, attacker_key)))


def test_adding_a_kid_to_a_genuine_token_breaks_its_signature(client, user):
    _, payload, signature = user["token"].split(".")
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "1"}).encode())
    assert_refused(me(client, f"{header}.{payload}.{signature}"))


def test_a_token_with_the_version_claim_missing_is_refused(client, claims, app):
    del claims["ver"]  # without it a password change could not kill the token
    assert_refused(me(client, jwt.encode(claims, app.services.tokens.key, algorithm="HS256")))


def test_a_token_pointed_at_another_user_cannot_be_resigned(client, claims, auth):
    # Only the signature binds sub: re-signing with any guessable key fails.
    other = auth.register()
    forged = {**claims, "sub": str(other["id"]), "name": other["username"]}
    for guess in (b"secret", b"", b"authupload", b"0" * 32):
        assert_refused(me(client, craft({"alg": "HS256", "typ": "JWT"}, forged, guess)))


# --- tokens out of their lane, or past their death -----------------------------------


def upload_one(client, user, name="f.txt", data=b"data"):
    return client.post("/api/files", upload_files=[("file", name, data)],
                       headers=user["headers"]).json["data"]["files"][0]


def link_token(client, user, file_id) -> str:
    url = client.post(f"/api/files/{file_id}/link", headers=user["headers"]).json["data"]["url"]
    return url.split("token=")[1]


def test_a_download_link_of_one_user_opens_no_file_of_another_even_with_the_same_id(client, auth, user):
    # The file id in the link must be the claimed one AND belong to the token's subject.
    mine = upload_one(client, user)
    token = link_token(client, user, mine["id"])
    intruder = auth.new_user()
    response = client.get(f"/api/files/{mine['id']}/download?token={token}",
                          headers=intruder["headers"])  # a second identity changes nothing
    assert response.body == b"data"
    assert_refused(client.get(f"/api/files/{'0' * 32}/download?token={token}", expect_errors=True))


def test_a_download_link_dies_with_a_password_change_even_if_the_file_stays(client, user):
    file = upload_one(client, user)
    token = link_token(client, user, file["id"])
    client.post_json("/api/password", {"old_password": "correct horse", "new_password": "battery staple"},
                     headers=user["headers"])
    assert_refused(client.get(f"/api/files/{file['id']}/download?token={token}", expect_errors=True),
                   "token_revoked")


def test_a_download_link_dies_with_its_lifetime_and_says_so(client, user, clock, app):
    file = upload_one(client, user)
    token = link_token(client, user, file["id"])
    clock.advance(app.services.config.link_ttl_seconds)
    assert_refused(client.get(f"/api/files/{file['id']}/download?token={token}", expect_errors=True),
                   "token_expired")


def test_an_upload_token_dies_with_a_password_change(client, user):
    created = client.post("/api/uploads", headers={**user["headers"], **TUS, "Upload-Length": "3"}, status=201)
    upload_bearer = {"Authorization": f"Bearer {created.headers['Upload-Token']}", **TUS}
    client.head(created.headers["Location"], headers=upload_bearer, status=200)
    client.post_json("/api/password", {"old_password": "correct horse", "new_password": "battery staple"},
                     headers=user["headers"])
    response = client.head(created.headers["Location"], headers=upload_bearer, status=401)
    assert response.headers["WWW-Authenticate"] == INVALID


def test_an_upload_token_cannot_mint_links_or_refresh(client, user):
    created = client.post("/api/uploads", headers={**user["headers"], **TUS, "Upload-Length": "3"}, status=201)
    upload_bearer = {"Authorization": f"Bearer {created.headers['Upload-Token']}"}
    file = upload_one(client, user)
    assert_refused(client.post(f"/api/files/{file['id']}/link", headers=upload_bearer, expect_errors=True))
    assert_refused(client.post("/api/token/refresh", headers=upload_bearer, expect_errors=True))
    assert_refused(client.post("/api/logout", headers=upload_bearer, expect_errors=True))


def test_a_logged_out_token_cannot_be_refreshed_back_to_life(client, user):
    client.post("/api/logout", headers=user["headers"])
    assert_refused(client.post("/api/token/refresh", headers=user["headers"], expect_errors=True), "token_revoked")
