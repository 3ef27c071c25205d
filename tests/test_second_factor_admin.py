"""What an admin and the operator's command line do to two-factor sign-in and sessions (API.md
"Operators"): remove a lost second factor (PATCH {"totp": false}, ``users set --no-totp``), see
who has one, and end every session of an account whose password they reset or that they disable."""

from __future__ import annotations

import pytest

from test_cli import cli
from test_second_factor import PASSWORD, password_step, turn_on
from test_sessions import login, sessions_of


@pytest.fixture
def admin(auth, app):
    user = auth.new_user()
    app.services.database.execute("UPDATE users SET admin = 1 WHERE id = ?", (user["id"],))
    return user


@pytest.fixture
def enrolled(client, auth, clock):
    user = auth.new_user()
    return {**user, **turn_on(client, user, clock)}


def session_rows(app, user_id: int) -> int:
    return app.services.database.execute("SELECT count(*) FROM sessions WHERE user_id = ?", (user_id,)).fetchone()[0]


def test_an_admin_sees_who_has_two_factor_sign_in(client, admin, enrolled):
    listed = client.get("/api/admin/users", headers=admin["headers"]).json["data"]["users"]
    assert {user["username"]: user["totp"] for user in listed} == {admin["username"]: False,
                                                                  enrolled["username"]: True}


def test_an_admin_removes_a_lost_second_factor(client, admin, enrolled):
    response = client.patch_json(f"/api/admin/users/{enrolled['id']}", {"totp": False}, headers=admin["headers"])
    assert response.json["data"]["totp"] is False
    assert "access_token" in password_step(client, enrolled).json["data"]  # the password alone again
    events = client.get("/api/activity", headers=enrolled["headers"]).json["data"]["events"]
    removed = [event for event in events if event["type"] == "totp_disabled"]
    assert len(removed) == 1 and removed[0]["actor"] == f"admin:{admin['id']}"


def test_the_command_line_removes_a_lost_second_factor(client, app, enrolled):
    result = cli(app.services.config.data_dir, "users", "set", enrolled["username"], "--no-totp")
    assert result.returncode == 0, result.stderr
    assert "access_token" in password_step(client, enrolled).json["data"]
    assert client.get("/api/me", headers=enrolled["headers"]).json["data"]["totp"] is False


def test_an_admin_password_reset_ends_every_session_of_that_account(client, auth, app, admin):
    member = auth.new_user(password=PASSWORD)
    login(client, auth, member)
    client.post_json(f"/api/admin/users/{member['id']}/password", {"new_password": "a new password"},
                     headers=admin["headers"])
    assert session_rows(app, member["id"]) == 0
    assert client.get("/api/me", headers=member["headers"], expect_errors=True).status_int == 401
    assert len(sessions_of(client, admin["headers"])) == 1  # the admin's own session is untouched


def test_a_disabled_account_comes_back_with_no_session_of_before(client, auth, app, admin):
    member = auth.new_user(password=PASSWORD)
    client.patch_json(f"/api/admin/users/{member['id']}", {"disabled": True}, headers=admin["headers"])
    assert session_rows(app, member["id"]) == 0
    client.patch_json(f"/api/admin/users/{member['id']}", {"disabled": False}, headers=admin["headers"])
    fresh = login(client, auth, member)
    assert [session["current"] for session in sessions_of(client, fresh)] == [True]
