"""Start-up reconciliation (files/reconcile.py): what a crash can leave between the
database and the data directory is finished or undone, and only when no other
server process is using the directory. The crashes themselves (kill -9 inside the
commit window) are in test_faults.py; here the debris is made by hand."""

from __future__ import annotations

import fcntl
import os

import pytest

from authupload.files import reconcile
from data_audit import audit_data_dir

TUS = {"Tus-Resumable": "1.0.0"}


@pytest.fixture
def services(app):
    return app.services


def reconcile_now(app):
    reconcile.reconcile(app.services.database, app.services.storage, app.services.uploads)


def open_upload(client, user, sent: bytes, length: int = 10) -> str:
    location = client.post("/api/uploads", headers={**user["headers"], **TUS, "Upload-Length": str(length)},
                           status=201).headers["Location"]
    if sent:
        client.patch(location, sent, headers={**user["headers"], **TUS, "Upload-Offset": "0",
                                              "Content-Type": "application/offset+octet-stream"}, status=204)
    return location


def offset_of(client, user, location: str) -> int:
    return int(client.head(location, headers={**user["headers"], **TUS}).headers["Upload-Offset"])


def test_bytes_in_files_that_no_row_knows_are_removed(app, client, user, services):
    kept = client.post("/api/files", headers=user["headers"], upload_files=[("file", "a.txt", b"kept")])
    orphan = services.storage.path_of(user["id"], "0" * 32)
    orphan.write_bytes(b"moved, never committed")
    reconcile_now(app)
    assert not orphan.exists()
    assert client.get("/api/files", headers=user["headers"]).json["data"]["total"] == 1
    assert kept.json["data"]["files"][0]["name"] == "a.txt"
    assert audit_data_dir(services.config.data_dir) == []


def test_a_row_whose_bytes_are_gone_is_removed_and_usage_recounted(app, client, user, services):
    files = client.post("/api/files", headers=user["headers"],
                        upload_files=[("file", "a.txt", b"aaaa"), ("file", "b.txt", b"bb")]).json["data"]["files"]
    services.storage.path_of(user["id"], files[0]["id"]).unlink()
    reconcile_now(app)
    usage = client.get("/api/me", headers=user["headers"]).json["data"]["usage"]
    assert (usage["files"], usage["bytes"]) == (1, 2)
    assert audit_data_dir(services.config.data_dir) == []


def test_bytes_written_past_the_recorded_offset_are_cut_back(app, client, user, services):
    location = open_upload(client, user, b"12345")
    with open(services.uploads.partial_path(location.rsplit("/", 1)[1]), "ab") as partial:
        partial.write(b"678")  # written and fsynced, but the crash came before the offset was recorded
    reconcile_now(app)
    assert offset_of(client, user, location) == 5
    assert audit_data_dir(services.config.data_dir) == []


@pytest.mark.parametrize("stored", [b"12", None])
def test_an_offset_past_the_stored_bytes_comes_down_to_them(app, client, user, services, stored):
    location = open_upload(client, user, b"12345")
    partial = services.uploads.partial_path(location.rsplit("/", 1)[1])
    if stored is None:
        partial.unlink()  # an undone completion: the bytes had moved to files/
    else:
        partial.write_bytes(stored)
    reconcile_now(app)
    offset = offset_of(client, user, location)
    assert offset == len(stored or b"")
    rest = b"1234567890"[offset:]
    client.patch(location, rest, headers={**user["headers"], **TUS, "Upload-Offset": str(offset),
                                          "Content-Type": "application/offset+octet-stream"}, status=204)
    assert client.get("/api/files", headers=user["headers"]).json["data"]["total"] == 1
    assert audit_data_dir(services.config.data_dir) == []


def test_partial_files_of_no_upload_are_removed(app, services):
    stray = services.storage.partial_dir / ("f" * 32)
    stray.write_bytes(b"left behind")
    stray.with_name(stray.name + ".lock").touch()
    reconcile_now(app)
    assert list(services.storage.partial_dir.iterdir()) == []


def test_it_runs_only_when_no_other_process_serves_the_directory(tmp_path):
    (tmp_path / "serving.lock").touch()
    other = os.open(tmp_path / "serving.lock", os.O_RDWR)
    try:
        fcntl.flock(other, fcntl.LOCK_SH)  # another server process, alive
        descriptor, alone = reconcile.hold_data_dir(tmp_path)
        os.close(descriptor)
        assert alone is False
    finally:
        os.close(other)  # that process is gone (the kernel drops its lock, even after kill -9)
    descriptor, alone = reconcile.hold_data_dir(tmp_path)
    os.close(descriptor)
    assert alone is True
