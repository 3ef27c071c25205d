"""The audit log (accounts/audit.py): events are written with the change, read back as API.md's shape, and expire."""

from __future__ import annotations

from authupload import create_app
from authupload.accounts.audit import CLI, EVENT_COLUMNS, admin_actor, event_json, record_event, remove_old_events


def test_an_event_reads_back_as_the_api_shape(app):
    database = app.services.database
    with database.transaction() as connection:
        record_event(connection, 1_900_000_000.0, "login", user_id=7, username="alice1",
                     address="203.0.113.9", detail={"session": 3})
    row = database.execute(f"SELECT {EVENT_COLUMNS} FROM events").fetchone()
    assert event_json(row) == {
        "id": 1, "at": "2030-03-17T17:46:40Z", "type": "login", "user_id": 7, "username": "alice1",
        "actor": "self", "actor_username": None, "address": "203.0.113.9", "detail": {"session": 3},
    }


def test_an_event_in_a_rolled_back_transaction_is_not_kept(app):
    database = app.services.database
    try:
        with database.transaction() as connection:
            record_event(connection, 1.0, "user_changed", user_id=1, actor=admin_actor(2))
            raise RuntimeError("the change failed")
    except RuntimeError:
        pass
    assert database.execute("SELECT count(*) FROM events").fetchone()[0] == 0


def test_old_events_are_removed_and_recent_ones_kept(app):
    database = app.services.database
    with database.transaction() as connection:
        record_event(connection, 100.0, "login", user_id=1, actor=CLI)
        record_event(connection, 200.0, "login", user_id=1, actor=CLI)
        assert remove_old_events(connection, now=250.0, retention_seconds=100.0) == 1
    assert [row["at"] for row in database.execute("SELECT at FROM events")] == [200.0]


# --- what the account handlers write -------------------------------------------------------


def types_of(app, user_id):
    return [row["type"] for row in app.services.database.execute(
        "SELECT type FROM events WHERE user_id = ? ORDER BY id", (user_id,))]


def test_register_login_logout_and_password_change_are_logged_with_the_address(client, app, auth):
    client.extra_environ = {"REMOTE_ADDR": "198.51.100.4"}
    user = auth.new_user()
    client.post_json("/api/password", {"old_password": "correct horse", "new_password": "battery staple"},
                     headers=user["headers"])
    token = auth.login(user["username"], "battery staple")
    client.post("/api/logout", headers=auth.bearer(token))
    assert types_of(app, user["id"]) == ["register", "login", "password_changed", "login", "logout"]
    rows = app.services.database.execute("SELECT * FROM events").fetchall()
    assert {row["address"] for row in rows} == {"198.51.100.4"}
    assert {row["actor"] for row in rows} == {"self"}
    assert not any(secret in str([tuple(row) for row in rows])
                   for secret in ("correct horse", "battery staple", token))


def test_a_failed_login_is_logged_for_known_and_unknown_names_but_a_throttled_one_is_not(client, app, make_config):
    client.post_json("/api/login", {"username": "nobody12", "password": "guess guess"}, status=401)
    row = app.services.database.execute("SELECT * FROM events").fetchone()
    assert (row["type"], row["user_id"], row["username"], row["actor"]) == ("login_failed", None, "nobody12",
                                                                            "anonymous")
    for _ in range(make_config().max_failures_per_username + 3):
        client.post_json("/api/login", {"username": "nobody12", "password": "guess guess"}, expect_errors=True)
    logged = app.services.database.execute("SELECT count(*) FROM events").fetchone()[0]
    assert logged == make_config().max_failures_per_username


def test_a_successful_login_records_when(client, app, auth, clock):
    user = auth.register()
    auth.login(user["username"])
    row = app.services.database.execute("SELECT last_login_at FROM users WHERE id = ?", (user["id"],)).fetchone()
    assert row["last_login_at"] == clock()


def test_events_past_retention_are_swept_at_start(make_config, clock):
    app = create_app(make_config(event_retention_days=1))
    with app.services.database.transaction() as connection:
        record_event(connection, clock() - 2 * 86400, "login", user_id=1)
        record_event(connection, clock() - 3600, "login", user_id=1)
    app = create_app(make_config(event_retention_days=1))
    assert app.services.database.execute("SELECT count(*) FROM events").fetchone()[0] == 1
