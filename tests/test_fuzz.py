"""Property-based fuzzing (hypothesis): whatever arrives, the answer is a 4xx or 2xx
envelope — never a 5xx, never a traceback — and nothing is stored that should not be.

Bounded (``max_examples``) so the suite stays fast; each property still runs a few
hundred distinct inputs per CI run.
"""

from __future__ import annotations

import json
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
account_bodies = st.one_of(
    json_values,
    st.fixed_dictionaries({}, optional={
        "username": st.one_of(st.text(max_size=40), json_values),
        "password": st.one_of(st.text(max_size=80), json_values),
        "old_password": st.one_of(st.text(max_size=20), json_values),
        "new_password": st.one_of(st.text(max_size=20), json_values),
    }),
)


def assert_envelope(response):
    assert response.status_int < 500, response.body
    assert response.content_type == "application/json"
    body = response.json
    assert set(body) == {"code", "message", "data"}
    assert body["code"] == response.status_int
    if response.status_int >= 400:
        assert isinstance(body["data"]["error"], str)
    assert "Traceback" not in response.text


@FUZZ
@given(path=st.sampled_from(["/api/register", "/api/login", "/api/password"]), body=account_bodies)
def test_any_json_body_gets_an_envelope_never_a_server_error(client, auth, path, body):
    headers = auth.bearer(auth.login(auth.register()["username"])) if path == "/api/password" else {}
    response = client.post(path, json.dumps(body), headers={**headers, "Content-Type": "application/json"},
                           expect_errors=True)
    assert_envelope(response)


@FUZZ
@given(raw=st.binary(max_size=200), content_type=st.sampled_from(
    ["application/json", "application/json; charset=latin-1", "text/plain", "", "application/x-www-form-urlencoded"]))
def test_any_raw_body_gets_an_envelope(client, raw, content_type):
    response = client.post("/api/login", raw, headers={"Content-Type": content_type}, expect_errors=True)
    assert_envelope(response)


@FUZZ
@given(authorization=st.text(alphabet=string.printable.strip() + " ", max_size=300))
def test_any_authorization_header_is_a_401_envelope(client, authorization):
    response = client.get("/api/me", headers={"Authorization": authorization}, expect_errors=True)
    assert_envelope(response)
    assert response.status_int == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@FUZZ
@given(segments=st.lists(st.text(alphabet=string.ascii_letters + string.digits + "-_.~%", min_size=1, max_size=12),
                         min_size=1, max_size=4),
       method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]))
def test_any_api_path_and_method_gets_an_envelope(client, segments, method):
    response = client.request("/api/" + "/".join(segments), method=method, expect_errors=True)
    assert response.status_int < 500
    if method != "HEAD":
        assert_envelope(response)


@FUZZ
@given(accept_language=st.text(max_size=60).filter(lambda s: s.isprintable() and s.isascii()))
def test_any_accept_language_still_answers(client, accept_language):
    response = client.get("/api/health", headers={"Accept-Language": accept_language})
    assert_envelope(response)
    assert response.headers["Vary"] == "Accept-Language" or "Accept-Language" in response.headers.getall("Vary")


def user_count(app) -> int:
    return app.services.database.execute("SELECT count(*) FROM users").fetchone()[0]


@FUZZ
@given(username=st.text(max_size=40), password=st.text(max_size=40))
def test_registration_stores_only_names_that_follow_the_rule(client, app, username, password):
    before = user_count(app)
    response = client.post_json("/api/register", {"username": username, "password": password}, expect_errors=True)
    assert_envelope(response)
    if response.status_int == 200:
        assert user_count(app) == before + 1
        assert 6 <= len(username) <= 32
        assert all((c.isascii() and c.isalnum()) or "\u4e00" <= c <= "\u9fa5" for c in username)
    else:
        assert user_count(app) == before
