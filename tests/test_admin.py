"""The admin API (API.md "Operators"): who may call it, accounts, roles, quota, the
last-admin rule, deletion with everything an account owns, and bad input."""

from __future__ import annotations

import threading

import pytest
import webtest

from authupload import create_app
from authupload.accounts.tokens import DOWNLOAD, UPLOAD
from support import Auth

PASSWORD = "correct horse"


def promote(app, user_id: int) -> None:
    app.services.database.execute("UPDATE users SET admin = 1 WHERE id = ?", (user_id,))


@pytest.fixture
def admin(auth, app):
    """A signed-in admin (made the way the first admin is: outside the API)."""
    user = auth.new_user()
    promote(app, user["id"])
    return user


@pytest.fixture
def member(auth):
    return auth.new_user()


def error_of(response) -> str:
    return response.json["data"]["error"]


def patch(client, admin, user_id, body, status=200):
    return client.patch_json(f"/api/admin/users/{user_id}", body, headers=admin["headers"], status=status)


# --- who may call it ----------------------------------------------------------------------

ADMIN_READS = ["/api/admin/users", "/api/admin/invites", "/api/admin/events"]


@pytest.mark.parametrize("path", ADMIN_READS)
def test_a_plain_user_is_forbidden(client, member, path):
    response = client.get(path, headers=member["headers"], status=403)
    assert error_of(response) == "forbidden"


@pytest.mark.parametrize("path", ADMIN_READS)
def test_no_token_is_401(client, path):
    assert error_of(client.get(path, status=401)) == "token_missing"


@pytest.mark.parametrize("purpose", [UPLOAD, DOWNLOAD])
def test_an_upload_token_or_a_download_link_of_an_admin_is_401_on_admin_routes(client, app, admin, purpose):
    (account_key,) = app.services.database.execute(
        "SELECT account_key FROM users WHERE id = ?", (admin["id"],)).fetchone()
    token = app.services.tokens.issue(admin["id"], admin["username"], 0, purpose, 300, account_key=account_key,
                                      upload_id="x", file="y")
    response = client.get("/api/admin/users", headers=Auth.bearer(token), status=401)
    assert error_of(response) == "token_invalid"


def test_a_demoted_admin_keeps_the_session_but_is_forbidden_from_then_on(client, app, admin):
    other = Auth(client).new_user()
    promote(app, other["id"])
    patch(client, other, admin["id"], {"admin": False})
    assert client.get("/api/me", headers=admin["headers"]).json["data"]["admin"] is False
    assert error_of(client.get("/api/admin/users", headers=admin["headers"], status=403)) == "forbidden"


def test_me_says_whether_i_am_an_admin(client, admin, member):
    assert client.get("/api/me", headers=admin["headers"]).json["data"]["admin"] is True
    assert client.get("/api/me", headers=member["headers"]).json["data"]["admin"] is False


# --- the list -------------------------------------------------------------------------------


def test_the_user_list_is_by_name_with_usage_and_a_total(client, admin, member, make_config):
    client.post("/api/files", upload_files=[("file", "a.txt", b"12345")], headers=member["headers"])
    data = client.get("/api/admin/users", headers=admin["headers"]).json["data"]
    assert data["total"] == 2
    names = [user["username"] for user in data["users"]]
    assert names == sorted(names, key=str.lower)
    listed = {user["id"]: user for user in data["users"]}[member["id"]]
    assert listed["usage"] == {"files": 1, "bytes": 5, "quota_bytes": make_config().quota_bytes}
    assert set(listed) == {"id", "username", "admin", "disabled", "totp", "created_at", "last_login_at", "usage"}
    assert listed["last_login_at"] is not None and listed["admin"] is False and listed["disabled"] is False


def test_search_is_name_contains_in_any_case_and_wildcards_are_plain_characters(client, admin, auth):
    auth.register("ZebraCrossing")
    auth.register("zebrafish")
    auth.register("giraffe1")
    found = client.get("/api/admin/users?q=ZEBRA", headers=admin["headers"]).json["data"]
    assert [user["username"] for user in found["users"]] == ["ZebraCrossing", "zebrafish"]
    assert found["total"] == 2
    assert client.get("/api/admin/users?q=%25", headers=admin["headers"]).json["data"]["total"] == 0
    assert client.get("/api/admin/users?q=_", headers=admin["headers"]).json["data"]["total"] == 0


def test_search_finds_short_and_chinese_parts_and_forgets_deleted_accounts(client, admin, auth):
    gone = auth.register("vanishing1")
    auth.register("张三丰的账号")
    assert [user["username"] for user in client.get("/api/admin/users?q=VA", headers=admin["headers"])
            .json["data"]["users"]] == ["vanishing1"]
    assert client.get("/api/admin/users?q=三丰的", headers=admin["headers"]).json["data"]["total"] == 1
    client.delete(f"/api/admin/users/{gone['id']}", headers=admin["headers"])
    assert client.get("/api/admin/users?q=vanish", headers=admin["headers"]).json["data"] == {"users": [], "total": 0}


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "limit=x", "offset=-1", "offset=1e3"])
def test_bad_paging_is_invalid_query(client, admin, query):
    for path in ADMIN_READS[::2]:
        assert error_of(client.get(f"{path}?{query}", headers=admin["headers"], status=400)) == "invalid_query"


# --- creating accounts -----------------------------------------------------------------


@pytest.mark.parametrize("mode", ["open", "invite", "closed"])
def test_an_admin_creates_accounts_in_every_registration_mode(make_config, mode):
    app = create_app(make_config(registration=mode))
    client = webtest.TestApp(app)
    first = app.services.database.execute(
        "INSERT INTO users (username, username_key, password_hash, created_at, admin) VALUES"
        " ('firstadmin', 'firstadmin', ?, 0, 1) RETURNING id",
        (app.services.passwords.hash_password(PASSWORD),)).fetchone()[0]
    headers = Auth.bearer(Auth(client).login("firstadmin"))
    response = client.post_json("/api/admin/users", {"username": "newcomer1", "password": PASSWORD,
                                                     "quota_bytes": 1000, "admin": True}, headers=headers, status=201)
    assert response.json["data"]["admin"] is True and response.json["data"]["usage"]["quota_bytes"] == 1000
    assert Auth(client).login("newcomer1")
    assert first


@pytest.mark.parametrize("body, field", [
    ({"username": "short", "password": PASSWORD}, "username"),
    ({"username": "longenough1", "password": "short"}, "password"),
    ({"username": "longenough1", "password": PASSWORD, "admin": "yes"}, "admin"),
    ({"username": "longenough1", "password": PASSWORD, "quota_bytes": -1}, "quota_bytes"),
    ({"username": "longenough1", "password": PASSWORD, "quota_bytes": 2**60}, "quota_bytes"),
    ({"username": "longenough1", "password": PASSWORD, "quota_bytes": "10G"}, "quota_bytes"),
    ({"username": "longenough1", "password": PASSWORD, "quota_bytes": 1.5}, "quota_bytes"),
    ({"username": 12345678, "password": PASSWORD}, "username"),
])
def test_creating_with_bad_input_is_400_naming_the_field_and_creates_nothing(client, admin, body, field):
    response = client.post_json("/api/admin/users", body, headers=admin["headers"], status=400)
    assert response.json["data"] == {"error": "invalid_field", "field": field}
    assert client.get("/api/admin/users", headers=admin["headers"]).json["data"]["total"] == 1


def test_creating_a_taken_name_is_409_in_any_letter_case(client, admin, member):
    response = client.post_json("/api/admin/users", {"username": member["username"].upper(), "password": PASSWORD},
                                headers=admin["headers"], status=409)
    assert error_of(response) == "username_taken"


# --- changing accounts -----------------------------------------------------------------


@pytest.mark.parametrize("body, field", [
    ({"admin": "true"}, "admin"), ({"disabled": 1}, "disabled"), ({"quota_bytes": -5}, "quota_bytes"),
    ({"quota_bytes": True}, "quota_bytes"), ({"totp": True}, "totp"),
])
def test_changing_with_bad_input_is_400_and_nothing_changes(client, admin, member, body, field):
    response = patch(client, admin, member["id"], {"quota_bytes": 5, **body}, status=400)
    assert response.json["data"] == {"error": "invalid_field", "field": field}
    listed = client.get("/api/admin/users", headers=admin["headers"]).json["data"]["users"]
    assert {user["id"]: user for user in listed}[member["id"]]["usage"]["quota_bytes"] != 5


@pytest.mark.parametrize("method", ["patch_json", "post_json", "delete"])
def test_an_unknown_user_id_is_404(client, admin, method):
    paths = {"patch_json": "/api/admin/users/999", "post_json": "/api/admin/users/999/password",
             "delete": "/api/admin/users/999"}
    call = getattr(client, method)
    body = {"new_password": PASSWORD} if method == "post_json" else {"admin": True}
    arguments = (paths[method], body) if method != "delete" else (paths[method],)
    assert error_of(call(*arguments, headers=admin["headers"], status=404)) == "not_found"


def test_a_non_numeric_user_id_is_404(client, admin):
    assert error_of(patch(client, admin, "abc", {"admin": True}, status=404)) == "not_found"


def test_a_per_user_quota_is_used_where_uploads_are_checked(client, admin, member):
    patch(client, admin, member["id"], {"quota_bytes": 4})
    response = client.post("/api/files", upload_files=[("file", "a.txt", b"12345")], headers=member["headers"],
                           status=413)
    assert error_of(response) == "quota_exceeded"
    assert client.get("/api/me", headers=member["headers"]).json["data"]["usage"]["quota_bytes"] == 4
    response = client.post("/api/uploads", headers={**member["headers"], "Tus-Resumable": "1.0.0",
                                                    "Upload-Length": "5"}, status=413)
    assert error_of(response) == "quota_exceeded"
    patch(client, admin, member["id"], {"quota_bytes": None})
    client.post("/api/files", upload_files=[("file", "a.txt", b"12345")], headers=member["headers"])


def test_lowering_a_quota_below_what_is_stored_deletes_nothing_and_blocks_new_uploads(client, admin, member):
    client.post("/api/files", upload_files=[("file", "a.txt", b"12345")], headers=member["headers"])
    patch(client, admin, member["id"], {"quota_bytes": 1})
    assert client.get("/api/files", headers=member["headers"]).json["data"]["total"] == 1
    client.post("/api/files", upload_files=[("file", "b.txt", b"")], headers=member["headers"], status=413)


# --- disabled accounts -------------------------------------------------------------------


def test_a_disabled_account_is_refused_at_once_and_stays_refused_after_enabling(client, admin, member):
    patch(client, admin, member["id"], {"disabled": True})
    response = client.get("/api/me", headers=member["headers"], status=401)
    assert error_of(response) == "token_revoked"
    assert error_of(client.post("/api/token/refresh", headers=member["headers"], status=401)) == "token_revoked"
    patch(client, admin, member["id"], {"disabled": False})
    assert error_of(client.get("/api/me", headers=member["headers"], status=401)) == "token_revoked"


def test_a_disabled_account_gets_403_for_the_right_password_and_401_for_a_wrong_one(client, admin, member):
    patch(client, admin, member["id"], {"disabled": True})
    right = client.post_json("/api/login", {"username": member["username"], "password": PASSWORD}, status=403)
    assert error_of(right) == "account_disabled"
    wrong = client.post_json("/api/login", {"username": member["username"], "password": "wrong one!"}, status=401)
    assert error_of(wrong) == "invalid_credentials"
    patch(client, admin, member["id"], {"disabled": False})
    assert Auth(client).login(member["username"])


def test_verify_refuses_a_disabled_account_in_its_one_lookup(client, app, member):
    # Set directly, as another process may: the token check reads the flag, not only the version.
    app.services.database.execute("UPDATE users SET disabled = 1 WHERE id = ?", (member["id"],))
    assert error_of(client.get("/api/me", headers=member["headers"], status=401)) == "token_revoked"


# --- passwords ----------------------------------------------------------------------------


def test_a_password_reset_ends_every_session_and_the_new_password_works(client, admin, member):
    client.post_json(f"/api/admin/users/{member['id']}/password", {"new_password": "brand new pass"},
                     headers=admin["headers"])
    assert error_of(client.get("/api/me", headers=member["headers"], status=401)) == "token_revoked"
    assert Auth(client).login(member["username"], "brand new pass")


def test_a_reset_password_must_follow_the_rules(client, admin, member):
    response = client.post_json(f"/api/admin/users/{member['id']}/password", {"new_password": "short"},
                                headers=admin["headers"], status=400)
    assert response.json["data"] == {"error": "invalid_field", "field": "new_password"}
    client.get("/api/me", headers=member["headers"])


# --- the last admin ------------------------------------------------------------------------


@pytest.mark.parametrize("change", [{"admin": False}, {"disabled": True}])
def test_the_last_admin_cannot_demote_or_disable_themselves(client, admin, change):
    assert error_of(patch(client, admin, admin["id"], change, status=409)) == "last_admin"
    assert client.get("/api/me", headers=admin["headers"]).json["data"]["admin"] is True


def test_the_last_admin_cannot_delete_themselves(client, admin):
    response = client.delete(f"/api/admin/users/{admin['id']}", headers=admin["headers"], status=409)
    assert error_of(response) == "last_admin"


def test_with_two_admins_one_may_step_down(client, app, admin, member):
    promote(app, member["id"])
    patch(client, admin, admin["id"], {"admin": False})
    assert error_of(patch(client, member, member["id"], {"admin": False}, status=409)) == "last_admin"


def test_two_admins_demoting_each_other_at_once_leave_one_admin(make_config):
    app = create_app(make_config())
    auth = Auth(webtest.TestApp(app))
    first, second = auth.new_user(), auth.new_user()
    promote(app, first["id"])
    promote(app, second["id"])
    statuses = []

    def demote(actor, target):
        client = webtest.TestApp(app)
        response = client.patch_json(f"/api/admin/users/{target['id']}", {"admin": False},
                                     headers=actor["headers"], expect_errors=True)
        statuses.append(response.status_int)

    for _ in range(5):  # a handful of rounds: the race, if there were one, would show
        threads = [threading.Thread(target=demote, args=pair) for pair in ((first, second), (second, first))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        admins = app.services.database.execute("SELECT count(*) FROM users WHERE admin = 1").fetchone()[0]
        assert admins >= 1
        promote(app, first["id"])
        promote(app, second["id"])
    assert 200 in statuses


def test_two_admins_editing_one_account_at_once_both_land_whole(make_config):
    app = create_app(make_config())
    auth = Auth(webtest.TestApp(app))
    first, second, target = auth.new_user(), auth.new_user(), auth.new_user()
    promote(app, first["id"])
    promote(app, second["id"])
    bodies = [(first, {"quota_bytes": 111, "disabled": True}), (second, {"quota_bytes": 222, "admin": True})]

    def edit(actor, body):
        webtest.TestApp(app).patch_json(f"/api/admin/users/{target['id']}", body, headers=actor["headers"])

    threads = [threading.Thread(target=edit, args=pair) for pair in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    row = app.services.database.execute("SELECT * FROM users WHERE id = ?", (target["id"],)).fetchone()
    # Each PATCH is one transaction: the later one's quota wins, and both flags landed.
    assert row["quota_bytes"] in (111, 222) and row["disabled"] == 1 and row["admin"] == 1


# --- deleting ---------------------------------------------------------------------------


def test_deleting_an_account_removes_everything_it_owns(client, app, admin, member):
    client.post("/api/files", upload_files=[("file", "a.txt", b"12345")], headers=member["headers"])
    open_upload = client.post("/api/uploads", headers={**member["headers"], "Tus-Resumable": "1.0.0",
                                                       "Upload-Length": "10"}, status=201)
    upload_id = open_upload.headers["Location"].rsplit("/", 1)[1]
    data_dir = app.services.config.data_dir
    assert (data_dir / "files" / str(member["id"])).is_dir() and (data_dir / "partial" / upload_id).exists()

    client.delete(f"/api/admin/users/{member['id']}", headers=admin["headers"])

    database = app.services.database
    for table in ("users", "files", "uploads"):
        column = "id" if table == "users" else "user_id"
        assert database.execute(f"SELECT count(*) FROM {table} WHERE {column} = ?",
                                (member["id"],)).fetchone()[0] == 0
    assert not (data_dir / "files" / str(member["id"])).exists()
    assert not list((data_dir / "partial").glob(f"{upload_id}*"))
    assert error_of(client.get("/api/me", headers=member["headers"], status=401)) == "token_revoked"


def test_a_deleted_accounts_name_is_free_again(client, admin, member):
    client.delete(f"/api/admin/users/{member['id']}", headers=admin["headers"])
    assert Auth(client).register(member["username"])["username"] == member["username"]


# --- the audit log --------------------------------------------------------------------------


def events(client, admin, query=""):
    return client.get(f"/api/admin/events{query}", headers=admin["headers"]).json["data"]


def test_every_admin_action_is_in_the_audit_log_with_actor_and_address(client, admin, member):
    headers = {**admin["headers"]}
    client.extra_environ = {"REMOTE_ADDR": "203.0.113.7"}
    patch(client, admin, member["id"], {"quota_bytes": 10})
    client.post_json(f"/api/admin/users/{member['id']}/password", {"new_password": "brand new pass"},
                     headers=headers)
    created = client.post_json("/api/admin/users", {"username": "madebyadmin", "password": PASSWORD},
                               headers=headers, status=201).json["data"]
    client.delete(f"/api/admin/users/{created['id']}", headers=headers)
    logged = events(client, admin)["events"]
    types = [event["type"] for event in logged]
    assert types[:4] == ["user_deleted", "register", "password_reset", "user_changed"]
    for event in logged[:4]:
        assert event["actor"] == f"admin:{admin['id']}"
        assert event["address"] == "203.0.113.7"
    assert logged[3]["detail"] == {"quota_bytes": 10}
    assert "brand new pass" not in str(logged)


def test_an_admin_actor_is_named_as_that_account_is_called_now_and_not_once_it_is_gone(client, app, auth, admin,
                                                                                       member):
    other_admin = auth.new_user()
    promote(app, other_admin["id"])
    patch(client, other_admin, member["id"], {"quota_bytes": 10})
    (changed,) = events(client, admin, "?type=user_changed")["events"]
    assert (changed["actor"], changed["actor_username"]) == (f"admin:{other_admin['id']}", other_admin["username"])
    # The holder of the account sees the same in their own activity.
    (seen,) = [event for event in client.get("/api/activity", headers=member["headers"]).json["data"]["events"]
               if event["type"] == "user_changed"]
    assert seen["actor_username"] == other_admin["username"]
    client.delete(f"/api/admin/users/{other_admin['id']}", headers=admin["headers"])
    (changed,) = events(client, admin, "?type=user_changed")["events"]
    assert (changed["actor"], changed["actor_username"]) == (f"admin:{other_admin['id']}", None)
    assert all(event["actor_username"] is None for event in events(client, admin, "?type=login")["events"])


def test_the_log_is_newest_first_filtered_by_user_and_type_and_paged(client, admin, member, auth):
    for _ in range(3):
        auth.login(member["username"])
    auth.client.post_json("/api/login", {"username": member["username"], "password": "nope nope"}, status=401)
    mine = events(client, admin, f"?user={member['id']}")["events"]
    assert [event["type"] for event in mine] == ["login_failed", "login", "login", "login", "login", "register"]
    assert all(event["user_id"] == member["id"] for event in mine)
    ids = [event["id"] for event in mine]
    assert ids == sorted(ids, reverse=True)
    logins = events(client, admin, f"?user={member['id']}&type=login&limit=2")
    assert [event["type"] for event in logins["events"]] == ["login", "login"] and logins["has_more"] is True
    rest = events(client, admin, f"?user={member['id']}&type=login&limit=2&offset=2")
    assert len(rest["events"]) == 2 and rest["has_more"] is False
    assert events(client, admin, "?type=nosuchtype")["events"] == []


@pytest.mark.parametrize("query", ["user=abc", "user=-1", "user=0"])
def test_a_bad_user_filter_is_invalid_query(client, admin, query):
    assert error_of(client.get(f"/api/admin/events?{query}", headers=admin["headers"], status=400)) == "invalid_query"


def test_a_deleted_accounts_token_never_opens_the_account_that_takes_its_name(client, admin, member):
    client.delete(f"/api/admin/users/{member['id']}", headers=admin["headers"])
    successor = Auth(client).register(member["username"])
    assert successor["id"] != member["id"]  # ids are never reused
    response = client.get("/api/me", headers=member["headers"], status=401)
    assert error_of(response) == "token_revoked"
