"""Registration modes and invites (API.md "Operators"): open, invite, closed; codes that
are never stored, one use per account even under a race, and checks before bcrypt."""

from __future__ import annotations

import threading

import pytest
import webtest

from authupload import create_app
from authupload.accounts.invites import invite_code, invite_id_of
from support import Auth

PASSWORD = "correct horse"


@pytest.fixture
def invite_app(make_config):
    return create_app(make_config(registration="invite"))


@pytest.fixture
def invite_client(invite_app):
    return webtest.TestApp(invite_app)


@pytest.fixture
def admin_headers(invite_app, invite_client):
    """An admin made the way the first admin is: outside the API (the CLI)."""
    invite_app.services.database.execute(
        "INSERT INTO users (username, username_key, password_hash, created_at, admin)"
        " VALUES ('theowner1', 'theowner1', ?, 0, 1)", (invite_app.services.passwords.hash_password(PASSWORD),))
    return Auth.bearer(Auth(invite_client).login("theowner1"))


def new_invite(client, headers, status=201, **body):
    return client.post_json("/api/admin/invites", body, headers=headers, status=status).json["data"]


def register(client, username, invite=None, status=200, password=PASSWORD):
    body = {"username": username, "password": password}
    if invite is not None:
        body["invite"] = invite
    return client.post_json("/api/register", body, status=status).json


def hash_counter(app):
    """Count bcrypt hashes by wrapping the real hasher (it still hashes)."""
    calls = []
    real = app.services.passwords.hash_password
    app.services.passwords.hash_password = lambda password: calls.append(1) or real(password)
    return calls


# --- the modes --------------------------------------------------------------------------


def test_open_mode_is_the_tutorials_flow(client):
    assert register(client, "openuser1")["data"]["username"] == "openuser1"


def test_closed_mode_refuses_every_registration_before_bcrypt(make_config):
    app = create_app(make_config(registration="closed"))
    calls = hash_counter(app)
    response = register(webtest.TestApp(app), "closeduser", status=403)
    assert response["data"]["error"] == "registration_closed"
    assert calls == []


def test_invite_mode_without_a_code_is_invite_required(invite_client):
    assert register(invite_client, "noinvite1", status=403)["data"]["error"] == "invite_required"
    assert register(invite_client, "noinvite1", invite="", status=403)["data"]["error"] == "invite_required"


@pytest.mark.parametrize("code", ["nonsense", "1-00000000000000000000000000000000", "99-ab", "-", "1" * 100])
def test_invite_mode_with_a_forged_code_is_invite_invalid_naming_the_field(invite_client, admin_headers, code):
    new_invite(invite_client, admin_headers)
    response = register(invite_client, "forger123", invite=code, status=403)
    assert response["data"] == {"error": "invite_invalid", "field": "invite"}


def test_an_invite_of_a_wrong_type_is_400(invite_client):
    response = register(invite_client, "typedbad1", invite=12, status=400)
    assert response["data"] == {"error": "invalid_field", "field": "invite"}


def test_an_invite_registers_one_account_with_its_quota(invite_client, admin_headers):
    invite = new_invite(invite_client, admin_headers, quota_bytes=12345)
    assert invite["uses_left"] == 1 and invite["quota_bytes"] == 12345
    assert invite["url"].endswith(f"/register.html?invite={invite['code']}")
    register(invite_client, "invited01", invite=invite["code"])
    token = Auth(invite_client).login("invited01")
    me = invite_client.get("/api/me", headers=Auth.bearer(token)).json["data"]
    assert me["usage"]["quota_bytes"] == 12345
    again = register(invite_client, "invited02", invite=invite["code"], status=403)
    assert again["data"]["error"] == "invite_invalid"


def test_a_refused_registration_does_not_use_up_the_invite(invite_client, admin_headers):
    invite = new_invite(invite_client, admin_headers)
    register(invite_client, "theowner1", invite=invite["code"], status=409)  # taken
    register(invite_client, "okname123", invite=invite["code"], password="short", status=400)
    register(invite_client, "bad name", invite=invite["code"], status=400)
    register(invite_client, "okname123", invite=invite["code"])


def test_the_checks_run_mode_then_invite_then_name_all_before_bcrypt(invite_app, invite_client, admin_headers):
    calls = hash_counter(invite_app)
    # A taken name with a bad invite: the invite is judged first.
    assert register(invite_client, "theowner1", invite="1-x", status=403)["data"]["error"] == "invite_invalid"
    invite = new_invite(invite_client, admin_headers)
    assert register(invite_client, "theowner1", invite=invite["code"], status=409)["data"]["error"] == "username_taken"
    assert calls == []


def test_an_expired_invite_is_invalid(invite_client, admin_headers, clock):
    invite = new_invite(invite_client, admin_headers, expires_in=60)
    clock.advance(61)
    assert register(invite_client, "toolate12", invite=invite["code"], status=403)["data"]["error"] == "invite_invalid"


def test_a_revoked_invite_is_invalid_and_leaves_the_list(invite_client, admin_headers):
    invite = new_invite(invite_client, admin_headers, uses=5)
    invite_client.delete(f"/api/admin/invites/{invite['id']}", headers=admin_headers)
    assert register(invite_client, "revoked12", invite=invite["code"], status=403)["data"]["error"] == "invite_invalid"
    assert invite_client.get("/api/admin/invites", headers=admin_headers).json["data"]["invites"] == []
    invite_client.delete(f"/api/admin/invites/{invite['id']}", headers=admin_headers, status=404)


def test_racing_registrations_for_the_last_use_make_one_account(invite_app, admin_headers, invite_client):
    invite = new_invite(invite_client, admin_headers, uses=1)
    statuses = []

    def race(name):
        response = webtest.TestApp(invite_app).post_json(
            "/api/register", {"username": name, "password": PASSWORD, "invite": invite["code"]}, expect_errors=True)
        statuses.append((response.status_int, response.json["data"]))

    threads = [threading.Thread(target=race, args=(f"racer{number:04d}",)) for number in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _ in statuses) == [200] + [403] * 5
    assert all(data["error"] == "invite_invalid" for status, data in statuses if status == 403)
    count = invite_app.services.database.execute("SELECT count(*) FROM users WHERE username LIKE 'racer%'")
    assert count.fetchone()[0] == 1


# --- the invite API --------------------------------------------------------------------


@pytest.mark.parametrize("body, field", [
    ({"uses": 0}, "uses"), ({"uses": 10_000}, "uses"), ({"uses": "3"}, "uses"), ({"uses": True}, "uses"),
    ({"expires_in": -1}, "expires_in"), ({"expires_in": 0}, "expires_in"),
    ({"expires_in": 91 * 86400}, "expires_in"), ({"quota_bytes": -1}, "quota_bytes"),
])
def test_bad_invites_are_400_and_none_is_made(invite_client, admin_headers, body, field):
    response = invite_client.post_json("/api/admin/invites", body, headers=admin_headers, status=400)
    assert response.json["data"] == {"error": "invalid_field", "field": field}
    assert invite_client.get("/api/admin/invites", headers=admin_headers).json["data"]["invites"] == []


def test_the_list_shows_live_invites_first_with_their_code(invite_client, admin_headers, clock):
    used = new_invite(invite_client, admin_headers)
    register(invite_client, "usedone12", invite=used["code"])
    live = new_invite(invite_client, admin_headers, uses=3)
    listed = invite_client.get("/api/admin/invites", headers=admin_headers).json["data"]["invites"]
    assert [invite["id"] for invite in listed] == [live["id"], used["id"]]
    assert listed[0] == live and listed[0]["created_by"] == "theowner1"
    assert set(live) == {"id", "code", "url", "uses_left", "expires_at", "quota_bytes", "created_at", "created_by"}


def test_invite_links_use_the_public_url_when_set(make_config):
    app = create_app(make_config(public_url="https://box.example.org/"))
    client = webtest.TestApp(app)
    app.services.database.execute(
        "INSERT INTO users (username, username_key, password_hash, created_at, admin)"
        " VALUES ('theowner1', 'theowner1', ?, 0, 1)", (app.services.passwords.hash_password(PASSWORD),))
    headers = Auth.bearer(Auth(client).login("theowner1"))
    invite = new_invite(client, headers)
    assert invite["url"] == f"https://box.example.org/register.html?invite={invite['code']}"


def test_the_database_never_holds_an_invite_code(invite_app, invite_client, admin_headers):
    invite = new_invite(invite_client, admin_headers)
    dump = "\n".join(invite_app.services.database.connection().iterdump())
    assert invite["code"].split("-", 1)[1] not in dump


def test_a_code_is_tied_to_the_signing_key():
    code = invite_code(b"k" * 32, 7)
    assert invite_id_of(b"k" * 32, code) == 7
    assert invite_id_of(b"x" * 32, code) is None


def test_invites_are_audited_without_their_code(invite_client, admin_headers):
    invite = new_invite(invite_client, admin_headers)
    register(invite_client, "audited12", invite=invite["code"])
    logged = invite_client.get("/api/admin/events", headers=admin_headers).json["data"]["events"]
    assert [event["type"] for event in logged[:3]] == ["invite_used", "register", "invite_created"]
    assert logged[0]["detail"] == {"invite_id": invite["id"]} and logged[0]["username"] == "audited12"
    assert invite["code"] not in str(logged)
