"""The files API: listing, downloads (Range, validators, names), delete, and links."""

from __future__ import annotations

import hashlib
from email.utils import formatdate
from urllib.parse import quote

import pytest

from authupload import create_app
from authupload.files.downloads import content_disposition, requested_range
from authupload.web.http import HTTPError

import forms
from support import Auth, assert_error, validated_client

DATA = b"0123456789"  # ten bytes: ranges are easy to read


@pytest.fixture
def stored(client, user):
    """One file of ``user``, holding DATA; returns its ``<file>``."""
    raw = forms.body(forms.file_part("digits.txt", DATA, "text/plain"))
    return forms.post(client, user["headers"], raw).json["data"]["files"][0]


def upload_one(client, user, name="f.bin", data=b"x") -> dict:
    return forms.upload(client, user, (name, data)).json["data"]["files"][0]


# --- listing ------------------------------------------------------------------------


def test_list_is_newest_first_with_total(client, user, clock):
    for name in ("first", "second", "third"):
        upload_one(client, user, name)
        clock.advance(1)
    response = client.get("/api/files", headers=user["headers"])
    assert response.json["message"] == "Your files."
    assert [f["name"] for f in response.json["data"]["files"]] == ["third", "second", "first"]
    assert response.json["data"]["total"] == 3


def test_files_of_one_request_list_in_reverse_upload_order(client, user):
    forms.upload(client, user, ("a", b"a"), ("b", b"b"), ("c", b"c"))
    files = client.get("/api/files", headers=user["headers"]).json["data"]["files"]
    assert [f["name"] for f in files] == ["c", "b", "a"]


def test_list_pages_with_limit_and_offset(client, user, clock):
    for n in range(5):
        upload_one(client, user, f"f{n}")
        clock.advance(1)
    page = client.get("/api/files?limit=2&offset=1", headers=user["headers"]).json["data"]
    assert [f["name"] for f in page["files"]] == ["f3", "f2"]
    assert page["total"] == 5
    beyond = client.get("/api/files?offset=10", headers=user["headers"]).json["data"]
    assert (beyond["files"], beyond["total"]) == ([], 5)


def test_list_shows_only_my_files(client, auth, user):
    upload_one(client, user, "mine")
    other = auth.new_user()
    upload_one(client, other, "theirs")
    assert [f["name"] for f in client.get("/api/files", headers=other["headers"]).json["data"]["files"]] == ["theirs"]


def test_list_defaults_to_fifty(client, user):
    forms.upload(client, user, *[(f"{n}", b"") for n in range(55)])
    page = client.get("/api/files", headers=user["headers"]).json["data"]
    assert (len(page["files"]), page["total"]) == (50, 55)
    assert len(client.get("/api/files?limit=500", headers=user["headers"]).json["data"]["files"]) == 55


@pytest.mark.parametrize("query", [
    "limit=0", "limit=501", "limit=-1", "limit=abc", "limit=1.5", "limit=", "limit=%C2%B2", "limit=+5",
    "offset=-1", "offset=x", "offset=1e3", f"offset={2**64}",
])
def test_list_refuses_bad_paging(client, user, query):
    response = client.get(f"/api/files?{query}", headers=user["headers"], status=400)
    assert_error(response, 400, "invalid_query", field=query.split("=")[0])


def test_list_needs_a_token(client):
    assert_error(client.get("/api/files", status=401), 401, "token_missing")


# --- downloads ------------------------------------------------------------------------


def test_download_sends_the_bytes_as_an_attachment(client, user, stored, clock):
    response = client.get(f"/api/files/{stored['id']}", headers=user["headers"])
    assert response.status_int == 200
    assert response.body == DATA
    headers = response.headers
    assert headers["Content-Type"] == "text/plain"
    assert headers["Content-Disposition"] == 'attachment; filename="digits.txt"'
    assert headers["Content-Length"] == "10"
    assert headers["ETag"] == f'"{hashlib.sha256(DATA).hexdigest()}"'
    assert headers["Last-Modified"] == formatdate(clock(), usegmt=True)
    assert headers["Accept-Ranges"] == "bytes"
    assert headers["Cache-Control"] == "private"
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_html_is_downloaded_never_rendered(client, user):
    raw = forms.body(forms.file_part("page.html", b"<script>alert(1)</script>", "text/html"))
    file = forms.post(client, user["headers"], raw).json["data"]["files"][0]
    headers = client.get(f"/api/files/{file['id']}", headers=user["headers"]).headers
    assert headers["Content-Disposition"].startswith("attachment;")
    assert headers["Content-Security-Policy"] == "sandbox"


def test_head_gives_the_headers_without_the_bytes(client, user, stored):
    get = client.get(f"/api/files/{stored['id']}", headers=user["headers"])
    head = client.head(f"/api/files/{stored['id']}", headers=user["headers"])
    assert head.status_int == 200
    assert head.body == b""
    for name in ("Content-Length", "Content-Type", "Content-Disposition", "ETag", "Last-Modified", "Cache-Control"):
        assert head.headers[name] == get.headers[name]


def test_an_empty_file_downloads_empty(client, user):
    file = upload_one(client, user, "empty", b"")
    response = client.get(f"/api/files/{file['id']}", headers=user["headers"])
    assert (response.status_int, response.body, response.headers["Content-Length"]) == (200, b"", "0")
    assert file["sha256"] == hashlib.sha256(b"").hexdigest()


def test_a_binary_file_comes_back_byte_for_byte(client, user):
    data = bytes(range(256)) * 1000
    file = upload_one(client, user, "bytes.bin", data)
    assert client.get(f"/api/files/{file['id']}", headers=user["headers"]).body == data


def test_a_missing_id_is_404(client, user):
    assert_error(client.get("/api/files/" + "0" * 32, headers=user["headers"], status=404), 404, "not_found")


def test_download_needs_a_token(client, stored):
    assert_error(client.get(f"/api/files/{stored['id']}", status=401), 401, "token_missing")


# --- ranges ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "content_range", "body"),
    [
        ("bytes=0-4", "bytes 0-4/10", b"01234"),
        ("bytes=6-", "bytes 6-9/10", b"6789"),
        ("bytes=-3", "bytes 7-9/10", b"789"),
        ("bytes=3-3", "bytes 3-3/10", b"3"),
        ("bytes=8-999", "bytes 8-9/10", b"89"),
        ("bytes=-999", "bytes 0-9/10", DATA),
        ("Bytes = 1-2", "bytes 1-2/10", b"12"),
    ],
)
def test_a_single_range_is_206(client, user, stored, header, content_range, body):
    response = client.get(f"/api/files/{stored['id']}", headers={**user["headers"], "Range": header})
    assert response.status_int == 206
    assert response.headers["Content-Range"] == content_range
    assert response.headers["Content-Length"] == str(len(body))
    assert response.body == body


@pytest.mark.parametrize("header", ["bytes=0-1,4-5", "bytes=5-2", "items=0-1", "bytes=a-b", "bytes=-", "bytes 0-1"])
def test_several_or_invalid_ranges_get_the_whole_file(client, user, stored, header):
    response = client.get(f"/api/files/{stored['id']}", headers={**user["headers"], "Range": header})
    assert (response.status_int, response.body) == (200, DATA)
    assert "Content-Range" not in response.headers


@pytest.mark.parametrize("header", ["bytes=10-", "bytes=10-20", "bytes=-0"])
def test_a_range_outside_the_file_is_416(client, user, stored, header):
    response = client.get(f"/api/files/{stored['id']}", headers={**user["headers"], "Range": header}, status=416)
    assert_error(response, 416, "range_not_satisfiable")
    assert response.headers["Content-Range"] == "bytes */10"


def test_head_with_a_range_gives_the_partial_headers(client, user, stored):
    response = client.head(f"/api/files/{stored['id']}", headers={**user["headers"], "Range": "bytes=2-5"})
    assert (response.status_int, response.body) == (206, b"")
    assert (response.headers["Content-Range"], response.headers["Content-Length"]) == ("bytes 2-5/10", "4")


def test_if_range_with_the_current_etag_honours_the_range(client, user, stored):
    etag = f'"{stored["sha256"]}"'
    response = client.get(f"/api/files/{stored['id']}",
                          headers={**user["headers"], "Range": "bytes=0-1", "If-Range": etag})
    assert (response.status_int, response.body) == (206, b"01")


@pytest.mark.parametrize("if_range", ['"stale"', "W/\"{sha}\"", "Sat, 01 Jan 2000 00:00:00 GMT", "garbage"])
def test_if_range_that_does_not_match_gets_the_whole_file(client, user, stored, if_range):
    if_range = if_range.replace("{sha}", stored["sha256"])
    response = client.get(f"/api/files/{stored['id']}",
                          headers={**user["headers"], "Range": "bytes=0-1", "If-Range": if_range})
    assert (response.status_int, response.body) == (200, DATA)


def test_if_range_with_the_last_modified_date_honours_the_range(client, user, stored):
    last_modified = client.head(f"/api/files/{stored['id']}", headers=user["headers"]).headers["Last-Modified"]
    response = client.get(f"/api/files/{stored['id']}",
                          headers={**user["headers"], "Range": "bytes=9-", "If-Range": last_modified})
    assert (response.status_int, response.body) == (206, b"9")


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        ("", 10, None),
        ("bytes=0-0", 10, (0, 0)),
        ("bytes=0-", 1, (0, 0)),
        ("bytes=-1", 10, (9, 9)),
        ("bytes=-5", 0, None),  # an empty file is sent whole
        ("bytes=00-09", 10, (0, 9)),
        ("bytes=0-1, 3-4", 10, None),
        ("bytes=\u0661-2", 10, None),  # ARABIC-INDIC DIGIT ONE is a digit to Python, not to HTTP
    ],
)
def test_requested_range(header, size, expected):
    assert requested_range(header, size) == expected


@pytest.mark.parametrize(("header", "size"), [("bytes=0-", 0), ("bytes=5-", 5), ("bytes=-0", 3)])
def test_requested_range_unsatisfiable(header, size):
    with pytest.raises(HTTPError) as refused:
        requested_range(header, size)
    assert refused.value.status == 416
    assert ("Content-Range", f"bytes */{size}") in refused.value.headers


# --- conditional requests ---------------------------------------------------------------


@pytest.mark.parametrize("if_none_match", ['"{sha}"', 'W/"{sha}"', '"other", "{sha}"', "*"])
def test_if_none_match_with_our_etag_is_304(client, user, stored, if_none_match):
    header = if_none_match.replace("{sha}", stored["sha256"])
    response = client.get(f"/api/files/{stored['id']}", headers={**user["headers"], "If-None-Match": header},
                          status=304)
    assert response.body == b""
    assert response.headers["ETag"] == f'"{stored["sha256"]}"'
    assert response.headers["Cache-Control"] == "private"
    assert "Content-Type" not in response.headers


def test_if_none_match_with_another_etag_is_200(client, user, stored):
    response = client.get(f"/api/files/{stored['id']}", headers={**user["headers"], "If-None-Match": '"old"'})
    assert (response.status_int, response.body) == (200, DATA)


def test_if_none_match_beats_range(client, user, stored):
    client.get(f"/api/files/{stored['id']}", status=304, headers={
        **user["headers"], "If-None-Match": f'"{stored["sha256"]}"', "Range": "bytes=99-"})


def test_if_modified_since_now_is_304(client, user, stored, clock):
    clock.advance(60)
    client.get(f"/api/files/{stored['id']}", status=304,
               headers={**user["headers"], "If-Modified-Since": formatdate(clock(), usegmt=True)})


# --- names in Content-Disposition -----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "header"),
    [
        ("report.pdf", 'attachment; filename="report.pdf"'),
        ("two words.txt", 'attachment; filename="two words.txt"'),
        ("报告.pdf", "attachment; filename=\"__.pdf\"; filename*=UTF-8''%E6%8A%A5%E5%91%8A.pdf"),
        ("café.txt", "attachment; filename=\"caf_.txt\"; filename*=UTF-8''caf%C3%A9.txt"),
        ('say "hi".txt', "attachment; filename=\"say \\\"hi\\\".txt\"; filename*=UTF-8''say%20%22hi%22.txt"),
        ("back\\slash", "attachment; filename=\"back\\\\slash\"; filename*=UTF-8''back%5Cslash"),
        ("a\r\nSet-Cookie: x", "attachment; filename=\"a__Set-Cookie: x\"; filename*=UTF-8''a%0D%0ASet-Cookie%3A%20x"),
        ("50%!#$&+^`|~.txt", 'attachment; filename="50%!#$&+^`|~.txt"'),
    ],
)
def test_content_disposition(name, header):
    assert content_disposition(name) == header


def test_a_non_ascii_name_downloads_under_its_name(client, user):
    file = upload_one(client, user, "年度报告 2026.pdf", b"%PDF")
    header = client.get(f"/api/files/{file['id']}", headers=user["headers"]).headers["Content-Disposition"]
    assert header.endswith("filename*=UTF-8''" + quote("年度报告 2026.pdf"))
    assert 'filename="____ 2026.pdf"' in header


def test_a_name_with_quotes_downloads_under_its_name(client, user):
    file = upload_one(client, user, "say %22hi%22.txt", b"hi")  # how browsers send " (HTML5)
    header = client.get(f"/api/files/{file['id']}", headers=user["headers"]).headers["Content-Disposition"]
    assert header == "attachment; filename=\"say \\\"hi\\\".txt\"; filename*=UTF-8''say%20%22hi%22.txt"


# --- another user's file --------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "HEAD", "DELETE", "POST link"])
def test_another_users_file_looks_missing(client, auth, user, stored, method):
    intruder = auth.new_user()
    missing_id = "f" * 32

    def attempt(file_id):
        if method == "POST link":
            return client.post(f"/api/files/{file_id}/link", headers=intruder["headers"], status=404)
        return client.request(f"/api/files/{file_id}", method=method, headers=intruder["headers"], status=404)

    theirs, nothing = attempt(stored["id"]), attempt(missing_id)
    assert theirs.status_int == nothing.status_int == 404
    assert theirs.body == nothing.body
    if method != "HEAD":
        assert theirs.json["data"] == {"error": "not_found"}
    assert client.get(f"/api/files/{stored['id']}", headers=user["headers"]).body == DATA


# --- delete ----------------------------------------------------------------------------------


def test_delete_moves_the_file_to_the_trash_where_its_usage_moves_too(app, client, user, stored):
    other = upload_one(client, user, "keep", b"keep")
    path = app.services.storage.path_of(user["id"], stored["id"])
    response = client.delete(f"/api/files/{stored['id']}", headers=user["headers"])
    assert (response.json["code"], response.json["message"], response.json["data"]) == (200, "File deleted.", None)
    assert path.exists()  # restorable until purged
    assert_error(client.get(f"/api/files/{stored['id']}", headers=user["headers"], status=404), 404, "not_found")
    assert_error(client.delete(f"/api/files/{stored['id']}", headers=user["headers"], status=404), 404, "not_found")
    usage = client.get("/api/me", headers=user["headers"]).json["data"]["usage"]
    assert (usage["files"], usage["bytes"], usage["trash_files"], usage["trash_bytes"]) == (1, 4, 1, len(DATA))
    assert [f["id"] for f in client.get("/api/files", headers=user["headers"]).json["data"]["files"]] == [other["id"]]


# --- download links ----------------------------------------------------------------------------


def make_link(client, user, file) -> str:
    response = client.post(f"/api/files/{file['id']}/link", headers=user["headers"])
    assert response.json["message"] == "Download link created."
    data = response.json["data"]
    assert data["expires_in"] == 300
    assert data["url"].startswith(f"/api/files/{file['id']}/download?token=")
    return data["url"]


def test_a_link_downloads_without_a_header(client, user, stored):
    response = client.get(make_link(client, user, stored))
    assert response.body == DATA
    assert response.headers["Content-Disposition"] == 'attachment; filename="digits.txt"'
    assert response.headers["ETag"] == f'"{stored["sha256"]}"'


def test_a_link_serves_ranges_too(client, user, stored):
    response = client.get(make_link(client, user, stored), headers={"Range": "bytes=-2"})
    assert (response.status_int, response.body) == (206, b"89")


def test_a_link_dies_after_its_lifetime(client, user, stored, clock):
    url = make_link(client, user, stored)
    clock.advance(299)
    assert client.get(url).body == DATA
    clock.advance(1)
    response = client.get(url, status=401)
    assert_error(response, 401, "token_expired")
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_a_link_lifetime_is_configurable(make_config):
    client = validated_client(create_app(make_config(link_ttl_seconds=10)))
    user = Auth(client).new_user()
    file = upload_one(client, user)
    assert client.post(f"/api/files/{file['id']}/link", headers=user["headers"]).json["data"]["expires_in"] == 10


def test_a_link_dies_with_a_password_change(client, user, stored):
    url = make_link(client, user, stored)
    client.post_json("/api/password", {"old_password": "correct horse", "new_password": "battery staple"},
                     headers=user["headers"])
    assert_error(client.get(url, status=401), 401, "token_revoked")


def test_a_link_survives_logout(client, user, stored):
    url = make_link(client, user, stored)
    client.post("/api/logout", headers=user["headers"])
    assert client.get(url).body == DATA


def test_a_link_dies_with_the_file(client, user, stored):
    url = make_link(client, user, stored)
    client.delete(f"/api/files/{stored['id']}", headers=user["headers"])
    assert_error(client.get(url, status=404), 404, "not_found")


def test_a_link_opens_no_other_file(client, user, stored):
    url = make_link(client, user, stored)
    other = upload_one(client, user, "other", b"other bytes")
    token = url.split("token=")[1]
    response = client.get(f"/api/files/{other['id']}/download?token={token}", status=401)
    assert_error(response, 401, "token_invalid")


def test_a_link_token_is_no_bearer_token(client, user, stored):
    token = make_link(client, user, stored).split("token=")[1]
    link_bearer = {"Authorization": f"Bearer {token}"}
    assert_error(client.get(f"/api/files/{stored['id']}", headers=link_bearer, status=401), 401, "token_invalid")
    assert_error(client.get("/api/files", headers=link_bearer, status=401), 401, "token_invalid")
    assert_error(client.get("/api/me", headers=link_bearer, status=401), 401, "token_invalid")
    assert_error(forms.upload(client, {"headers": link_bearer}, ("x", b"x"), status=401), 401, "token_invalid")


def test_an_access_token_is_no_link(client, user, stored):
    response = client.get(f"/api/files/{stored['id']}/download?token={user['token']}", status=401)
    assert_error(response, 401, "token_invalid")


@pytest.mark.parametrize("query", ["", "?token=", "?other=1"])
def test_a_link_without_a_token_is_401(client, stored, query):
    assert_error(client.get(f"/api/files/{stored['id']}/download{query}", status=401), 401, "token_missing")


def test_a_tampered_link_is_401(client, user, stored):
    url = make_link(client, user, stored)
    tampered = url[:-2] + ("AA" if not url.endswith("AA") else "BB")
    assert_error(client.get(tampered, status=401), 401, "token_invalid")


def test_another_users_link_route_is_refused(client, auth, user, stored):
    """A link token of mine, pointed at a file id of someone else's, opens nothing."""
    intruder = auth.new_user()
    theirs = upload_one(client, intruder, "theirs", b"secret")
    token = make_link(client, user, stored).split("token=")[1]
    assert_error(client.get(f"/api/files/{theirs['id']}/download?token={token}", status=401), 401, "token_invalid")
