"""tus uploads through a real serve.py with tuspy, a standard tus client (pip install tuspy).

These prove what WebTest cannot: waitress's buffering of real chunk bodies,
a client process that dies mid-upload, and an upload that outlives its login.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
import time

import pytest
import requests
from tusclient import client as tus_client

from live_server import LiveServer

pytestmark = pytest.mark.slow

MIB = 1024 * 1024
PASSWORD = "correct horse"


def make_file(path, size: int) -> str:
    """Random bytes of ``size`` at ``path``, written in pieces; returns their sha256."""
    digest = hashlib.sha256()
    with open(path, "wb") as file:
        for _ in range(0, size, MIB):
            piece = os.urandom(min(MIB, size - file.tell()))
            digest.update(piece)
            file.write(piece)
    return digest.hexdigest()


def log_in(server: LiveServer, username: str) -> dict:
    """Register (if new) and log in; returns the Authorization header."""
    credentials = {"username": username, "password": PASSWORD}
    requests.post(server.url + "/api/register", json=credentials, timeout=10)
    token = requests.post(server.url + "/api/login", json=credentials, timeout=10).json()["data"]["access_token"]
    return {"Authorization": f"Bearer {token}"}


def downloaded_sha256(server: LiveServer, headers: dict, file_id: str) -> str:
    digest = hashlib.sha256()
    with requests.get(f"{server.url}/api/files/{file_id}", headers=headers, stream=True, timeout=60) as answer:
        answer.raise_for_status()
        for piece in answer.iter_content(MIB):
            digest.update(piece)
    return digest.hexdigest()


def file_id_of(server: LiveServer, headers: dict, upload_url: str) -> str:
    """Ask the server which file a finished upload became (tuspy does not keep that header)."""
    answer = requests.head(upload_url, headers={**headers, "Tus-Resumable": "1.0.0"}, timeout=10)
    assert answer.headers["Upload-Offset"] == answer.headers["Upload-Length"]
    return answer.headers["Upload-File-Id"]


@pytest.fixture
def server(tmp_path):
    with LiveServer(tmp_path / "data", "--bcrypt-cost", "4") as running:
        yield running


def test_a_100_mb_file_in_5_mb_chunks(server, tmp_path):
    headers = log_in(server, "tusbig01")
    path = tmp_path / "big.bin"
    expected = make_file(path, 100 * 1000 * 1000)
    tus = tus_client.TusClient(server.url + "/api/uploads", headers=headers)
    uploader = tus.uploader(str(path), chunk_size=5 * 1000 * 1000, metadata={"filename": "big.bin"},
                            upload_checksum=True)
    uploader.upload()
    assert uploader.offset == path.stat().st_size
    file_id = file_id_of(server, headers, uploader.url)
    assert downloaded_sha256(server, headers, file_id) == expected


# The child uploads 1 MiB chunks slowly and says where, so the test can kill it mid-way.
SLOW_CLIENT = textwrap.dedent("""
    import sys, time
    from tusclient import client
    url, token, path, url_file = sys.argv[1:]
    uploader = client.TusClient(url, headers={"Authorization": "Bearer " + token}).uploader(
        path, chunk_size=1024 * 1024, metadata={"filename": "resumed.bin"})
    uploader.set_url(uploader.create_url())
    with open(url_file, "w") as file:
        file.write(uploader.url)
    while uploader.offset < uploader.get_file_size():
        uploader.upload_chunk()
        time.sleep(0.1)
""")


def current_offset(upload_url: str, headers: dict) -> int:
    answer = requests.head(upload_url, headers={**headers, "Tus-Resumable": "1.0.0"}, timeout=10)
    return int(answer.headers.get("Upload-Offset", 0))


def test_resume_after_the_client_is_killed_halfway(server, tmp_path):
    headers = log_in(server, "tusresume")
    path = tmp_path / "resume.bin"
    size = 20 * MIB
    expected = make_file(path, size)
    url_file = tmp_path / "upload-url.txt"
    token = headers["Authorization"].split()[1]
    child = subprocess.Popen([sys.executable, "-c", SLOW_CLIENT, server.url + "/api/uploads", token, str(path),
                              str(url_file)])
    try:
        deadline = time.monotonic() + 60
        while not (url_file.exists() and url_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        upload_url = url_file.read_text()
        while current_offset(upload_url, headers) < 5 * MIB and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        child.kill()
        child.wait()

    # The bytes the dead client had already sent may still be arriving when the new
    # client asks for the offset (a PATCH cut off keeps what arrived), so its first
    # PATCH can meet 409 offset_mismatch: a tus client then asks HEAD again and goes on.
    uploader = tus_client.TusClient(server.url + "/api/uploads", headers=headers).uploader(
        str(path), url=upload_url, retries=3, retry_delay=1)
    assert 0 < uploader.offset < size  # learned from HEAD: the new client goes on where the old one died
    uploader.upload()
    assert downloaded_sha256(server, headers, file_id_of(server, headers, upload_url)) == expected


def test_an_upload_outlives_its_access_token(tmp_path):
    with LiveServer(tmp_path / "data", "--bcrypt-cost", "4", "--token-ttl-seconds", "2") as server:
        headers = log_in(server, "tuslong01")
        path = tmp_path / "long.bin"
        expected = make_file(path, 3 * MIB)
        created = requests.post(server.url + "/api/uploads", timeout=10, headers={
            **headers, "Tus-Resumable": "1.0.0", "Upload-Length": str(3 * MIB)})
        assert created.status_code == 201
        upload_url = server.url + created.headers["Location"]
        upload_token = {"Authorization": f"Bearer {created.headers['Upload-Token']}"}

        deadline = time.monotonic() + 10  # the token's two seconds must pass: wait until it is refused
        while requests.get(server.url + "/api/me", headers=headers, timeout=10).status_code != 401:
            assert time.monotonic() < deadline
            time.sleep(0.2)

        tus = tus_client.TusClient(server.url + "/api/uploads", headers=upload_token)
        uploader = tus.uploader(str(path), url=upload_url, chunk_size=MIB)
        uploader.upload()
        file_id = file_id_of(server, upload_token, upload_url)
        assert downloaded_sha256(server, log_in(server, "tuslong01"), file_id) == expected
