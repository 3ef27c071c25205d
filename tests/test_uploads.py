"""POST /api/files and POST /api/upload_binary, as API.md's Files section says."""

from __future__ import annotations

import hashlib
import re

import pytest
import webtest

from authupload import create_app
from authupload.files import hashing
from authupload.files.hashing import BackgroundHash

import forms
from support import Auth, assert_error, validated_client


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def listed(client, user) -> list[dict]:
    return client.get("/api/files", headers=user["headers"]).json["data"]["files"]


def assert_nothing_kept(app, client, user):
    """API.md: a refused or failed upload leaves no row, no file, no temp debris."""
    storage = app.services.storage
    assert listed(client, user) == []
    assert not any(storage.tmp_dir.iterdir())
    user_dir = storage.files_dir / str(user["id"])
    assert not user_dir.exists() or not any(user_dir.iterdir())


@pytest.fixture
def limited(make_config):
    """A client on an app with tiny limits: 1000-byte files, 1500-byte quota, 3 parts."""
    app = create_app(make_config(max_file_bytes=1000, quota_bytes=1500, max_parts_per_upload=3))
    client = validated_client(app)
    return app, client, Auth(client).new_user()


# --- success --------------------------------------------------------------------


def test_upload_returns_the_file_shape(client, user):
    data = b"hello, world\n"
    response = forms.post(client, user["headers"], forms.body(forms.file_part("hello.txt", data, "text/plain")))
    assert response.json["code"] == 200
    assert response.json["message"] == "Uploaded."
    (file,) = response.json["data"]["files"]
    assert set(file) == {"id", "name", "size", "sha256", "content_type", "uploaded_at", "folder_id", "received"}
    assert file["received"] is None  # the owner's own upload
    assert (file["name"], file["size"], file["sha256"], file["content_type"]) == (
        "hello.txt", len(data), sha256(data), "text/plain")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", file["uploaded_at"])
    assert client.get(f"/api/files/{file['id']}", headers=user["headers"]).body == data


def test_upload_with_webtest_upload_files(client, user):
    response = client.post("/api/files", headers=user["headers"],
                           upload_files=[("file", "a.bin", b"\x00\x01binary\r\n--\xff")])
    assert response.json["data"]["files"][0]["sha256"] == sha256(b"\x00\x01binary\r\n--\xff")


def test_several_file_parts_are_several_files(client, user):
    response = forms.upload(client, user, ("a.txt", b"aaa"), ("b.txt", b"bbbb"), ("c.txt", b""))
    files = response.json["data"]["files"]
    assert [(f["name"], f["size"]) for f in files] == [("a.txt", 3), ("b.txt", 4), ("c.txt", 0)]
    assert {f["name"] for f in listed(client, user)} == {"a.txt", "b.txt", "c.txt"}


def test_the_same_name_twice_is_two_files(client, user):
    first = forms.upload(client, user, ("same.txt", b"first")).json["data"]["files"][0]
    second = forms.upload(client, user, ("same.txt", b"second")).json["data"]["files"][0]
    assert first["id"] != second["id"]
    assert client.get(f"/api/files/{first['id']}", headers=user["headers"]).body == b"first"
    assert client.get(f"/api/files/{second['id']}", headers=user["headers"]).body == b"second"


def test_other_fields_are_ignored(client, user):
    raw = forms.body(forms.part("note", b"just a note"), forms.file_part("x.txt", b"x"),
                     forms.part("submit", b"Upload"))
    assert [f["name"] for f in forms.post(client, user["headers"], raw).json["data"]["files"]] == ["x.txt"]


@pytest.mark.parametrize("chunk_bytes", [1, 7, 64, 1024])
def test_a_boundary_split_across_reads_is_still_found(make_config, chunk_bytes):
    app = create_app(make_config(read_chunk_bytes=chunk_bytes))
    client = validated_client(app)
    user = Auth(client).new_user()
    # Bytes that look like the start of a delimiter, but are not one.
    data = (b"\r\n--" + forms.BOUNDARY[:-1].encode() + b"\r\r\n-\n") * 20
    (file,) = forms.upload(client, user, ("tricky.bin", data)).json["data"]["files"]
    assert (file["size"], file["sha256"]) == (len(data), sha256(data))


def test_a_body_from_a_file_is_read_in_chunks(make_config, tmp_path):
    """A body larger than several chunks, fed from a file as waitress does."""
    app = create_app(make_config(read_chunk_bytes=64 * 1024))
    client = validated_client(app)
    user = Auth(client).new_user()
    data = bytes(range(256)) * 4096 * 3  # 3 MiB
    raw = forms.body(forms.file_part("big.bin", data))
    body_file = tmp_path / "body"
    body_file.write_bytes(raw)
    with open(body_file, "rb") as stream:
        request = webtest.TestRequest.blank("/api/files", method="POST", headers={
            **user["headers"], "Content-Type": forms.content_type(), "Content-Length": str(len(raw))})
        request.environ["wsgi.input"] = stream
        response = client.do_request(request, status=200)
    assert response.json["data"]["files"][0]["sha256"] == sha256(data)


# --- names and types --------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\photo.jpg", "photo.jpg"),
        ("evil%0D%0ASet-Cookie: x.txt", "evilSet-Cookie: x.txt"),  # HTML5 encodes CR LF as %0D %0A
        ("say %22hi%22.txt", 'say "hi".txt'),  # and a quote as %22
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("...", "unnamed"),
        ("报告.pdf", "报告.pdf"),
        ("a" * 300, "a" * 255),
    ],
)
def test_client_names_are_cleaned_and_never_become_paths(app, client, user, sent, stored):
    (file,) = forms.upload(client, user, (sent, b"data")).json["data"]["files"]
    assert file["name"] == stored
    on_disk = [p.relative_to(app.services.config.data_dir) for p in app.services.config.data_dir.rglob("*")
               if p.is_file() and p.read_bytes() == b"data"]
    assert [str(p) for p in on_disk] == [f"files/{user['id']}/{file['id']}"]


def test_a_part_without_filename_is_unnamed(client, user):
    raw = forms.body(forms.part("file", b"content"))
    assert forms.post(client, user["headers"], raw).json["data"]["files"][0]["name"] == "unnamed"


@pytest.mark.parametrize(
    ("declared", "stored"),
    [("image/png", "image/png"), ("Text/Plain; charset=utf-8", "text/plain"),
     (None, "application/octet-stream"), ("nonsense", "application/octet-stream")],
)
def test_declared_content_type_is_kept_if_well_formed(client, user, declared, stored):
    raw = forms.body(forms.file_part("f", b"x", declared))
    assert forms.post(client, user["headers"], raw).json["data"]["files"][0]["content_type"] == stored


# --- upload_binary's rename ---------------------------------------------------------


def test_upload_binary_works_like_upload_files(client, user):
    (file,) = forms.upload(client, user, ("t.txt", b"tutorial"), path="/api/upload_binary").json["data"]["files"]
    assert (file["name"], file["size"]) == ("t.txt", 8)


def test_upload_binary_renames_from_the_query(client, user):
    raw = forms.body(forms.file_part("old.txt", b"x"))
    response = forms.post(client, user["headers"], raw, path="/api/upload_binary?filename=%E6%96%B0.txt")
    assert response.json["data"]["files"][0]["name"] == "新.txt"


def test_upload_binary_renames_from_a_form_field_even_after_the_file(client, user):
    raw = forms.body(forms.file_part("old.txt", b"x"), forms.part("filename", "../新的.txt".encode()))
    response = forms.post(client, user["headers"], raw, path="/api/upload_binary")
    assert response.json["data"]["files"][0]["name"] == "新的.txt"


def test_upload_binary_query_rename_wins_over_the_field(client, user):
    raw = forms.body(forms.part("filename", b"field.txt"), forms.file_part("old.txt", b"x"))
    response = forms.post(client, user["headers"], raw, path="/api/upload_binary?filename=query.txt")
    assert response.json["data"]["files"][0]["name"] == "query.txt"


def test_upload_files_ignores_a_filename_field(client, user):
    raw = forms.body(forms.part("filename", b"new.txt"), forms.file_part("old.txt", b"x"))
    assert forms.post(client, user["headers"], raw).json["data"]["files"][0]["name"] == "old.txt"


def test_a_rename_of_several_files_is_refused_and_keeps_nothing(app, client, user):
    raw = forms.body(forms.file_part("a", b"a"), forms.file_part("b", b"b"))
    response = forms.post(client, user["headers"], raw, path="/api/upload_binary?filename=x", status=400)
    assert_error(response, 400, "invalid_field", field="filename")
    assert_nothing_kept(app, client, user)


def test_a_rename_field_that_is_not_utf8_is_refused(app, client, user):
    raw = forms.body(forms.file_part("a", b"a"), forms.part("filename", b"\xff\xfe"))
    response = forms.post(client, user["headers"], raw, path="/api/upload_binary", status=400)
    assert response.json["data"] == {"error": "invalid_field", "field": "filename"}
    assert_nothing_kept(app, client, user)


# --- refusals --------------------------------------------------------------------------


def test_upload_needs_a_token(app, client, auth):
    user = auth.new_user()
    response = forms.post(client, {}, forms.body(forms.file_part("a", b"a")), status=401)
    assert_error(response, 401, "token_missing")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_nothing_kept(app, client, user)


@pytest.mark.parametrize(
    "content_type", ["application/json", "text/plain", "application/x-www-form-urlencoded",
                     "multipart/mixed; boundary=x", ""],
)
def test_a_body_that_is_not_form_data_is_415(app, client, user, content_type):
    raw = forms.body(forms.file_part("a", b"a"))
    response = client.post("/api/files", raw, headers={**user["headers"], "Content-Type": content_type},
                           status=415)
    assert_error(response, 415, "unsupported_media_type")
    assert_nothing_kept(app, client, user)


@pytest.mark.parametrize(
    "content_type", ["multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; charset=utf-8",
                     "multipart/form-data; boundary=" + "b" * 71, "Multipart/Form-Data; boundary=\"a\r\nb\""],
)
@pytest.mark.parametrize("path", ["/api/files", "/api/upload_binary"])
def test_form_data_without_a_usable_boundary_is_400_invalid_multipart(app, client, user, content_type, path):
    """API.md: the right type with no usable boundary is malformed multipart, not an unsupported type."""
    raw = forms.body(forms.file_part("a", b"a"))
    response = client.post(path, raw, headers={**user["headers"], "Content-Type": content_type}, status=400)
    assert_error(response, 400, "invalid_multipart")
    assert_nothing_kept(app, client, user)


GOOD_PART = forms.file_part("good.txt", b"good bytes")

MALFORMED_BODIES = {
    "empty body": b"",
    "no closing delimiter": forms.opening() + GOOD_PART,
    "cut in the middle of a part's headers": forms.opening() + b"Content-Disposition: form-da",
    "good part, then a part cut off": forms.opening() + GOOD_PART + forms.between() + forms.file_part("b", b"half"),
    "good part, then a part without Content-Disposition":
        forms.body(GOOD_PART, b"Content-Type: text/plain\r\n\r\nx"),
    "good part, then a part that is not form-data":
        forms.body(GOOD_PART, b'Content-Disposition: attachment; name="file"\r\n\r\nx'),
    "good part, then a header line without a colon": forms.body(GOOD_PART, b"Garbage\r\n\r\nx"),
    "wrong boundary": forms.body(GOOD_PART, boundary="another-boundary"),
    "LF instead of CRLF": forms.body(GOOD_PART).replace(b"\r\n", b"\n"),
    "a part header too long": forms.body(GOOD_PART, forms.part("file", b"x", "n" * 5000)),
}


@pytest.mark.parametrize("raw", MALFORMED_BODIES.values(), ids=MALFORMED_BODIES.keys())
def test_malformed_multipart_is_400_and_keeps_nothing(app, client, user, raw):
    response = forms.post(client, user["headers"], raw, status=400)
    assert_error(response, 400, "invalid_multipart")
    assert_nothing_kept(app, client, user)


@pytest.mark.parametrize("raw", [
    forms.body(forms.part("note", b"no file here")),
    forms.body(forms.part("files", b"x", "wrong-name.txt")),
    b"--" + forms.BOUNDARY.encode() + b"--\r\n",  # a body with no parts at all
], ids=["only a text field", "file part under another name", "no parts"])
def test_no_file_part_is_400(app, client, user, raw):
    assert_error(forms.post(client, user["headers"], raw, status=400), 400, "invalid_multipart")
    assert_nothing_kept(app, client, user)


def test_a_file_at_the_size_limit_is_accepted(limited):
    app, client, user = limited
    assert forms.upload(client, user, ("max.bin", b"m" * 1000)).json["data"]["files"][0]["size"] == 1000


def test_a_file_over_the_size_limit_is_413_and_keeps_nothing(limited):
    app, client, user = limited
    response = forms.upload(client, user, ("big.bin", b"b" * 1001), status=413)
    assert_error(response, 413, "file_too_large")
    assert_nothing_kept(app, client, user)


def test_a_second_part_over_the_size_limit_drops_the_first_too(limited):
    app, client, user = limited
    response = forms.upload(client, user, ("ok.bin", b"o" * 10), ("big.bin", b"b" * 1001), status=413)
    assert_error(response, 413, "file_too_large")
    assert_nothing_kept(app, client, user)


def test_the_quota_counts_every_part_of_the_request(limited):
    app, client, user = limited  # quota 1500
    response = forms.upload(client, user, ("a.bin", b"a" * 800), ("b.bin", b"b" * 800), status=413)
    assert_error(response, 413, "quota_exceeded")
    assert_nothing_kept(app, client, user)


def test_the_quota_may_be_filled_exactly(limited):
    app, client, user = limited
    forms.upload(client, user, ("a.bin", b"a" * 750), ("b.bin", b"b" * 750))
    assert client.get("/api/me", headers=user["headers"]).json["data"]["usage"]["bytes"] == 1500


def test_the_quota_counts_what_is_already_stored(limited):
    app, client, user = limited
    forms.upload(client, user, ("a.bin", b"a" * 1000))
    assert_error(forms.upload(client, user, ("b.bin", b"b" * 501), status=413), 413, "quota_exceeded")
    assert [f["name"] for f in listed(client, user)] == ["a.bin"]
    assert not any(app.services.storage.tmp_dir.iterdir())


def test_too_many_parts_is_400_and_keeps_nothing(limited):
    app, client, user = limited  # at most 3 parts
    response = forms.upload(client, user, *[(f"{n}.txt", b"x") for n in range(4)], status=400)
    assert_error(response, 400, "invalid_multipart")
    assert_nothing_kept(app, client, user)


def test_a_nearly_full_disk_is_507(make_config):
    app = create_app(make_config(min_free_disk_bytes=2**62))
    client = validated_client(app)
    user = Auth(client).new_user()
    assert_error(forms.upload(client, user, ("a", b"a"), status=507), 507, "insufficient_storage")
    assert_nothing_kept(app, client, user)


def test_an_unexpected_failure_is_500_and_keeps_nothing(app, client, user, monkeypatch):
    def broken_commit(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(app.services.storage, "commit", broken_commit)
    response = forms.upload(client, user, ("a", b"a"), ("b", b"b"), status=500)
    assert_error(response, 500, "server_error")
    assert "database" not in response.text
    monkeypatch.undo()
    assert_nothing_kept(app, client, user)


def test_errors_speak_chinese_when_asked(client, user):
    raw = forms.body(forms.part("note", b"x"))
    response = client.post("/api/files", raw, status=400, headers={
        **user["headers"], "Content-Type": forms.content_type(), "Accept-Language": "zh-CN,zh;q=0.9"})
    assert response.json["message"] == "multipart 请求体格式错误或缺少 file 部分。"


# --- usage ---------------------------------------------------------------------------


def test_me_counts_files_and_bytes(client, user):
    usage = client.get("/api/me", headers=user["headers"]).json["data"]["usage"]
    assert (usage["files"], usage["bytes"]) == (0, 0)
    forms.upload(client, user, ("a", b"12345"), ("b", b"678"))
    usage = client.get("/api/me", headers=user["headers"]).json["data"]["usage"]
    assert (usage["files"], usage["bytes"]) == (2, 8)
    assert usage["quota_bytes"] == 10 * 1024**3


def test_the_background_sha256_equals_hashlib_chunk_for_chunk():
    chunks = [bytes([n]) * size for n, size in enumerate([1, 5000, 1 << 20, 3, 70000, 1 << 20])]
    background = BackgroundHash()
    for chunk in chunks[:3]:
        background.update(chunk)
    halfway = background.copy()  # independent from here on, as hashlib's copy
    for chunk in chunks[3:]:
        background.update(chunk)
    assert background.hexdigest() == hashlib.sha256(b"".join(chunks)).hexdigest()
    assert halfway.hexdigest() == hashlib.sha256(b"".join(chunks[:3])).hexdigest()


def test_the_background_sha256_holds_a_bounded_queue_of_unhashed_bytes():
    chunks = [bytes([n]) * (1 << 20) for n in range(40)]
    background = BackgroundHash()
    for chunk in chunks:
        background.update(chunk)  # the event loop's call: it waits only past the bound
        assert background.queued_bytes <= hashing.MAX_QUEUED_BYTES + len(chunk)
    assert background.hexdigest() == hashlib.sha256(b"".join(chunks)).hexdigest()
    assert background.queued_bytes == 0



def raw_part(disposition: bytes, data: bytes) -> bytes:
    """A part whose Content-Disposition is given as bytes, exactly as a client might send it."""
    return b"Content-Disposition: " + disposition + b"\r\n\r\n" + data


@pytest.mark.parametrize("disposition, stored_name", [
    (b"form-data; name=\"file\"; filename*=UTF-8''%E2%82%AC%20rates.txt", "€ rates.txt"),
    (b"form-data; name=\"file\"; filename*=utf-8'zh'%E6%8A%A5%E5%91%8A.pdf", "报告.pdf"),
    (b"form-data; name=\"file\"; filename*=ISO-8859-1''caf%E9.txt", "café.txt"),
    (b"form-data; name=\"file\"; filename=\"plain.txt\"; filename*=UTF-8''other.txt", "plain.txt"),
    (b"form-data; name=\"file\"; filename*=UTF-8''..%2F..%2Fetc%2Fpasswd", "passwd"),
])
def test_filename_star_is_used_when_there_is_no_plain_filename(client, user, disposition, stored_name):
    stored = forms.post(client, user["headers"], forms.body(raw_part(disposition, b"data"))).json["data"]["files"]
    assert [file["name"] for file in stored] == [stored_name]


def test_a_name_that_is_not_utf8_is_kept_with_replacement_characters(client, user):
    disposition = b'form-data; name="file"; filename="r\xe9sum\xe9 \xff.txt"'  # latin-1 bytes, not UTF-8
    stored = forms.post(client, user["headers"], forms.body(raw_part(disposition, b"data"))).json["data"]["files"]
    assert [file["name"] for file in stored] == ["r\ufffdsum\ufffd \ufffd.txt"]
