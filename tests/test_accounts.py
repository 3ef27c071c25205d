"""Accounts API (API.md "Accounts"): register, login, me, logout, password, refresh."""

from __future__ import annotations

import logging
import re
import threading

import jwt
import pytest
import webtest

from authupload import create_app
from support import assert_error, count_bcrypt_calls, validated_client

PASSWORD = "correct horse"


def post(client, path, body, **kwargs):
    return client.post_json(path, body, expect_errors=True, **kwargs)


def post_raw(client, path, body: bytes, content_type: str | None = "application/json", **kwargs):
    """POST exact bytes with exactly this Content-Type (None: no Content-Type at all)."""
    headers = dict(kwargs.pop("headers", {}))
    request = webtest.TestRequest.blank(path, method="POST", body=body, headers=headers)
    if content_type is None:
        request.environ.pop("CONTENT_TYPE", None)
    else:
        request.environ["CONTENT_TYPE"] = content_type
    return client.do_request(request, status=None, expect_errors=True)


# --- register -----------------------------------------------------------------


def test_register_returns_id_username_and_created_at(client, clock):
    response = post(client, "/api/register", {"username": "alice123", "password": PASSWORD})
    assert response.status_int == 200
    assert response.json["code"] == 200
    data = response.json["data"]
    assert set(data) == {"id", "username", "created_at"}
    assert isinstance(data["id"], int)
    assert data["username"] == "alice123"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data["created_at"])
    assert data["created_at"] == "2030-03-17T17:46:40Z"  # the MovableClock's now


@pytest.mark.parametrize("username", [
    "abcdef",  # 6: the shortest
    "a" * 32,  # 32: the longest
    "Alice123",
    "123456",
    "张三李四王五",  # CJK ideographs
    "用户abc123",
    "\u4e00\u9fa5\u4e00\u9fa5\u4e00\u9fa5",  # both ends of the CJK range
])
def test_register_accepts_usernames_of_letters_digits_and_cjk(client, username):
    response = post(client, "/api/register", {"username": username, "password": PASSWORD})
    assert response.status_int == 200, response.text
    assert response.json["data"]["username"] == username


@pytest.mark.parametrize("username", [
    "abcde",  # 5 characters
    "a" * 33,  # 33 characters
    "",
    "alice 123",  # space
    " alice123",
    "alice123 ",
    "alice_123",  # punctuation
    "alice-123",
    "alice.123",
    "alice@123",
    "alice'123",
    "alice123\n",  # a trailing newline must not slip past a $ anchor
    "alice\t123",
    "alice😀123",  # emoji
    "ａｌｉｃｅ１２３",  # fullwidth letters and digits look like ASCII
    "alice\u200b123",  # zero-width space
    "alice\u200d123",  # zero-width joiner
    "alice\ufeff123",
    "ålice123",  # letters outside ASCII
    "аlice123",  # Cyrillic а
    "\u3400abcdef",  # CJK extension A: outside U+4E00–U+9FA5
    "alice\x00123",
])
def test_register_refuses_usernames_outside_the_rule(client, username):
    response = post(client, "/api/register", {"username": username, "password": PASSWORD})
    assert_error(response, 400, "invalid_field", "username")


@pytest.mark.parametrize("password", [
    "a" * 8,  # 8 code points: the default minimum
    "😀" * 8,  # 8 code points, 32 UTF-8 bytes
    "x" * 1024,  # the maximum
    "😀" * 1024,  # 1024 code points (2048 UTF-16 units, 4096 bytes)
    "pass word with spaces",
    "密码密码密码密码",
    "nul\x00inside",
])
def test_register_accepts_passwords_of_8_to_1024_code_points(client, auth, password):
    response = post(client, "/api/register", {"username": "alice123", "password": password})
    assert response.status_int == 200, response.text
    assert post(client, "/api/login", {"username": "alice123", "password": password}).status_int == 200


@pytest.mark.parametrize("password", [
    "",
    "a" * 7,
    "😀" * 7,  # 28 bytes, but 7 code points
    "x" * 1025,
    "😀" * 1025,
])
def test_register_refuses_passwords_outside_8_to_1024_code_points(client, password):
    response = post(client, "/api/register", {"username": "alice123", "password": password})
    assert_error(response, 400, "invalid_field", "password")


def test_password_minimum_is_a_setting(make_config):
    client = validated_client(create_app(make_config(password_min_chars=6)))
    assert post(client, "/api/register", {"username": "alice123", "password": "a" * 5}).status_int == 400
    assert post(client, "/api/register", {"username": "alice123", "password": "a" * 6}).status_int == 200


def test_password_length_message_names_the_configured_limits(make_config):
    client = validated_client(create_app(make_config(password_min_chars=6)))
    response = post(client, "/api/register", {"username": "alice123", "password": "short"})
    assert "6" in response.json["message"] and "1024" in response.json["message"]


def test_duplicate_username_is_409_username_taken(client, auth):
    auth.register("alice123")
    response = post(client, "/api/register", {"username": "alice123", "password": PASSWORD})
    assert_error(response, 409, "username_taken")


@pytest.mark.parametrize("second", ["alice123", "ALICE123", "Alice123", "aLiCe123"])
def test_usernames_are_unique_regardless_of_ascii_case(client, auth, second):
    auth.register("Alice123")
    response = post(client, "/api/register", {"username": second, "password": PASSWORD})
    assert_error(response, 409, "username_taken")


def test_username_is_stored_and_shown_as_given(client, auth):
    auth.register("AlIcE123")
    token = auth.login("alice123")
    me = client.get("/api/me", headers=auth.bearer(token))
    assert me.json["data"]["username"] == "AlIcE123"


@pytest.mark.parametrize("typed", ["Alice123", "alice123", "ALICE123"])
def test_login_accepts_any_letter_case_of_the_username(client, auth, typed):
    auth.register("Alice123")
    response = post(client, "/api/login", {"username": typed, "password": PASSWORD})
    assert response.status_int == 200


def test_concurrent_registrations_of_one_name_give_one_200_and_the_rest_409(make_config):
    # A real sqlite file (the data dir is on disk) and real threads into the bare WSGI app.
    app = create_app(make_config(hash_concurrency=4, hash_queue_limit=64))
    statuses = []
    barrier = threading.Barrier(12)

    def register(number):
        request = webtest.TestRequest.blank(
            "/api/register", method="POST", content_type="application/json",
            body=('{"username": "%s", "password": "correct horse"}' % ("RaceName" if number % 2 else "racename")).encode())
        seen = {}

        def start_response(status, headers, exc_info=None):
            seen["status"] = int(status.split()[0])

        barrier.wait()
        body = app(request.environ, start_response)
        b"".join(body)
        body.close()
        statuses.append(seen["status"])

    threads = [threading.Thread(target=register, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [409] * 11
    count = app.services.database.execute("SELECT count(*) FROM users").fetchone()[0]
    assert count == 1


# --- JSON bodies ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/register", "/api/login"])
@pytest.mark.parametrize("content_type", [None, "", "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/jsonx"])
def test_json_endpoints_refuse_other_content_types_with_415(client, path, content_type):
    body = b'{"username": "alice123", "password": "correct horse"}'
    response = post_raw(client, path, body, content_type)
    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "Application/JSON", "application/json;charset=UTF-8"])
def test_json_content_type_is_matched_without_case_or_parameters(client, content_type):
    response = post_raw(client, "/api/register", b'{"username": "alice123", "password": "correct horse"}',
                        content_type)
    assert response.status_int == 200


@pytest.mark.parametrize("path", ["/api/register", "/api/login"])
@pytest.mark.parametrize("body", [
    b"",
    b"\xff\xfe{}",  # not UTF-8
    b'{"username": "alice\xe9123", "password": "correct horse"}',  # latin-1 byte inside
    b"{",
    b"{'username': 'alice123'}",
    b'{"username": "alice123",}',
    b"[]",
    b'["alice123", "correct horse"]',
    b"42",
    b"null",
    b'"alice123"',
    b"true",
    b"[" * 20000 + b"]" * 20000,  # deep nesting must not crash the parser
])
def test_json_endpoints_refuse_bodies_that_are_not_a_utf8_json_object(client, path, body):
    assert_error(post_raw(client, path, body), 400, "invalid_json")


@pytest.mark.parametrize("path", ["/api/register", "/api/login"])
def test_json_body_over_64_kib_is_413_body_too_large(client, path):
    body = b'{"username": "alice123", "password": "correct horse", "pad": "' + b"x" * (64 * 1024) + b'"}'
    assert_error(post_raw(client, path, body), 413, "body_too_large")


def test_json_body_of_exactly_64_kib_is_read(client):
    head = b'{"username": "alice123", "password": "correct horse", "pad": "'
    body = head + b"x" * (64 * 1024 - len(head) - 2) + b'"}'
    assert len(body) == 64 * 1024
    assert post_raw(client, "/api/register", body).status_int == 200


@pytest.mark.parametrize("path, body, field", [
    ("/api/register", {"password": PASSWORD}, "username"),
    ("/api/register", {"username": "alice123"}, "password"),
    ("/api/register", {"username": None, "password": PASSWORD}, "username"),
    ("/api/register", {"username": 12345678, "password": PASSWORD}, "username"),
    ("/api/register", {"username": ["alice123"], "password": PASSWORD}, "username"),
    ("/api/register", {"username": {"a": 1}, "password": PASSWORD}, "username"),
    ("/api/register", {"username": "alice123", "password": 12345678}, "password"),
    ("/api/register", {"username": "alice123", "password": True}, "password"),
    ("/api/register", {}, "username"),
    ("/api/login", {"password": PASSWORD}, "username"),
    ("/api/login", {"username": "alice123"}, "password"),
    ("/api/login", {"username": 1, "password": PASSWORD}, "username"),
    ("/api/login", {"username": "alice123", "password": None}, "password"),
])
def test_missing_or_non_string_field_is_400_invalid_field_naming_it(client, path, body, field):
    assert_error(post(client, path, body), 400, "invalid_field", field)


@pytest.mark.parametrize("path, body, field", [
    ("/api/register", b'{"username": "alice\\ud800", "password": "correct horse"}', "username"),
    ("/api/register", b'{"username": "alice123", "password": "correct \\udfff horse"}', "password"),
    ("/api/login", b'{"username": "\\ud83d", "password": "correct horse"}', "username"),
    ("/api/login", b'{"username": "alice123", "password": "\\ud800\\ud800\\ud800\\ud800"}', "password"),
])
def test_lone_surrogate_in_a_field_is_400_not_500(client, path, body, field):
    assert_error(post_raw(client, path, body), 400, "invalid_field", field)


def test_unknown_fields_are_ignored(client):
    response = post(client, "/api/register",
                    {"username": "alice123", "password": PASSWORD, "email": "a@example.com", "admin": True})
    assert response.status_int == 200
    assert set(response.json["data"]) == {"id", "username", "created_at"}


# --- login ------------------------------------------------------------------------


def test_login_returns_a_bearer_token_and_its_lifetime(client, auth, app):
    auth.register("alice123")
    response = post(client, "/api/login", {"username": "alice123", "password": PASSWORD})
    assert response.status_int == 200
    data = response.json["data"]
    assert set(data) == {"access_token", "token_type", "expires_in"}
    assert data["token_type"] == "bearer"
    assert data["expires_in"] == 30 * 60
    claims = jwt.decode(data["access_token"], app.services.tokens.key, algorithms=["HS256"],
                        options={"verify_exp": False, "verify_iat": False})
    assert claims["purpose"] == "access" and claims["name"] == "alice123"
    assert claims["exp"] - claims["iat"] == 30 * 60


def test_login_with_wrong_password_is_401_invalid_credentials(client, auth):
    auth.register("alice123")
    response = post(client, "/api/login", {"username": "alice123", "password": "wrong horse"})
    assert_error(response, 401, "invalid_credentials")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_login_with_unknown_user_looks_like_wrong_password(client, auth):
    auth.register("alice123")
    wrong_password = post(client, "/api/login", {"username": "alice123", "password": "wrong horse"})
    unknown_user = post(client, "/api/login", {"username": "nobody99", "password": "wrong horse"})
    assert unknown_user.status == wrong_password.status == "401 Unauthorized"
    assert unknown_user.body == wrong_password.body
    assert unknown_user.headers == wrong_password.headers


@pytest.mark.parametrize("username", [
    "a" * 33, "a" * 5000, "with spaces", "", "ab", "😀😀😀😀😀😀", "alice_123", "x\n\r\x00",
])
def test_login_does_not_apply_registration_rules_to_the_username(client, username):
    response = post(client, "/api/login", {"username": username, "password": PASSWORD})
    assert_error(response, 401, "invalid_credentials")


@pytest.mark.parametrize("password", ["", "a", "x" * 1025, "😀" * 5000])
def test_login_with_any_wrong_password_length_is_just_401(client, auth, password):
    auth.register("alice123")
    response = post(client, "/api/login", {"username": "alice123", "password": password})
    assert_error(response, 401, "invalid_credentials")


def test_passwords_differing_only_after_byte_72_are_different(client, auth):
    password = "p" * 72 + "tail-one"  # 80 characters
    auth.register("alice123", password)
    other = "p" * 72 + "tail-two"
    assert_error(post(client, "/api/login", {"username": "alice123", "password": other}),
                 401, "invalid_credentials")
    assert post(client, "/api/login", {"username": "alice123", "password": password}).status_int == 200


def test_passwords_differing_only_after_byte_72_of_multibyte_text_are_different(client, auth):
    password = "密" * 30  # 90 bytes
    auth.register("alice123", password)
    wrong = "密" * 29 + "码"
    assert post(client, "/api/login", {"username": "alice123", "password": wrong}).status_int == 401


def test_a_1024_character_password_registers_and_logs_in(client, auth):
    password = ("correct horse battery staple 😀 " * 40)[:1024]
    assert len(password) == 1024
    auth.register("alice123", password)
    assert post(client, "/api/login", {"username": "alice123", "password": password}).status_int == 200
    assert post(client, "/api/login", {"username": "alice123", "password": password[:-1]}).status_int == 401


# --- me -----------------------------------------------------------------------------


def test_me_returns_the_account_and_its_usage(client, auth, app):
    user = auth.new_user()
    response = client.get("/api/me", headers=user["headers"])
    assert response.json["code"] == 200
    data = response.json["data"]
    assert {k: data[k] for k in ("id", "username", "created_at")} == {
        k: user[k] for k in ("id", "username", "created_at")}
    assert data["usage"] == {"files": 0, "bytes": 0, "trash_files": 0, "trash_bytes": 0,
                             "quota_bytes": app.services.config.quota_bytes}


def test_me_without_a_token_is_401_token_missing(client):
    response = client.get("/api/me", expect_errors=True)
    assert_error(response, 401, "token_missing")
    assert response.headers["WWW-Authenticate"] == "Bearer"


# --- logout ---------------------------------------------------------------------------


def test_logout_revokes_that_token(client, auth):
    user = auth.new_user()
    assert client.post("/api/logout", headers=user["headers"]).json["code"] == 200
    response = client.get("/api/me", headers=user["headers"], expect_errors=True)
    assert_error(response, 401, "token_revoked")
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_logout_leaves_the_users_other_sessions_working(client, auth):
    user = auth.new_user()
    other_session = auth.bearer(auth.login(user["username"]))
    client.post("/api/logout", headers=user["headers"])
    assert client.get("/api/me", headers=other_session).status_int == 200


def test_logout_without_a_token_is_401(client):
    assert_error(client.post("/api/logout", expect_errors=True), 401, "token_missing")


# --- password change ----------------------------------------------------------------


def change_password(client, headers, old, new):
    return post(client, "/api/password", {"old_password": old, "new_password": new}, headers=headers)


def test_password_change_returns_a_working_token_and_the_new_password_logs_in(client, auth):
    user = auth.new_user()
    response = change_password(client, user["headers"], PASSWORD, "new password 1")
    assert response.status_int == 200
    data = response.json["data"]
    assert data["token_type"] == "bearer" and data["expires_in"] == 30 * 60
    assert client.get("/api/me", headers=auth.bearer(data["access_token"])).status_int == 200
    assert post(client, "/api/login", {"username": user["username"], "password": "new password 1"}).status_int == 200
    assert post(client, "/api/login", {"username": user["username"], "password": PASSWORD}).status_int == 401


def test_password_change_revokes_every_earlier_token(client, auth):
    user = auth.new_user()
    other_session = auth.bearer(auth.login(user["username"]))
    change_password(client, user["headers"], PASSWORD, "new password 1")
    for headers in (user["headers"], other_session):
        assert_error(client.get("/api/me", headers=headers, expect_errors=True), 401, "token_revoked")


def test_password_change_with_wrong_old_password_is_400_wrong_old_password(client, auth):
    user = auth.new_user()
    response = change_password(client, user["headers"], "not my password", "new password 1")
    assert_error(response, 400, "wrong_old_password", "old_password")
    # The session is fine and the password unchanged.
    assert client.get("/api/me", headers=user["headers"]).status_int == 200
    assert post(client, "/api/login", {"username": user["username"], "password": PASSWORD}).status_int == 200


@pytest.mark.parametrize("body, field", [
    ({"new_password": "new password 1"}, "old_password"),
    ({"old_password": PASSWORD}, "new_password"),
    ({"old_password": PASSWORD, "new_password": 12345678}, "new_password"),
    ({"old_password": PASSWORD, "new_password": "short"}, "new_password"),
    ({"old_password": PASSWORD, "new_password": "x" * 1025}, "new_password"),
])
def test_password_change_validates_its_fields(client, auth, body, field):
    user = auth.new_user()
    assert_error(post(client, "/api/password", body, headers=user["headers"]), 400, "invalid_field", field)


def test_password_change_needs_json(client, auth):
    user = auth.new_user()
    response = post_raw(client, "/api/password", b"old=x&new=y", "application/x-www-form-urlencoded",
                        headers=user["headers"])
    assert_error(response, 415, "unsupported_media_type")


def test_password_change_without_a_token_is_401(client):
    response = post(client, "/api/password", {"old_password": PASSWORD, "new_password": "new password 1"})
    assert_error(response, 401, "token_missing")


# --- refresh ----------------------------------------------------------------------------


def test_refresh_returns_a_new_token_and_the_old_one_keeps_working(client, auth, clock):
    user = auth.new_user()
    clock.advance(60)
    response = client.post("/api/token/refresh", headers=user["headers"])
    data = response.json["data"]
    assert set(data) == {"access_token", "token_type", "expires_in"}
    assert data["access_token"] != user["token"]
    assert client.get("/api/me", headers=auth.bearer(data["access_token"])).status_int == 200
    assert client.get("/api/me", headers=user["headers"]).status_int == 200


def test_refreshed_token_lives_longer_than_the_old_one(client, auth, clock):
    user = auth.new_user()
    clock.advance(20 * 60)
    fresh = auth.bearer(client.post("/api/token/refresh", headers=user["headers"]).json["data"]["access_token"])
    clock.advance(15 * 60)  # 35 minutes after login
    assert_error(client.get("/api/me", headers=user["headers"], expect_errors=True), 401, "token_expired")
    assert client.get("/api/me", headers=fresh).status_int == 200


def test_refresh_is_refused_once_the_session_is_older_than_session_max_seconds(make_config, clock):
    client = validated_client(create_app(make_config(session_max_seconds=3600)))
    client.post_json("/api/register", {"username": "alice123", "password": PASSWORD})
    token = client.post_json("/api/login", {"username": "alice123", "password": PASSWORD}).json["data"]["access_token"]
    for _ in range(3):  # keep the session alive with refreshes 20 minutes apart: 60 minutes in all
        clock.advance(20 * 60)
        response = client.post("/api/token/refresh", headers={"Authorization": f"Bearer {token}"})
        token = response.json["data"]["access_token"]
    clock.advance(60)  # 61 minutes since the password login; this token itself is fresh
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/me", headers=headers).status_int == 200
    response = client.post("/api/token/refresh", headers=headers, expect_errors=True)
    assert_error(response, 401, "token_expired")
    assert "WWW-Authenticate" in response.headers


def test_refresh_without_a_token_is_401(client):
    assert_error(client.post("/api/token/refresh", expect_errors=True), 401, "token_missing")


# --- the login log ----------------------------------------------------------------------


def auth_lines(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "authupload.auth"]


def test_every_login_attempt_is_logged_with_address_and_username(client, auth, caplog):
    caplog.set_level(logging.INFO)
    auth.register("alice123")
    env = {"REMOTE_ADDR": "203.0.113.9"}
    post(client, "/api/login", {"username": "alice123", "password": PASSWORD}, extra_environ=env)
    post(client, "/api/login", {"username": "alice123", "password": "wrong horse"}, extra_environ=env)
    post(client, "/api/login", {"username": "nobody99", "password": "wrong horse"}, extra_environ=env)
    assert auth_lines(caplog) == [
        'login succeeded address=203.0.113.9 user="alice123"',
        'login failed address=203.0.113.9 user="alice123"',
        'login failed address=203.0.113.9 user="nobody99"',
    ]


def test_throttled_login_attempts_are_logged_too(make_config, caplog):
    caplog.set_level(logging.INFO)
    client = validated_client(create_app(make_config(max_failures_per_username=1)))
    env = {"REMOTE_ADDR": "198.51.100.7"}
    post(client, "/api/login", {"username": "alice123", "password": "x"}, extra_environ=env)
    post(client, "/api/login", {"username": "alice123", "password": "x"}, extra_environ=env)
    assert auth_lines(caplog)[-1] == 'login throttled address=198.51.100.7 user="alice123"'


@pytest.mark.parametrize("username", [
    'evil\nlogin succeeded address=1.2.3.4 user="admin"',
    "evil\r\nx",
    'evil" address=1.2.3.4',
    "evil\x1b[31m",
    "evil\u2028line",
])
def test_a_username_cannot_forge_a_login_log_line(client, caplog, username):
    caplog.set_level(logging.INFO)
    post(client, "/api/login", {"username": username, "password": PASSWORD}, extra_environ={"REMOTE_ADDR": "10.0.0.1"})
    (line,) = auth_lines(caplog)
    assert "\n" not in line and "\r" not in line and "\x1b" not in line and "\u2028" not in line
    assert re.fullmatch(r'login failed address=10\.0\.0\.1 user="(?:[^"\\]|\\.)*"', line), line


def test_no_password_or_token_ever_reaches_a_log(client, auth, caplog):
    caplog.set_level(logging.DEBUG)
    first, second, third = "first-Pa55word-secret", "second-Pa55word-secret", "third-Pa55word-secret"
    auth.register("alice123", first)
    post(client, "/api/login", {"username": "alice123", "password": "wrong-Pa55word-secret"})
    token = auth.login("alice123", first)
    headers = auth.bearer(token)
    client.get("/api/me", headers=headers)
    client.get("/api/me?token=" + token, headers=headers)
    refreshed = client.post("/api/token/refresh", headers=headers).json["data"]["access_token"]
    changed = change_password(client, auth.bearer(refreshed), first, second).json["data"]["access_token"]
    change_password(client, auth.bearer(changed), "wrong-old-secret", third)
    client.post("/api/logout", headers=auth.bearer(changed))
    client.get("/api/me", headers=auth.bearer(changed), expect_errors=True)
    text = caplog.text
    assert caplog.records, "the flow should have logged something"
    for secret in (first, second, third, "wrong-Pa55word-secret", "wrong-old-secret", token, refreshed, changed):
        assert secret not in text
    for jwt_part in {part for t in (token, refreshed, changed) for part in t.split(".")}:
        assert jwt_part not in text


def test_guessing_the_old_password_with_a_stolen_token_is_throttled_like_a_login(client, auth, make_config):
    user = auth.new_user()
    for _ in range(10):
        wrong = client.post_json("/api/password", {"old_password": "guess guess", "new_password": "new password 1"},
                                 headers=user["headers"], status=400)
        assert wrong.json["data"]["error"] == "wrong_old_password"
    locked = client.post_json("/api/password", {"old_password": "correct horse", "new_password": "new password 1"},
                              headers=user["headers"], status=429)
    assert locked.json["data"]["error"] == "too_many_attempts"
    assert int(locked.headers["Retry-After"]) > 0


# --- refusals that cost no bcrypt work ---------------------------------------------


def test_registering_a_taken_name_is_409_before_any_bcrypt_work(client, auth, monkeypatch):
    auth.register("alice123")
    calls = count_bcrypt_calls(monkeypatch)
    assert_error(post(client, "/api/register", {"username": "ALICE123", "password": PASSWORD}), 409, "username_taken")
    assert calls == []


def test_logging_in_to_a_locked_username_is_429_before_any_bcrypt_work(make_config, monkeypatch):
    client = validated_client(create_app(make_config(max_failures_per_username=2)))
    client.post_json("/api/register", {"username": "alice123", "password": PASSWORD})
    for _ in range(2):
        post(client, "/api/login", {"username": "alice123", "password": "wrong horse"})
    calls = count_bcrypt_calls(monkeypatch)
    assert_error(post(client, "/api/login", {"username": "alice123", "password": PASSWORD}), 429, "too_many_attempts")
    assert calls == []
