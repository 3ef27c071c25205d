"""Sessions you can see and end, and your own activity (API.md "Account security", the changed
logout, and the tus rule that an Upload-Token dies with its session)."""

from __future__ import annotations

import json

import pytest

from authupload.accounts import tokens
from support import assert_error

PASSWORD = "correct horse"
TUS = {"Tus-Resumable": "1.0.0"}


@pytest.fixture
def user(auth):
    return auth.new_user()


def login(client, auth, user, user_agent="Mozilla/5.0 (test) Firefox/140.0", address="198.51.100.7") -> dict:
    """Another sign-in of ``user`` from another browser and address: its headers."""
    response = client.post_json("/api/login", {"username": user["username"], "password": PASSWORD},
                                headers={"User-Agent": user_agent}, extra_environ={"REMOTE_ADDR": address})
    return auth.bearer(response.json["data"]["access_token"])


def sessions_of(client, headers) -> list[dict]:
    return client.get("/api/sessions", headers=headers).json["data"]["sessions"]


def me_status(client, headers) -> int:
    return client.get("/api/me", headers=headers, expect_errors=True).status_int


def refreshed(client, auth, headers) -> dict:
    return auth.bearer(client.post("/api/token/refresh", headers=headers).json["data"]["access_token"])


# --- the list ---------------------------------------------------------------------------------


def test_each_login_is_a_session_with_its_browser_and_address(client, auth, user):
    phone = login(client, auth, user, user_agent="Phone browser", address="203.0.113.5")
    listed = sessions_of(client, user["headers"])
    assert len(listed) == 2
    assert {frozenset(session) for session in listed} == {
        frozenset({"id", "created_at", "last_seen_at", "address", "user_agent", "current"})}
    mine = [session for session in listed if session["current"]]
    other = [session for session in listed if not session["current"]]
    assert len(mine) == 1 and len(other) == 1
    assert (other[0]["user_agent"], other[0]["address"]) == ("Phone browser", "203.0.113.5")
    # The same list seen from the phone marks the phone.
    from_phone = {session["id"]: session["current"] for session in sessions_of(client, phone)}
    assert from_phone == {mine[0]["id"]: False, other[0]["id"]: True}


def test_a_long_user_agent_is_cut_to_200_characters(client, auth, user):
    headers = login(client, auth, user, user_agent="B" * 5000)
    current = [session for session in sessions_of(client, headers) if session["current"]][0]
    assert current["user_agent"] == "B" * 200


def test_refreshes_carry_the_session_on(client, auth, user, clock):
    clock.advance(60)
    fresh = refreshed(client, auth, user["headers"])
    listed = sessions_of(client, fresh)
    assert len(listed) == 1 and listed[0]["current"]


def test_another_users_sessions_are_not_listed(client, auth, user):
    stranger = auth.new_user()
    assert len(sessions_of(client, stranger["headers"])) == 1


def test_last_seen_is_written_at_most_once_a_minute(client, auth, user, clock, app):
    def last_seen_at() -> float:
        return app.services.database.execute("SELECT last_seen_at FROM sessions").fetchone()[0]

    started = last_seen_at()
    clock.advance(30)
    client.get("/api/me", headers=user["headers"])
    assert last_seen_at() == started  # a read stays a read
    clock.advance(31)
    client.get("/api/me", headers=user["headers"])
    assert last_seen_at() == started + 61


def test_a_session_past_its_lifetime_is_not_listed(client, auth, user, clock, app):
    config = app.services.config
    clock.advance(config.session_max_seconds + config.token_ttl_seconds - 60)
    fresh = login(client, auth, user)
    assert len(sessions_of(client, fresh)) == 2
    clock.advance(61)
    assert len(sessions_of(client, fresh)) == 1


def test_an_access_token_without_a_session_is_refused(client, auth, user, app):
    """A token from before sessions existed names none: it could never be logged out, so it is refused."""
    account_key = app.services.database.execute("SELECT account_key FROM users WHERE id = ?",
                                                (user["id"],)).fetchone()[0]
    old_style = app.services.tokens.issue(user["id"], user["username"], 0, tokens.ACCESS, 600,
                                          account_key=account_key)
    assert_error(client.get("/api/me", headers=auth.bearer(old_style), expect_errors=True), 401, "token_revoked")


# --- ending sessions --------------------------------------------------------------------------


def test_logout_ends_the_session_refreshed_tokens_included(client, auth, user, clock):
    clock.advance(60)
    fresh = refreshed(client, auth, user["headers"])
    laptop = login(client, auth, user)
    client.post("/api/logout", headers=fresh)
    for headers in (user["headers"], fresh):
        assert_error(client.get("/api/me", headers=headers, expect_errors=True), 401, "token_revoked")
    assert me_status(client, laptop) == 200


def test_ending_one_session_refuses_its_tokens_at_once(client, auth, user):
    phone = login(client, auth, user)
    phone_id = [session["id"] for session in sessions_of(client, phone) if session["current"]][0]
    assert client.delete(f"/api/sessions/{phone_id}", headers=user["headers"]).status_int == 200
    assert_error(client.get("/api/me", headers=phone, expect_errors=True), 401, "token_revoked")
    assert_error(client.post("/api/token/refresh", headers=phone, expect_errors=True), 401, "token_revoked")
    assert me_status(client, user["headers"]) == 200
    assert len(sessions_of(client, user["headers"])) == 1


def test_another_users_session_id_is_404_and_that_session_lives_on(client, auth, user):
    stranger = auth.new_user()
    stranger_id = sessions_of(client, stranger["headers"])[0]["id"]
    assert_error(client.delete(f"/api/sessions/{stranger_id}", headers=user["headers"], expect_errors=True),
                 404, "not_found")
    assert_error(client.delete("/api/sessions/no-such-session", headers=user["headers"], expect_errors=True),
                 404, "not_found")
    assert me_status(client, stranger["headers"]) == 200


def test_ending_every_other_session_keeps_this_one(client, auth, user):
    others = [login(client, auth, user) for _ in range(3)]
    response = client.delete("/api/sessions", headers=user["headers"])
    assert response.json["data"] == {"ended": 3}
    for headers in others:
        assert me_status(client, headers) == 401
    assert [session["current"] for session in sessions_of(client, user["headers"])] == [True]


def test_a_password_change_ends_every_session_and_begins_one(client, auth, user):
    phone = login(client, auth, user)
    response = client.post_json("/api/password", {"old_password": PASSWORD, "new_password": "battery staple"},
                                headers=user["headers"])
    fresh = auth.bearer(response.json["data"]["access_token"])
    for headers in (user["headers"], phone):
        assert me_status(client, headers) == 401
    assert [session["current"] for session in sessions_of(client, fresh)] == [True]


# --- resumable uploads and download links -----------------------------------------------------


def create_upload(client, headers) -> tuple[str, dict]:
    created = client.post("/api/uploads", headers={**headers, **TUS, "Upload-Length": "3"}, status=201)
    return created.headers["Location"], {"Authorization": f"Bearer {created.headers['Upload-Token']}", **TUS}


@pytest.mark.parametrize("end", ["logout", "ended from another device"])
def test_an_upload_token_dies_with_its_session_and_the_owner_resumes_with_a_later_login(client, auth, user, end):
    location, upload_bearer = create_upload(client, user["headers"])
    client.head(location, headers=upload_bearer, status=200)
    later = login(client, auth, user)
    if end == "logout":
        client.post("/api/logout", headers=user["headers"])
    else:
        client.delete("/api/sessions", headers=later)
    response = client.head(location, headers=upload_bearer, expect_errors=True)  # HEAD: no body, the challenge says why
    assert response.status_int == 401 and "invalid_token" in response.headers["WWW-Authenticate"]
    patched = client.patch(location, b"abc", headers={**later, **TUS, "Upload-Offset": "0",
                                                      "Content-Type": "application/offset+octet-stream"})
    assert patched.status_int == 204 and patched.headers["Upload-File-Id"]


def test_an_upload_token_of_another_session_lives_on(client, auth, user):
    location, upload_bearer = create_upload(client, user["headers"])
    phone = login(client, auth, user)
    client.post("/api/logout", headers=phone)
    client.head(location, headers=upload_bearer, status=200)


def test_a_download_link_outlives_a_logout(client, user):
    uploaded = client.post("/api/files", headers=user["headers"], upload_files=[("file", "a.txt", b"hello")])
    file_id = uploaded.json["data"]["files"][0]["id"]
    url = client.post(f"/api/files/{file_id}/link", headers=user["headers"]).json["data"]["url"]
    client.post("/api/logout", headers=user["headers"])
    assert client.get(url).body == b"hello"


# --- activity ---------------------------------------------------------------------------------


def activity(client, headers, query="") -> dict:
    return client.get(f"/api/activity{query}", headers=headers).json["data"]


def test_activity_lists_my_sign_ins_failures_and_changes_newest_first(client, auth, user):
    client.post_json("/api/login", {"username": user["username"], "password": "wrong password"},
                     extra_environ={"REMOTE_ADDR": "192.0.2.66"}, expect_errors=True)
    phone = login(client, auth, user, address="203.0.113.5")
    client.delete("/api/sessions", headers=user["headers"])
    response = client.post_json("/api/password", {"old_password": PASSWORD, "new_password": "battery staple"},
                                headers=user["headers"])
    fresh = auth.bearer(response.json["data"]["access_token"])
    client.post("/api/logout", headers=fresh)
    again = auth.bearer(auth.login(user["username"], "battery staple"))
    data = activity(client, again)
    types = [event["type"] for event in data["events"]]
    assert types == ["login", "logout", "password_changed", "session_revoked", "login", "login_failed", "login",
                     "register"]
    assert data["total"] == 8
    failed = data["events"][5]
    assert (failed["address"], failed["actor"], failed["user_id"]) == ("192.0.2.66", "anonymous", user["id"])
    assert data["events"][4]["address"] == "203.0.113.5"
    assert phone  # that sign-in is the "login" from 203.0.113.5


def test_activity_pages_and_counts(client, auth, user):
    for _ in range(4):
        login(client, auth, user)
    first = activity(client, user["headers"], "?limit=2")
    second = activity(client, user["headers"], "?limit=2&offset=2")
    assert first["total"] == second["total"] == 6  # the registration and five logins
    ids = [event["id"] for event in first["events"] + second["events"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 4


@pytest.mark.parametrize("query", ["?limit=0", "?limit=501", "?offset=-1", "?limit=x", "?offset=" + "9" * 30])
def test_activity_refuses_bad_paging(client, user, query):
    response = client.get(f"/api/activity{query}", headers=user["headers"], expect_errors=True)
    assert response.status_int == 400 and response.json["data"]["error"] == "invalid_query"


def test_activity_shows_nobody_elses_events(client, auth, user):
    stranger = auth.new_user()
    client.post_json("/api/login", {"username": stranger["username"], "password": "wrong"}, expect_errors=True)
    assert {event["user_id"] for event in activity(client, user["headers"])["events"]} == {user["id"]}


def test_two_factor_changes_are_in_my_activity_without_any_code(client, auth, user, clock):
    from authupload.accounts import totp
    secret = client.post_json("/api/totp/setup", {"password": PASSWORD}, headers=user["headers"]).json["data"]["secret"]
    code = totp.code_at(totp.secret_from_base32(secret), clock())
    recovery_codes = client.post_json("/api/totp/enable", {"code": code},
                                      headers=user["headers"]).json["data"]["recovery_codes"]
    mfa_token = client.post_json("/api/login", {"username": user["username"], "password": PASSWORD}).json[
        "data"]["mfa_token"]
    client.post_json("/api/login/totp", {"mfa_token": mfa_token, "code": recovery_codes[0]})
    client.post_json("/api/totp/disable", {"password": PASSWORD, "code": recovery_codes[1]}, headers=user["headers"])
    events = activity(client, user["headers"])["events"]
    assert [event["type"] for event in events] == [
        "totp_disabled", "recovery_code_used", "login", "recovery_code_used", "totp_enabled", "login", "register"]
    assert events[2]["detail"] == {"second_factor": "recovery_code"}
    written = json.dumps(events)
    for secret_value in [secret, code, *recovery_codes, user["token"]]:
        assert secret_value not in written


def test_activity_total_follows_events_as_they_come_and_go(client, auth, user, app, clock):
    from authupload.accounts.audit import remove_old_events
    for _ in range(3):
        login(client, auth, user)
    assert activity(client, user["headers"])["total"] == 5  # registration, four logins
    clock.advance(3600)
    latest = login(client, auth, user)
    with app.services.database.transaction() as connection:
        assert remove_old_events(connection, clock(), 1800) == 5  # all but the newest login
    data = activity(client, latest)
    assert data["total"] == len(data["events"]) == 1


def test_a_database_upgraded_with_events_counts_each_accounts_own(make_config, tmp_path, clock):
    import sqlite3

    from authupload import create_app
    from authupload.db import MIGRATIONS, _statements
    data_dir = tmp_path / "upgraded"
    data_dir.mkdir()
    with sqlite3.connect(data_dir / "authupload.db") as old:
        for script in MIGRATIONS[:8]:  # as the box was before the counter
            for statement in _statements(script):
                old.execute(statement)
        old.execute("PRAGMA user_version = 8")
        for name in ("alice123", "bobby123"):
            old.execute("INSERT INTO users (username, username_key, password_hash, created_at) VALUES (?, ?, 'x', 0)",
                        (name, name))
        old.executemany("INSERT INTO events (at, type, user_id, actor) VALUES (?, 'login', ?, 'self')",
                        [(clock(), 1), (clock(), 1), (clock(), 1), (clock(), 2), (clock(), None)])
    database = create_app(make_config(data_dir=data_dir)).services.database
    counts = dict(database.execute("SELECT username, event_count FROM users").fetchall())
    assert counts == {"alice123": 3, "bobby123": 1}


def test_the_check_before_a_body_is_read_never_writes_last_seen(app, client, auth, clock):
    """early.py verifies on waitress's event-loop thread: it must not wait for the write lock."""
    user = auth.new_user()
    claims = app.services.tokens.verify(user["token"])
    clock.advance(120)
    seen = "SELECT last_seen_at FROM sessions WHERE id = ?"
    before = app.services.database.execute(seen, (claims["sid"],)).fetchone()[0]
    app.services.tokens.verify(user["token"], note_activity=False)
    assert app.services.database.execute(seen, (claims["sid"],)).fetchone()[0] == before
    app.services.tokens.verify(user["token"])
    assert app.services.database.execute(seen, (claims["sid"],)).fetchone()[0] == before + 120
