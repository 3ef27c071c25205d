"""The audit log (accounts/audit.py): events are written with the change, read back as API.md's shape, and expire."""

from __future__ import annotations

from authupload.accounts.audit import CLI, admin_actor, event_json, record_event, remove_old_events


def test_an_event_reads_back_as_the_api_shape(app):
    database = app.services.database
    with database.transaction() as connection:
        record_event(connection, 1_900_000_000.0, "login", user_id=7, username="alice1",
                     address="203.0.113.9", detail={"session": 3})
    row = database.execute("SELECT * FROM events").fetchone()
    assert event_json(row) == {
        "id": 1, "at": "2030-03-17T17:46:40Z", "type": "login", "user_id": 7, "username": "alice1",
        "actor": "self", "address": "203.0.113.9", "detail": {"session": 3},
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
