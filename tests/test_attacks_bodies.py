"""Bodies that can only be refused are refused before they are read (docs/threats.md,
"Hostile clients"; web/early.py), against a real ``serve.py`` over loopback.

Each test sends a request's headers announcing a large body, then some of that
body, and reads the answer: it must come at once, and nothing of the body may
be stored — not in the data directory, and not in a temporary file of the
server process (waitress buffers bodies past 512 KiB in unlinked temporary
files, which only /proc/<pid>/fd still shows).
"""

from __future__ import annotations

import json
import os
import socket
import urllib.request
from pathlib import Path

import pytest

from live_server import LiveServer

pytestmark = pytest.mark.slow

GIB = 1024 ** 3
MIB = 1024 ** 2
SENT_OF_THE_BODY = 4 * MIB  # past waitress's 512 KiB in-memory buffer: it would go to a temporary file


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("early-refusal")
    temporary = base / "server-tmp"
    temporary.mkdir()
    with LiveServer(base / "data", "--bcrypt-cost", "4", "--quota-bytes", str(64 * MIB),
                    env={"TMPDIR": str(temporary)}) as running:
        running.temporary_dir = temporary
        yield running


@pytest.fixture(scope="module")
def bearer(server):
    credentials = json.dumps({"username": "earlybird", "password": "correct horse"}).encode()
    for path in ("/api/register", "/api/login"):
        request = urllib.request.Request(server.url + path, credentials, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            data = json.load(answer)["data"]
    return f"Bearer {data['access_token']}"


def open_temporary_files(server) -> list[str]:
    """Files the server process holds open under its temporary directory (deleted ones included)."""
    found = []
    for descriptor in Path(f"/proc/{server.process.pid}/fd").iterdir():
        try:
            target = os.readlink(descriptor)
        except OSError:
            continue  # closed meanwhile
        if target.startswith(str(server.temporary_dir)):
            found.append(target)
    return found


def send_headers_then_body(server, method: str, path: str, headers: dict, body_bytes: int = SENT_OF_THE_BODY):
    """Send the headers, then up to ``body_bytes`` of the body; returns (answer head, its envelope, server temp files).

    The temporary files are looked at while the connection is still open, as
    waitress would hold a buffered body then. A socket timeout fails the test:
    the answer must not wait for the body.
    """
    head = f"{method} {path} HTTP/1.1\r\nHost: box\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall((head + "\r\n").encode("latin-1"))
        sent = 0
        chunk = b"x" * (256 * 1024)
        try:
            while sent < body_bytes:
                sent += sock.send(chunk)
        except OSError:
            pass  # the server answered and closed: it reads no more of the body
        held_open = open_temporary_files(server)
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
        head_part, _, rest = answer.partition(b"\r\n\r\n")
        length = int(next((line.split(b":", 1)[1] for line in head_part.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), b"0"))
        while len(rest) < length:
            data = sock.recv(65536)
            if not data:
                break
            rest += data
    envelope = json.loads(rest[:length]) if rest.startswith(b"{") else None
    return head_part.decode("latin-1"), envelope, held_open


def status_of(head: str) -> int:
    return int(head.split(" ", 2)[1])


def assert_refused(server, head, envelope, held_open, status: int, key: str):
    assert status_of(head) == status, head
    assert envelope["data"]["error"] == key
    assert held_open == []
    assert [p for p in (server.data_dir / "tmp").rglob("*") if p.is_file()] == []


def test_a_1_gib_anonymous_upload_is_refused_right_after_its_headers(server):
    head, envelope, held_open = send_headers_then_body(server, "POST", "/api/files", {
        "Content-Type": "multipart/form-data; boundary=x", "Content-Length": str(GIB)})
    assert_refused(server, head, envelope, held_open, 401, "token_missing")
    assert "www-authenticate: bearer" in head.lower()


def test_a_1_gib_json_body_is_refused_right_after_its_headers(server):
    head, envelope, held_open = send_headers_then_body(server, "POST", "/api/login", {
        "Content-Type": "application/json", "Content-Length": str(GIB)})
    assert_refused(server, head, envelope, held_open, 413, "body_too_large")


def test_a_body_to_a_path_nobody_serves_is_refused_unread(server):
    head, envelope, held_open = send_headers_then_body(server, "POST", "/api/nothing-here", {
        "Content-Type": "application/octet-stream", "Content-Length": str(GIB)})
    assert_refused(server, head, envelope, held_open, 404, "not_found")


def test_a_tus_chunk_with_a_bad_token_is_refused_unread(server):
    head, envelope, held_open = send_headers_then_body(server, "PATCH", "/api/uploads/0123456789abcdef", {
        "Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream",
        "Authorization": "Bearer not.a.token", "Content-Length": str(GIB)})
    assert_refused(server, head, envelope, held_open, 401, "token_invalid")
    assert "tus-resumable: 1.0.0" in head.lower()  # the route's own headers, errors included


def test_an_upload_bigger_than_the_free_quota_is_refused_unread(server, bearer):
    head, envelope, held_open = send_headers_then_body(server, "POST", "/api/files", {
        "Content-Type": "multipart/form-data; boundary=x", "Content-Length": str(512 * MIB),
        "Authorization": bearer})
    assert_refused(server, head, envelope, held_open, 413, "quota_exceeded")


def test_a_tus_creation_bigger_than_the_free_quota_is_refused_unread(server, bearer):
    head, envelope, held_open = send_headers_then_body(server, "POST", "/api/uploads", {
        "Tus-Resumable": "1.0.0", "Upload-Length": str(512 * MIB), "Authorization": bearer,
        "Content-Type": "application/offset+octet-stream", "Content-Length": str(8 * MIB)})
    assert_refused(server, head, envelope, held_open, 413, "quota_exceeded")


def test_expect_100_continue_gets_the_refusal_instead_of_100(server):
    head, envelope, held_open = send_headers_then_body(server, "POST", "/api/files", {
        "Content-Type": "multipart/form-data; boundary=x", "Content-Length": str(GIB),
        "Expect": "100-continue"}, body_bytes=0)
    assert head.startswith("HTTP/1.1 401 ")  # not "HTTP/1.1 100 Continue": the body is never sent
    assert envelope["data"]["error"] == "token_missing"


def test_expect_100_continue_on_an_acceptable_upload_still_gets_100_and_stores_it(server, bearer):
    body = (b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"ok.txt\"\r\n\r\n"
            b"accepted\r\n--x--\r\n")
    head = (f"POST /api/files HTTP/1.1\r\nHost: box\r\nAuthorization: {bearer}\r\n"
            f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {len(body)}\r\n"
            "Expect: 100-continue\r\n\r\n")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head.encode())
        assert sock.recv(4096).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(body)
        answer = b""
        while b'"files"' not in answer and (data := sock.recv(65536)):
            answer += data
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert b'"name":"ok.txt"' in answer


def test_a_content_length_of_thousands_of_digits_is_400_without_a_traceback(server):
    head, envelope, held_open = send_headers_then_body(server, "POST", "/api/login", {
        "Content-Type": "application/json", "Content-Length": "9" * 5000}, body_bytes=0)
    assert status_of(head) == 400
    assert envelope["data"]["error"] == "bad_request"
    assert "Traceback" not in server.log()


def drop_bearer(server, bearer, **limits) -> str:
    """A sender's drop token for a new upload request with these limits."""
    created = urllib.request.Request(server.url + "/api/requests", json.dumps({"title": "early", **limits}).encode(),
                                     {"Content-Type": "application/json", "Authorization": bearer})
    with urllib.request.urlopen(created, timeout=30) as answer:
        token = json.load(answer)["data"]["url"].rsplit("/", 1)[1]
    session = urllib.request.Request(f"{server.url}/api/public/requests/{token}/session", b"{}",
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(session, timeout=30) as answer:
        return f"Bearer {json.load(answer)['data']['access_token']}"


def test_a_drop_upload_past_the_requests_bytes_is_refused_unread(server, bearer):
    sender = drop_bearer(server, bearer, max_bytes=MIB)
    head, envelope, held_open = send_headers_then_body(server, "POST", "/api/uploads", {
        "Tus-Resumable": "1.0.0", "Upload-Length": str(16 * MIB), "Authorization": sender,
        "Content-Type": "application/offset+octet-stream", "Content-Length": str(8 * MIB)})
    assert_refused(server, head, envelope, held_open, 413, "request_full")
    head, envelope, held_open = send_headers_then_body(server, "POST", "/api/files", {
        "Content-Type": "multipart/form-data; boundary=x", "Content-Length": str(16 * MIB),
        "Authorization": sender})
    assert_refused(server, head, envelope, held_open, 413, "request_full")
def test_a_refused_body_sent_anyway_is_read_past_unstored_and_the_connection_goes_on(server):
    """A browser still sending its upload must get our 401, not a connection torn down under it."""
    body = b"x" * (2 * MIB)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST /api/files HTTP/1.1\r\nHost: box\r\nContent-Type: multipart/form-data; boundary=x\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: box\r\n\r\n")  # the next request on the same connection
        answer = b""
        while answer.count(b"HTTP/1.1 ") < 2 or not answer.endswith(b"}"):
            data = sock.recv(65536)
            assert data, answer
            answer += data
    assert answer.startswith(b"HTTP/1.1 401 ")
    assert b"HTTP/1.1 200 OK" in answer  # the health check after the refused body: the connection went on
    assert open_temporary_files(server) == []
