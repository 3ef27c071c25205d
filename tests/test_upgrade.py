"""A data directory written by an earlier release opens with today's code, with nothing lost.

tests/data/datadir-v1/ was written by release 1.0 (commit 8f7d5d4) through its
own API (tests/data/make_datadir_v1.py); datadir-v1.json says what is in it.
Each test opens a fresh copy with ``create_app`` — every migration since runs —
and checks what a person who upgraded would check: they can still log in,
their files are all there with the same bytes, their usage is exact, and an
upload they had started resumes where it stopped.

Every later schema change adds its assertions here (its columns' values for old
rows, say), so an upgrade path is tested the day it is written.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import zipfile
import zlib
from pathlib import Path

import jwt
import pytest

from authupload import create_app
from support import Auth, MovableClock, validated_client

DATA = Path(__file__).resolve().parent / "data"
MANIFEST = json.loads((DATA / "datadir-v1.json").read_text())
TUS = {"Tus-Resumable": "1.0.0"}


@pytest.fixture
def upgraded(tmp_path, make_config):
    """Today's application on a copy of the v1 data directory, an hour after it was written."""
    data_dir = tmp_path / "datadir-v1"
    shutil.copytree(DATA / "datadir-v1", data_dir)
    (data_dir / "secret.key").chmod(0o600)  # git keeps no permissions but the executable bit
    app = create_app(make_config(data_dir=data_dir, clock=MovableClock(MANIFEST["clock"] + 3600)))
    return app, validated_client(app)


def log_in(client, username: str) -> dict:
    token = Auth(client).login(username, MANIFEST["password"])
    return Auth.bearer(token)


@pytest.mark.parametrize("username", list(MANIFEST["accounts"]))
def test_every_account_logs_in_with_its_password(upgraded, username):
    _, client = upgraded
    me = client.get("/api/me", headers=log_in(client, username)).json["data"]
    assert me["username"] == username


@pytest.mark.parametrize("username", list(MANIFEST["accounts"]))
def test_every_file_is_listed_and_downloads_with_the_same_sha256(upgraded, username):
    _, client = upgraded
    headers = log_in(client, username)
    expected = MANIFEST["accounts"][username]["files"]
    listed = client.get("/api/files", headers=headers).json["data"]
    assert listed["total"] == len(expected)
    assert sorted((f["id"], f["name"], f["size"], f["sha256"]) for f in listed["files"]) == \
        sorted((f["id"], f["name"], f["size"], f["sha256"]) for f in expected)
    for file in expected:
        body = client.get(f"/api/files/{file['id']}", headers=headers).body
        assert hashlib.sha256(body).hexdigest() == file["sha256"], file["name"]


@pytest.mark.parametrize("username", list(MANIFEST["accounts"]))
def test_usage_totals_are_exact(upgraded, username):
    _, client = upgraded
    usage = client.get("/api/me", headers=log_in(client, username)).json["data"]["usage"]
    assert {"files": usage["files"], "bytes": usage["bytes"]} == MANIFEST["accounts"][username]["usage"]


def test_the_open_upload_is_listed_and_resumes_into_the_right_file(upgraded):
    _, client = upgraded
    upload = MANIFEST["open_upload"]
    headers = {**log_in(client, upload["owner"]), **TUS}
    data = bytes.fromhex(upload["data_hex"])
    (listed,) = client.get("/api/uploads", headers=headers).json["data"]["uploads"]
    assert (listed["name"], listed["offset"], listed["length"]) == (upload["name"], upload["offset"], len(data))
    assert client.head(upload["location"], headers=headers).headers["Upload-Offset"] == str(upload["offset"])
    done = client.patch(upload["location"], data[upload["offset"]:], headers={
        **headers, "Upload-Offset": str(upload["offset"]), "Content-Type": "application/offset+octet-stream"})
    file_id = done.headers["Upload-File-Id"]
    assert client.get(f"/api/files/{file_id}", headers=headers).body == data
    owner_files = MANIFEST["accounts"][upload["owner"]]
    usage = client.get("/api/me", headers=headers).json["data"]["usage"]
    assert usage["files"] == owner_files["usage"]["files"] + 1
    assert usage["bytes"] == owner_files["usage"]["bytes"] + len(data)


# --- folders and the trash (migration 7) ----------------------------------------------------


@pytest.mark.parametrize("username", list(MANIFEST["accounts"]))
def test_every_file_is_at_the_top_level_with_nothing_in_the_trash(upgraded, username):
    _, client = upgraded
    headers = log_in(client, username)
    expected = MANIFEST["accounts"][username]["files"]
    top = client.get("/api/files", params={"folder_id": "root", "limit": 500}, headers=headers).json["data"]
    assert top["total"] == len(expected)
    assert {f["id"] for f in top["files"]} == {f["id"] for f in expected}
    assert all(f["folder_id"] is None for f in top["files"])
    for file in expected:
        body = client.get(f"/api/files/{file['id']}", headers=headers).body
        assert hashlib.sha256(body).hexdigest() == file["sha256"], file["name"]
    assert client.get("/api/folders/root", headers=headers).json["data"]["folders"] == []
    assert client.get("/api/trash", headers=headers).json["data"] == {"items": [], "total": 0}
    usage = client.get("/api/me", headers=headers).json["data"]["usage"]
    assert (usage["trash_files"], usage["trash_bytes"]) == (0, 0)


def test_an_upgraded_file_moves_into_a_folder_and_back_from_the_trash(upgraded):
    _, client = upgraded
    username = next(name for name, account in MANIFEST["accounts"].items() if account["files"])
    headers = log_in(client, username)
    file = MANIFEST["accounts"][username]["files"][0]
    folder = client.post_json("/api/folders", {"name": "kept"}, headers=headers).json["data"]
    client.patch_json(f"/api/files/{file['id']}", {"folder_id": folder["id"]}, headers=headers)
    client.delete(f"/api/folders/{folder['id']}", headers=headers)
    client.post(f"/api/trash/folder/{folder['id']}/restore", headers=headers)
    (moved,) = client.get("/api/files", params={"folder_id": folder["id"]}, headers=headers).json["data"]["files"]
    assert moved["id"] == file["id"]
    assert hashlib.sha256(client.get(f"/api/files/{file['id']}", headers=headers).body).hexdigest() == file["sha256"]


def test_the_open_upload_completes_at_the_top_level(upgraded):
    _, client = upgraded
    upload = MANIFEST["open_upload"]
    headers = {**log_in(client, upload["owner"]), **TUS}
    data = bytes.fromhex(upload["data_hex"])
    done = client.patch(upload["location"], data[upload["offset"]:], headers={
        **headers, "Upload-Offset": str(upload["offset"]), "Content-Type": "application/offset+octet-stream"})
    top = client.get("/api/files", params={"folder_id": "root", "limit": 500}, headers=headers).json["data"]
    assert done.headers["Upload-File-Id"] in {f["id"] for f in top["files"]}


def test_the_committed_data_is_the_release_s_own_and_stays_small():
    """Nothing of a running process (tmp/, WAL files) is committed, and the data stays a few kilobytes."""
    names = {path.relative_to(DATA / "datadir-v1").parts[0] for path in (DATA / "datadir-v1").rglob("*")}
    assert names == {"authupload.db", "secret.key", "files", "partial"}
    assert sum(path.stat().st_size for path in (DATA / "datadir-v1").rglob("*") if path.is_file()) < 200_000


# --- migration 5: user ids never reused, an account key in every token -----------------


def test_every_account_gets_its_own_random_key_and_keeps_its_id_and_files(upgraded):
    app, client = upgraded
    rows = app.services.database.execute("SELECT id, username, account_key FROM users").fetchall()
    assert sorted(row["username"] for row in rows) == sorted(MANIFEST["accounts"])
    keys = [row["account_key"] for row in rows]
    assert len(set(keys)) == len(keys) and all(len(key) == 32 and int(key, 16) >= 0 for key in keys)
    for row in rows:  # the id a token names is the one the account had, and its files still point at it
        me = client.get("/api/me", headers=log_in(client, row["username"])).json["data"]
        assert me["id"] == row["id"]


def test_the_newest_accounts_id_is_never_handed_out_again(upgraded):
    app, client = upgraded
    database = app.services.database
    newest = database.execute("SELECT max(id) FROM users").fetchone()[0]
    database.execute("DELETE FROM users WHERE id = ?", (newest,))
    successor = Auth(client).register("successor1")
    assert successor["id"] > newest


def test_an_old_token_without_an_account_key_is_refused(upgraded):
    """A token issued before the upgrade names no account key: one new login, never another account."""
    app, client = upgraded
    username = next(iter(MANIFEST["accounts"]))
    claims = app.services.tokens.verify(Auth(client).login(username, MANIFEST["password"]))
    del claims["acct"]
    old = jwt.encode(claims, app.services.tokens.key, algorithm="HS256")
    response = client.get("/api/me", headers=Auth.bearer(old), expect_errors=True)
    assert response.status_int == 401
    assert response.json["data"]["error"] == "token_invalid"


# --- migration 7: roles, disabled accounts and per-user quotas -------------------------


def test_old_accounts_become_enabled_plain_users_on_the_default_quota_and_are_found_by_search(upgraded, make_config):
    """Migration 7 (operators): admin 0, disabled 0, quota NULL for old rows; the name index holds them all."""
    app, client = upgraded
    for username in MANIFEST["accounts"]:
        me = client.get("/api/me", headers=log_in(client, username)).json["data"]
        assert me["admin"] is False
        assert me["usage"]["quota_bytes"] == make_config().quota_bytes
    database = app.services.database
    database.execute("UPDATE users SET admin = 1 WHERE username = ?", (next(iter(MANIFEST["accounts"])),))
    headers = log_in(client, next(iter(MANIFEST["accounts"])))
    for username in MANIFEST["accounts"]:
        found = client.get("/api/admin/users", headers=headers, params={"q": username[1:]}).json["data"]["users"]
        assert username in [user["username"] for user in found]
    changed = database.execute("SELECT count(*) FROM users WHERE disabled = 1 OR quota_bytes IS NOT NULL")
    assert changed.fetchone()[0] == 0


# --- migration 11: shares and upload requests ------------------------------------------


@pytest.mark.parametrize("username", list(MANIFEST["accounts"]))
def test_every_file_survives_as_the_owner_s_own_with_no_share_and_no_request(upgraded, username):
    """Old files keep their bytes, ``received`` is null (nobody sent them through a request)."""
    app, client = upgraded
    headers = log_in(client, username)
    expected = MANIFEST["accounts"][username]["files"]
    listed = client.get("/api/files", params={"limit": 500}, headers=headers).json["data"]["files"]
    assert {f["id"] for f in listed} == {f["id"] for f in expected}
    assert all(f["received"] is None for f in listed)
    for file in expected:
        body = client.get(f"/api/files/{file['id']}", headers=headers).body
        assert hashlib.sha256(body).hexdigest() == file["sha256"], file["name"]
    assert client.get("/api/shares", headers=headers).json["data"]["shares"] == []
    assert client.get("/api/requests", headers=headers).json["data"]["requests"] == []
    database = app.services.database
    assert database.execute("SELECT count(*) FROM files WHERE received_request_id IS NOT NULL").fetchone()[0] == 0


def test_an_upgraded_file_is_shared_and_downloaded_through_its_link(upgraded):
    _, client = upgraded
    username = next(name for name, account in MANIFEST["accounts"].items() if account["files"])
    headers = log_in(client, username)
    file = MANIFEST["accounts"][username]["files"][0]
    share = client.post_json("/api/shares", {"file_ids": [file["id"]]}, headers=headers).json["data"]
    token = share["url"].rsplit("/", 1)[1]
    body = client.get(f"/api/public/shares/{token}/files/{file['id']}").body
    assert hashlib.sha256(body).hexdigest() == file["sha256"]


# --- migration 12: CRC-32s kept for ZIPs ---------------------------------------------------


@pytest.mark.parametrize("username", list(MANIFEST["accounts"]))
def test_old_files_zip_with_their_bytes_and_keep_the_crc32_their_first_zip_computed(upgraded, username):
    """An upgraded file has no CRC-32 yet: its first ZIP reads it once, and the value stays with the row."""
    app, client = upgraded
    headers = log_in(client, username)
    expected = MANIFEST["accounts"][username]["files"]
    database = app.services.database
    ids = [file["id"] for file in expected]
    assert all(database.execute("SELECT crc32 FROM files WHERE id = ?", (file_id,)).fetchone()[0] is None
               for file_id in ids)
    if not ids:
        return
    url = client.post_json("/api/archive", {"file_ids": ids}, headers=headers).json["data"]["url"]
    with zipfile.ZipFile(io.BytesIO(client.get(url).body)) as zipped:
        assert zipped.testzip() is None  # every CRC declared matches the bytes
        assert sorted(hashlib.sha256(zipped.read(name)).hexdigest() for name in zipped.namelist()) == \
            sorted(file["sha256"] for file in expected)
    for file_id in ids:
        path = app.services.storage.path_of(database.execute("SELECT user_id FROM files WHERE id = ?",
                                                             (file_id,)).fetchone()[0], file_id)
        kept = database.execute("SELECT crc32 FROM files WHERE id = ?", (file_id,)).fetchone()[0]
        assert kept == zlib.crc32(path.read_bytes())


# --- migration 13: names in any letter case for search and the name sort ------------------


@pytest.mark.parametrize("username", list(MANIFEST["accounts"]))
def test_old_files_are_found_by_a_search_in_any_case(upgraded, username):
    app, client = upgraded
    headers = log_in(client, username)
    for file in MANIFEST["accounts"][username]["files"]:
        assert app.services.database.execute("SELECT name_key FROM files WHERE id = ?",
                                             (file["id"],)).fetchone()[0] == file["name"].casefold()
        found = client.get("/api/files", params={"q": file["name"].upper(), "limit": 500},
                           headers=headers).json["data"]["files"]
        assert file["id"] in {f["id"] for f in found}, file["name"]
