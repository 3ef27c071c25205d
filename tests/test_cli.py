"""The operator's command line, ``python -m authupload``, run as a real subprocess: against a
data directory that a real ``serve.py`` is using (slow), and for its errors (fast)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest
import requests

from authupload import Config, create_app
from authupload.db import MIGRATIONS
from live_server import ROOT, LiveServer

PASSWORD = "correct horse"


def cli(data_dir, *arguments, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m authupload ARGUMENTS --data-dir DATA_DIR`` and capture what it says."""
    return subprocess.run(
        [sys.executable, "-m", "authupload", *arguments, "--data-dir", str(data_dir)],
        cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "AUTHUPLOAD_BCRYPT_COST": "4", **(env or {})},
    )


def assert_one_line_error(result, status: int = 1) -> str:
    assert result.returncode == status, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.fixture
def data_dir(make_config):
    """A data directory as serve.py leaves it (created by the application itself)."""
    config = make_config()
    create_app(config)
    return config.data_dir


# --- errors (fast) ----------------------------------------------------------------------------


def test_help_lists_every_command():
    result = subprocess.run([sys.executable, "-m", "authupload", "--help"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0
    for command in ("users list", "users add", "users set", "users password", "users delete",
                    "invites create", "invites list", "invites revoke", "--password-stdin", "--json"):
        assert command in result.stdout


def test_a_missing_data_directory_is_an_error_and_is_not_created(tmp_path):
    missing = tmp_path / "no-such-box"
    line = assert_one_line_error(cli(missing, "users", "list"))
    assert "no authupload data" in line
    assert not missing.exists()


def test_a_database_newer_than_the_code_is_an_error(data_dir):
    with sqlite3.connect(data_dir / "authupload.db") as connection:
        connection.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    line = assert_one_line_error(cli(data_dir, "users", "list"))
    assert "schema version" in line and "upgrade" in line


@pytest.mark.parametrize("arguments", [
    ("users", "add", "someone1", "--quota", "10X"),
    ("users", "set", "someone1", "--quota", "-5"),
    ("invites", "create", "--expires", "7 weeks"),
    ("invites", "create", "--expires", "91d"),
    ("invites", "create", "--uses", "0"),
    ("invites", "create", "--uses", "10000"),
    ("users", "add", "someone1", "--password", PASSWORD),
    ("users", "frobnicate"),
])
def test_usage_mistakes_exit_2(data_dir, arguments):
    assert cli(data_dir, *arguments).returncode == 2


def test_an_unknown_user_is_an_error(data_dir):
    line = assert_one_line_error(cli(data_dir, "users", "set", "nobody123", "--disable"))
    assert line == "error: Not found."


def test_a_taken_name_is_an_error_and_differing_passwords_change_nothing(data_dir):
    assert cli(data_dir, "users", "add", "someone1", "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    line = assert_one_line_error(cli(data_dir, "users", "add", "SOMEONE1", "--password-stdin", stdin=PASSWORD))
    assert line == "error: This username is already taken."
    line = assert_one_line_error(cli(data_dir, "users", "add", "someone2", "--password-stdin", stdin="short"))
    assert "Password must be" in line


def test_the_last_admin_cannot_be_removed_from_the_command_line_either(data_dir):
    cli(data_dir, "users", "add", "theowner1", "--admin", "--password-stdin", stdin=PASSWORD)
    for arguments in (("set", "theowner1", "--no-admin"), ("set", "theowner1", "--disable"),
                      ("delete", "theowner1", "--yes")):
        assert "one enabled admin" in assert_one_line_error(cli(data_dir, "users", *arguments))


def test_delete_without_yes_and_without_a_terminal_refuses(data_dir):
    cli(data_dir, "users", "add", "someone1", "--password-stdin", stdin=PASSWORD)
    assert "--yes" in assert_one_line_error(cli(data_dir, "users", "delete", "someone1"))


def test_quota_sizes_and_default(data_dir):
    cli(data_dir, "users", "add", "someone1", "--quota", "500M", "--password-stdin", stdin=PASSWORD)
    listed = json.loads(cli(data_dir, "users", "list", "--json").stdout)["users"][0]
    assert listed["usage"]["quota_bytes"] == 500 * 1024**2
    changed = json.loads(cli(data_dir, "users", "set", "someone1", "--quota", "default", "--json").stdout)
    assert changed["usage"]["quota_bytes"] == Config().quota_bytes


# --- against a running server (slow) ----------------------------------------------------------


@pytest.mark.slow
def test_the_operator_story_against_a_running_server(tmp_path):
    data_dir = tmp_path / "data"
    with LiveServer(data_dir, "--bcrypt-cost", "4", "--registration", "invite") as server:
        assert "python -m authupload users add NAME --admin" in server.log()

        made = cli(data_dir, "users", "add", "theowner1", "--admin", "--password-stdin", "--json", stdin=PASSWORD)
        assert made.returncode == 0 and json.loads(made.stdout)["admin"] is True
        assert PASSWORD not in made.stdout + made.stderr

        created = cli(data_dir, "invites", "create", "--uses", "2", "--expires", "12h", "--quota", "1G", "--json")
        invite = json.loads(created.stdout)
        assert invite["uses_left"] == 2 and invite["quota_bytes"] == 1024**3
        register = requests.post(server.url + "/api/register",
                                 json={"username": "newfriend1", "password": PASSWORD, "invite": invite["code"]})
        assert register.status_code == 200

        login = requests.post(server.url + "/api/login", json={"username": "newfriend1", "password": PASSWORD})
        headers = {"Authorization": "Bearer " + login.json()["data"]["access_token"]}
        assert requests.get(server.url + "/api/me", headers=headers).status_code == 200

        # Disabled from the command line: locked out of the running server at its next request.
        assert cli(data_dir, "users", "set", "newfriend1", "--disable").returncode == 0
        refused = requests.get(server.url + "/api/me", headers=headers)
        assert refused.status_code == 401 and refused.json()["data"]["error"] == "token_revoked"
        again = requests.post(server.url + "/api/login", json={"username": "newfriend1", "password": PASSWORD})
        assert again.status_code == 403 and again.json()["data"]["error"] == "account_disabled"

        assert cli(data_dir, "users", "password", "newfriend1", "--password-stdin",
                   stdin="another pass\n").returncode == 0
        assert cli(data_dir, "users", "set", "newfriend1", "--enable").returncode == 0
        relogin = requests.post(server.url + "/api/login", json={"username": "newfriend1", "password": "another pass"})
        assert relogin.status_code == 200

        listed = json.loads(cli(data_dir, "invites", "list", "--json").stdout)["invites"]
        assert listed[0]["uses_left"] == 1
        assert cli(data_dir, "invites", "revoke", str(invite["id"])).returncode == 0
        late = requests.post(server.url + "/api/register",
                             json={"username": "latecomer1", "password": PASSWORD, "invite": invite["code"]})
        assert late.json()["data"]["error"] == "invite_invalid"

        assert cli(data_dir, "users", "delete", "newfriend1", "--yes").returncode == 0
        assert [user["username"] for user in json.loads(cli(data_dir, "users", "list", "--json").stdout)["users"]] \
            == ["theowner1"]

        owner = requests.post(server.url + "/api/login", json={"username": "theowner1", "password": PASSWORD})
        owner_headers = {"Authorization": "Bearer " + owner.json()["data"]["access_token"]}
        logged = requests.get(server.url + "/api/admin/events?limit=100", headers=owner_headers).json()["data"]
        by_cli = {event["type"] for event in logged["events"] if event["actor"] == "cli"}
        assert by_cli >= {"register", "invite_created", "user_changed", "password_reset", "invite_revoked",
                          "user_deleted"}
        assert not any(event["address"] for event in logged["events"] if event["actor"] == "cli")


@pytest.mark.slow
def test_serve_says_how_to_make_the_first_admin_only_while_there_is_none(tmp_path):
    data_dir = tmp_path / "data"
    with LiveServer(data_dir, "--bcrypt-cost", "4") as server:
        assert "No admin account yet" in server.log()
        assert cli(data_dir, "users", "add", "theowner1", "--admin", "--password-stdin", stdin=PASSWORD).returncode == 0
    with LiveServer(data_dir, "--bcrypt-cost", "4") as server:
        assert "No admin account yet" not in server.log()
