"""The documented nginx configuration (docs/deploy/nginx.conf) under the same attacks
as serve.py alone: idle connections and slow PATCH bodies from one address while
another address is served. Loopback only, bounded, and skipped where nginx is not
installed.

The configuration is used as documented, with what a test cannot have taken
out: TLS (plain HTTP on a free loopback port instead), the port-80 redirect, and
the two upstream processes (one LiveServer).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from live_server import LiveServer, free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
ATTACKER, BYSTANDER = "127.0.0.1", "127.0.0.2"
TUS = {"Tus-Resumable": "1.0.0"}


def trial_config(port: int, upstream_port: int) -> str:
    """docs/deploy/nginx.conf for a loopback trial: no TLS, no redirect, one upstream."""
    text = (ROOT / "docs" / "deploy" / "nginx.conf").read_text()
    text = re.sub(r"server \{\s*listen 80;.*?\n\}\n", "", text, count=1, flags=re.S)
    text = text.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{port};")
    text = re.sub(r"^\s*ssl_.*\n", "", text, flags=re.M)
    text = re.sub(r"server 127\.0\.0\.1:8081;\s*server 127\.0\.0\.1:8082;", f"server 127.0.0.1:{upstream_port};", text)
    return text


@pytest.fixture
def proxied(tmp_path):
    if NGINX is None:
        pytest.skip("nginx is not installed")
    with LiveServer(tmp_path / "data", "--bcrypt-cost", "4", "--trusted-proxy", "127.0.0.1") as server:
        port = free_port()
        prefix = tmp_path / "nginx"
        prefix.mkdir()
        (prefix / "authupload.conf").write_text(trial_config(port, server.port))
        user = "user root;" if os.getuid() == 0 else ""
        temp_paths = "".join(f"{kind}_temp_path {prefix / kind};"
                             for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (prefix / "nginx.conf").write_text(
            f"{user} daemon off; worker_processes 1; pid {prefix / 'nginx.pid'}; error_log {prefix / 'error.log'};"
            f" events {{ worker_connections 2048; }}"
            f" http {{ access_log off; {temp_paths} include {prefix / 'authupload.conf'}; }}")
        nginx = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 20
            while True:
                try:
                    urllib.request.urlopen(url + "/api/health", timeout=1).close()
                    break
                except OSError:
                    assert nginx.poll() is None, nginx.stderr.read().decode()
                    assert time.monotonic() < deadline, "nginx did not answer"
                    time.sleep(0.1)
            yield url, port
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)


def connect(port: int, source: str) -> socket.socket:
    sock = socket.socket()
    sock.settimeout(5)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    return sock


def health_from(port: int, source: str) -> bytes:
    with connect(port, source) as sock:
        sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: files.example.org\r\nConnection: close\r\n\r\n")
        return sock.recv(4096).split(b"\r\n", 1)[0]


def bearer(url: str) -> str:
    credentials = json.dumps({"username": "proxied01", "password": "correct horse"}).encode()
    for path in ("/api/register", "/api/login"):
        request = urllib.request.Request(url + path, credentials, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            data = json.load(answer)["data"]
    return f"Bearer {data['access_token']}"


def test_idle_connections_and_slow_patch_bodies_through_nginx_leave_others_served(proxied):
    url, port = proxied
    token = bearer(url)
    request = urllib.request.Request(url + "/api/uploads", b"", {**TUS, "Upload-Length": str(2**20),
                                                               "Authorization": token})
    with urllib.request.urlopen(request, timeout=30) as answer:
        location = answer.headers["Location"]
    idle = [connect(port, ATTACKER) for _ in range(150)]
    slow = []
    try:
        for _ in range(110):  # the 110 slow PATCH bodies, each stalled after its first bytes
            sock = connect(port, ATTACKER)
            sock.sendall((f"PATCH {location} HTTP/1.1\r\nHost: files.example.org\r\nAuthorization: {token}\r\n"
                          "Tus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\n"
                          f"Content-Length: {2**20}\r\n\r\n").encode() + b"x" * 10)
            slow.append(sock)
        for _ in range(10):
            assert health_from(port, BYSTANDER) == b"HTTP/1.1 200 OK"
        time.sleep(1)  # nginx answers over-limit requests at once; a second is plenty
        busy = 0
        for sock in slow:  # nginx let 64 through to authupload and answered the rest itself
            sock.setblocking(False)
            try:
                busy += sock.recv(4096).startswith(b"HTTP/1.1 503 ")
            except BlockingIOError:
                pass  # still streaming to authupload
        assert busy >= 110 - 64
    finally:
        for sock in idle + slow:
            sock.close()


def test_an_anonymous_1_gib_upload_through_nginx_is_refused_right_after_its_headers(proxied):
    _, port = proxied
    with connect(port, ATTACKER) as sock:
        sock.sendall(b"POST /api/files HTTP/1.1\r\nHost: files.example.org\r\n"
                     b"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 1073741824\r\n\r\n")
        answer = sock.recv(4096)  # before any of the body: streaming lets authupload answer from the headers
    assert answer.startswith(b"HTTP/1.1 401 ")
