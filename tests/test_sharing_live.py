"""Sharing against a real serve.py over loopback: a crash during a drop upload,
racing download completions, a ZIP cut off halfway, and the access log."""

from __future__ import annotations

import io
import os
import socket
import sqlite3
import threading
import time
import zipfile
from urllib.parse import urlsplit

import pytest
import requests

from live_server import LiveServer

pytestmark = pytest.mark.slow

MIB = 1024 * 1024
FLAGS = ("--bcrypt-cost", "4")
TUS = {"Tus-Resumable": "1.0.0"}


def owner_headers(server, username="sharer01") -> dict:
    requests.post(f"{server.url}/api/register", json={"username": username, "password": "correct horse"}, timeout=10)
    token = requests.post(f"{server.url}/api/login", json={"username": username, "password": "correct horse"},
                          timeout=10).json()["data"]["access_token"]
    return {"Authorization": f"Bearer {token}"}


def get(server, path, headers) -> dict:
    answer = requests.get(server.url + path, headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


def patch(server, location, upload_token, offset, body):
    return requests.patch(server.url + location, data=body, timeout=30, headers={
        **TUS, "Authorization": f"Bearer {upload_token}", "Upload-Offset": str(offset),
        "Content-Type": "application/offset+octet-stream"})


def start_half_sent_patch(server, location, upload_token, offset, length) -> socket.socket:
    """A PATCH whose headers and first half arrive, then nothing: the server is killed meanwhile."""
    head = (f"PATCH {location} HTTP/1.1\r\nHost: 127.0.0.1\r\nTus-Resumable: 1.0.0\r\n"
            f"Authorization: Bearer {upload_token}\r\nUpload-Offset: {offset}\r\n"
            f"Content-Type: application/offset+octet-stream\r\nContent-Length: {length}\r\n\r\n")
    connection = socket.create_connection(("127.0.0.1", server.port))
    connection.sendall(head.encode() + os.urandom(length // 2))
    return connection


def test_kill_9_during_a_drop_upload_leaves_counters_and_usage_true(tmp_path):
    data_dir = tmp_path / "data"
    with LiveServer(data_dir, *FLAGS) as server:
        headers = owner_headers(server)
        request = requests.post(f"{server.url}/api/requests", json={"title": "Crash", "max_files": 5},
                                headers=headers, timeout=10).json()["data"]
        token = urlsplit(request["url"]).path.removeprefix("/r/")
        session = requests.post(f"{server.url}/api/public/requests/{token}/session", json={"name": "Kim"},
                                timeout=10).json()["data"]
        drop = {"Authorization": f"Bearer {session['access_token']}"}
        # One file arrives whole; a second is half-way (4 MiB of 12) with another PATCH in flight.
        whole = requests.post(f"{server.url}/api/files", headers=drop, timeout=30,
                              files={"file": ("whole.bin", os.urandom(3 * MIB))})
        assert whole.status_code == 200
        created = requests.post(f"{server.url}/api/uploads", timeout=10, headers={
            **TUS, **drop, "Upload-Length": str(12 * MIB)})
        location, upload_token = created.headers["Location"], created.headers["Upload-Token"]
        first = os.urandom(4 * MIB)
        assert patch(server, location, upload_token, 0, first).status_code == 204
        in_flight = start_half_sent_patch(server, location, upload_token, 4 * MIB, 8 * MIB)
        time.sleep(0.3)
        server.kill()  # SIGKILL: no cleanup of any kind
        in_flight.close()

    with LiveServer(data_dir, *FLAGS) as server:
        files = get(server, "/api/files", headers)["files"]
        assert [f["name"] for f in files] == ["whole.bin"]  # nothing partial is listed
        (listed,) = get(server, "/api/requests", headers)["requests"]
        assert (listed["files_received"], listed["bytes_received"]) == (1, 3 * MIB)
        usage = get(server, "/api/me", headers)["usage"]
        assert (usage["files"], usage["bytes"]) == (1, 3 * MIB)
        offset = requests.head(server.url + location, timeout=10, headers={
            **TUS, "Authorization": f"Bearer {upload_token}"}).headers["Upload-Offset"]
        assert offset == str(4 * MIB)  # exactly the bytes stored before the crash
        assert patch(server, location, upload_token, 4 * MIB, os.urandom(8 * MIB)).status_code == 204
        (listed,) = get(server, "/api/requests", headers)["requests"]
        assert (listed["files_received"], listed["bytes_received"]) == (2, 15 * MIB)
        usage = get(server, "/api/me", headers)["usage"]
        assert (usage["files"], usage["bytes"]) == (2, 15 * MIB)

    with sqlite3.connect(data_dir / "authupload.db") as database:
        stored = database.execute("SELECT count(*), sum(size) FROM files WHERE received_request_id = ?",
                                  (request["id"],)).fetchone()
    assert stored == (2, 15 * MIB)
    assert len([path for path in (data_dir / "files").rglob("*") if path.is_file()]) == 2  # no stray bytes


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with LiveServer(tmp_path_factory.mktemp("sharing") / "data", *FLAGS) as live:
        yield live


def shared(server, headers, data: bytes, **fields):
    file = requests.post(f"{server.url}/api/files", headers=headers, timeout=30,
                         files={"file": ("shared.bin", data)}).json()["data"]["files"][0]
    share = requests.post(f"{server.url}/api/shares", json={"file_ids": [file["id"]], **fields}, headers=headers,
                          timeout=10).json()["data"]
    return file, share, urlsplit(share["url"]).path.removeprefix("/s/")


def downloads_of(server, headers, share) -> int:
    return next(s for s in get(server, "/api/shares", headers)["shares"] if s["id"] == share["id"])["downloads"]


def test_counting_a_download_never_holds_up_other_connections(server):
    """The count is written when waitress's event loop closes the file; the write itself waits elsewhere.

    Another process holds the database's write lock meanwhile (a backup, a
    long admin transaction): every other client must still be answered.
    """
    headers = owner_headers(server, "counter1")
    # Bigger than the socket's buffers: the event loop, not the worker, sends the end and closes the file.
    file, share, token = shared(server, headers, os.urandom(16 * MIB))
    holder = sqlite3.connect(server.data_dir / "authupload.db", isolation_level=None, timeout=10)
    holder.execute("BEGIN IMMEDIATE")
    try:
        whole = requests.get(f"{server.url}/api/public/shares/{token}/files/{file['id']}", timeout=10)
        assert len(whole.content) == 16 * MIB
        time.sleep(0.3)  # the file wrapper is closed, its count waiting for the lock
        started = time.monotonic()
        assert requests.get(f"{server.url}/api/health", timeout=5).status_code == 200
        assert time.monotonic() - started < 2
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    deadline = time.monotonic() + 10
    while downloads_of(server, headers, share) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert downloads_of(server, headers, share) == 1  # counted once the lock was free


def test_racing_completions_count_exactly_max_downloads(server):
    headers = owner_headers(server, "racer001")
    data = os.urandom(2 * MIB)
    file, share, token = shared(server, headers, data, max_downloads=3)
    barrier = threading.Barrier(10)
    bodies = []

    def download():
        barrier.wait()
        answer = requests.get(f"{server.url}/api/public/shares/{token}/files/{file['id']}", timeout=30)
        bodies.append((answer.status_code, answer.content))

    threads = [threading.Thread(target=download) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Every download that was let in finished whole; the count stopped at the limit.
    assert all(body == data for status, body in bodies if status == 200)
    assert sum(status == 200 for status, _ in bodies) >= 3
    deadline = time.monotonic() + 5
    while downloads_of(server, headers, share) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # any late completion would have counted by now
    assert downloads_of(server, headers, share) == 3


def test_a_zip_cut_off_halfway_counts_nothing_and_leaves_nothing(server):
    headers = owner_headers(server, "zipcut01")
    data = os.urandom(24 * MIB)
    file, share, token = shared(server, headers, data)
    before = sorted(p for p in server.data_dir.rglob("*"))
    with requests.get(f"{server.url}/api/public/shares/{token}/zip", stream=True, timeout=30) as answer:
        assert answer.status_code == 200
        assert int(answer.headers["Content-Length"]) > 24 * MIB
        next(answer.iter_content(1024 * 1024))
    # The connection is closed with most of the ZIP unsent.
    time.sleep(1)
    assert downloads_of(server, headers, share) == 0
    after = sorted(p for p in server.data_dir.rglob("*"))
    assert after == before  # no temporary file, nothing new on disk
    whole = requests.get(f"{server.url}/api/public/shares/{token}/zip", timeout=60)
    assert len(whole.content) == int(whole.headers["Content-Length"])
    with zipfile.ZipFile(io.BytesIO(whole.content)) as zipped:  # sent by waitress's file wrapper
        assert zipped.testzip() is None and [zipped.read(name) for name in zipped.namelist()] == [data]
    deadline = time.monotonic() + 5
    while downloads_of(server, headers, share) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert downloads_of(server, headers, share) == 1


def test_a_single_file_cut_off_counts_nothing_its_resumed_end_counts_once(server):
    headers = owner_headers(server, "resume01")
    data = os.urandom(32 * MIB)
    file, share, token = shared(server, headers, data)
    url = f"{server.url}/api/public/shares/{token}/files/{file['id']}"
    with requests.get(url, stream=True, timeout=30) as answer:
        received = next(answer.iter_content(1024 * 1024))
    time.sleep(1)
    assert downloads_of(server, headers, share) == 0
    rest = requests.get(url, headers={"Range": f"bytes={len(received)}-"}, timeout=60)
    assert rest.status_code == 206 and received + rest.content == data
    deadline = time.monotonic() + 5
    while downloads_of(server, headers, share) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    assert downloads_of(server, headers, share) == 1


def test_link_tokens_never_reach_the_access_log(server):
    headers = owner_headers(server, "logger01")
    file, share, token = shared(server, headers, b"secret things")
    requests.get(share["url"], timeout=10)
    requests.get(f"{server.url}/api/public/shares/{token}", timeout=10)
    requests.get(f"{server.url}/api/public/shares/{token}/zip", timeout=10)
    requests.post(f"{server.url}/api/public/shares/{token}/unlock", json={"password": "x"}, timeout=10)
    # Refused right after its headers (web/early.py): that answer is logged too, without the token.
    requests.post(f"{server.url}/api/public/shares/{token}/unlock", data=b"{" * (128 * 1024),
                  headers={"Content-Type": "application/json"}, timeout=10)
    time.sleep(0.3)
    log = server.log()
    assert "/api/public/shares/…/zip" in log
    assert token not in log
