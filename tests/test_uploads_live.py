"""Uploads against a real ``serve.py`` (waitress), over real sockets: what only a
real server shows — a client hanging up mid-body, memory that stays flat while a
large file streams through, and concurrent uploads."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import socket
import threading

import pytest

import forms
from live_server import LiveServer

pytestmark = pytest.mark.slow

MIB = 1024 * 1024


@pytest.fixture
def server(tmp_path):
    with LiveServer(tmp_path / "data", "--bcrypt-cost", "4") as running:
        yield running


def call(server, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    """One request; returns (status, headers, body bytes)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def new_user(server, username: str) -> dict:
    credentials = json.dumps({"username": username, "password": "correct horse"}).encode()
    json_type = {"Content-Type": "application/json"}
    assert call(server, "POST", "/api/register", credentials, json_type)[0] == 200
    status, _, body = call(server, "POST", "/api/login", credentials, json_type)
    assert status == 200
    return {"headers": {"Authorization": "Bearer " + json.loads(body)["data"]["access_token"]}}


def listed(server, user) -> list[dict]:
    status, _, body = call(server, "GET", "/api/files", headers=user["headers"])
    assert status == 200
    return json.loads(body)["data"]["files"]


def write_multipart_file(path, name: str, size: int, seed: bytes) -> str:
    """A multipart body holding one ``size``-byte file part, written to ``path``; the part's sha256."""
    block = hashlib.sha256(seed).digest() * (MIB // 32)
    digest = hashlib.sha256()
    with open(path, "wb") as out:
        out.write(forms.opening() + forms.file_part(name, b""))
        for offset in range(0, size, MIB):
            piece = block[: min(MIB, size - offset)]
            piece = offset.to_bytes(8, "big") + piece[8:]  # every MiB different
            digest.update(piece)
            out.write(piece)
        out.write(forms.closing())
    return digest.hexdigest()


def upload_file_body(server, user, body_path) -> tuple[int, dict]:
    """POST a body from disk, streamed by http.client in 1 MiB blocks."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=300, blocksize=MIB)
    try:
        with open(body_path, "rb") as body:
            connection.request("POST", "/api/files", body=body, headers={
                **user["headers"], "Content-Type": forms.content_type(),
                "Content-Length": str(os.path.getsize(body_path))})
            response = connection.getresponse()
            return response.status, json.loads(response.read())
    finally:
        connection.close()


def download_sha256(server, user, file_id: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=300)
    try:
        connection.request("GET", f"/api/files/{file_id}", headers=user["headers"])
        response = connection.getresponse()
        assert response.status == 200
        digest = hashlib.sha256()
        while chunk := response.read(MIB):
            digest.update(chunk)
        return digest.hexdigest()
    finally:
        connection.close()


def assert_no_debris(server):
    data_dir = server.data_dir
    assert [p for p in (data_dir / "tmp").rglob("*") if p.is_file()] == []
    assert [p for p in (data_dir / "files").rglob("*") if p.is_file()] == []


def test_an_upload_cut_off_halfway_leaves_nothing(server):
    user = new_user(server, "cutoff01")
    raw = forms.body(forms.file_part("half.bin", os.urandom(4 * MIB)))
    head = (f"POST /api/files HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: {user['headers']['Authorization']}\r\n"
            f"Content-Type: {forms.content_type()}\r\nContent-Length: {len(raw)}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", server.port)) as client:
        client.sendall(head + raw[: len(raw) // 2])
    # The server keeps answering, and nothing of the upload exists anywhere.
    assert call(server, "GET", "/api/health")[0] == 200
    assert listed(server, user) == []
    assert_no_debris(server)
    status, _, body = call(server, "GET", "/api/me", headers=user["headers"])
    assert json.loads(body)["data"]["usage"]["files"] == 0


def test_a_300_mb_upload_streams_with_flat_memory(server, tmp_path):
    user = new_user(server, "bigfile01")
    body_path = tmp_path / "body.bin"
    size = 300 * 1000 * 1000
    expected = write_multipart_file(body_path, "big.bin", size, b"big")
    assert call(server, "GET", "/api/files", headers=user["headers"])[0] == 200  # warm every code path
    idle = server.rss_bytes()
    try:
        status, answer = upload_file_body(server, user, body_path)
        peak = server.rss_bytes(peak=True)
    finally:
        body_path.unlink()
    assert status == 200, answer
    (file,) = answer["data"]["files"]
    assert (file["size"], file["sha256"]) == (size, expected)
    # A property, not a timing: memory did not grow with the file.
    assert peak - idle < 100 * MIB, f"peak RSS grew by {(peak - idle) / MIB:.0f} MiB"
    assert download_sha256(server, user, file["id"]) == expected
    assert [p for p in (server.data_dir / "tmp").rglob("*") if p.is_file()] == []


def test_two_users_upload_the_same_name_at_once(server, tmp_path):
    users = [new_user(server, f"samename{n}") for n in range(2)]
    bodies = [tmp_path / f"body{n}.bin" for n in range(2)]
    digests = [write_multipart_file(path, "same.bin", 20 * MIB, f"user {n}".encode())
               for n, path in enumerate(bodies)]
    start = threading.Barrier(2)
    answers = [None, None]

    def upload(n):
        start.wait()
        answers[n] = upload_file_body(server, users[n], bodies[n])

    threads = [threading.Thread(target=upload, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for user, (status, answer), digest in zip(users, answers, digests):
        assert status == 200, answer
        (file,) = answer["data"]["files"]
        assert (file["name"], file["sha256"]) == ("same.bin", digest)
        assert [f["id"] for f in listed(server, user)] == [file["id"]]
        assert download_sha256(server, user, file["id"]) == digest
    assert digests[0] != digests[1]
