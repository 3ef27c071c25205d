"""Settings (config.py): defaults, command-line flags, AUTHUPLOAD_* environment variables."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from authupload import create_app
from authupload.config import GIB, KIB, Config, argument_parser
from support import validated_client


def test_defaults_serve_a_laptop():
    config = Config.from_sources([], {})
    assert (config.host, config.port, config.data_dir) == ("127.0.0.1", 8080, Path("data"))
    assert config.bcrypt_cost == 12
    assert (config.password_min_chars, config.password_max_chars) == (8, 1024)
    assert config.token_ttl_seconds == 30 * 60
    assert config.session_max_seconds == 7 * 24 * 3600
    assert config.max_json_bytes == 64 * KIB
    assert config.max_file_bytes == 1 * GIB and config.quota_bytes == 10 * GIB
    assert (config.max_failures_per_username, config.max_failures_per_address) == (10, 50)
    assert config.login_window_seconds == config.login_lock_seconds == 15 * 60
    assert config.cors_origins == ("*",)
    assert config.secret == ""


@pytest.mark.parametrize("argv, field, value", [
    (["--host", "0.0.0.0"], "host", "0.0.0.0"),
    (["--port", "9000"], "port", 9000),
    (["--data-dir", "/tmp/x"], "data_dir", Path("/tmp/x")),
    (["--threads", "3"], "threads", 3),
    (["--token-ttl-seconds", "60"], "token_ttl_seconds", 60),
    (["--bcrypt-cost", "5"], "bcrypt_cost", 5),
    (["--cors-origins", "https://a.example, https://b.example"], "cors_origins",
     ("https://a.example", "https://b.example")),
    (["--max-file-bytes", "1000"], "max_file_bytes", 1000),
    (["--password-min-chars", "6"], "password_min_chars", 6),
    (["--trusted-proxy", "10.0.0.1"], "trusted_proxy", "10.0.0.1"),
])
def test_flags_set_settings(argv, field, value):
    assert getattr(Config.from_sources(argv, {}), field) == value


@pytest.mark.parametrize("variable, text, field, value", [
    ("AUTHUPLOAD_HOST", "0.0.0.0", "host", "0.0.0.0"),
    ("AUTHUPLOAD_PORT", "9001", "port", 9001),
    ("AUTHUPLOAD_DATA_DIR", "/srv/data", "data_dir", Path("/srv/data")),
    ("AUTHUPLOAD_THREADS", "2", "threads", 2),
    ("AUTHUPLOAD_BCRYPT_COST", "10", "bcrypt_cost", 10),
    ("AUTHUPLOAD_CORS_ORIGINS", "https://a.example,https://b.example,", "cors_origins",
     ("https://a.example", "https://b.example")),
    ("AUTHUPLOAD_MAX_JSON_BYTES", "1024", "max_json_bytes", 1024),
    ("AUTHUPLOAD_SECRET", "x" * 32, "secret", "x" * 32),
])
def test_environment_variables_set_settings(variable, text, field, value):
    assert getattr(Config.from_sources([], {variable: text}), field) == value


def test_a_flag_beats_the_environment():
    config = Config.from_sources(["--port", "9000"], {"AUTHUPLOAD_PORT": "9001"})
    assert config.port == 9000


@pytest.mark.parametrize("argv, environ", [
    (["--port", "eighty"], {}),
    ([], {"AUTHUPLOAD_PORT": "eighty"}),
    (["--no-such-flag"], {}),
])
def test_a_bad_value_stops_with_a_usage_error(argv, environ, capsys):
    with pytest.raises(SystemExit) as stopped:
        Config.from_sources(argv, environ)
    assert stopped.value.code == 2
    assert "serve.py" in capsys.readouterr().err


def test_help_documents_every_setting_with_its_default():
    text = argument_parser().format_help()
    for field in dataclasses.fields(Config):
        if field.name in ("clock", "public_dir"):
            continue
        assert "--" + field.name.replace("_", "-") in text, field.name
    assert "AUTHUPLOAD_" in text
    assert "(default: 8080)" in text


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Config().port = 1  # type: ignore[misc]


def test_the_request_limit_leaves_room_for_multipart_framing():
    config = Config(max_file_bytes=1000)
    assert config.max_request_bytes > 1000


def test_registration_mode_is_one_of_three_from_a_flag_or_the_environment():
    assert Config.from_sources(["--registration", "invite"], environ={}).registration == "invite"
    assert Config.from_sources([], environ={"AUTHUPLOAD_REGISTRATION": "closed"}).registration == "closed"
    with pytest.raises(SystemExit):
        Config.from_sources(["--registration", "sometimes"], environ={})
    with pytest.raises(SystemExit):
        Config.from_sources([], environ={"AUTHUPLOAD_REGISTRATION": "sometimes"})


# --- GET /api/config: what a client may know before it asks anything ---------------


def test_api_config_answers_every_field_api_md_names_from_the_settings(make_config):
    config = make_config(password_min_chars=12, password_max_chars=200, max_file_bytes=5 * KIB,
                         registration="invite", trash_days=7, share_max_seconds=3600, request_max_seconds=7200,
                         max_files_per_user=50, max_folders_per_user=20, max_open_uploads_per_user=3)
    response = validated_client(create_app(config)).get("/api/config")  # no token: public
    assert response.json["code"] == 200
    assert response.json["data"] == {
        "registration": "invite",
        "username": {"min_chars": 6, "max_chars": 32},
        "password": {"min_chars": 12, "max_chars": 200},
        "max_file_bytes": 5 * KIB,
        "languages": ["en", "zh-CN", "zh-TW"],
        "trash_days": 7,
        "share_max_seconds": 3600,
        "request_max_seconds": 7200,
        "max_files_per_user": 50,
        "max_folders_per_user": 20,
        "max_open_uploads_per_user": 3,
    }


def test_api_config_username_limits_are_the_ones_registration_enforces(client):
    limits = client.get("/api/config").json["data"]["username"]
    for length, status in ((limits["min_chars"] - 1, 400), (limits["min_chars"], 200),
                           (limits["max_chars"], 200), (limits["max_chars"] + 1, 400)):
        name = ("u" * length)[:length - 1] + str(length % 10) if length else ""
        response = client.post_json("/api/register", {"username": name, "password": "correct horse"},
                                    expect_errors=True)
        assert response.status_int == status, (length, response.text)


def test_api_config_says_nothing_secret(make_config):
    data = validated_client(create_app(make_config(secret="s" * 40))).get("/api/config").json["data"]
    text = str(data)
    assert "s" * 40 not in text and "secret" not in text and "data_dir" not in text
