"""The database (db.py): WAL, migrations by user_version, per-thread connections, transactions."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from authupload import create_app, db
from authupload.db import BUSY_TIMEOUT_MS, MIGRATIONS, Database, _statements
from authupload.accounts.passwords import HashGate, PasswordHasher
from support import validated_client


@pytest.fixture
def database(tmp_path):
    return Database(tmp_path / "authupload.db")


def test_a_new_database_is_in_wal_mode(database, tmp_path):
    assert database.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with sqlite3.connect(tmp_path / "authupload.db") as outside:  # WAL is a property of the file
        assert outside.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_connections_wait_for_locks_and_enforce_foreign_keys(database):
    assert database.execute("PRAGMA busy_timeout").fetchone()[0] == BUSY_TIMEOUT_MS
    assert database.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_user_version_is_the_number_of_migrations(database):
    assert database.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_opening_again_runs_no_migration_twice(tmp_path, database):
    database.execute("INSERT INTO users (username, username_key, password_hash, created_at) VALUES ('a','a','h',0)")
    again = Database(tmp_path / "authupload.db")
    assert again.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert again.execute("SELECT count(*) FROM users").fetchone()[0] == 1


def test_a_version_1_database_is_migrated_and_keeps_its_users(tmp_path, make_config):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    password_hash = PasswordHasher(4, HashGate(1, 1)).hash_password("correct horse")
    with sqlite3.connect(data_dir / "authupload.db") as old:
        for statement in _statements(MIGRATIONS[0]):
            old.execute(statement)
        old.execute("PRAGMA user_version = 1")
        old.execute("INSERT INTO users (username, username_key, password_hash, created_at) VALUES (?, ?, ?, ?)",
                    ("Alice123", "alice123", password_hash, 1_800_000_000))
    app = create_app(make_config(data_dir=data_dir))
    database = app.services.database
    assert database.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    tables = {row[0] for row in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"users", "login_failures", "files", "uploads", "sessions", "recovery_codes"} <= tables
    assert "revoked_tokens" not in tables  # logout ends a session now: no list of revoked token ids
    client = validated_client(app)
    token = client.post_json("/api/login", {"username": "alice123", "password": "correct horse"}).json["data"][
        "access_token"]
    me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json["data"]
    assert me["username"] == "Alice123"
    assert me["created_at"] == "2027-01-15T08:00:00Z"


def test_a_transaction_rolls_back_when_its_block_raises(database):
    with pytest.raises(RuntimeError):
        with database.transaction() as connection:
            connection.execute(
                "INSERT INTO users (username, username_key, password_hash, created_at) VALUES ('a','a','h',0)")
            raise RuntimeError("boom")
    assert database.execute("SELECT count(*) FROM users").fetchone()[0] == 0


def test_usernames_are_unique_by_key_in_the_schema(database):
    database.execute("INSERT INTO users (username, username_key, password_hash, created_at) VALUES ('A','a','h',0)")
    with pytest.raises(sqlite3.IntegrityError):
        database.execute(
            "INSERT INTO users (username, username_key, password_hash, created_at) VALUES ('a','a','h',0)")


def test_each_thread_has_its_own_connection(database):
    seen = []
    thread = threading.Thread(target=lambda: seen.append(database.connection()))
    thread.start()
    thread.join()
    assert seen[0] is not database.connection()
    assert database.connection() is database.connection()


def test_two_writers_wait_for_each_other_instead_of_failing(tmp_path):
    first, second = Database(tmp_path / "x.db"), Database(tmp_path / "x.db")
    errors = []

    def write(db, prefix):
        try:
            for number in range(30):
                with db.transaction() as connection:
                    connection.execute(
                        "INSERT INTO users (username, username_key, password_hash, created_at) VALUES (?, ?, 'h', 0)",
                        (f"{prefix}{number}", f"{prefix}{number}"))
        except Exception as error:  # pragma: no cover - the failure we look for
            errors.append(error)

    threads = [threading.Thread(target=write, args=(db, p)) for db, p in ((first, "a"), (second, "b"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert first.execute("SELECT count(*) FROM users").fetchone()[0] == 60


def test_the_data_directory_is_private(make_config, tmp_path):
    create_app(make_config())
    assert (tmp_path / "data").stat().st_mode & 0o077 == 0
    assert (tmp_path / "data" / "authupload.db").exists()


def test_a_database_from_newer_code_is_refused_rather_than_written(tmp_path):
    path = tmp_path / "newer.db"
    Database(path)
    with sqlite3.connect(path) as connection:
        connection.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(RuntimeError, match="schema version"):
        Database(path)


def add_user(connection, name: str) -> int:
    return connection.execute(
        "INSERT INTO users (username, username_key, password_hash, created_at) VALUES (?, ?, 'x', 0) RETURNING id",
        (name, name.lower())).fetchone()[0]


def add_file(connection, user_id: int, file_id: str, size: int) -> None:
    connection.execute("INSERT INTO files (id, user_id, name, size, sha256, content_type, uploaded_at)"
                       " VALUES (?, ?, 'n', ?, 's', 'application/octet-stream', 0)", (file_id, user_id, size))


def counters(connection, user_id: int) -> tuple[int, int]:
    return tuple(connection.execute("SELECT file_count, file_bytes FROM users WHERE id = ?", (user_id,)).fetchone())


def test_usage_counters_follow_every_insert_and_delete_of_files(database):
    connection = database.connection()
    alice, bob = add_user(connection, "alice123"), add_user(connection, "bob12345")
    add_file(connection, alice, "a1", 100)
    add_file(connection, alice, "a2", 50)
    add_file(connection, bob, "b1", 7)
    connection.execute("DELETE FROM files WHERE id = 'a1'")  # any code path, even a manual one
    assert counters(connection, alice) == (1, 50)
    assert counters(connection, bob) == (1, 7)


def test_migration_3_counts_the_files_a_version_2_database_already_has(tmp_path):
    path = tmp_path / "v2.db"
    with sqlite3.connect(path) as old:
        for script in MIGRATIONS[:2]:
            for statement in _statements(script):
                old.execute(statement)
        old.execute("PRAGMA user_version = 2")
        user = add_user(old, "carol123")
        add_file(old, user, "c1", 30)
        add_file(old, user, "c2", 12)
    assert counters(Database(path).connection(), user) == (2, 42)


def test_migration_5_keeps_every_account_and_file_and_stops_reusing_ids(tmp_path):
    """The users table is rebuilt (AUTOINCREMENT, account_key): nothing that pointed at it may be lost."""
    path = tmp_path / "authupload.db"
    with sqlite3.connect(path) as old:
        old.execute("PRAGMA foreign_keys = ON")
        for script in MIGRATIONS[:4]:
            for statement in _statements(script):
                old.execute(statement)
        old.execute("PRAGMA user_version = 4")
        for user_id in (1, 2, 3):
            old.execute("INSERT INTO users (id, username, username_key, password_hash, token_version, created_at)"
                        " VALUES (?, ?, ?, 'h', ?, 0)", (user_id, f"User{user_id}", f"user{user_id}", user_id))
        old.execute("INSERT INTO files VALUES ('f1', 3, 'a.txt', 5, 'x', 'text/plain', 0)")
        old.execute("INSERT INTO uploads (id, user_id, length, metadata, name, content_type, created_at, expires_at)"
                    " VALUES ('u1', 3, 10, '', 'b', 'text/plain', 0, 1)")
    database = Database(path)
    users = database.execute("SELECT * FROM users ORDER BY id").fetchall()
    assert [(u["id"], u["username"], u["token_version"], u["file_count"], u["file_bytes"]) for u in users] == [
        (1, "User1", 1, 0, 0), (2, "User2", 2, 0, 0), (3, "User3", 3, 1, 5)]
    assert len({u["account_key"] for u in users}) == 3
    assert database.execute("SELECT user_id FROM files").fetchall()[0][0] == 3
    assert database.execute("SELECT user_id FROM uploads").fetchall()[0][0] == 3
    assert database.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    # The triggers still count, and ON DELETE CASCADE still reaches files and uploads.
    database.execute("INSERT INTO files (id, user_id, name, size, sha256, content_type, uploaded_at)"
                     " VALUES ('f2', 2, 'c.txt', 7, 'y', 'text/plain', 0)")
    assert database.execute("SELECT file_bytes FROM users WHERE id = 2").fetchone()[0] == 7
    database.execute("DELETE FROM users WHERE id = 3")
    assert database.execute("SELECT count(*) FROM files WHERE user_id = 3").fetchone()[0] == 0
    assert database.execute("SELECT count(*) FROM uploads").fetchone()[0] == 0
    # The highest id, once deleted, is never handed out again.
    new_id = database.execute("INSERT INTO users (username, username_key, password_hash, created_at)"
                              " VALUES ('User4', 'user4', 'h', 0) RETURNING id").fetchone()[0]
    assert new_id == 4


def test_the_folders_migration_puts_every_existing_file_at_the_top_with_its_counters_intact(tmp_path, monkeypatch):
    """A database made by the schema before folders upgrades in place: nothing in the trash, nothing moved."""
    path = tmp_path / "before-folders.db"
    folders_migration = next(n for n, script in enumerate(MIGRATIONS) if "CREATE TABLE folders" in script)
    monkeypatch.setattr(db, "MIGRATIONS", MIGRATIONS[:folders_migration])
    connection = Database(path).connection()
    alice = add_user(connection, "alice123")
    add_file(connection, alice, "a1", 100)
    add_file(connection, alice, "a2", 50)
    connection.close()
    monkeypatch.setattr(db, "MIGRATIONS", MIGRATIONS)
    upgraded = Database(path).connection()
    rows = upgraded.execute("SELECT id, folder_id, trashed_at FROM files ORDER BY id").fetchall()
    assert [tuple(row) for row in rows] == [("a1", None, None), ("a2", None, None)]
    assert tuple(upgraded.execute("SELECT file_count, file_bytes, trash_files, trash_bytes FROM users").fetchone()) \
        == (2, 150, 0, 0)


def test_usage_counters_follow_files_into_and_out_of_the_trash(database):
    connection = database.connection()
    alice = add_user(connection, "alice123")
    add_file(connection, alice, "a1", 100)
    add_file(connection, alice, "a2", 50)

    def all_counters():
        return tuple(connection.execute(
            "SELECT file_count, file_bytes, trash_files, trash_bytes FROM users WHERE id = ?", (alice,)).fetchone())

    connection.execute("UPDATE files SET trashed_at = 1 WHERE id = 'a1'")
    assert all_counters() == (1, 50, 1, 100)
    connection.execute("UPDATE files SET trashed_at = 2 WHERE id = 'a1'")  # still in the trash: no change
    assert all_counters() == (1, 50, 1, 100)
    connection.execute("DELETE FROM files WHERE id = 'a1'")
    assert all_counters() == (1, 50, 0, 0)
    connection.execute("UPDATE files SET trashed_at = 3 WHERE id = 'a2'")
    connection.execute("UPDATE files SET trashed_at = NULL WHERE id = 'a2'")
    assert all_counters() == (1, 50, 0, 0)
