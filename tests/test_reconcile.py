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


def test_a_row_whose_bytes_are_gone_is_reported_and_kept(app, client, user, services, caplog):
    """Our own steps never make one; an unmounted files/ folder must not cost every row."""
    files = client.post("/api/files", headers=user["headers"],
                        upload_files=[("file", "a.txt", b"aaaa"), ("file", "b.txt", b"bb")]).json["data"]["files"]
    services.storage.path_of(user["id"], files[0]["id"]).unlink()
    reconcile_now(app)
    assert "1 file rows have no bytes" in caplog.text
    assert client.get("/api/files", headers=user["headers"]).json["data"]["total"] == 2


def test_usage_counters_are_recounted_from_the_rows(app, client, user, services):
    client.post("/api/files", headers=user["headers"], upload_files=[("file", "a.txt", b"aaaa")])
    services.database.execute("UPDATE users SET file_count = 7, file_bytes = 9 WHERE id = ?", (user["id"],))
    reconcile_now(app)
    usage = client.get("/api/me", headers=user["headers"]).json["data"]["usage"]
    assert (usage["files"], usage["bytes"]) == (1, 4)
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
        fcntl.flock(other, fcntl.LOCK_SH)  # another server process, alive, perhaps mid-commit
        descriptor, needed = reconcile.hold_data_dir(tmp_path)
        os.close(descriptor)
        assert needed is False
    finally:
        os.close(other)  # that process is gone (the kernel drops its lock, even after kill -9)
    descriptor, needed = reconcile.hold_data_dir(tmp_path)
    os.close(descriptor)
    assert needed is True


def test_it_is_skipped_after_a_clean_stop_and_runs_after_any_other(tmp_path):
    descriptor, needed = reconcile.hold_data_dir(tmp_path)
    assert needed is True  # a first start: nobody said the last stop was clean
    reconcile.mark_clean_exit(descriptor)
    os.close(descriptor)
    descriptor, needed = reconcile.hold_data_dir(tmp_path)
    assert needed is False
    os.close(descriptor)  # dies without marking: as after kill -9
    descriptor, needed = reconcile.hold_data_dir(tmp_path)
    os.close(descriptor)
    assert needed is True


def test_the_audit_holds_the_trash_apart_from_live_files_and_catches_each_counter_off(app, client, user, services):
    """A trashed file still has its bytes and counts toward trash_files/trash_bytes only:
    a sound directory with one audits clean, and any counter that drifts is named."""
    folder = client.post_json("/api/folders", {"name": "docs"}, headers=user["headers"]).json["data"]["id"]
    client.post("/api/files", headers=user["headers"], params={"folder_id": folder},
                upload_files=[("file", "a.txt", b"aaaa")])
    gone = client.post("/api/files", headers=user["headers"],
                       upload_files=[("file", "b.txt", b"bb")]).json["data"]["files"][0]["id"]
    client.delete(f"/api/files/{gone}", headers=user["headers"])
    usage = client.get("/api/me", headers=user["headers"]).json["data"]["usage"]
    assert (usage["files"], usage["bytes"], usage["trash_files"], usage["trash_bytes"]) == (1, 4, 1, 2)
    assert audit_data_dir(services.config.data_dir) == []
    for drift in ("file_bytes = file_bytes + 1", "trash_files = trash_files + 1", "top_files = top_files + 1"):
        services.database.execute(f"UPDATE users SET {drift} WHERE id = ?", (user["id"],))
        (problem,) = audit_data_dir(services.config.data_dir)
        assert problem.startswith(f"user {user['id']} has {drift.split()[0]} ")
        reconcile_now(app)
    services.database.execute("UPDATE folders SET file_count = 0 WHERE id = ?", (folder,))
    assert audit_data_dir(services.config.data_dir) == [f"folder {folder} has file_count 0, 1 live files are in it"]
