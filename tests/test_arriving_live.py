"""Bodies written where they belong as they arrive, over a real serve.py (server.py, files/arriving.py).

A tus ``PATCH`` is appended to its partial file while waitress reads it; these
tests cut such requests off halfway — the client hanging up, the server killed —
and check that the offset the server tells is always the bytes it keeps.
Raw sockets, because an HTTP client library will not stop in the middle of a body.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import time

import pytest
import requests

from live_server import LiveServer
from test_resumable_live import log_in

pytestmark = pytest.mark.slow

MIB = 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}
SETTLE_DEADLINE_SECONDS = 30  # how long the server may take to notice a hang-up (not a speed check)


@pytest.fixture
def server(tmp_path):
    with LiveServer(tmp_path / "data", "--bcrypt-cost", "4") as running:
        yield running


def create_upload(server: LiveServer, headers: dict, length: int) -> tuple[str, dict]:
    """A new tus upload of ``length`` bytes: its URL and the headers that may touch it."""
    answer = requests.post(server.url + "/api/uploads", timeout=10, headers={
        **headers, **TUS, "Upload-Length": str(length), "Upload-Metadata": "filename " + base64.b64encode(b"a").decode()})
    assert answer.status_code == 201, answer.text
    return server.url + answer.headers["Location"], {"Authorization": "Bearer " + answer.headers["Upload-Token"]}


def patch(url: str, headers: dict, offset: int, body: bytes) -> requests.Response:
    return requests.patch(url, data=body, timeout=60, headers={
        **headers, **TUS, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"})


def send_part_of_patch(server: LiveServer, url: str, headers: dict, offset: int, declared: int, body: bytes,
                       extra: dict | None = None) -> socket.socket:
    """Open a PATCH announcing ``declared`` bytes and send only ``body``; returns the open socket."""
    path = url.removeprefix(server.url)
    lines = [f"PATCH {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}", "Tus-Resumable: 1.0.0",
             "Content-Type: application/offset+octet-stream", f"Upload-Offset: {offset}",
             f"Content-Length: {declared}", *(f"{name}: {value}" for name, value in {**headers, **(extra or {})}.items())]
    connection = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    return connection


def kept_offset(url: str, headers: dict) -> int:
    """The offset the server holds once it has finished with an earlier request.

    An empty PATCH at offset 0 is answered as soon as the upload's lock is free:
    204 if nothing is kept, else 409 naming the offset. 409 upload_busy: not yet.
    """
    deadline = time.monotonic() + SETTLE_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        answer = patch(url, headers, 0, b"")
        if answer.status_code == 204:
            return 0
        if answer.json()["data"]["error"] == "offset_mismatch":
            return int(answer.headers["Upload-Offset"])
        time.sleep(0.05)
    raise AssertionError("the upload stayed busy")


def head_offset(url: str, headers: dict) -> int:
    answer = requests.head(url, headers={**headers, **TUS}, timeout=10)
    assert answer.status_code == 200
    return int(answer.headers["Upload-Offset"])


def partial_size(server: LiveServer, url: str) -> int:
    return (server.data_dir / "partial" / url.rsplit("/", 1)[1]).stat().st_size


def finish_and_check(server: LiveServer, headers: dict, url: str, upload_headers: dict, data: bytes) -> None:
    """Send the rest from the offset the server tells, and check the stored file is ``data``."""
    offset = head_offset(url, upload_headers)
    answer = patch(url, upload_headers, offset, data[offset:])
    assert answer.status_code == 204, answer.text
    file_id = answer.headers["Upload-File-Id"]
    stored = requests.get(f"{server.url}/api/files/{file_id}", headers=headers, timeout=60).content
    assert hashlib.sha256(stored).hexdigest() == hashlib.sha256(data).hexdigest()


def test_a_patch_cut_off_halfway_keeps_the_bytes_that_arrived(server):
    headers = log_in(server, "cutoff01")
    data = os.urandom(8 * MIB)
    url, upload_headers = create_upload(server, headers, len(data))
    assert patch(url, upload_headers, 0, data[:MIB]).status_code == 204
    arrived = 3 * MIB + 12345
    connection = send_part_of_patch(server, url, upload_headers, MIB, 4 * MIB, data[MIB:MIB + arrived])
    connection.close()  # the client hangs up in the middle of the body
    assert kept_offset(url, upload_headers) == MIB + arrived
    assert head_offset(url, upload_headers) == partial_size(server, url) == MIB + arrived
    finish_and_check(server, headers, url, upload_headers, data)


@pytest.mark.parametrize("last_chunk", [False, True])
def test_a_whole_chunk_whose_client_hangs_up_before_the_answer_is_kept(server, last_chunk):
    """Every byte arrived; only the 204 went unread. The chunk counts, and a last chunk completes the file."""
    headers = log_in(server, f"hangup0{int(last_chunk)}")
    data = os.urandom(4 * MIB)
    url, upload_headers = create_upload(server, headers, len(data))
    end = len(data) if last_chunk else 3 * MIB
    send_part_of_patch(server, url, upload_headers, 0, end, data[:end]).close()  # all of the body, then gone
    if not last_chunk:
        assert kept_offset(url, upload_headers) == end
        assert head_offset(url, upload_headers) == partial_size(server, url) == end
        finish_and_check(server, headers, url, upload_headers, data)
        return
    digest = hashlib.sha256(data).hexdigest()
    deadline = time.monotonic() + SETTLE_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        listed = requests.get(server.url + "/api/files", headers=headers, timeout=10).json()["data"]["files"]
        if listed:
            break
        time.sleep(0.05)
    assert [file["sha256"] for file in listed] == [digest]
    stored = requests.get(f"{server.url}/api/files/{listed[0]['id']}", headers=headers, timeout=60).content
    assert hashlib.sha256(stored).hexdigest() == digest
    assert not (server.data_dir / "partial" / url.rsplit("/", 1)[1]).exists()


def test_a_patch_with_a_checksum_cut_off_halfway_keeps_none_of_it(server):
    headers = log_in(server, "cutoff02")
    data = os.urandom(4 * MIB)
    url, upload_headers = create_upload(server, headers, len(data))
    assert patch(url, upload_headers, 0, data[:MIB]).status_code == 204
    checksum = "sha256 " + base64.b64encode(hashlib.sha256(data[MIB:]).digest()).decode()
    connection = send_part_of_patch(server, url, upload_headers, MIB, 3 * MIB, data[MIB:2 * MIB],
                                    extra={"Upload-Checksum": checksum})
    connection.close()
    assert kept_offset(url, upload_headers) == MIB  # a chunk that cannot be checked is not kept
    assert head_offset(url, upload_headers) == partial_size(server, url) == MIB
    finish_and_check(server, headers, url, upload_headers, data)


def test_a_chunk_whose_checksum_fails_is_cut_back_over_a_real_server(server):
    headers = log_in(server, "cutoff03")
    data = os.urandom(2 * MIB)
    url, upload_headers = create_upload(server, headers, len(data))
    wrong = "sha256 " + base64.b64encode(hashlib.sha256(b"other bytes").digest()).decode()
    answer = requests.patch(url, data=data, timeout=60, headers={
        **upload_headers, **TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream",
        "Upload-Checksum": wrong})
    assert answer.status_code == 460 and answer.json()["data"]["error"] == "checksum_mismatch"
    assert head_offset(url, upload_headers) == partial_size(server, url) == 0
    finish_and_check(server, headers, url, upload_headers, data)


def test_a_second_writer_is_busy_while_a_chunk_arrives(server):
    headers = log_in(server, "cutoff04")
    data = os.urandom(2 * MIB)
    url, upload_headers = create_upload(server, headers, len(data))
    connection = send_part_of_patch(server, url, upload_headers, 0, len(data), data[:MIB])
    try:
        answer = patch(url, upload_headers, 0, data)
        assert answer.status_code == 409 and answer.json()["data"]["error"] == "upload_busy"
        connection.sendall(data[MIB:])
        status_line = connection.recv(4096).split(b"\r\n", 1)[0]
        assert status_line.split()[1] == b"204"
    finally:
        connection.close()
    assert head_offset(url, upload_headers) == len(data)


def test_a_chunk_whose_session_ends_while_it_arrives_is_refused_and_keeps_nothing(server):
    """The Upload-Token was good at the headers and dies with its session before the
    body ends: the answer is 401, and a refused chunk leaves nothing (unlike a cut-off
    one), so the owner, logged in again, goes on from the offset before it."""
    headers = log_in(server, "cutoff05")
    data = os.urandom(2 * MIB)
    url, upload_headers = create_upload(server, headers, len(data))
    connection = send_part_of_patch(server, url, upload_headers, 0, len(data), data[:MIB])
    try:
        answer = requests.post(server.url + "/api/logout", headers=headers, timeout=10)
        assert answer.status_code == 200, answer.text
        connection.sendall(data[MIB:])
        status_line = connection.recv(4096).split(b"\r\n", 1)[0]
        assert status_line.split()[1] == b"401"
    finally:
        connection.close()
    headers = log_in(server, "cutoff05")
    assert kept_offset(url, headers) == 0
    assert head_offset(url, headers) == partial_size(server, url) == 0
    finish_and_check(server, headers, url, headers, data)


def test_kill_9_in_the_middle_of_a_patch_loses_nothing_acknowledged(tmp_path):
    data_dir = tmp_path / "data"
    data = os.urandom(6 * MIB)
    with LiveServer(data_dir, "--bcrypt-cost", "4") as server:
        headers = log_in(server, "cutoff05")
        url, upload_headers = create_upload(server, headers, len(data))
        assert patch(url, upload_headers, 0, data[:2 * MIB]).status_code == 204
        connection = send_part_of_patch(server, url, upload_headers, 2 * MIB, 4 * MIB, data[2 * MIB:5 * MIB])
        wait_until(lambda: partial_size(server, url) >= 3 * MIB)  # some unacknowledged bytes are written
        server.kill()
        connection.close()
    path = url.removeprefix(server.url)
    with LiveServer(data_dir, "--bcrypt-cost", "4") as restarted:
        url = restarted.url + path
        assert head_offset(url, upload_headers) == 2 * MIB  # what was acknowledged, and no more
        finish_and_check(restarted, log_in(restarted, "cutoff05"), url, upload_headers, data)


BOUNDARY = "cutoffboundary"
PART_HEAD = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n"
             "Content-Type: application/octet-stream\r\n\r\n").encode()


def send_part_of_multipart(server: LiveServer, headers: dict, file_bytes: int, body: bytes) -> socket.socket:
    """Open a one-file multipart upload announcing ``file_bytes`` of file and send only ``body``."""
    declared = len(PART_HEAD) + file_bytes + len(f"\r\n--{BOUNDARY}--\r\n")
    lines = ["POST /api/files HTTP/1.1", f"Host: 127.0.0.1:{server.port}",
             f"Content-Type: multipart/form-data; boundary={BOUNDARY}", f"Content-Length: {declared}",
             f"Authorization: {headers['Authorization']}"]
    connection = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    return connection


def staged_sizes(server: LiveServer) -> list[int]:
    return [path.stat().st_size for path in (server.data_dir / "tmp").rglob("*") if path.is_file()]


def wait_until(condition) -> None:
    """Poll ``condition`` until true or SETTLE_DEADLINE_SECONDS pass (the assert that follows says which)."""
    deadline = time.monotonic() + SETTLE_DEADLINE_SECONDS
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)


def test_a_chunk_is_in_its_partial_file_before_its_body_ends(server):
    headers = log_in(server, "early01")
    url, upload_headers = create_upload(server, headers, 4 * MIB)
    connection = send_part_of_patch(server, url, upload_headers, 0, 4 * MIB, os.urandom(3 * MIB))
    try:
        wait_until(lambda: partial_size(server, url) == 3 * MIB)
        assert partial_size(server, url) == 3 * MIB  # not spooled elsewhere first: written where it belongs
    finally:
        connection.close()


def test_a_file_part_is_in_its_staging_file_before_the_body_ends(server):
    headers = log_in(server, "early02")
    connection = send_part_of_multipart(server, headers, 4 * MIB, PART_HEAD + os.urandom(3 * MIB))
    try:
        wait_until(lambda: staged_sizes(server) == [3 * MIB])
        assert staged_sizes(server) == [3 * MIB]
    finally:
        connection.close()


def test_a_malformed_multipart_body_is_refused_as_soon_as_it_shows(server):
    headers = log_in(server, "early03")
    connection = send_part_of_multipart(server, headers, 4 * MIB, f"--{BOUNDARY}\r\nno colon here\r\n\r\n".encode())
    try:
        answer = b""  # answered, and closed, while most of the announced body was never sent
        while piece := connection.recv(65536):
            answer += piece
        assert answer.split(b"\r\n", 1)[0].split()[1] == b"400"
        assert b'"invalid_multipart"' in answer
    finally:
        connection.close()
    assert staged_sizes(server) == []


def test_a_multipart_upload_cut_off_halfway_leaves_no_debris(server):
    headers = log_in(server, "cutoff06")
    connection = send_part_of_multipart(server, headers, 4 * MIB, PART_HEAD + os.urandom(2 * MIB))
    connection.close()
    # The next request on a fresh connection runs after the server has seen the hang-up.
    listed = requests.get(server.url + "/api/files", headers=headers, timeout=10).json()["data"]["files"]
    assert listed == []
    wait_until(lambda: staged_sizes(server) == [])
    assert staged_sizes(server) == []
    assert not any(path.is_file() for path in (server.data_dir / "files").rglob("*"))
