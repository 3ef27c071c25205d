"""POST /api/archive: a short-lived link to a streamed ZIP of files and folders, folders kept as paths."""

from __future__ import annotations

import hashlib
import io
import zipfile
import zlib

import pytest

import forms
from authupload.files import archive
from support import assert_error
from test_folders import make_folder, upload_into


def archive_link(client, user, status=200, **selection):
    response = client.post_json("/api/archive", selection, headers=user["headers"], status=status)
    return response.json["data"]


def unzip(client, url) -> dict[str, bytes]:
    response = client.get(url)
    assert response.headers["Content-Type"] == "application/zip"
    assert int(response.headers["Content-Length"]) == len(response.body)
    assert response.headers["Content-Disposition"].startswith("attachment;")
    with zipfile.ZipFile(io.BytesIO(response.body)) as zipped:
        assert zipped.testzip() is None
        return {info.filename: zipped.read(info) for info in zipped.infolist()}


@pytest.fixture
def tree(client, user):
    photos = make_folder(client, user, "photos")
    year = make_folder(client, user, "2024", photos["id"])
    upload_into(client, user, photos["id"], "a.jpg", b"A" * 1000)
    upload_into(client, user, year["id"], "b.jpg", b"B" * 10)
    upload_into(client, user, year["id"], "B.JPG", b"other b")  # clashes with b.jpg in any case
    (loose,) = forms.upload(client, user, ("notes.txt", b"notes")).json["data"]["files"]
    return {"photos": photos, "year": year, "loose": loose}


def test_a_folder_and_a_file_zip_with_paths_and_the_same_bytes(client, user, tree):
    link = archive_link(client, user, folder_ids=[tree["photos"]["id"]], file_ids=[tree["loose"]["id"]])
    assert link["expires_in"] > 0 and link["url"].startswith("/api/archive/")
    assert unzip(client, link["url"]) == {
        "photos/": b"",
        "photos/2024/": b"",
        "notes.txt": b"notes",
        "photos/a.jpg": b"A" * 1000,
        "photos/2024/B.JPG": b"other b",
        "photos/2024/b (2).jpg": b"B" * 10,
    }


def test_an_empty_folder_keeps_its_entry_and_a_trashed_one_is_left_out(client, user, tree):
    empty = make_folder(client, user, "empty", tree["photos"]["id"])
    gone = make_folder(client, user, "gone", tree["photos"]["id"])
    client.delete(f"/api/folders/{gone['id']}", headers=user["headers"])
    names = unzip(client, archive_link(client, user, folder_ids=[tree["photos"]["id"]])["url"])
    assert "photos/empty/" in names and names["photos/empty/"] == b""
    assert not any(name.startswith("photos/gone") for name in names)
    assert empty["name"] == "empty" and not names["photos/"]


def test_trashed_files_are_left_out(client, user, tree):
    link = archive_link(client, user, folder_ids=[tree["year"]["id"]])
    (b,) = [f for f in client.get(f"/api/files?folder_id={tree['year']['id']}&q=b.jpg",
                                  headers=user["headers"]).json["data"]["files"] if f["name"] == "b.jpg"]
    client.delete(f"/api/files/{b['id']}", headers=user["headers"])
    assert unzip(client, link["url"]) == {"2024/": b"", "2024/B.JPG": b"other b"}


def test_a_100_deep_tree_zips_with_its_full_path(client, user):
    parent = None
    for level in range(100):
        parent = make_folder(client, user, f"d{level}", parent)["id"]
    upload_into(client, user, parent, "deep.txt", b"deep")
    top = client.get("/api/folders/root", headers=user["headers"]).json["data"]["folders"][0]
    files = unzip(client, archive_link(client, user, folder_ids=[top["id"]])["url"])
    folders = {"/".join(f"d{level}" for level in range(depth + 1)) + "/": b"" for depth in range(100)}
    assert files == {**folders, "/".join(f"d{level}" for level in range(100)) + "/deep.txt": b"deep"}


@pytest.mark.parametrize("selection, field", [
    ({}, "file_ids"), ({"file_ids": []}, "file_ids"), ({"file_ids": "abc"}, "file_ids"),
    ({"file_ids": [1]}, "file_ids"), ({"folder_ids": {"a": 1}}, "folder_ids"),
])
def test_a_malformed_selection_is_invalid(client, user, selection, field):
    assert archive_link(client, user, status=400, **selection) == {"error": "invalid_field", "field": field}


def test_another_users_ids_are_404(client, auth, user, tree):
    other = auth.new_user()
    assert archive_link(client, other, status=404, file_ids=[tree["loose"]["id"]]) == {"error": "not_found"}
    assert archive_link(client, other, status=404, folder_ids=[tree["photos"]["id"]]) == {"error": "not_found"}


def test_more_files_and_folders_than_the_bound_is_a_clear_400(client, user, monkeypatch, tree):
    monkeypatch.setattr(archive, "MAX_ARCHIVE_ITEMS", 5)  # photos holds 2 folders and 3 files
    assert archive_link(client, user, status=400, folder_ids=[tree["photos"]["id"]],
                        file_ids=[tree["loose"]["id"]]) == {"error": "archive_too_large"}
    archive_link(client, user, folder_ids=[tree["photos"]["id"]])


def test_a_path_past_the_zip_name_field_is_a_clear_400(client, user, monkeypatch, tree):
    monkeypatch.setattr(archive, "MAX_ZIP_NAME_BYTES", len("photos/2024/b (2).jpg") - 1)
    assert archive_link(client, user, status=400, folder_ids=[tree["photos"]["id"]]) == {
        "error": "archive_too_large"}


def test_the_link_opens_only_its_archive_and_needs_its_token(client, auth, user, tree):
    url = archive_link(client, user, file_ids=[tree["loose"]["id"]])["url"]
    path, token = url.split("?token=")
    assert_error(client.get(path, status=401), 401, "token_missing")
    other = archive_link(client, user, folder_ids=[tree["photos"]["id"]])["url"]
    assert_error(client.get(other.split("?")[0] + "?token=" + token, status=401), 401, "token_invalid")
    assert_error(client.get(f"{path}?token={user['token']}", status=401), 401, "token_invalid")  # an access token
    file_link = client.post(f"/api/files/{tree['loose']['id']}/link", headers=user["headers"]).json["data"]["url"]
    assert_error(client.get(path + "?token=" + file_link.split("token=")[1], status=401), 401, "token_invalid")


def test_the_link_dies_with_its_lifetime(client, user, tree, clock, app):
    url = archive_link(client, user, file_ids=[tree["loose"]["id"]])["url"]
    clock.advance(app.services.config.link_ttl_seconds + 1)
    assert_error(client.get(url, status=401), 401, "token_expired")


def test_head_gives_the_length_without_a_body(client, user, tree):
    url = archive_link(client, user, folder_ids=[tree["photos"]["id"]])["url"]
    head = client.head(url)
    assert head.body == b"" and int(head.headers["Content-Length"]) == len(client.get(url).body)


def test_a_big_file_streams_through_the_zip_unchanged(client, user, app):
    data = bytes(range(256)) * 8192  # 2 MiB: several read chunks
    (file,) = forms.upload(client, user, ("big.bin", data)).json["data"]["files"]
    files = unzip(client, archive_link(client, user, file_ids=[file["id"]])["url"])
    assert hashlib.sha256(files["big.bin"]).hexdigest() == file["sha256"]


def test_an_upload_stores_the_crc32_every_zip_declares(client, user, app):
    data = bytes(range(256)) * 1000
    (file,) = forms.upload(client, user, ("c.bin", data)).json["data"]["files"]
    assert app.services.storage.find(user["id"], file["id"])["crc32"] == zlib.crc32(data)


def test_a_file_stored_before_crc32s_were_kept_gets_one_at_its_first_zip(client, user, app):
    """Migration 12 leaves older files' crc32 NULL: the first ZIP reads the file once and keeps the value."""
    data = b"from an older release" * 5000
    (file,) = forms.upload(client, user, ("old.txt", data)).json["data"]["files"]
    app.services.database.execute("UPDATE files SET crc32 = NULL WHERE id = ?", (file["id"],))
    url = archive_link(client, user, file_ids=[file["id"]])["url"]
    assert app.services.storage.find(user["id"], file["id"])["crc32"] is None  # making the link reads no bytes
    assert unzip(client, url) == {"old.txt": data}
    assert app.services.storage.find(user["id"], file["id"])["crc32"] == zlib.crc32(data)
