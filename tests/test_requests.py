"""Upload requests: the owner's API, the sender's API, the drop token, uploads into the owner's space."""

from __future__ import annotations

import base64
import json
from urllib.parse import urlsplit

import pytest

import forms
from authupload import create_app
from support import Auth, validated_client

TUS = {"Tus-Resumable": "1.0.0"}
CHUNK_TYPE = "application/offset+octet-stream"
DAY = 24 * 3600


@pytest.fixture
def owner(auth):
    return auth.new_user()


def create(client, owner, status=201, **fields):
    return client.post_json("/api/requests", {"title": "Holiday photos", **fields}, headers=owner["headers"],
                            status=status)


def token_of(upload_request: dict) -> str:
    return urlsplit(upload_request["url"]).path.removeprefix("/r/")


def info(client, upload_request, status=200):
    return client.get(f"/api/public/requests/{token_of(upload_request)}", status=status)


def session(client, upload_request, status=200, **fields):
    return client.post_json(f"/api/public/requests/{token_of(upload_request)}/session", fields, status=status)


def sender(client, upload_request, **fields) -> dict:
    token = session(client, upload_request, **fields).json["data"]["access_token"]
    return {"headers": {"Authorization": f"Bearer {token}"}, "token": token}


def listed(client, owner) -> list[dict]:
    return client.get("/api/requests", headers=owner["headers"]).json["data"]["requests"]


def my_files(client, owner) -> list[dict]:
    return client.get("/api/files", headers=owner["headers"]).json["data"]["files"]


def metadata(**values: str) -> str:
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in values.items())


def tus_create(client, headers, length, status=201, filename="photo.jpg"):
    return client.post("/api/uploads", headers={**TUS, **headers, "Upload-Length": str(length),
                                                "Upload-Metadata": metadata(filename=filename)}, status=status)


def tus_patch(client, location, upload_token, offset, body, status=204):
    return client.patch(location, body, headers={**TUS, "Authorization": f"Bearer {upload_token}",
                                                 "Upload-Offset": str(offset)},
                        content_type=CHUNK_TYPE, status=status)


def events(app, event_type):
    rows = app.services.database.execute("SELECT * FROM events WHERE type = ? ORDER BY id", (event_type,)).fetchall()
    return [dict(row, detail=json.loads(row["detail"])) for row in rows]


# --- the owner's API -------------------------------------------------------------


def test_create_answers_the_request_shape(client, app, owner):
    created = create(client, owner, note="Send them all", max_files=5, max_bytes=10_000).json["data"]
    assert set(created) == {"id", "url", "title", "note", "created_at", "expires_at", "max_files", "max_bytes",
                            "password", "folder_id", "files_received", "bytes_received", "state"}
    assert created["url"].startswith("http://localhost:80/r/")
    assert (created["title"], created["note"], created["max_files"], created["max_bytes"]) == (
        "Holiday photos", "Send them all", 5, 10_000)
    assert (created["password"], created["folder_id"], created["state"]) == (False, None, "open")
    assert (created["files_received"], created["bytes_received"]) == (0, 0)
    assert listed(client, owner) == [created]
    (event,) = events(app, "request_created")
    assert event["detail"] == {"request_id": created["id"], "title": "Holiday photos"}


@pytest.mark.parametrize("fields, field", [
    ({"title": ""}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "x" * 101}, "title"),
    ({"title": None}, "title"),
    ({"title": 5}, "title"),
    ({"note": "x" * 1001}, "note"),
    ({"expires_in": 30 * DAY + 1}, "expires_in"),
    ({"expires_in": 0}, "expires_in"),
    ({"max_files": 0}, "max_files"),
    ({"max_files": "3"}, "max_files"),
    ({"max_bytes": 0}, "max_bytes"),
    ({"max_bytes": 2.5}, "max_bytes"),
    ({"password": ["x"]}, "password"),
    ({"folder_id": 7}, "folder_id"),
])
def test_bad_input_is_refused_and_nothing_is_stored(client, owner, fields, field):
    response = create(client, owner, status=400, **fields)
    assert response.json["data"] == {"error": "invalid_field", "field": field}
    assert listed(client, owner) == []


def test_an_unknown_folder_is_404(client, owner):
    response = create(client, owner, status=404, folder_id="no-such-folder")
    assert response.json["data"] == {"error": "not_found", "field": "folder_id"}


def test_a_trashed_or_another_users_folder_is_404(client, auth, owner):
    folder = client.post_json("/api/folders", {"name": "old"}, headers=owner["headers"]).json["data"]
    client.delete(f"/api/folders/{folder['id']}", headers=owner["headers"])
    assert create(client, owner, status=404, folder_id=folder["id"]).json["data"]["field"] == "folder_id"
    other = auth.new_user()
    theirs = client.post_json("/api/folders", {"name": "theirs"}, headers=other["headers"]).json["data"]
    assert create(client, owner, status=404, folder_id=theirs["id"]).json["data"]["field"] == "folder_id"


def test_close_keeps_the_request_listed_and_the_link_dies(client, app, owner):
    created = create(client, owner).json["data"]
    client.delete(f"/api/requests/{created['id']}", headers=owner["headers"])
    client.delete(f"/api/requests/{created['id']}", headers=owner["headers"])  # twice is fine
    assert listed(client, owner)[0]["state"] == "closed"
    assert info(client, created, status=404).json["data"] == {"error": "not_found"}
    session(client, created, status=404)
    assert len(events(app, "request_closed")) == 1


def test_another_users_request_is_404(client, auth, owner):
    created = create(client, owner).json["data"]
    stranger = auth.new_user()
    client.delete(f"/api/requests/{created['id']}", headers=stranger["headers"], status=404)
    assert listed(client, stranger) == []
    assert listed(client, owner)[0]["state"] == "open"


# --- the sender's API -------------------------------------------------------------


def test_sender_sees_title_note_and_room(client, owner, app):
    created = create(client, owner, note="n", max_files=3, max_bytes=500).json["data"]
    data = info(client, created).json["data"]
    assert data == {"owner": owner["username"], "title": "Holiday photos", "note": "n",
                    "expires_at": created["expires_at"], "password_required": False, "files_left": 3,
                    "bytes_left": 500, "max_file_bytes": app.services.config.max_file_bytes}


def test_a_disabled_owners_request_is_404(client, app, owner):
    created = create(client, owner).json["data"]
    app.services.database.execute("UPDATE users SET disabled = 1 WHERE id = ?", (owner["id"],))
    info(client, created, status=404)
    session(client, created, status=404)


def test_expired_request_is_410(client, owner, clock):
    created = create(client, owner, expires_in=60).json["data"]
    drop = sender(client, created)
    clock.advance(60)
    assert info(client, created, status=410).json["data"] == {"error": "request_expired"}
    assert session(client, created, status=410).json["data"] == {"error": "request_expired"}
    assert tus_create(client, drop["headers"], 10, status=410).json["data"] == {"error": "request_expired"}
    assert listed(client, owner)[0]["state"] == "expired"


def test_a_changed_token_is_unknown(client, owner):
    created = create(client, owner).json["data"]
    token = token_of(created)
    client.get(f"/api/public/requests/{token[:-1]}{'A' if token[-1] != 'A' else 'B'}", status=404)


def test_a_share_token_is_no_request_token(client, owner):
    (file,) = forms.upload(client, owner, ("a.txt", b"x")).json["data"]["files"]
    share = client.post_json("/api/shares", {"file_ids": [file["id"]]}, headers=owner["headers"]).json["data"]
    share_token = urlsplit(share["url"]).path.removeprefix("/s/")
    client.get(f"/api/public/requests/{share_token}", status=404)


def test_session_password_is_checked_and_throttled(make_config):
    client = validated_client(create_app(make_config(max_failures_per_username=2)))
    owner = Auth(client).new_user()
    created = create(client, owner, password="letmein1").json["data"]
    assert created["password"] is True
    assert info(client, created).json["data"]["password_required"] is True
    session(client, created, status=401)
    wrong = session(client, created, status=401, password="nope")
    assert wrong.json["data"] == {"error": "invalid_credentials", "field": "password"}
    session(client, created, status=429, password="letmein1")


def test_session_token_is_a_one_hour_drop_token(client, owner):
    created = create(client, owner).json["data"]
    data = session(client, created, name="Grandma").json["data"]
    assert (data["token_type"], data["expires_in"]) == ("bearer", 3600)
    claims = json.loads(base64.urlsafe_b64decode(data["access_token"].split(".")[1] + "=="))
    assert (claims["purpose"], claims["request"], claims["uploader"]) == ("drop", created["id"], "Grandma")


@pytest.mark.parametrize("name, status", [("x" * 101, 400), (5, 400), ("x" * 100, 200)])
def test_sender_name_is_bounded(client, owner, name, status):
    created = create(client, owner).json["data"]
    session(client, created, status=status, name=name)


@pytest.mark.parametrize("method, path", [
    ("get", "/api/files"),
    ("get", "/api/me"),
    ("get", "/api/shares"),
    ("get", "/api/requests"),
    ("delete", "/api/files/abc"),
    ("post", "/api/logout"),
    ("post", "/api/files/abc/link"),
    ("get", "/api/files/abc"),
])
def test_a_drop_token_opens_nothing_but_uploading(client, owner, method, path):
    drop = sender(client, create(client, owner).json["data"])
    response = getattr(client, method)(path, headers=drop["headers"], status=401)
    assert response.json["data"] == {"error": "token_invalid"}


def test_a_drop_token_cannot_touch_an_upload_by_id(client, owner):
    drop = sender(client, create(client, owner).json["data"])
    location = tus_create(client, drop["headers"], 10).headers["Location"]
    response = client.head(location, headers={**TUS, **drop["headers"]}, status=401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


# --- uploads through a request ------------------------------------------------------


def test_tus_upload_lands_in_the_owners_space_marked_received(client, app, owner):
    created = create(client, owner, title="Report").json["data"]
    drop = sender(client, created, name="Li Lei\u202e")  # a bidi override is cleaned away
    data = b"0123456789" * 100
    response = tus_create(client, drop["headers"], len(data))
    location, upload_token = response.headers["Location"], response.headers["Upload-Token"]
    tus_patch(client, location, upload_token, 0, data[:400])
    done = tus_patch(client, location, upload_token, 400, data[400:])
    (file,) = my_files(client, owner)
    assert done.headers["Upload-File-Id"] == file["id"]
    assert file["received"] == {"request_id": created["id"], "request_title": "Report", "uploader_name": "Li Lei"}
    assert client.get(f"/api/files/{file['id']}", headers=owner["headers"]).body == data
    usage = client.get("/api/me", headers=owner["headers"]).json["data"]["usage"]
    assert (usage["files"], usage["bytes"]) == (1, len(data))
    (listed_request,) = listed(client, owner)
    assert (listed_request["files_received"], listed_request["bytes_received"]) == (1, len(data))
    (event,) = events(app, "request_received")
    assert (event["user_id"], event["actor"]) == (owner["id"], "anonymous")
    assert event["detail"] == {"request_id": created["id"], "file_id": file["id"], "name": "photo.jpg",
                               "size": len(data), "uploader_name": "Li Lei"}


def test_tus_creation_reserves_the_requests_room_before_any_byte(client, owner):
    created = create(client, owner, max_files=1, max_bytes=100).json["data"]
    drop = sender(client, created)
    too_big = tus_create(client, drop["headers"], 101, status=413)
    assert too_big.json["data"] == {"error": "request_full"}
    tus_create(client, drop["headers"], 60)  # reserves the one file, nothing sent yet
    assert tus_create(client, drop["headers"], 1, status=413).json["data"] == {"error": "request_full"}
    assert info(client, created).json["data"]["files_left"] == 0


def test_bytes_are_reserved_across_open_uploads(client, owner):
    created = create(client, owner, max_bytes=100).json["data"]
    drop = sender(client, created)
    tus_create(client, drop["headers"], 60)
    tus_create(client, drop["headers"], 41, status=413)
    tus_create(client, drop["headers"], 40)
    assert info(client, created).json["data"]["bytes_left"] == 0


def test_a_full_request_says_so(client, owner):
    created = create(client, owner, max_files=1).json["data"]
    drop = sender(client, created)
    forms.post(client, drop["headers"], forms.body(forms.file_part("a.txt", b"abc")))
    assert listed(client, owner)[0]["state"] == "full"
    assert info(client, created, status=410).json["data"] == {"error": "request_full"}
    response = forms.post(client, drop["headers"], forms.body(forms.file_part("b.txt", b"abc")), status=410)
    assert response.json["data"] == {"error": "request_full"}


def test_multipart_upload_through_a_request(client, owner):
    created = create(client, owner).json["data"]
    drop = sender(client, created, name="Ana")
    body = forms.body(forms.file_part("a.txt", b"one"), forms.file_part("b.txt", b"two"))
    files = forms.post(client, drop["headers"], body).json["data"]["files"]
    assert [f["received"]["uploader_name"] for f in files] == ["Ana", "Ana"]
    assert {f["id"] for f in my_files(client, owner)} == {f["id"] for f in files}
    assert listed(client, owner)[0]["files_received"] == 2


@pytest.mark.parametrize("limits, parts", [
    ({"max_files": 1}, [("a.txt", b"one"), ("b.txt", b"two")]),
    ({"max_bytes": 5}, [("a.txt", b"one"), ("b.txt", b"two")]),
    ({"max_bytes": 5}, [("a.txt", b"123456")]),
])
def test_multipart_beyond_the_requests_limits_is_413_and_stores_nothing(client, owner, limits, parts):
    created = create(client, owner, **limits).json["data"]
    drop = sender(client, created)
    body = forms.body(*(forms.file_part(name, data) for name, data in parts))
    response = forms.post(client, drop["headers"], body, status=413)
    assert response.json["data"] == {"error": "request_full"}
    assert my_files(client, owner) == []
    assert listed(client, owner)[0]["files_received"] == 0


def test_the_owners_quota_still_bounds_a_request(make_config):
    client = validated_client(create_app(make_config(quota_bytes=100)))
    owner = Auth(client).new_user()
    drop = sender(client, create(client, owner).json["data"])
    response = tus_create(client, drop["headers"], 101, status=413)
    assert response.json["data"] == {"error": "quota_exceeded"}


def test_an_upload_under_way_may_finish_after_the_request_closes(client, owner):
    created = create(client, owner).json["data"]
    drop = sender(client, created)
    response = tus_create(client, drop["headers"], 4)
    client.delete(f"/api/requests/{created['id']}", headers=owner["headers"])
    tus_create(client, drop["headers"], 4, status=404)
    tus_patch(client, response.headers["Location"], response.headers["Upload-Token"], 0, b"done")
    assert my_files(client, owner)[0]["received"]["request_id"] == created["id"]


def folder_of_request(client, owner, name="inbox") -> tuple[dict, dict]:
    folder = client.post_json("/api/folders", {"name": name}, headers=owner["headers"]).json["data"]
    return folder, create(client, owner, folder_id=folder["id"]).json["data"]


def files_in(client, owner, folder_id) -> list[dict]:
    return client.get("/api/files", params={"folder_id": folder_id}, headers=owner["headers"]).json["data"]["files"]


def test_received_files_land_in_the_requests_folder(client, owner):
    folder, created = folder_of_request(client, owner)
    drop = sender(client, created)
    (sent,) = forms.post(client, drop["headers"], forms.body(forms.file_part("a.txt", b"one"))).json["data"]["files"]
    assert sent["folder_id"] == folder["id"]
    response = tus_create(client, drop["headers"], 3, filename="b.txt")
    done = tus_patch(client, response.headers["Location"], response.headers["Upload-Token"], 0, b"two")
    assert {f["id"] for f in files_in(client, owner, folder["id"])} == {sent["id"], done.headers["Upload-File-Id"]}


def test_a_sender_cannot_pick_a_folder_or_make_folders(client, owner):
    folder, created = folder_of_request(client, owner)
    elsewhere = client.post_json("/api/folders", {"name": "private"}, headers=owner["headers"]).json["data"]
    drop = sender(client, created)
    body = forms.body(forms.part("folder_id", elsewhere["id"].encode()), forms.file_part("a.txt", b"one"))
    assert forms.post(client, drop["headers"], body).json["data"]["files"][0]["folder_id"] == folder["id"]
    response = client.post("/api/uploads", headers={
        **TUS, **drop["headers"], "Upload-Length": "3",
        "Upload-Metadata": metadata(filename="b.txt", folder_id=elsewhere["id"], relativePath="made/b.txt")})
    done = tus_patch(client, response.headers["Location"], response.headers["Upload-Token"], 0, b"two")
    assert done.headers["Upload-File-Id"] in {f["id"] for f in files_in(client, owner, folder["id"])}
    assert files_in(client, owner, elsewhere["id"]) == []
    subfolders = client.get(f"/api/folders/{folder['id']}", headers=owner["headers"]).json["data"]["folders"]
    assert subfolders == []


def test_a_request_whose_folder_went_to_the_trash_delivers_to_the_top_level(client, owner):
    """docs/API.md decisions: the sender cannot choose again, so the file is kept, at the top."""
    folder, created = folder_of_request(client, owner)
    drop = sender(client, created)
    open_upload = tus_create(client, drop["headers"], 3, filename="late.txt")  # created while the folder lived
    client.delete(f"/api/folders/{folder['id']}", headers=owner["headers"])
    (sent,) = forms.post(client, drop["headers"], forms.body(forms.file_part("a.txt", b"one"))).json["data"]["files"]
    done = tus_patch(client, open_upload.headers["Location"], open_upload.headers["Upload-Token"], 0, b"two")
    response = tus_create(client, drop["headers"], 3, filename="c.txt")
    later = tus_patch(client, response.headers["Location"], response.headers["Upload-Token"], 0, b"new")
    top = {f["id"] for f in files_in(client, owner, "root")}
    assert {sent["id"], done.headers["Upload-File-Id"], later.headers["Upload-File-Id"]} <= top
    assert sent["folder_id"] is None


def test_the_owners_own_files_are_not_marked_received(client, owner):
    (file,) = forms.upload(client, owner, ("a.txt", b"x")).json["data"]["files"]
    assert file["received"] is None


# --- the page ------------------------------------------------------------------------


def test_drop_page_is_served_with_noindex(client, owner):
    created = create(client, owner).json["data"]
    page = client.get(urlsplit(created["url"]).path)
    assert page.headers["Content-Type"].startswith("text/html")
    assert page.headers["X-Robots-Tag"] == "noindex"
    assert page.headers["Referrer-Policy"] == "no-referrer"
