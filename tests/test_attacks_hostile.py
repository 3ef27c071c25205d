"""Hostile clients, in-process (docs/threats.md, "Hostile clients"): numbers and dates
no real client sends, and methods a POST may not pretend to be.

What needs real sockets (connections, bodies refused before they are read) is in
test_attacks_connections.py and test_attacks_bodies.py.
"""

from __future__ import annotations

import base64
import logging

import pytest

from authupload import create_app
from support import Auth, assert_error, validated_client

TUS = {"Tus-Resumable": "1.0.0"}
HUGE = "9" * 5000  # past Python's 4300-digit int() limit: once a 500 with a traceback
JUST_TOO_LONG = "1" * 19  # one digit more than any size, offset or count we accept
FAR_FUTURE = "Sun, 06 Nov 99999999999 08:49:37 GMT"


@pytest.fixture
def stored_file(client, user):
    response = client.post("/api/files", headers=user["headers"], upload_files=[("file", "a.txt", b"0123456789")])
    return response.json["data"]["files"][0]


@pytest.fixture
def open_upload(client, user):
    response = client.post("/api/uploads", headers={**user["headers"], **TUS, "Upload-Length": "10"}, status=201)
    return response.headers["Location"]


def assert_no_traceback(caplog):
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR or record.exc_info]


@pytest.mark.parametrize("digits", [HUGE, JUST_TOO_LONG])
@pytest.mark.parametrize("parameter", ["limit", "offset"])
def test_a_listing_number_of_more_digits_than_any_real_one_is_400(client, user, caplog, parameter, digits):
    response = client.get(f"/api/files?{parameter}={digits}", headers=user["headers"], expect_errors=True)
    assert response.status_int == 400
    assert response.json["data"] == {"error": "invalid_query", "field": parameter}
    assert_no_traceback(caplog)


@pytest.mark.parametrize("spec", [f"{HUGE}-", f"-{HUGE}", f"0-{HUGE}", f"{JUST_TOO_LONG}-"])
def test_a_range_of_more_digits_than_any_real_one_is_400(client, user, stored_file, caplog, spec):
    response = client.get(f"/api/files/{stored_file['id']}", expect_errors=True,
                          headers={**user["headers"], "Range": f"bytes={spec}"})
    assert response.status_int == 400
    assert response.json["data"] == {"error": "invalid_header", "field": "Range"}
    assert_no_traceback(caplog)


@pytest.mark.parametrize("digits", [HUGE, JUST_TOO_LONG])
def test_a_tus_length_or_offset_of_more_digits_than_any_real_one_is_400(client, user, open_upload, caplog, digits):
    created = client.post("/api/uploads", headers={**user["headers"], **TUS, "Upload-Length": digits},
                          expect_errors=True)
    assert created.status_int == 400
    assert created.json["data"] == {"error": "invalid_header", "field": "Upload-Length"}
    patched = client.patch(open_upload, b"x", expect_errors=True, headers={
        **user["headers"], **TUS, "Upload-Offset": digits, "Content-Type": "application/offset+octet-stream"})
    assert patched.status_int == 400
    assert patched.json["data"] == {"error": "invalid_header", "field": "Upload-Offset"}
    assert_no_traceback(caplog)


@pytest.mark.parametrize("path", ["/login.html", "/register.html"])
def test_a_date_in_the_year_99999999999_is_ignored_on_a_page(client, caplog, path):
    response = client.get(path, headers={"If-Modified-Since": FAR_FUTURE})
    assert response.status_int == 200  # an unusable date is no condition (RFC 9110 §13.1.3)
    assert_no_traceback(caplog)


def test_a_date_in_the_year_99999999999_is_ignored_on_a_download(client, user, stored_file, caplog):
    url = f"/api/files/{stored_file['id']}"
    assert client.get(url, headers={**user["headers"], "If-Modified-Since": FAR_FUTURE}).status_int == 200
    ranged = client.get(url, headers={**user["headers"], "If-Range": FAR_FUTURE, "Range": "bytes=0-1"})
    assert ranged.status_int == 200  # an If-Range that is no date: the whole file, not the range
    assert ranged.body == b"0123456789"
    assert_no_traceback(caplog)


@pytest.mark.parametrize("method", ["HEAD", "GET", "OPTIONS", "PUT", "POST", "CONNECT", "PATCH2", "X"])
def test_method_override_names_only_patch_or_delete(client, user, open_upload, method):
    response = client.post(open_upload, b"", expect_errors=True, headers={
        **user["headers"], **TUS, "X-HTTP-Method-Override": method})
    assert response.status_int == 400
    assert response.json["data"] == {"error": "invalid_header", "field": "X-HTTP-Method-Override"}
    assert response.body  # never a Content-Length without its body, as HEAD would send


def test_method_override_to_delete_still_works(client, user, open_upload):
    client.post(open_upload, headers={**user["headers"], **TUS, "X-HTTP-Method-Override": "delete"}, status=204)
    client.head(open_upload, headers={**user["headers"], **TUS}, status=404)


# --- bounds per user, besides the quota ------------------------------------------------


@pytest.fixture
def bounded(make_config):
    """A box that lets each user keep 3 files and hold 2 unfinished uploads."""
    client = validated_client(create_app(make_config(max_files_per_user=3, max_open_uploads_per_user=2)))
    return client, Auth(client).new_user()


def upload_empty_files(client, user, count: int, status: int = 200):
    return client.post("/api/files", headers=user["headers"], status=status,
                       upload_files=[("file", f"empty{n}.txt", b"") for n in range(count)])


def create_tus_upload(client, user, status: int = 201, **headers):
    return client.post("/api/uploads", headers={**user["headers"], **TUS, "Upload-Length": "1", **headers},
                       status=status)


def test_more_folders_than_one_user_may_keep_is_413_too_many_folders_however_they_are_made(make_config):
    """Made one by one, by a dropped folder's relativePath, or by a restore that recreates its folder."""
    client = validated_client(create_app(make_config(max_folders_per_user=3)))
    user = Auth(client).new_user()
    headers = user["headers"]

    def make(name, status=201):
        return client.post_json("/api/folders", {"name": name}, headers=headers, status=status)

    first = make("one").json["data"]
    make("two")
    client.delete(f"/api/folders/{first['id']}", headers=headers)  # the trash counts: still 2 folders kept
    make("three")
    assert_error(make("four", status=413), 413, "too_many_folders")
    metadata = "filename " + base64.b64encode(b"a.txt").decode() + ",relativePath " + \
        base64.b64encode(b"new/a.txt").decode()
    dropped = client.post("/api/uploads", headers={**headers, **TUS, "Upload-Length": "1",
                                                   "Upload-Metadata": metadata,
                                                   "Content-Type": "application/offset+octet-stream"},
                          params=b"x", status=413)
    assert_error(dropped, 413, "too_many_folders")
    folders = client.get("/api/folders/root", headers=headers).json["data"]["folders"]
    assert sorted(folder["name"] for folder in folders) == ["three", "two"]  # nothing made past the bound
    assert client.get("/api/files", headers=headers).json["data"]["total"] == 0
    assert client.get("/api/uploads", headers=headers).json["data"]["uploads"] == []  # no upload left open


def test_more_files_than_one_user_may_keep_is_413_too_many_files(bounded):
    client, user = bounded
    upload_empty_files(client, user, 2)
    assert_error(upload_empty_files(client, user, 2, status=413), 413, "too_many_files")  # all or nothing
    upload_empty_files(client, user, 1)
    assert_error(upload_empty_files(client, user, 1, status=413), 413, "too_many_files")
    assert client.get("/api/files", headers=user["headers"]).json["data"]["total"] == 3


def test_thousands_of_empty_files_in_one_request_are_refused_and_keep_nothing(bounded):
    client, user = bounded
    assert_error(upload_empty_files(client, user, 500, status=413), 413, "too_many_files")
    assert client.get("/api/files", headers=user["headers"]).json["data"]["total"] == 0


def test_an_open_upload_holds_a_place_among_the_files(bounded):
    client, user = bounded
    upload_empty_files(client, user, 2)
    create_tus_upload(client, user)  # the third place, until it completes or goes
    assert_error(upload_empty_files(client, user, 1, status=413), 413, "too_many_files")
    assert_error(create_tus_upload(client, user, status=413), 413, "too_many_files")


def test_more_unfinished_uploads_than_allowed_is_429_too_many_uploads(bounded):
    client, user = bounded
    first = create_tus_upload(client, user).headers["Location"]
    create_tus_upload(client, user)
    assert_error(create_tus_upload(client, user, status=429), 429, "too_many_uploads")
    client.delete(first, headers={**user["headers"], **TUS}, status=204)  # cancelling one frees its place
    create_tus_upload(client, user)


def test_a_finished_upload_no_longer_counts_as_unfinished(bounded):
    client, user = bounded
    for _ in range(2):
        location = create_tus_upload(client, user).headers["Location"]
        client.patch(location, b"x", headers={**user["headers"], **TUS, "Upload-Offset": "0",
                                             "Content-Type": "application/offset+octet-stream"}, status=204)
    create_tus_upload(client, user)


def test_upload_metadata_over_4_kib_is_400(client, user):
    name = base64.b64encode(b"n" * 3000).decode()  # 4000 characters encoded
    create_tus_upload(client, user, **{"Upload-Metadata": "filename " + name})
    too_long = "filename " + name + ",padding " + base64.b64encode(b"p" * 100).decode()
    response = create_tus_upload(client, user, status=400, **{"Upload-Metadata": too_long})
    assert_error(response, 400, "invalid_header", field="Upload-Metadata")
