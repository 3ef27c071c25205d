"""Shares: the owner's API, the visitor's API, completed-download counting, the ZIP."""

from __future__ import annotations

import io
import json
import logging
import threading
import zipfile
from datetime import datetime
from urllib.parse import urlsplit
from wsgiref.validate import validator

import pytest
import webtest

import forms
from authupload import create_app
from authupload.sharing import public as public_api
from authupload.sharing.public import count_download
from support import Auth

DAY = 24 * 3600


@pytest.fixture
def owner(auth):
    return auth.new_user()


def upload(client, owner, *files):
    return forms.upload(client, owner, *files).json["data"]["files"]


@pytest.fixture
def two_files(client, owner):
    return upload(client, owner, ("a.txt", b"first file\n" * 1000), ("b.bin", bytes(range(256)) * 100))


def create(client, owner, file_ids, status=201, **fields):
    return client.post_json("/api/shares", {"file_ids": file_ids, **fields}, headers=owner["headers"], status=status)


def token_of(share: dict) -> str:
    return urlsplit(share["url"]).path.removeprefix("/s/")


def public(client, share, suffix="", status=200, access=None, method="get", **kwargs):
    path = f"/api/public/shares/{token_of(share)}{suffix}"
    if access:
        path += f"?access={access}"
    return getattr(client, method)(path, status=status, **kwargs)


def listed(client, owner) -> list[dict]:
    return client.get("/api/shares", headers=owner["headers"]).json["data"]["shares"]


def events(app, event_type):
    rows = app.services.database.execute("SELECT * FROM events WHERE type = ? ORDER BY id", (event_type,)).fetchall()
    return [dict(row, detail=json.loads(row["detail"])) for row in rows]


# --- the owner's API -------------------------------------------------------------


def test_create_answers_the_share_shape(client, owner, two_files):
    ids = [f["id"] for f in two_files]
    share = create(client, owner, ids, note="For the trip", max_downloads=3).json["data"]
    assert set(share) == {"id", "url", "files", "note", "created_at", "expires_at", "password", "max_downloads",
                          "downloads", "state"}
    assert [f["id"] for f in share["files"]] == ids
    assert share["note"] == "For the trip"
    assert share["password"] is False
    assert (share["max_downloads"], share["downloads"], share["state"]) == (3, 0, "active")
    assert share["url"].startswith("http://localhost:80/s/")
    assert len(token_of(share)) >= 22  # at least 128 bits in base64url


def seconds_between(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def test_expiry_defaults_to_seven_days(client, owner, two_files):
    share = create(client, owner, [two_files[0]["id"]]).json["data"]
    assert seconds_between(share["created_at"], share["expires_at"]) == 7 * DAY
    share = create(client, owner, [two_files[0]["id"]], expires_in=60).json["data"]
    assert seconds_between(share["created_at"], share["expires_at"]) == 60


def test_the_url_uses_the_public_url_when_configured(make_config, tmp_path):
    client = webtest.TestApp(validator(create_app(make_config(public_url="https://files.example.org/"))))
    owner = Auth(client).new_user()
    (file,) = upload(client, owner, ("a.txt", b"x"))
    share = create(client, owner, [file["id"]]).json["data"]
    assert share["url"].startswith("https://files.example.org/s/")


@pytest.mark.parametrize("body, field, status", [
    ({}, "file_ids", 400),
    ({"file_ids": []}, "file_ids", 400),
    ({"file_ids": "abc"}, "file_ids", 400),
    ({"file_ids": [1]}, "file_ids", 400),
    ({"file_ids": ["DUP", "DUP"]}, "file_ids", 400),
    ({"file_ids": [f"f{n}" for n in range(101)]}, "file_ids", 400),
    ({"file_ids": ["no-such-file"]}, "file_ids", 404),
    ({"file_ids": ["OK"], "expires_in": 59}, "expires_in", 400),
    ({"file_ids": ["OK"], "expires_in": 30 * DAY + 1}, "expires_in", 400),
    ({"file_ids": ["OK"], "expires_in": "3600"}, "expires_in", 400),
    ({"file_ids": ["OK"], "expires_in": True}, "expires_in", 400),
    ({"file_ids": ["OK"], "max_downloads": 0}, "max_downloads", 400),
    ({"file_ids": ["OK"], "max_downloads": -1}, "max_downloads", 400),
    ({"file_ids": ["OK"], "max_downloads": 1.5}, "max_downloads", 400),
    ({"file_ids": ["OK"], "max_downloads": True}, "max_downloads", 400),
    ({"file_ids": ["OK"], "note": "x" * 501}, "note", 400),
    ({"file_ids": ["OK"], "note": 5}, "note", 400),
    ({"file_ids": ["OK"], "password": 1234}, "password", 400),
])
def test_bad_input_is_refused_and_nothing_is_stored(client, owner, two_files, body, field, status):
    file_id = two_files[0]["id"]
    body = json.loads(json.dumps(body).replace('"OK"', json.dumps(file_id)).replace('"DUP"', json.dumps(file_id)))
    response = client.post_json("/api/shares", body, headers=owner["headers"], status=status)
    assert response.json["data"] == {"error": "invalid_field" if status == 400 else "not_found", "field": field}
    assert listed(client, owner) == []


def test_another_users_file_cannot_be_shared(client, auth, owner, two_files):
    stranger = auth.new_user()
    response = create(client, stranger, [two_files[0]["id"]], status=404)
    assert response.json["data"]["field"] == "file_ids"


def test_note_of_500_characters_and_the_longest_expiry_are_allowed(client, owner, two_files):
    create(client, owner, [two_files[0]["id"]], note="字" * 500, expires_in=30 * DAY)


def test_list_is_newest_first_and_keeps_expired_ones_with_their_state(client, owner, two_files, clock):
    first = create(client, owner, [two_files[0]["id"]], expires_in=60).json["data"]
    clock.advance(1)
    second = create(client, owner, [two_files[1]["id"]]).json["data"]
    clock.advance(61)
    shares = listed(client, owner)
    assert [s["id"] for s in shares] == [second["id"], first["id"]]
    assert [s["state"] for s in shares] == ["active", "expired"]
    assert shares[1]["url"] == first["url"]  # the link can be copied again at any time


def test_list_shows_only_my_shares(client, auth, owner, two_files):
    create(client, owner, [two_files[0]["id"]])
    assert listed(client, auth.new_user()) == []


def test_revoke_kills_the_link_and_removes_the_share(client, app, owner, two_files):
    share = create(client, owner, [two_files[0]["id"]]).json["data"]
    client.delete(f"/api/shares/{share['id']}", headers=owner["headers"])
    assert listed(client, owner) == []
    public(client, share, status=404)
    client.delete(f"/api/shares/{share['id']}", headers=owner["headers"], status=404)
    assert [e["detail"] for e in events(app, "share_revoked")] == [{"share_id": share["id"]}]


def test_another_users_share_cannot_be_revoked(client, auth, owner, two_files):
    share = create(client, owner, [two_files[0]["id"]]).json["data"]
    client.delete(f"/api/shares/{share['id']}", headers=auth.new_user()["headers"], status=404)
    public(client, share)


def test_creation_is_audited(client, app, owner, two_files):
    share = create(client, owner, [f["id"] for f in two_files]).json["data"]
    (event,) = events(app, "share_created")
    assert event["user_id"] == owner["id"]
    assert event["detail"] == {"share_id": share["id"], "files": 2}


# --- tokens ------------------------------------------------------------------------


def test_the_database_holds_no_token(client, app, owner, two_files):
    share = create(client, owner, [two_files[0]["id"]], password="hunter22").json["data"]
    token = token_of(share)
    data_dir = app.services.config.data_dir
    for name in ("authupload.db", "authupload.db-wal"):
        path = data_dir / name
        if path.exists():
            assert token.encode() not in path.read_bytes()


def test_a_copy_of_the_database_with_another_key_opens_nothing(make_config, tmp_path):
    first = webtest.TestApp(create_app(make_config(secret="k" * 40)))
    owner = Auth(first).new_user()
    (file,) = upload(first, owner, ("a.txt", b"x"))
    share = create(first, owner, [file["id"]]).json["data"]
    public(first, share)
    other_key = webtest.TestApp(create_app(make_config(secret="z" * 40)))  # same data directory
    public(other_key, share, status=404)


@pytest.mark.parametrize("mangle", [
    lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # one character of the MAC
    lambda token: ("A" if token[0] != "A" else "B") + token[1:],  # one character of the id
    lambda token: token[:-1],
    lambda token: token + "A",
    lambda token: "%2e%2e",
])
def test_a_changed_token_is_unknown(client, owner, two_files, mangle):
    share = create(client, owner, [two_files[0]["id"]]).json["data"]
    response = client.get(f"/api/public/shares/{mangle(token_of(share))}", status=404)
    assert response.json["data"] == {"error": "not_found"}


# --- the visitor's API -------------------------------------------------------------


def test_visitor_sees_owner_note_and_files_but_nothing_private(client, owner, two_files):
    share = create(client, owner, [f["id"] for f in two_files], note="hi", max_downloads=5).json["data"]
    data = public(client, share).json["data"]
    assert data["owner"] == owner["username"]
    assert data["note"] == "hi"
    assert data["password_required"] is False
    assert data["downloads_left"] == 5
    assert data["expires_at"] == share["expires_at"]
    assert [set(f) for f in data["files"]] == [{"id", "name", "size", "sha256", "content_type"}] * 2


def test_expired_share_is_410_share_expired(client, owner, two_files, clock):
    share = create(client, owner, [two_files[0]["id"]], expires_in=60).json["data"]
    clock.advance(60)
    assert public(client, share, status=410).json["data"] == {"error": "share_expired"}
    public(client, share, f"/files/{two_files[0]['id']}", status=410)
    public(client, share, "/zip", status=410)


def test_a_deleted_file_leaves_the_share_and_an_empty_share_is_404(client, owner, two_files):
    share = create(client, owner, [f["id"] for f in two_files]).json["data"]
    client.delete(f"/api/files/{two_files[0]['id']}", headers=owner["headers"])
    assert [f["id"] for f in public(client, share).json["data"]["files"]] == [two_files[1]["id"]]
    public(client, share, f"/files/{two_files[0]['id']}", status=404)
    client.delete(f"/api/files/{two_files[1]['id']}", headers=owner["headers"])
    public(client, share, status=404)
    assert listed(client, owner)[0]["files"] == []


def test_files_in_the_trash_leave_the_share_its_zip_and_its_list_until_restored(client, owner, two_files):
    """API.md: a file moved to the trash leaves its shares; a folder taken there takes its files along."""
    headers = owner["headers"]
    folder = client.post_json("/api/folders", {"name": "shared"}, headers=headers).json["data"]
    client.patch_json(f"/api/files/{two_files[1]['id']}", {"folder_id": folder["id"]}, headers=headers)
    share = create(client, owner, [f["id"] for f in two_files]).json["data"]
    client.delete(f"/api/files/{two_files[0]['id']}", headers=headers)
    assert [f["id"] for f in public(client, share).json["data"]["files"]] == [two_files[1]["id"]]
    public(client, share, f"/files/{two_files[0]['id']}", status=404)
    public(client, share, f"/files/{two_files[0]['id']}", method="head", status=404)
    with zipfile.ZipFile(io.BytesIO(public(client, share, "/zip").body)) as archive:
        assert archive.namelist() == [two_files[1]["name"]]
    assert [f["id"] for f in listed(client, owner)[0]["files"]] == [two_files[1]["id"]]
    create(client, owner, [two_files[0]["id"]], status=404)  # a file in the trash cannot be shared
    client.delete(f"/api/folders/{folder['id']}", headers=headers)  # the other file goes along
    public(client, share, status=404)
    public(client, share, "/zip", status=404)
    assert listed(client, owner)[0]["files"] == []
    client.post(f"/api/trash/file/{two_files[0]['id']}/restore", headers=headers)
    assert [f["id"] for f in public(client, share).json["data"]["files"]] == [two_files[0]["id"]]


def test_shares_survive_the_owners_password_change(client, owner, two_files):
    share = create(client, owner, [two_files[0]["id"]]).json["data"]
    client.post_json("/api/password", {"old_password": "correct horse", "new_password": "battery staple"},
                     headers=owner["headers"])
    public(client, share)


def test_a_disabled_owners_share_is_404(client, app, owner, two_files):
    share = create(client, owner, [two_files[0]["id"]]).json["data"]
    app.services.database.execute("UPDATE users SET disabled = 1 WHERE id = ?", (owner["id"],))
    public(client, share, status=404)
    public(client, share, f"/files/{two_files[0]['id']}", status=404)


def test_a_file_outside_the_share_is_404(client, owner, two_files):
    share = create(client, owner, [two_files[0]["id"]]).json["data"]
    public(client, share, f"/files/{two_files[1]['id']}", status=404)


def test_shared_file_download_is_like_the_owners(client, owner, two_files):
    share = create(client, owner, [two_files[0]["id"]]).json["data"]
    mine = client.get(f"/api/files/{two_files[0]['id']}", headers=owner["headers"])
    theirs = public(client, share, f"/files/{two_files[0]['id']}")
    assert theirs.body == mine.body
    for header in ("ETag", "Content-Disposition", "Content-Type", "Content-Length", "Accept-Ranges"):
        assert theirs.headers[header] == mine.headers[header]
    assert theirs.headers["Content-Security-Policy"] == "sandbox"
    assert theirs.headers["X-Content-Type-Options"] == "nosniff"
    ranged = public(client, share, f"/files/{two_files[0]['id']}", status=206, headers={"Range": "bytes=0-9"})
    assert ranged.body == mine.body[:10]
    public(client, share, f"/files/{two_files[0]['id']}", status=304, headers={"If-None-Match": mine.headers["ETag"]})


# --- passwords -------------------------------------------------------------------


def test_password_hides_the_files_until_unlocked(client, owner, two_files):
    share = create(client, owner, [two_files[0]["id"]], password="open sesame").json["data"]
    assert share["password"] is True
    data = public(client, share).json["data"]
    assert (data["password_required"], data["unlocked"], data["files"]) == (True, False, [])
    for suffix in (f"/files/{two_files[0]['id']}", "/zip"):
        response = public(client, share, suffix, status=403)
        assert response.json["data"] == {"error": "forbidden", "field": "access"}
    wrong = public(client, share, "/unlock", status=401, method="post_json", params={"password": "nope"})
    assert wrong.json["data"] == {"error": "invalid_credentials", "field": "password"}
    access = public(client, share, "/unlock", method="post_json", params={"password": "open sesame"}).json["data"]
    assert access["expires_in"] == 3600
    data = public(client, share, access=access["access"]).json["data"]
    assert data["unlocked"] is True and len(data["files"]) == 1
    public(client, share, f"/files/{two_files[0]['id']}", access=access["access"])


def test_access_is_for_one_share_and_one_hour(client, owner, two_files, clock):
    first = create(client, owner, [two_files[0]["id"]], password="open sesame").json["data"]
    second = create(client, owner, [two_files[0]["id"]], password="open sesame").json["data"]
    access = public(client, first, "/unlock", method="post_json", params={"password": "open sesame"}).json["data"]
    public(client, second, f"/files/{two_files[0]['id']}", access=access["access"], status=403)
    public(client, first, "/zip", access=access["access"])
    clock.advance(3600)
    public(client, first, "/zip", access=access["access"], status=403)


def test_wrong_passwords_are_throttled_per_share(make_config):
    client = webtest.TestApp(create_app(make_config(max_failures_per_username=3)))
    owner = Auth(client).new_user()
    (file,) = upload(client, owner, ("a.txt", b"x"))
    share = create(client, owner, [file["id"]], password="open sesame").json["data"]
    other = create(client, owner, [file["id"]], password="open sesame").json["data"]
    for _ in range(3):
        public(client, share, "/unlock", status=401, method="post_json", params={"password": "guess"})
    locked = public(client, share, "/unlock", status=429, method="post_json", params={"password": "open sesame"})
    assert locked.json["data"] == {"error": "too_many_attempts"}
    assert int(locked.headers["Retry-After"]) > 0
    public(client, other, "/unlock", method="post_json", params={"password": "open sesame"})
    # The account's own login is not locked by guesses at a link's password.
    client.post_json("/api/login", {"username": owner["username"], "password": "correct horse"})


def test_wrong_passwords_are_throttled_per_address(make_config):
    client = webtest.TestApp(create_app(make_config(max_failures_per_address=4)))
    owner = Auth(client).new_user()
    (file,) = upload(client, owner, ("a.txt", b"x"))
    shares = [create(client, owner, [file["id"]], password="open sesame").json["data"] for _ in range(3)]
    for share in shares[:2]:
        for _ in range(2):
            public(client, share, "/unlock", status=401, method="post_json", params={"password": "guess"})
    public(client, shares[2], "/unlock", status=429, method="post_json", params={"password": "open sesame"})
    other_address = {"REMOTE_ADDR": "192.0.2.9"}
    client.post_json(f"/api/public/shares/{token_of(shares[2])}/unlock", {"password": "open sesame"},
                     extra_environ=other_address)


# --- counting completed downloads ---------------------------------------------------


def downloads(client, owner, share) -> int:
    """The share's count, once every count handed to the counting thread is done (it takes them in order)."""
    public_api.counter.submit(lambda: None).result()
    return next(s for s in listed(client, owner) if s["id"] == share["id"])["downloads"]


def test_a_whole_download_counts_and_head_never(client, app, owner, two_files):
    share = create(client, owner, [two_files[0]["id"]]).json["data"]
    path = f"/files/{two_files[0]['id']}"
    public(client, share, path, method="head")
    public(client, share, "/zip", method="head")
    public(client, share)
    assert downloads(client, owner, share) == 0
    public(client, share, path)
    assert downloads(client, owner, share) == 1
    (event,) = events(app, "share_downloaded")
    assert (event["actor"], event["user_id"]) == ("anonymous", owner["id"])
    assert event["detail"] == {"share_id": share["id"], "file_id": two_files[0]["id"]}


def test_a_range_counts_only_if_it_ends_at_the_last_byte(client, owner, two_files):
    share = create(client, owner, [two_files[0]["id"]]).json["data"]
    path, size = f"/files/{two_files[0]['id']}", two_files[0]["size"]
    public(client, share, path, status=206, headers={"Range": "bytes=0-99"})
    assert downloads(client, owner, share) == 0
    # The rest of an interrupted download, resumed: this completion is the one count.
    public(client, share, path, status=206, headers={"Range": f"bytes=100-{size - 1}"})
    assert downloads(client, owner, share) == 1
    public(client, share, path, status=206, headers={"Range": "bytes=-10"})
    assert downloads(client, owner, share) == 2


def start_download(app, path: str):
    """Call the WSGI app by hand: the body comes back unread, as a server holds it."""
    environ = webtest.TestRequest.blank(path).environ
    status = []
    body = app(environ, lambda s, headers, exc_info=None: status.append(s))
    return status[0], body


@pytest.fixture
def small_chunks_app(make_config):
    return create_app(make_config(read_chunk_bytes=1024))


def test_a_cut_off_download_counts_nothing(small_chunks_app):
    client = webtest.TestApp(small_chunks_app)
    owner = Auth(client).new_user()
    (file,) = upload(client, owner, ("big.bin", b"x" * 10_000))
    share = create(client, owner, [file["id"]]).json["data"]
    for suffix in (f"/files/{file['id']}", "/zip"):
        status, body = start_download(small_chunks_app, f"/api/public/shares/{token_of(share)}{suffix}")
        assert status.startswith("200")
        chunks = iter(body)
        next(chunks)
        body.close()  # the client hung up after the first chunk
    assert downloads(client, owner, share) == 0


def test_a_download_under_way_finishes_but_never_counts_past_the_limit(small_chunks_app):
    client = webtest.TestApp(small_chunks_app)
    owner = Auth(client).new_user()
    data = b"y" * 10_000
    (file,) = upload(client, owner, ("big.bin", data))
    share = create(client, owner, [file["id"]], max_downloads=1).json["data"]
    path = f"/api/public/shares/{token_of(share)}/files/{file['id']}"
    bodies = [start_download(small_chunks_app, path)[1] for _ in range(2)]  # both started while allowed
    received = [b"".join(body) for body in bodies]
    for body in bodies:
        body.close()
    assert received == [data, data]
    assert downloads(client, owner, share) == 1
    assert listed(client, owner)[0]["state"] == "exhausted"
    response = public(client, share, status=410)
    assert response.json["data"] == {"error": "share_exhausted"}
    public(client, share, f"/files/{file['id']}", status=410)


def test_concurrent_completions_count_exactly_max_downloads(app, client, owner, two_files):
    share = create(client, owner, [two_files[0]["id"]], max_downloads=3).json["data"]
    services = app.services
    barrier = threading.Barrier(12)

    def complete():
        barrier.wait()
        count_download(services, share["id"], "192.0.2.1", {"file_id": two_files[0]["id"]})

    threads = [threading.Thread(target=complete) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert downloads(client, owner, share) == 3
    assert len(events(app, "share_downloaded")) == 3


# --- the ZIP ------------------------------------------------------------------------


def test_zip_holds_every_file_with_unique_names_and_counts_once(client, owner):
    files = upload(client, owner, ("a.txt", b"one"), ("a.txt", b"two"), ("b.txt", b"three"))
    share = create(client, owner, [f["id"] for f in files]).json["data"]
    response = public(client, share, "/zip")
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert int(response.headers["Content-Length"]) == len(response.body)
    with zipfile.ZipFile(io.BytesIO(response.body)) as archive:
        assert archive.namelist() == ["a.txt", "a (2).txt", "b.txt"]
        assert [archive.read(name) for name in archive.namelist()] == [b"one", b"two", b"three"]
    assert downloads(client, owner, share) == 1


def test_zip_and_single_download_give_the_same_bytes(client, owner, two_files):
    share = create(client, owner, [f["id"] for f in two_files]).json["data"]
    with zipfile.ZipFile(io.BytesIO(public(client, share, "/zip").body)) as archive:
        for file in two_files:
            assert archive.read(file["name"]) == public(client, share, f"/files/{file['id']}").body


# --- the page and the access log ---------------------------------------------------------


def test_share_page_is_served_for_any_token_with_noindex_and_no_referrer(client, owner, two_files):
    share = create(client, owner, [two_files[0]["id"]]).json["data"]
    page = client.get(urlsplit(share["url"]).path)
    assert page.headers["Content-Type"].startswith("text/html")
    assert page.headers["X-Robots-Tag"] == "noindex"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    client.get("/s/a/b", status=404)


def test_tokens_never_reach_the_access_log(client, owner, two_files, caplog):
    share = create(client, owner, [two_files[0]["id"]]).json["data"]
    token = token_of(share)
    with caplog.at_level(logging.INFO, logger="authupload.access"):
        client.get(f"/s/{token}")
        public(client, share)
        public(client, share, "/zip")
        public(client, share, f"/files/{two_files[0]['id']}")
    lines = [record.getMessage() for record in caplog.records if record.name == "authupload.access"]
    assert len(lines) == 4
    assert not any(token in line for line in lines)
    assert any("/api/public/shares/…/zip" in line for line in lines)
    assert any("GET /s/… " in line for line in lines)
