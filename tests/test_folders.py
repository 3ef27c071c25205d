"""Folders: create, show, rename, move (never into itself), names unique in any case,
files moved and renamed, and uploads into folders (multipart, tus folder_id and relativePath)."""

from __future__ import annotations

import threading

import pytest

import forms
from authupload.files.folders import MAX_FOLDER_DEPTH, clean_folder_name, clean_relative_path
from authupload.web.http import HTTPError
from support import validated_client
from test_resumable import TusClient, encode_metadata


def make_folder(client, user, name, parent_id=None, status=201):
    body = {"name": name} if parent_id is None else {"name": name, "parent_id": parent_id}
    response = client.post_json("/api/folders", body, headers=user["headers"], status=status)
    return response.json["data"]


def error_of(response) -> dict:
    return response.json["data"]


def show(client, user, folder_id="root"):
    return client.get(f"/api/folders/{folder_id}", headers=user["headers"]).json["data"]


def upload_into(client, user, folder_id, name="a.txt", data=b"abc") -> dict:
    raw = forms.body(forms.file_part(name, data), forms.part("folder_id", folder_id.encode()))
    return forms.post(client, user["headers"], raw).json["data"]["files"][0]


# --- names ------------------------------------------------------------------------------


@pytest.mark.parametrize("raw, cleaned", [
    ("Photos", "Photos"),
    ("  2024 ", "2024"),
    ("re\u202eport", "report"),
    ("tab\there", "tabhere"),
    ("unnamed", "unnamed"),
])
def test_folder_names_are_cleaned_like_file_names(raw, cleaned):
    assert clean_folder_name(raw) == cleaned


@pytest.mark.parametrize("raw", ["", "..", ".", "   ", "\x00\x01", "a/b", "a\\b", "/", "\u202e"])
def test_folder_names_that_clean_to_nothing_or_are_paths_are_refused(client, user, raw):
    response = client.post_json("/api/folders", {"name": raw}, headers=user["headers"], status=400)
    assert error_of(response) == {"error": "invalid_field", "field": "name"}


def test_a_missing_or_non_string_name_is_refused(client, user):
    for body in ({}, {"name": 5}, {"name": None}):
        assert error_of(client.post_json("/api/folders", body, headers=user["headers"], status=400)) == {
            "error": "invalid_field", "field": "name"}


# --- create and show ---------------------------------------------------------------------


def test_create_answers_201_with_the_folder_shape(client, user, clock):
    response = client.post_json("/api/folders", {"name": "Photos"}, headers=user["headers"], status=201)
    assert response.json["code"] == 201
    folder = response.json["data"]
    assert set(folder) == {"id", "name", "parent_id", "created_at"}
    assert (folder["name"], folder["parent_id"]) == ("Photos", None)


def test_show_root_lists_top_level_folders_by_name(client, user):
    for name in ("b", "A", "c"):
        make_folder(client, user, name)
    data = show(client, user)
    assert data["folder"] is None and data["path"] == []
    assert [f["name"] for f in data["folders"]] == ["A", "b", "c"]


def test_show_gives_the_path_from_the_top_and_the_subfolders(client, user):
    top = make_folder(client, user, "top")
    middle = make_folder(client, user, "middle", top["id"])
    inner = make_folder(client, user, "inner", middle["id"])
    data = show(client, user, middle["id"])
    assert data["folder"] == middle
    assert [step["name"] for step in data["path"]] == ["top", "middle"]
    assert data["folders"] == [inner]


def test_sibling_names_are_unique_in_any_letter_case(client, user):
    make_folder(client, user, "Photos")
    for clash in ("Photos", "photos", "PHOTOS"):
        assert error_of(make_folder_response := client.post_json(
            "/api/folders", {"name": clash}, headers=user["headers"], status=409)) == {
            "error": "name_taken", "field": "name"}
        assert make_folder_response.json["code"] == 409
    other = make_folder(client, user, "other")
    make_folder(client, user, "photos", other["id"])  # the same name in another folder is fine


def test_unicode_case_is_folded_too(client, user):
    make_folder(client, user, "Straße")
    client.post_json("/api/folders", {"name": "STRASSE"}, headers=user["headers"], status=409)


def test_racing_creations_of_one_name_make_one_folder(app, user):
    """The UNIQUE index decides, so both threads cannot see 'free' and both insert."""
    statuses = []

    def create(name):
        client = validated_client(app)
        statuses.append(client.post_json("/api/folders", {"name": name}, headers=user["headers"],
                                         expect_errors=True).status_int)

    threads = [threading.Thread(target=create, args=(name,)) for name in ("Race", "race", "RACE", "rAce")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 409, 409, 409]


def test_another_users_folder_is_not_found_everywhere(client, auth, user):
    mine = make_folder(client, user, "mine")
    other = auth.new_user()
    missing = "0" * 32
    for folder_id in (mine["id"], missing):
        assert error_of(client.get(f"/api/folders/{folder_id}", headers=other["headers"], status=404)) == {
            "error": "not_found"}
        client.patch_json(f"/api/folders/{folder_id}", {"name": "x"}, headers=other["headers"], status=404)
        client.delete(f"/api/folders/{folder_id}", headers=other["headers"], status=404)
        client.post_json("/api/folders", {"name": "x", "parent_id": folder_id}, headers=other["headers"],
                         status=404)
        client.get(f"/api/files?folder_id={folder_id}", headers=other["headers"], status=404)
    assert show(client, user)["folders"] == [mine]


# --- rename and move -----------------------------------------------------------------------


def test_rename_keeps_the_id_and_refuses_a_siblings_name(client, user):
    first = make_folder(client, user, "first")
    make_folder(client, user, "second")
    renamed = client.patch_json(f"/api/folders/{first['id']}", {"name": "First!"}, headers=user["headers"]).json
    assert renamed["data"] == {**first, "name": "First!"}
    response = client.patch_json(f"/api/folders/{first['id']}", {"name": "SECOND"}, headers=user["headers"],
                                 status=409)
    assert error_of(response)["error"] == "name_taken"
    # Renaming to another case of its own name is no clash.
    client.patch_json(f"/api/folders/{first['id']}", {"name": "FIRST!"}, headers=user["headers"], status=200)


def test_move_under_another_folder_and_back_to_the_top(client, user):
    a, b = make_folder(client, user, "a"), make_folder(client, user, "b")
    moved = client.patch_json(f"/api/folders/{b['id']}", {"parent_id": a["id"]}, headers=user["headers"]).json
    assert moved["data"]["parent_id"] == a["id"]
    assert [f["name"] for f in show(client, user, a["id"])["folders"]] == ["b"]
    back = client.patch_json(f"/api/folders/{b['id']}", {"parent_id": None}, headers=user["headers"]).json
    assert back["data"]["parent_id"] is None
    again = client.patch_json(f"/api/folders/{b['id']}", {"parent_id": "root"}, headers=user["headers"]).json
    assert again["data"]["parent_id"] is None


@pytest.mark.parametrize("depth", [0, 1, 3])
def test_a_folder_cannot_move_into_itself_or_below_itself(client, user, depth):
    top = make_folder(client, user, "top")
    target = top
    for level in range(depth):
        target = make_folder(client, user, f"level{level}", target["id"])
    response = client.patch_json(f"/api/folders/{top['id']}", {"parent_id": target["id"]}, headers=user["headers"],
                                 status=409)
    assert error_of(response) == {"error": "folder_cycle", "field": "parent_id"}
    assert show(client, user)["folders"][0]["parent_id"] is None


def test_a_move_onto_a_clashing_name_is_refused_and_changes_nothing(client, user):
    a = make_folder(client, user, "a")
    make_folder(client, user, "Same", a["id"])
    same = make_folder(client, user, "same")
    client.patch_json(f"/api/folders/{same['id']}", {"parent_id": a["id"]}, headers=user["headers"], status=409)
    # Moving and renaming in one request checks the new name in the new place.
    done = client.patch_json(f"/api/folders/{same['id']}", {"parent_id": a["id"], "name": "same 2"},
                             headers=user["headers"]).json["data"]
    assert (done["parent_id"], done["name"]) == (a["id"], "same 2")


def test_move_into_a_trashed_folder_is_not_found(client, user):
    a, b = make_folder(client, user, "a"), make_folder(client, user, "b")
    client.delete(f"/api/folders/{a['id']}", headers=user["headers"])
    client.patch_json(f"/api/folders/{b['id']}", {"parent_id": a["id"]}, headers=user["headers"], status=404)


def test_a_bad_parent_id_type_is_invalid(client, user):
    a = make_folder(client, user, "a")
    response = client.patch_json(f"/api/folders/{a['id']}", {"parent_id": 7}, headers=user["headers"], status=400)
    assert error_of(response) == {"error": "invalid_field", "field": "parent_id"}


def test_depth_is_bounded_with_a_clear_error(client, user, app):
    connection = app.services.database.connection()
    parent = None
    for level in range(MAX_FOLDER_DEPTH):  # built directly: 128 requests would only be slower
        parent = connection.execute(
            "INSERT INTO folders (id, user_id, parent_id, name, name_key, created_at)"
            " VALUES (?, ?, ?, 'd', 'd', 0) RETURNING id", (f"{level:032x}", user["id"], parent)).fetchone()[0]
    assert len(show(client, user, parent)["path"]) == MAX_FOLDER_DEPTH
    response = client.post_json("/api/folders", {"name": "deeper", "parent_id": parent}, headers=user["headers"],
                                status=400)
    assert error_of(response) == {"error": "folder_too_deep"}
    # Moving a two-level tree under the deepest-but-one folder passes the bound too.
    pair = make_folder(client, user, "pair")
    make_folder(client, user, "child", pair["id"])
    client.patch_json(f"/api/folders/{pair['id']}", {"parent_id": f"{MAX_FOLDER_DEPTH - 2:032x}"},
                      headers=user["headers"], status=400)
    client.patch_json(f"/api/folders/{pair['id']}", {"parent_id": f"{MAX_FOLDER_DEPTH - 3:032x}"},
                      headers=user["headers"], status=200)


# --- files in folders ---------------------------------------------------------------------


def test_multipart_upload_into_a_folder(client, user):
    folder = make_folder(client, user, "docs")
    file = upload_into(client, user, folder["id"])
    assert file["folder_id"] == folder["id"]
    listed = client.get(f"/api/files?folder_id={folder['id']}", headers=user["headers"]).json["data"]
    assert [f["id"] for f in listed["files"]] == [file["id"]]
    assert client.get("/api/files?folder_id=root", headers=user["headers"]).json["data"]["files"] == []


def test_multipart_upload_into_a_foreign_folder_is_404_and_keeps_nothing(client, auth, user, app):
    theirs = make_folder(client, auth.new_user(), "theirs")
    raw = forms.body(forms.file_part("a.txt", b"abc"), forms.part("folder_id", theirs["id"].encode()))
    forms.post(client, user["headers"], raw, status=404)
    assert client.get("/api/me", headers=user["headers"]).json["data"]["usage"]["files"] == 0
    assert list(app.services.storage.tmp_dir.iterdir()) == []


def test_files_are_renamed_and_moved(client, user):
    folder = make_folder(client, user, "docs")
    (file,) = forms.upload(client, user, ("a.txt", b"abc")).json["data"]["files"]
    moved = client.patch_json(f"/api/files/{file['id']}", {"folder_id": folder["id"], "name": "../b\u202e.txt"},
                              headers=user["headers"]).json
    assert moved["code"] == 200
    assert (moved["data"]["folder_id"], moved["data"]["name"]) == (folder["id"], "b.txt")
    back = client.patch_json(f"/api/files/{file['id']}", {"folder_id": None}, headers=user["headers"]).json["data"]
    assert (back["folder_id"], back["name"]) == (None, "b.txt")
    assert client.get(f"/api/files/{file['id']}", headers=user["headers"]).body == b"abc"


def test_moving_a_file_to_a_foreign_folder_or_a_foreign_file_is_404(client, auth, user):
    other = auth.new_user()
    theirs = make_folder(client, other, "theirs")
    (mine,) = forms.upload(client, user, ("a.txt", b"abc")).json["data"]["files"]
    client.patch_json(f"/api/files/{mine['id']}", {"folder_id": theirs["id"]}, headers=user["headers"], status=404)
    client.patch_json(f"/api/files/{mine['id']}", {"name": "x"}, headers=other["headers"], status=404)
    assert client.get(f"/api/files/{mine['id']}", headers=user["headers"]).body == b"abc"


# --- tus: folder_id and relativePath ------------------------------------------------------


@pytest.mark.parametrize("raw, names", [
    ("photos/2024/a.jpg", ["photos", "2024"]),
    ("/photos//2024/./a.jpg", ["photos", "2024"]),
    ("../../etc/passwd", ["etc"]),
    ("C:\\Users\\me\\a.jpg", ["C:", "Users", "me"]),
    ("a.jpg", []),
    ("null", []),
    ("", []),
    ("x/\u202e\x00/a", ["x"]),
])
def test_relative_paths_are_cleaned_to_folders_below_the_target(raw, names):
    assert clean_relative_path(raw) == names


def test_a_relative_path_deeper_than_the_bound_is_refused():
    with pytest.raises(HTTPError) as refused:
        clean_relative_path("a/" * 1000 + "f.txt")
    assert (refused.value.status, refused.value.key) == (400, "folder_too_deep")


def tus_upload(client, user, data: bytes, **metadata) -> dict:
    tus = TusClient(client, user["headers"])
    response = tus.create(len(data), body=data, **{"Upload-Metadata": encode_metadata(**metadata)})
    file_id = response.headers["Upload-File-Id"]
    return next(f for f in client.get("/api/files", headers=user["headers"]).json["data"]["files"]
                if f["id"] == file_id)


def test_tus_relative_path_creates_the_folders_below_the_target(client, user):
    target = make_folder(client, user, "inbox")
    first = tus_upload(client, user, b"one", filename="a.jpg", relativePath="photos/2024/a.jpg",
                       folder_id=target["id"])
    second = tus_upload(client, user, b"two", filename="b.jpg", relativePath="Photos/2024/b.jpg",
                        folder_id=target["id"])
    assert first["folder_id"] == second["folder_id"]  # "Photos" is the "photos" made just before
    path = show(client, user, first["folder_id"])["path"]
    assert [step["name"] for step in path] == ["inbox", "photos", "2024"]


def test_tus_relative_path_cannot_leave_the_users_tree(client, user):
    file = tus_upload(client, user, b"x", filename="passwd", relativePath="../../../etc/passwd")
    path = show(client, user, file["folder_id"])["path"]
    assert [(step["name"], step["parent_id"]) for step in path][0] == ("etc", None)


def test_tus_metadata_folder_id_of_another_user_is_404(client, auth, user):
    theirs = make_folder(client, auth.new_user(), "theirs")
    tus = TusClient(client, user["headers"])
    response = tus.create(3, status=404, **{"Upload-Metadata": encode_metadata(filename="a", folder_id=theirs["id"])})
    assert error_of(response) == {"error": "not_found"}


def test_tus_relative_path_of_1000_levels_is_refused_before_any_byte(client, user):
    tus = TusClient(client, user["headers"])
    response = tus.create(3, status=400, **{"Upload-Metadata": encode_metadata(
        filename="a", relativePath="d/" * 1000 + "a")})
    assert error_of(response) == {"error": "folder_too_deep"}


def test_a_tus_upload_whose_folder_went_to_the_trash_lands_at_the_top(client, user):
    folder = make_folder(client, user, "soon gone")
    tus = TusClient(client, user["headers"])
    location = tus.create(3, **{"Upload-Metadata": encode_metadata(filename="a", folder_id=folder["id"])}
                          ).headers["Location"]
    client.delete(f"/api/folders/{folder['id']}", headers=user["headers"])
    file_id = tus.patch(location, 0, b"abc").headers["Upload-File-Id"]
    (file,) = client.get("/api/files?folder_id=root", headers=user["headers"]).json["data"]["files"]
    assert (file["id"], file["folder_id"]) == (file_id, None)
