"""Faults against real server processes: kill -9, a full disk, two processes, a short soak.

Each test starts serve.py itself (LiveServer), does something unkind, and then
audits the data directory (tests/data_audit.py): nothing acknowledged is lost,
nothing half-written is visible, no debris stays behind.
"""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from data_audit import audit_data_dir
from live_server import LiveServer

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "fault password"


def login_headers(url: str, username: str) -> dict:
    answer = requests.post(f"{url}/api/login", json={"username": username, "password": PASSWORD}, timeout=30)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['data']['access_token']}"}


def register_and_login(url: str, username: str) -> dict:
    credentials = {"username": username, "password": PASSWORD}
    assert requests.post(f"{url}/api/register", json=credentials, timeout=30).status_code == 200
    return login_headers(url, username)


def upload(url: str, headers: dict, body: bytes, name: str = "data.bin"):
    return requests.post(f"{url}/api/files", headers=headers, files={"file": (name, body)}, timeout=120)


def test_kill_9_during_uploads_and_registrations_loses_nothing_acknowledged(tmp_path):
    data_dir = tmp_path / "data"
    server = LiveServer(data_dir, "--bcrypt-cost", "4").start()
    headers = register_and_login(server.url, "crashowner1")
    acknowledged_files: dict[str, str] = {}
    acknowledged_users: list[str] = []
    lock = threading.Lock()

    def keep_uploading(seed: int):
        rng = random.Random(seed)
        while True:
            body = rng.randbytes(rng.choice([10_000, 2_000_000, 30_000_000]))
            try:
                answer = upload(server.url, headers, body)
            except requests.RequestException:
                return  # the server died under us
            if answer.status_code == 200:
                with lock:
                    acknowledged_files[answer.json()["data"]["files"][0]["id"]] = hashlib.sha256(body).hexdigest()

    def keep_registering(prefix: str):
        for number in range(1000):
            username = f"{prefix}{number:04d}"
            try:
                answer = requests.post(f"{server.url}/api/register", timeout=30,
                                       json={"username": username, "password": PASSWORD})
            except requests.RequestException:
                return
            if answer.status_code == 200:
                with lock:
                    acknowledged_users.append(username)

    workers = [threading.Thread(target=keep_uploading, args=(n,)) for n in range(3)]
    workers += [threading.Thread(target=keep_registering, args=(f"crash{n}x",)) for n in range(2)]
    for worker in workers:
        worker.start()
    time.sleep(2.5)  # let uploads reach every stage: parsing, writing, committing
    server.kill()
    for worker in workers:
        worker.join(timeout=60)

    with LiveServer(data_dir, "--bcrypt-cost", "4") as restarted:
        assert audit_data_dir(data_dir) == []
        owner = login_headers(restarted.url, "crashowner1")
        for file_id, sha256 in acknowledged_files.items():
            body = requests.get(f"{restarted.url}/api/files/{file_id}", headers=owner, timeout=60).content
            assert hashlib.sha256(body).hexdigest() == sha256, f"acknowledged file {file_id} lost"
        for username in acknowledged_users:
            login_headers(restarted.url, username)
    assert acknowledged_files and acknowledged_users, "the test must have had work acknowledged before the kill"


@pytest.fixture
def small_disk(tmp_path):
    """A 48 MiB tmpfs as the data directory's file system (needs root, as in CI)."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mount_point)],
                             capture_output=True)
    if mounted.returncode != 0:
        if os.environ.get("AUTHUPLOAD_REQUIRE_BROWSER"):  # set in CI, where we are root
            pytest.fail(f"cannot mount a tmpfs: {mounted.stderr.decode()}")
        pytest.skip("mounting a tmpfs needs root")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_full_disk_answers_507_keeps_nothing_partial_and_keeps_serving(small_disk):
    data_dir = small_disk / "data"
    # No safety margin: let the upload really hit ENOSPC.
    with LiveServer(data_dir, "--bcrypt-cost", "4", "--min-free-disk-bytes", "0") as server:
        headers = register_and_login(server.url, "fulldisk01")
        kept = upload(server.url, headers, b"small and precious" * 100)
        assert kept.status_code == 200
        too_big = upload(server.url, headers, os.urandom(60 * 2**20))
        assert too_big.status_code == 507, too_big.text
        assert too_big.json()["data"]["error"] == "insufficient_storage"
        assert [p for p in (data_dir / "tmp").rglob("*") if p.is_file()] == []
        listing = requests.get(f"{server.url}/api/files", headers=headers, timeout=30).json()["data"]
        assert [f["id"] for f in listing["files"]] == [kept.json()["data"]["files"][0]["id"]]
        assert requests.get(f"{server.url}/api/health", timeout=10).status_code == 200
        assert upload(server.url, headers, b"still works").status_code == 200
    assert audit_data_dir(data_dir) == []


def test_free_space_margin_refuses_an_upload_before_the_disk_is_full(small_disk):
    data_dir = small_disk / "data"
    with LiveServer(data_dir, "--bcrypt-cost", "4", "--min-free-disk-bytes", str(40 * 2**20)) as server:
        headers = register_and_login(server.url, "margin0001")
        answer = upload(server.url, headers, os.urandom(10 * 2**20))
        assert answer.status_code == 507
        assert answer.json()["data"]["error"] == "insufficient_storage"
    assert audit_data_dir(data_dir) == []


TUS = {"Tus-Resumable": "1.0.0"}


def create_tus_upload(url: str, headers: dict, length: int):
    return requests.post(f"{url}/api/uploads", headers={**headers, **TUS, "Upload-Length": str(length)}, timeout=30)


def test_a_disk_that_fills_during_a_tus_patch_is_507_and_the_offset_stays_true(small_disk):
    data_dir = small_disk / "data"
    with LiveServer(data_dir, "--bcrypt-cost", "4", "--min-free-disk-bytes", "0") as server:
        headers = register_and_login(server.url, "patchfull1")
        created = create_tus_upload(server.url, headers, 30 * 2**20)
        assert created.status_code == 201, created.text
        location = server.url + created.headers["Location"]
        filler = small_disk / "filler"
        filler.write_bytes(bytes(30 * 2**20))  # someone else fills the disk after the space was promised
        chunk = {**headers, **TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
        answer = requests.patch(location, headers=chunk, data=os.urandom(30 * 2**20), timeout=120)
        assert answer.status_code == 507, answer.text
        assert answer.json()["data"]["error"] == "insufficient_storage"
        offset = requests.head(location, headers={**headers, **TUS}, timeout=30).headers["Upload-Offset"]
        assert offset == "0"
        assert (data_dir / "partial" / location.rsplit("/", 1)[1]).stat().st_size == 0  # cut back: offset is true
        filler.unlink()
        body = os.urandom(30 * 2**20)
        assert requests.patch(location, headers=chunk, data=body, timeout=120).status_code == 204
        assert requests.get(f"{server.url}/api/files", headers=headers, timeout=30).json()["data"]["total"] == 1
    assert audit_data_dir(data_dir) == []


def test_tus_creation_counts_the_space_promised_to_open_uploads(small_disk):
    data_dir = small_disk / "data"
    with LiveServer(data_dir, "--bcrypt-cost", "4", "--min-free-disk-bytes", "0") as server:
        first = register_and_login(server.url, "promised01")
        second = register_and_login(server.url, "promised02")
        assert create_tus_upload(server.url, first, 30 * 2**20).status_code == 201
        refused = create_tus_upload(server.url, second, 30 * 2**20)  # 48 MiB disk: 30 are promised already
        assert refused.status_code == 507, refused.text
        assert refused.json()["data"]["error"] == "insufficient_storage"
        assert upload(server.url, second, os.urandom(25 * 2**20)).status_code == 507  # multipart counts it too
    assert audit_data_dir(data_dir) == []


def wait_for_bytes_in_the_commit_window(data_dir: Path) -> None:
    """Until a file has been moved into files/ (the commit, paused, has not said COMMIT yet)."""
    deadline = time.monotonic() + 30
    while not list((data_dir / "files").glob("*/*")):
        assert time.monotonic() < deadline, "the upload never reached its commit"
        time.sleep(0.05)


def in_background(work) -> threading.Thread:
    def run():
        try:
            work()
        except requests.RequestException:
            pass  # the server is killed under it: what the test is about
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


PAUSED_COMMITS = {"AUTHUPLOAD_TEST_COMMIT_PAUSE_SECONDS": "60"}


def test_kill_9_inside_a_multipart_commit_then_a_restart_leaves_nothing_unknown(tmp_path):
    data_dir = tmp_path / "data"
    server = LiveServer(data_dir, "--bcrypt-cost", "4", env=PAUSED_COMMITS).start()
    headers = register_and_login(server.url, "window0001")
    uploading = in_background(lambda: upload(server.url, headers, b"never acknowledged" * 1000))
    wait_for_bytes_in_the_commit_window(data_dir)
    server.kill()
    uploading.join()
    assert audit_data_dir(data_dir) != []  # the crash did leave bytes no row knows
    with LiveServer(data_dir, "--bcrypt-cost", "4", port=server.port) as restarted:
        assert audit_data_dir(data_dir) == []  # reconciled at start: the commit was undone
        headers = login_headers(restarted.url, "window0001")
        assert requests.get(f"{restarted.url}/api/files", headers=headers, timeout=30).json()["data"]["total"] == 0
        assert upload(restarted.url, headers, b"after the crash").status_code == 200
    assert audit_data_dir(data_dir) == []


def test_kill_9_inside_a_tus_completion_then_a_restart_resumes_from_a_true_offset(tmp_path):
    data_dir = tmp_path / "data"
    server = LiveServer(data_dir, "--bcrypt-cost", "4", env=PAUSED_COMMITS).start()
    headers = register_and_login(server.url, "window0002")
    body = os.urandom(100_000)
    location = create_tus_upload(server.url, headers, len(body)).headers["Location"]
    chunk = {**headers, **TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
    finishing = in_background(lambda: requests.patch(server.url + location, headers=chunk, data=body, timeout=120))
    wait_for_bytes_in_the_commit_window(data_dir)
    server.kill()
    finishing.join()
    with LiveServer(data_dir, "--bcrypt-cost", "4", port=server.port) as restarted:
        assert audit_data_dir(data_dir) == []
        headers = login_headers(restarted.url, "window0002")
        offset = requests.head(restarted.url + location, headers={**headers, **TUS}, timeout=30)
        assert offset.headers["Upload-Offset"] == "0"  # the completion was undone: its bytes are gone, and HEAD says so
        chunk = {**headers, **TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
        assert requests.patch(restarted.url + location, headers=chunk, data=body, timeout=120).status_code == 204
        listing = requests.get(f"{restarted.url}/api/files", headers=headers, timeout=30).json()["data"]
        assert listing["total"] == 1
        file_id = listing["files"][0]["id"]
        stored = requests.get(f"{restarted.url}/api/files/{file_id}", headers=headers, timeout=30).content
        assert stored == body
    assert audit_data_dir(data_dir) == []


def run_soak(*flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / "soak.py"), *flags],
                          capture_output=True, text=True, timeout=600)


def test_short_soak_loses_nothing_and_never_answers_5xx():
    result = run_soak("--clients", "6", "--seconds", "8", "--max-upload-mib", "4")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "surprises: 0" in result.stdout


def test_two_processes_on_one_data_directory_under_soak():
    result = run_soak("--clients", "6", "--seconds", "8", "--max-upload-mib", "4", "--servers", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "server_errors                0" in result.stdout
