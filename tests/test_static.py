"""The pages (static.py): public/ files with types, validators, 304, HEAD, and no way out of public/."""

from __future__ import annotations

import os
from email.utils import formatdate

import pytest

from authupload import create_app
from support import validated_client

FILES = {
    "page.html": b"<!doctype html><title>page</title>",
    "css/site.css": b"body { color: black }",
    "js/app.js": b"console.log('hi')",
    "icon.svg": b"<svg xmlns='http://www.w3.org/2000/svg'/>",
    "data.json": b"{}",
    "image.png": b"\x89PNG\r\n\x1a\n",
    "blob.unknownext": b"\x00\x01",
    ".hidden": b"secret",
    "css/.env": b"SECRET=1",
}
MTIME = 1_700_000_000  # Tue, 14 Nov 2023 22:13:20 GMT


@pytest.fixture
def public(tmp_path):
    root = tmp_path / "public"
    for name, content in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        os.utime(path, (MTIME, MTIME))
    (tmp_path / "outside.txt").write_bytes(b"outside")
    (root / "link.txt").symlink_to(tmp_path / "outside.txt")
    return root


@pytest.fixture
def pages(make_config, public):
    return validated_client(create_app(make_config(public_dir=public)))


@pytest.mark.parametrize("path, content_type", [
    ("/page.html", "text/html; charset=utf-8"),
    ("/css/site.css", "text/css; charset=utf-8"),
    ("/js/app.js", "text/javascript; charset=utf-8"),
    ("/icon.svg", "image/svg+xml; charset=utf-8"),
    ("/data.json", "application/json; charset=utf-8"),
    ("/image.png", "image/png"),
    ("/blob.unknownext", "application/octet-stream"),
])
def test_files_are_served_with_their_content_type(pages, path, content_type):
    response = pages.get(path)
    assert response.headers["Content-Type"] == content_type
    assert response.body == FILES[path[1:]]
    assert response.headers["Content-Length"] == str(len(response.body))


def test_files_carry_etag_last_modified_and_no_cache(pages):
    response = pages.get("/page.html")
    assert response.headers["ETag"].startswith('"') and response.headers["ETag"].endswith('"')
    assert response.headers["Last-Modified"] == "Tue, 14 Nov 2023 22:13:20 GMT"
    assert response.headers["Cache-Control"] == "no-cache"


def test_if_none_match_with_the_etag_is_304_without_body(pages):
    etag = pages.get("/page.html").headers["ETag"]
    response = pages.get("/page.html", headers={"If-None-Match": etag})
    assert response.status_int == 304
    assert response.body == b""
    assert response.headers["ETag"] == etag


def test_if_none_match_with_another_etag_is_200(pages):
    assert pages.get("/page.html", headers={"If-None-Match": '"stale"'}).status_int == 200


def test_a_changed_file_gets_a_new_etag(pages, public):
    etag = pages.get("/page.html").headers["ETag"]
    (public / "page.html").write_bytes(b"<!doctype html><title>new</title>")
    response = pages.get("/page.html", headers={"If-None-Match": etag})
    assert response.status_int == 200
    assert response.headers["ETag"] != etag


@pytest.mark.parametrize("since, status", [
    ("Tue, 14 Nov 2023 22:13:20 GMT", 304),
    (formatdate(MTIME + 3600, usegmt=True), 304),
    ("Tue, 14 Nov 2023 22:13:19 GMT", 200),
    ("not a date", 200),
])
def test_if_modified_since(pages, since, status):
    assert pages.get("/page.html", headers={"If-Modified-Since": since}).status_int == status


def test_head_has_the_headers_and_no_body(pages):
    get = pages.get("/page.html")
    head = pages.head("/page.html")
    assert head.status_int == 200
    assert head.body == b""
    for name in ("Content-Type", "Content-Length", "ETag", "Last-Modified"):
        assert head.headers[name] == get.headers[name]


@pytest.mark.parametrize("path", [
    "/../outside.txt",
    "/%2e%2e/outside.txt",
    "/%2E%2E/outside.txt",
    "/css/../../outside.txt",
    "/css/%2e%2e/%2e%2e/outside.txt",
    "/./page.html",
    "/css/..%2fpage.html",
    "/..%5coutside.txt",
    "/css\\..\\page.html",
    "/css%5c..%5cpage.html",
    "/.hidden",
    "/css/.env",
    "/link.txt",  # a symbolic link out of public/
    "/nothing.html",
    "/css",  # a folder
    "/css/",
    "//etc/passwd",
    "/page.html%00.png",
])
def test_no_path_leaves_public_or_shows_hidden_files(pages, path):
    response = pages.get(path, expect_errors=True)
    assert response.status_int == 404
    assert b"outside" not in response.body and b"secret" not in response.body.lower()
    assert response.json["data"] == {"error": "not_found"}


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_pages_answer_only_get_and_head(pages, method):
    response = pages.request("/page.html", method=method, expect_errors=True)
    assert response.status_int == 405
    assert response.headers["Allow"] == "GET, HEAD"


def test_root_redirects_to_the_workspace(client):
    response = client.get("/")
    assert response.status_int == 302
    assert response.headers["Location"] == "/welcome.html"
    assert client.get(response.headers["Location"]).status_int == 200


@pytest.mark.parametrize("page", ["/welcome.html", "/login.html", "/register.html"])
def test_the_real_pages_are_served(client, page):
    response = client.get(page)
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
