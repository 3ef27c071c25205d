"""Attacks on stored files (docs/threats.md, "Files"): names that try to become
paths, ids that try to, uploads that try to run in our origin, multipart bodies
built to hurt the parser, SQL in every file field, and concurrent requests racing
for the last bytes of a quota.

The invariant behind the name tests: a client's name is display metadata only;
on disk every file is ``files/<user id>/<32 hex>`` and nothing else appears.
"""

from __future__ import annotations

import base64
import re
import threading
import time
from urllib.parse import urlencode

import pytest
import webtest

from authupload import create_app

import forms
from support import Auth, assert_error, validated_client

TUS = {"Tus-Resumable": "1.0.0"}
SERVER_NAME = re.compile(r"files/\d+/[0-9a-f]{32}")


def files_on_disk(app) -> list[str]:
    """Every file in the data directory but the database, the key, the serving lock and tus's own partial/ folder."""
    data_dir = app.services.config.data_dir
    return sorted(str(p.relative_to(data_dir)) for p in data_dir.rglob("*")
                  if p.is_file() and not p.name.startswith(("authupload.db", "secret.key", "serving.lock"))
                  and p.relative_to(data_dir).parts[0] != "partial")


def assert_only_server_names_on_disk(app):
    """Every stored byte lives under a name the server made; nothing landed anywhere else."""
    for path in files_on_disk(app):
        assert SERVER_NAME.fullmatch(path), f"unexpected file on disk: {path}"


def listed(client, user) -> list[dict]:
    return client.get("/api/files", headers=user["headers"]).json["data"]["files"]


# --- path traversal through names ---------------------------------------------------

TRAVERSAL_NAMES = {
    "dot-dot slash": ("../../../../etc/cron.d/evil", "evil"),
    "absolute": ("/etc/passwd", "passwd"),
    "backslash": ("..\\..\\windows\\win.ini", "win.ini"),
    "percent-encoded dots stay literal": ("%2e%2e%2f%2e%2e%2fsecret.key", "%2e%2e%2f%2e%2e%2fsecret.key"),
    "NUL": ("evil.php\x00.jpg", "evil.php.jpg"),
    "control characters": ("a\x01b\x1bc\x7f.txt", "abc.txt"),
    "only dots": ("..", "unnamed"),
    "trailing slash": ("folder/", "unnamed"),
    "reserved Windows name": ("CON", "CON"),
    "reserved Windows name with extension": ("NUL.txt", "NUL.txt"),
    "Windows device path": ("\\\\.\\COM1", "COM1"),
    "Windows alternate data stream": ("file.txt::$DATA", "file.txt::$DATA"),
    "data dir database": ("authupload.db", "authupload.db"),
}


def tus_upload(client, user, data: bytes, filename: str | bytes, filetype: str | bytes = b""):
    """A one-shot tus creation-with-upload; returns the new file's id."""
    name = filename if isinstance(filename, bytes) else filename.encode("utf-8")
    kind = filetype if isinstance(filetype, bytes) else filetype.encode("utf-8")
    metadata = f"filename {base64.b64encode(name).decode()},filetype {base64.b64encode(kind).decode()}"
    response = client.post("/api/uploads", data, headers={
        **user["headers"], **TUS, "Upload-Length": str(len(data)), "Upload-Metadata": metadata,
        "Content-Type": "application/offset+octet-stream"}, status=201)
    return response.headers["Upload-File-Id"]


@pytest.mark.parametrize(("sent", "shown"), TRAVERSAL_NAMES.values(), ids=TRAVERSAL_NAMES.keys())
@pytest.mark.parametrize("way", ["multipart", "upload_binary rename", "tus metadata"])
def test_a_traversal_name_is_only_a_display_name_whichever_way_it_comes(app, client, user, sent, shown, way):
    if way == "multipart":
        # RFC 7578 quotes the name: a NUL or control byte goes in raw, as a hostile client would send it.
        forms.upload(client, user, (sent.replace("\\", "\\\\"), b"payload"))
    elif way == "upload_binary rename":
        forms.post(client, user["headers"], forms.body(forms.file_part("x", b"payload")),
                   path="/api/upload_binary?" + urlencode({"filename": sent}))
    else:
        tus_upload(client, user, b"payload", sent)
    (file,) = listed(client, user)
    assert file["name"] == shown
    assert_only_server_names_on_disk(app)
    assert not (app.services.config.data_dir.parent / "etc").exists()


def test_a_10000_character_name_in_a_part_header_is_400_and_keeps_nothing(app, client, user):
    # The part header limit (4 KiB) stops it before any byte is written.
    response = forms.upload(client, user, ("n" * 10_000 + ".txt", b"x"), status=400)
    assert_error(response, 400, "invalid_multipart")
    assert listed(client, user) == []
    assert not any(app.services.storage.tmp_dir.iterdir())


@pytest.mark.parametrize("way, length", [
    ("upload_binary rename", 10_000),
    ("tus metadata", 3_000),  # as long as fits in Upload-Metadata's 4 KiB once base64-encoded
])
def test_a_long_name_is_cut_to_255(client, user, way, length):
    name = "n" * length
    if way == "tus metadata":
        tus_upload(client, user, b"x", name[:3000])  # base64 of more would pass Upload-Metadata's 4 KiB
    else:
        forms.post(client, user["headers"], forms.body(forms.file_part("x", b"x")),
                   path=f"/api/upload_binary?filename={name}")
    assert listed(client, user)[0]["name"] == "n" * 255


@pytest.mark.parametrize("file_id", [
    "..", "%2e%2e", "..%2f..%2fauthupload.db", "..%5c..%5cauthupload.db", "secret.key", "%00", "1%00",
    "*", "%25", "x" * 10_000,
])
@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_a_path_id_that_tries_to_be_a_path_is_404(app, client, user, file_id, method):
    forms.upload(client, user, ("mine.txt", b"keep me"))
    response = client.request(f"/api/files/{file_id}", method=method, headers=user["headers"], expect_errors=True)
    assert response.status_int in (404, 405), response.text  # "..": the router may see /api/ itself
    assert response.json["data"]["error"] in ("not_found", "method_not_allowed")
    assert [f["name"] for f in listed(client, user)] == ["mine.txt"]
    assert (app.services.config.data_dir / "secret.key").exists()


@pytest.mark.parametrize("upload_id", ["..", "..%2f..%2fauthupload.db", "%00", "x" * 10_000, "' OR '1'='1"])
@pytest.mark.parametrize("method", ["HEAD", "PATCH", "DELETE"])
def test_a_tus_path_id_that_tries_to_be_a_path_is_404(app, client, user, upload_id, method):
    headers = {**user["headers"], **TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
    response = client.request(f"/api/uploads/{upload_id}", method=method, headers=headers, body=b"x",
                              expect_errors=True)
    assert response.status_int in (404, 405)
    assert (app.services.config.data_dir / "authupload.db").stat().st_size > 0


@pytest.mark.parametrize("path", [
    "/" + "a" * 10_000,
    "/" + "a" * 300 + ".html",  # one segment longer than a file name may be (ENAMETOOLONG)
    "/css" + "/a" * 3000,  # deeper than PATH_MAX
    "/login.html%00.txt",
    "/login.html\x00",
    "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
])
def test_a_static_path_overlong_or_with_nul_is_404_not_500(client, path):
    response = client.get(path, expect_errors=True)
    assert response.status_int == 404, response.text[:200]
    assert response.json["data"] == {"error": "not_found"}


# --- uploads that try to run in our origin ------------------------------------------

ACTIVE_CONTENT = [
    ("page.html", "text/html", b"<script>alert(document.domain)</script>"),
    ("image.svg", "image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    ("code.js", "application/javascript", b"alert(1)"),
    ("page.xhtml", "application/xhtml+xml", b"<html xmlns='http://www.w3.org/1999/xhtml'><script>1</script></html>"),
    ("nothing-declared.html", None, b"<script>alert(1)</script>"),
]


def assert_never_inline(response):
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "sandbox"


@pytest.mark.parametrize(("name", "declared", "data"), ACTIVE_CONTENT, ids=[c[0] for c in ACTIVE_CONTENT])
def test_uploaded_active_content_is_never_rendered_inline(client, user, name, declared, data):
    raw = forms.body(forms.file_part(name, data, declared))
    file = forms.post(client, user["headers"], raw).json["data"]["files"][0]
    url = f"/api/files/{file['id']}"
    assert_never_inline(client.get(url, headers=user["headers"]))
    assert_never_inline(client.head(url, headers=user["headers"]))
    assert_never_inline(client.get(url, headers={**user["headers"], "Range": "bytes=0-3"}))
    link = client.post(url + "/link", headers=user["headers"]).json["data"]["url"]
    assert_never_inline(client.get(link))


def test_active_content_uploaded_through_tus_is_never_rendered_inline(client, user):
    file_id = tus_upload(client, user, b"<script>alert(1)</script>", "x.html", "text/html")
    assert_never_inline(client.get(f"/api/files/{file_id}", headers=user["headers"]))


@pytest.mark.parametrize(("declared", "served"), [
    ("text/html", "text/html"),  # kept, yet an attachment (above)
    ("text/html; charset=utf-7", "text/html"),  # no charset trick survives
    ("text/html\r\nContent-Disposition: inline", "application/octet-stream"),
    ("text/html, text/plain", "application/octet-stream"),
    ("<script>", "application/octet-stream"),
    ("image/svg+xml\x00", "application/octet-stream"),
])
def test_a_spoofed_or_malformed_content_type_is_served_safely(client, user, declared, served):
    file_id = tus_upload(client, user, b"<b>x</b>", "x", declared)
    response = client.get(f"/api/files/{file_id}", headers=user["headers"])
    assert response.headers["Content-Type"] == served
    assert response.headers.getall("Content-Disposition") == [response.headers["Content-Disposition"]]
    assert_never_inline(response)


# --- multipart abuse -----------------------------------------------------------------


def test_thousands_of_parts_are_refused_quickly_and_keep_nothing(app, client, user):
    raw = forms.body(*[forms.part(f"field{n}", b"x") for n in range(5000)])  # default limit: 1000 parts
    started = time.perf_counter()
    response = forms.post(client, user["headers"], raw, status=400)
    assert time.perf_counter() - started < 5
    assert_error(response, 400, "invalid_multipart")
    assert listed(client, user) == [] and not any(app.services.storage.tmp_dir.iterdir())


def test_thousands_of_file_parts_are_refused_and_keep_nothing(app, client, user):
    raw = forms.body(*[forms.file_part(f"{n}.txt", b"x") for n in range(1500)])
    assert_error(forms.post(client, user["headers"], raw, status=400), 400, "invalid_multipart")
    assert listed(client, user) == [] and not any(app.services.storage.tmp_dir.iterdir())


def test_a_part_with_too_many_header_lines_is_400(app, client, user):
    head = b'Content-Disposition: form-data; name="file"; filename="a"\r\n' + b"X-Pad: y\r\n" * 20
    assert_error(forms.post(client, user["headers"], forms.body(head + b"\r\nbody"), status=400),
                 400, "invalid_multipart")
    assert listed(client, user) == []


def test_a_nested_multipart_part_is_stored_as_bytes_not_parsed(app, client, user):
    inner = (b"--inner\r\nContent-Disposition: form-data; name=\"file\"; filename=\"smuggled.txt\"\r\n\r\n"
             b"smuggled\r\n--inner--\r\n")
    raw = forms.body(forms.file_part("outer.bin", inner, "multipart/mixed; boundary=inner"))
    (file,) = forms.post(client, user["headers"], raw).json["data"]["files"]
    assert (file["name"], file["size"], file["content_type"]) == ("outer.bin", len(inner), "multipart/mixed")
    assert client.get(f"/api/files/{file['id']}", headers=user["headers"]).body == inner
    assert [f["name"] for f in listed(client, user)] == ["outer.bin"]


def test_a_part_that_never_ends_is_400_and_keeps_nothing(app, client, user):
    raw = forms.opening() + forms.file_part("endless.bin", b"z" * 300_000)  # no delimiter, ever
    assert_error(forms.post(client, user["headers"], raw, status=400), 400, "invalid_multipart")
    assert listed(client, user) == [] and not any(app.services.storage.tmp_dir.iterdir())


# --- SQL metacharacters in file fields ---------------------------------------------

SQL = "x'); DROP TABLE files; --"


def test_sql_in_a_file_name_is_stored_literally(app, client, user):
    names = [SQL, "' OR '1'='1", "%", "_", "; DELETE FROM users; --"]
    forms.upload(client, user, *[(name, b"d") for name in names])
    assert sorted(f["name"] for f in listed(client, user)) == sorted(names)
    tus_upload(client, user, b"d", '"; DELETE FROM users; --', "text/plain'; --")
    assert '"; DELETE FROM users; --' in [f["name"] for f in listed(client, user)]
    assert app.services.database.execute("SELECT count(*) FROM users").fetchone()[0] == 1


@pytest.mark.parametrize("query", ["limit=1;DROP TABLE files", "offset=0' OR '1'='1", "limit=1 OR 1=1",
                                   "limit=-1", "offset=1e3", "limit=%00"])
def test_sql_in_list_query_parameters_is_400_invalid_query(client, user, query):
    forms.upload(client, user, ("a", b"a"))
    assert_error(client.get(f"/api/files?{query}", headers=user["headers"], expect_errors=True), 400, "invalid_query",
                 field=query.split("=")[0])
    assert len(listed(client, user)) == 1


@pytest.mark.parametrize("file_id", ["' OR '1'='1", "x' OR user_id != '0", "%' --"])
def test_sql_in_a_file_id_reaches_no_other_file(client, auth, user, file_id):
    victim = auth.new_user()
    forms.upload(client, victim, ("victim.txt", b"secret"))
    for method in ("GET", "DELETE"):
        response = client.request(f"/api/files/{file_id}", method=method, headers=user["headers"], expect_errors=True)
        assert_error(response, 404, "not_found")
    assert [f["name"] for f in listed(client, victim)] == ["victim.txt"]


# --- quota races ------------------------------------------------------------------------


def call_wsgi(app, request: webtest.TestRequest) -> int:
    """Call the bare WSGI app from this thread; its status."""
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"] = int(status.split()[0])

    body = app(request.environ, start_response)
    b"".join(body)
    if hasattr(body, "close"):
        body.close()
    return seen["status"]


def race(count: int, attempt) -> list[int]:
    """Run ``attempt()`` in ``count`` threads released together; their statuses."""
    barrier = threading.Barrier(count)
    statuses = []

    def run():
        barrier.wait()
        statuses.append(attempt())

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


@pytest.fixture
def small_quota(make_config):
    """An app with a 10 000-byte quota, its client, and a user."""
    app = create_app(make_config(quota_bytes=10_000))
    client = validated_client(app)
    return app, client, Auth(client).new_user()


def stored_bytes(app, user) -> int:
    return app.services.storage.usage(user["id"])["bytes"]


def test_concurrent_multipart_uploads_never_pass_the_quota_together(small_quota):
    app, client, user = small_quota
    raw = forms.body(forms.file_part("third.bin", b"q" * 3_000))  # 8 × 3000 bytes against 10 000

    def attempt():
        request = webtest.TestRequest.blank("/api/files", method="POST", body=raw, headers={
            **user["headers"], "Content-Type": forms.content_type()})
        return call_wsgi(app, request)

    statuses = race(8, attempt)
    assert statuses.count(200) == 3 and statuses.count(413) == 5, statuses
    assert stored_bytes(app, user) == 9_000
    assert not any(app.services.storage.tmp_dir.iterdir())


def test_concurrent_tus_creations_never_reserve_past_the_quota(small_quota):
    app, client, user = small_quota

    def attempt():
        request = webtest.TestRequest.blank("/api/uploads", method="POST", headers={
            **user["headers"], **TUS, "Upload-Length": "3000"})
        return call_wsgi(app, request)

    statuses = race(8, attempt)
    assert statuses.count(201) == 3 and statuses.count(413) == 5, statuses
    assert app.services.storage.usage(user["id"])["reserved_bytes"] == 9_000


def test_concurrent_tus_completions_and_multipart_uploads_share_one_quota(small_quota):
    app, client, user = small_quota
    raw = forms.body(forms.file_part("m.bin", b"m" * 3_000))

    def attempt_multipart():
        return call_wsgi(app, webtest.TestRequest.blank("/api/files", method="POST", body=raw, headers={
            **user["headers"], "Content-Type": forms.content_type()}))

    def attempt_tus():
        return call_wsgi(app, webtest.TestRequest.blank("/api/uploads", method="POST", body=b"t" * 3_000, headers={
            **user["headers"], **TUS, "Upload-Length": "3000", "Content-Type": "application/offset+octet-stream"}))

    counter = iter(range(100))
    lock = threading.Lock()

    def attempt():
        with lock:
            number = next(counter)
        return attempt_multipart() if number % 2 else attempt_tus()

    statuses = race(8, attempt)
    assert sum(status in (200, 201) for status in statuses) == 3, statuses
    usage = app.services.storage.usage(user["id"])
    assert usage["bytes"] + usage["reserved_bytes"] <= 10_000
    assert usage["bytes"] == 9_000
