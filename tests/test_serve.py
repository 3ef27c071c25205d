"""The entry point (serve.py + server.py) as a real process on a free port, spoken to over sockets."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import stat
import subprocess
import sys

import pytest

from live_server import ROOT, LiveServer

pytestmark = pytest.mark.slow


def request(server, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        all_headers = {"Content-Type": "application/json"} if payload is not None else {}
        all_headers.update(headers or {})
        connection.request(method, path, body=payload, headers=all_headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.fixture
def server(tmp_path):
    with LiveServer(tmp_path / "data", "--bcrypt-cost", "4", "--max-file-bytes", "1024") as live:
        yield live


def test_register_login_and_me_over_a_socket(server):
    status, _, body = request(server, "POST", "/api/register", {"username": "alice123", "password": "correct horse"})
    assert status == 200 and json.loads(body)["data"]["username"] == "alice123"
    status, _, body = request(server, "POST", "/api/login", {"username": "ALICE123", "password": "correct horse"})
    assert status == 200
    token = json.loads(body)["data"]["access_token"]
    status, headers, body = request(server, "GET", "/api/me", headers={"Authorization": f"Bearer {token}"})
    assert status == 200
    assert json.loads(body)["data"]["username"] == "alice123"
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_the_data_directory_is_created_with_a_private_key(server):
    key = server.data_dir / "secret.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(key.read_bytes().strip()) >= 32
    assert (server.data_dir / "authupload.db").exists()


def test_the_server_says_where_it_serves(server):
    assert f"http://127.0.0.1:{server.port}/" in server.log()


def test_the_access_log_reaches_stderr_without_secrets(server):
    request(server, "POST", "/api/register", {"username": "alice123", "password": "correct horse"})
    request(server, "GET", "/api/health?token=topsecret")
    log = server.log_once_it_holds('"GET /api/health HTTP/1.1" 200')
    assert '"GET /api/health HTTP/1.1" 200' in log
    assert "correct horse" not in log and "topsecret" not in log


def test_the_access_log_names_the_forwarded_client_behind_the_trusted_proxy_and_the_user(tmp_path):
    with LiveServer(tmp_path / "data", "--bcrypt-cost", "4", "--trusted-proxy", "127.0.0.1") as server:
        credentials = {"username": "alice123", "password": "correct horse"}
        _, _, body = request(server, "POST", "/api/register", credentials)
        user_id = json.loads(body)["data"]["id"]
        _, _, body = request(server, "POST", "/api/login", credentials)
        token = json.loads(body)["data"]["access_token"]
        request(server, "GET", "/api/me", headers={"Authorization": f"Bearer {token}",
                                                  "X-Forwarded-For": "198.51.100.7"})
        log = server.log_once_it_holds('"GET /api/me ')
    (line,) = [line for line in log.splitlines() if '"GET /api/me ' in line]
    assert f"authupload.access 198.51.100.7 - {user_id} [" in line
    assert '"GET /api/me HTTP/1.1" 200 ' in line
    assert token not in log and "correct horse" not in log


def raw_exchange(server, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def test_a_body_over_the_request_limit_gets_the_json_413_envelope(server):
    # Outside /api/ the route table is not asked before the body (web/early.py):
    # this is waitress's own limit answering, rendered as our envelope.
    answer = raw_exchange(server, (
        "POST /upload.html HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\n"
        "Accept-Language: zh-CN\r\nContent-Length: 50000000\r\n\r\n").encode())
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 ")
    headers = head.decode("latin-1").lower()
    assert "content-type: application/json; charset=utf-8" in headers
    assert "x-content-type-options: nosniff" in headers
    envelope = json.loads(body)
    assert envelope["code"] == 413
    assert envelope["data"] == {"error": "body_too_large"}
    assert envelope["message"] == "请求体过大。"


def test_a_malformed_request_gets_an_envelope_too(server):
    answer = raw_exchange(server, b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert json.loads(body)["code"] == 400


def test_help_lists_the_flags():
    result = subprocess.run([sys.executable, str(ROOT / "serve.py"), "--help"], capture_output=True, text=True,
                            timeout=30, cwd=ROOT)
    assert result.returncode == 0
    for flag in ("--host", "--port", "--data-dir", "--threads", "--token-ttl-seconds", "--bcrypt-cost",
                 "--cors-origins", "--max-file-bytes", "--quota-bytes", "--password-min-chars"):
        assert flag in result.stdout
    assert "AUTHUPLOAD_" in result.stdout


def test_environment_variables_configure_the_real_server(tmp_path):
    env = {"AUTHUPLOAD_BCRYPT_COST": "4", "AUTHUPLOAD_TOKEN_TTL_SECONDS": "77"}
    with LiveServer(tmp_path / "data", env=env) as live:
        request(live, "POST", "/api/register", {"username": "alice123", "password": "correct horse"})
        _, _, body = request(live, "POST", "/api/login", {"username": "alice123", "password": "correct horse"})
        assert json.loads(body)["data"]["expires_in"] == 77


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl_c"])
def test_sigterm_and_ctrl_c_stop_the_server_cleanly_and_say_so(tmp_path, stop_signal):
    live = LiveServer(tmp_path / "data", "--bcrypt-cost", "4").start()
    try:
        live.process.send_signal(stop_signal)
        assert live.process.wait(timeout=15) == 0
    finally:
        live.stop()
    assert "authupload stopped" in live.log()
    assert "Traceback" not in live.log()


def test_a_port_already_taken_is_one_clear_line_not_a_traceback(tmp_path):
    with LiveServer(tmp_path / "data", "--bcrypt-cost", "4") as live:
        second = subprocess.run(
            [sys.executable, str(ROOT / "serve.py"), "--port", str(live.port), "--data-dir", str(tmp_path / "other")],
            capture_output=True, text=True, timeout=30)
    assert second.returncode == 1
    assert f"cannot serve on 127.0.0.1:{live.port}" in second.stderr
    assert "Traceback" not in second.stderr
