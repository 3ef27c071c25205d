"""Backup and restore (scripts/backup.py, scripts/restore.py): a running data directory
is copied consistently, restores into a new one, and verification catches damage."""

from __future__ import annotations

import importlib.util
import json
import stat
from pathlib import Path


from authupload import create_app
from support import validated_client

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(f"scripts_{name}", SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


backup_script = load_script("backup")
restore_script = load_script("restore")


def upload(client, headers, *files):
    response = client.post("/api/files", headers=headers, upload_files=[("file", name, data) for name, data in files])
    return response.json["data"]["files"]


def test_backup_then_restore_gives_the_same_users_and_files(app, client, auth, make_config, tmp_path):
    user = auth.new_user()
    stored = upload(client, user["headers"], ("a.txt", b"first file\n"), ("b.bin", bytes(range(256)) * 40))

    archive = backup_script.backup(app.services.config.data_dir, tmp_path / "backups")
    restored = tmp_path / "restored"
    restore_script.restore(archive, restored)
    problems, notes = restore_script.verify(restored)

    assert problems == []
    assert "2 files checked" in notes
    assert stat.S_IMODE((restored / "secret.key").stat().st_mode) == 0o600
    # The restored directory serves the same account and bytes, with the same key: the old token still works.
    restored_client = validated_client(create_app(make_config(data_dir=restored)))
    for file in stored:
        body = restored_client.get(f"/api/files/{file['id']}", headers=user["headers"]).body
        assert len(body) == file["size"]
    assert restored_client.get("/api/me", headers=user["headers"]).json["data"]["usage"]["files"] == 2


def test_backup_as_tar_restores_too(app, client, auth, tmp_path):
    user = auth.new_user()
    upload(client, user["headers"], ("a.txt", b"packed\n"))
    archive = backup_script.backup(app.services.config.data_dir, tmp_path / "backups", tar=True)
    assert archive.name.endswith(".tar.gz")
    restore_script.restore(archive, tmp_path / "restored")
    assert restore_script.verify(tmp_path / "restored")[0] == []


def test_verification_detects_a_tampered_file(app, client, auth, tmp_path):
    user = auth.new_user()
    (file,) = upload(client, user["headers"], ("a.txt", b"original bytes\n"))
    archive = backup_script.backup(app.services.config.data_dir, tmp_path / "backups")
    restored = tmp_path / "restored"
    restore_script.restore(archive, restored)

    stored = restored / "files" / str(user["id"]) / file["id"]
    stored.write_bytes(b"Original bytes\n")  # same size, different content
    problems, _ = restore_script.verify(restored)
    assert problems == [f"files/{user['id']}/{file['id']}: content differs from its SHA-256"]

    stored.unlink()
    problems, _ = restore_script.verify(restored)
    assert problems == [f"files/{user['id']}/{file['id']}: listed but missing"]
    assert restore_script.main(["--verify-only", str(restored)]) == 1


def test_a_file_deleted_between_snapshot_and_copy_leaves_no_broken_row(app, client, auth, tmp_path):
    user = auth.new_user()
    kept, deleted = upload(client, user["headers"], ("keep.txt", b"keep\n"), ("gone.txt", b"gone\n"))
    data_dir = app.services.config.data_dir
    target = tmp_path / "manual"
    target.mkdir()

    backup_script.snapshot_database(data_dir, target)
    client.delete(f"/api/files/{deleted['id']}", headers=user["headers"])  # the user deletes meanwhile…
    client.delete(f"/api/trash/file/{deleted['id']}", headers=user["headers"])  # …and purges it from the trash
    (late,) = upload(client, user["headers"], ("late.txt", b"uploaded after the snapshot\n"))
    backup_script.copy_files(data_dir, target)
    report = backup_script.reconcile(target)

    assert report["rows_dropped_deleted_meanwhile"] == [deleted["id"]]
    problems, notes = restore_script.verify(target)
    assert problems == []  # the late upload is an orphan (no row): reported, not broken
    assert any(late["id"] in note and "no row" in note for note in notes)
    restore_script.verify(target, remove_orphans=True)
    assert not (target / "files" / str(user["id"]) / late["id"]).exists()
    assert (target / "files" / str(user["id"]) / kept["id"]).exists()


def test_restore_refuses_a_non_empty_target(app, tmp_path):
    archive = backup_script.backup(app.services.config.data_dir, tmp_path / "backups")
    target = tmp_path / "busy"
    target.mkdir()
    (target / "something").write_text("x")
    try:
        restore_script.restore(archive, target)
    except SystemExit as refusal:
        assert "not empty" in str(refusal)
    else:
        raise AssertionError("restore overwrote a non-empty directory")


def test_manifest_records_what_was_done(app, client, auth, tmp_path):
    auth.new_user()
    archive = backup_script.backup(app.services.config.data_dir, tmp_path / "backups")
    manifest = json.loads((archive / "backup.json").read_text())
    assert manifest["secret_key"] is True
    assert manifest["schema_version"] >= 2


def test_a_token_from_after_the_backup_does_not_open_the_account_that_gets_its_id(app, client, auth, make_config,
                                                                                   tmp_path):
    auth.new_user()
    archive = backup_script.backup(app.services.config.data_dir, tmp_path / "backups")
    later = auth.new_user()  # exists only after the backup was taken
    restored = tmp_path / "restored"
    restore_script.restore(archive, restored)
    restored_client = validated_client(create_app(make_config(data_dir=restored)))
    namesake = restored_client.post_json(
        "/api/register", {"username": later["username"], "password": "another horse"}).json["data"]
    assert namesake["id"] == later["id"]  # the restored sqlite_sequence hands the id out again
    response = restored_client.get("/api/me", headers=later["headers"], expect_errors=True)
    assert response.status_int == 401
    assert response.json["data"]["error"] == "token_revoked"
