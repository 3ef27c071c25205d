"""Resumable uploads (tus 1.0) under /api/uploads, as API.md and the tus specification say."""

from __future__ import annotations

import base64
import hashlib
import zlib
import io
import threading
from email.utils import parsedate_to_datetime

import pytest
import webtest

from authupload import create_app, i18n
from authupload.files import open_uploads, resumable
from authupload.files.open_uploads import RunningHashes
from authupload.files.hashing import BackgroundHash
from authupload.web.http import iso_time as iso
from support import Auth, assert_error, validated_client

TUS = {"Tus-Resumable": "1.0.0"}
CHUNK_TYPE = "application/offset+octet-stream"


def encode_metadata(**values: str) -> str:
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in values.items())


def b64_digest(algorithm: str, data: bytes) -> str:
    return base64.b64encode(hashlib.new(algorithm, data).digest()).decode()


class TusClient:
    """The requests a tus client sends, on a WebTest client, for one user."""

    def __init__(self, client, headers: dict):
        self.client = client
        self.headers = {**TUS, **headers}

    def create(self, length: int, filename: str = "notes.txt", body: bytes = b"", status=201, **headers):
        headers = {"Upload-Length": str(length), "Upload-Metadata": encode_metadata(filename=filename,
                                                                                    filetype="text/plain"),
                   **headers}
        if body:
            return self.client.post("/api/uploads", body, headers={**self.headers, **headers},
                                    content_type=CHUNK_TYPE, status=status)
        return self.client.post("/api/uploads", headers={**self.headers, **headers}, status=status)

    def patch(self, location: str, offset: int, body: bytes, status=204, content_type=CHUNK_TYPE, **headers):
        return self.client.patch(location, body, headers={**self.headers, "Upload-Offset": str(offset), **headers},
                                 content_type=content_type, status=status)

    def head(self, location: str, status=200, **headers):
        return self.client.head(location, headers={**self.headers, **headers}, status=status)

    def delete(self, location: str, status=204, **headers):
        return self.client.delete(location, headers={**self.headers, **headers}, status=status)

    def offset(self, location: str) -> int:
        return int(self.head(location).headers["Upload-Offset"])


@pytest.fixture
def tus(client, user):
    return TusClient(client, user["headers"])


def stored_bytes(app, user, file_id: str) -> bytes:
    row = app.services.storage.find(user["id"], file_id)
    data = app.services.storage.path_of(user["id"], file_id).read_bytes()
    assert row["sha256"] == hashlib.sha256(data).hexdigest()
    assert row["crc32"] == zlib.crc32(data)  # what a ZIP of it declares (files/zipstream.py)
    return data


def small_quota_client(make_config, **limits):
    app = create_app(make_config(**limits))
    return app, validated_client(app)


# --- discovery and the protocol version ---------------------------------------------

def test_options_describes_the_server_without_a_token_or_version(client, app):
    response = client.options("/api/uploads", status=204)
    assert response.headers["Tus-Version"] == "1.0.0"
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert response.headers["Tus-Extension"] == "creation,creation-with-upload,termination,checksum,expiration"
    assert response.headers["Tus-Max-Size"] == str(app.services.config.max_file_bytes)
    assert response.headers["Tus-Checksum-Algorithm"] == "sha1,sha256"


@pytest.mark.parametrize("version", [None, "0.2.2", "1.0"])
def test_requests_without_our_tus_version_are_412(client, user, version):
    headers = {**user["headers"], "Upload-Length": "3"}
    if version:
        headers["Tus-Resumable"] = version
    response = client.post("/api/uploads", headers=headers, status=412)
    assert response.json["data"] == {"error": "tus_version_unsupported"}
    assert response.headers["Tus-Version"] == "1.0.0"
    assert response.headers["Tus-Resumable"] == "1.0.0"


def test_every_tus_method_checks_the_version(tus):
    location = tus.create(3).headers["Location"]
    plain = {"Authorization": tus.headers["Authorization"]}
    tus.client.head(location, headers=plain, status=412)
    tus.client.patch(location, b"abc", headers={**plain, "Upload-Offset": "0"}, content_type=CHUNK_TYPE, status=412)
    tus.client.delete(location, headers=plain, status=412)
    assert tus.offset(location) == 0


def test_errors_before_the_handler_carry_tus_resumable_too(client):
    response = client.post("/api/uploads", headers={**TUS, "Upload-Length": "3"}, status=401)
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert response.json["data"]["error"] == "token_missing"


# --- creation ---------------------------------------------------------------------

def test_create_answers_location_token_and_expiry(tus, app, clock):
    response = tus.create(11)
    assert response.body == b""
    assert response.headers["Location"].startswith("/api/uploads/")
    assert response.headers["Upload-Token"]
    assert response.headers["Tus-Resumable"] == "1.0.0"
    expires = parsedate_to_datetime(response.headers["Upload-Expires"]).timestamp()
    assert expires == pytest.approx(clock() + app.services.config.upload_expiry_seconds, abs=1)


def test_head_tells_offset_length_and_echoes_metadata(tus):
    metadata = encode_metadata(filename="résumé.pdf", filetype="application/pdf")
    location = tus.create(11, **{"Upload-Metadata": metadata}).headers["Location"]
    response = tus.head(location)
    assert response.headers["Upload-Offset"] == "0"
    assert response.headers["Upload-Length"] == "11"
    assert response.headers["Upload-Metadata"] == metadata
    assert response.headers["Cache-Control"] == "no-store"
    assert "Upload-File-Id" not in response.headers
    assert response.body == b""


@pytest.mark.parametrize("headers, field", [
    ({"Upload-Length": ""}, "Upload-Length"),
    ({"Upload-Length": "ten"}, "Upload-Length"),
    ({"Upload-Length": "-1"}, "Upload-Length"),
    ({"Upload-Length": "1.5"}, "Upload-Length"),
    ({"Upload-Length": "5", "Upload-Defer-Length": "1"}, "Upload-Defer-Length"),
    ({"Upload-Length": "5", "Upload-Metadata": "filename not*base64"}, "Upload-Metadata"),
    ({"Upload-Length": "5", "Upload-Metadata": "filename YQ== extra"}, "Upload-Metadata"),
    ({"Upload-Length": "5", "Upload-Metadata": "filename YQ==,filename Yg=="}, "Upload-Metadata"),
])
def test_create_refuses_malformed_headers(tus, headers, field):
    response = tus.client.post("/api/uploads", headers={**tus.headers, **headers}, status=400)
    assert response.json["data"] == {"error": "invalid_header", "field": field}


def test_metadata_keys_may_come_without_a_value(tus):
    location = tus.create(1, **{"Upload-Metadata": "filename,is_private"}).headers["Location"]
    assert tus.head(location).headers["Upload-Metadata"] == "filename,is_private"


def test_create_refuses_a_file_over_the_size_limit_before_any_byte(make_config):
    _, client = small_quota_client(make_config, max_file_bytes=10)
    tus = TusClient(client, Auth(client).new_user()["headers"])
    response = tus.create(11, status=413)
    assert response.json["data"] == {"error": "file_too_large"}
    assert response.headers["Tus-Resumable"] == "1.0.0"


def test_creations_that_together_pass_the_quota_are_refused(make_config):
    _, client = small_quota_client(make_config, quota_bytes=100)
    tus = TusClient(client, Auth(client).new_user()["headers"])
    tus.create(60)
    assert tus.create(41, status=413).json["data"] == {"error": "quota_exceeded"}
    tus.create(40)  # exactly filling the quota is allowed


def test_quota_counts_stored_files_and_open_uploads(make_config):
    _, client = small_quota_client(make_config, quota_bytes=10)
    tus = TusClient(client, Auth(client).new_user()["headers"])
    tus.create(6, body=b"abcdef")  # completed: 6 bytes stored
    tus.create(4)  # open: 4 bytes reserved
    tus.create(1, status=413)


# --- appending ------------------------------------------------------------------------

def test_upload_in_chunks_becomes_an_ordinary_file(tus, app, user):
    data = b"0123456789" * 10
    location = tus.create(len(data), filename="digits.txt").headers["Location"]
    for start in range(0, 90, 30):
        response = tus.patch(location, start, data[start:start + 30])
        assert response.headers["Upload-Offset"] == str(start + 30)
        assert response.headers["Upload-Expires"]
        assert "Upload-File-Id" not in response.headers
    last = tus.patch(location, 90, data[90:])
    assert last.headers["Upload-Offset"] == "100"
    file_id = last.headers["Upload-File-Id"]
    assert stored_bytes(app, user, file_id) == data
    row = app.services.storage.find(user["id"], file_id)
    assert (row["name"], row["size"], row["content_type"]) == ("digits.txt", 100, "text/plain")
    assert list(app.services.storage.partial_dir.iterdir()) == [
        app.services.storage.partial_dir / (location.rsplit("/", 1)[1] + ".lock")]


def test_head_after_completion_says_done_and_names_the_file(tus):
    response = tus.create(3, body=b"abc")
    file_id = response.headers["Upload-File-Id"]
    head = tus.head(response.headers["Location"])
    assert (head.headers["Upload-Offset"], head.headers["Upload-Length"]) == ("3", "3")
    assert head.headers["Upload-File-Id"] == file_id
    again = tus.patch(response.headers["Location"], 3, b"")
    assert again.headers["Upload-File-Id"] == file_id
    tus.patch(response.headers["Location"], 3, b"x", status=413)


def test_creation_with_upload_appends_the_body_at_once(tus):
    response = tus.create(6, body=b"abc")
    assert response.headers["Upload-Offset"] == "3"
    assert "Upload-File-Id" not in response.headers
    assert tus.offset(response.headers["Location"]) == 3


def test_creation_with_a_bad_first_chunk_creates_nothing(tus, app):
    tus.create(6, body=b"abc", status=460, **{"Upload-Checksum": f"sha1 {b64_digest('sha1', b'xyz')}"})
    tus.create(2, body=b"abc", status=413)
    tus.client.post("/api/uploads", b"abc", headers={**tus.headers, "Upload-Length": "3"},
                    content_type="text/plain", status=415)
    assert list(app.services.storage.partial_dir.iterdir()) == []


def test_an_empty_upload_completes_on_creation(tus, app, user):
    response = tus.create(0)
    assert response.headers["Upload-Offset"] == "0"
    assert stored_bytes(app, user, response.headers["Upload-File-Id"]) == b""


def test_patch_needs_the_offset_content_type(tus):
    location = tus.create(3).headers["Location"]
    response = tus.patch(location, 0, b"abc", content_type="application/octet-stream", status=415)
    assert response.json["data"] == {"error": "unsupported_media_type"}


@pytest.mark.parametrize("offset", ["", "x", "-1"])
def test_patch_needs_a_numeric_offset(tus, offset):
    location = tus.create(3).headers["Location"]
    response = tus.client.patch(location, b"abc", headers={**tus.headers, "Upload-Offset": offset},
                                content_type=CHUNK_TYPE, status=400)
    assert response.json["data"] == {"error": "invalid_header", "field": "Upload-Offset"}


def test_patch_at_the_wrong_offset_is_409_and_changes_nothing(tus):
    location = tus.create(6).headers["Location"]
    tus.patch(location, 0, b"abc")
    response = tus.patch(location, 0, b"abc", status=409)
    assert response.json["data"] == {"error": "offset_mismatch"}
    assert response.headers["Tus-Resumable"] == "1.0.0"
    tus.patch(location, 5, b"f", status=409)
    assert tus.offset(location) == 3


def test_patch_past_the_length_appends_nothing(tus, app, user):
    location = tus.create(5).headers["Location"]
    tus.patch(location, 0, b"ab")
    response = tus.patch(location, 2, b"cdef", status=413)
    assert response.json["data"] == {"error": "upload_length_exceeded"}
    assert tus.offset(location) == 2
    file_id = tus.patch(location, 2, b"cde").headers["Upload-File-Id"]
    assert stored_bytes(app, user, file_id) == b"abcde"


@pytest.mark.parametrize("algorithm", ["sha1", "sha256"])
def test_a_chunk_with_a_matching_checksum_is_kept(tus, algorithm):
    location = tus.create(6).headers["Location"]
    tus.patch(location, 0, b"abc", **{"Upload-Checksum": f"{algorithm} {b64_digest(algorithm, b'abc')}"})
    assert tus.offset(location) == 3


def test_a_chunk_with_a_wrong_checksum_is_discarded(tus, app, user):
    location = tus.create(6).headers["Location"]
    tus.patch(location, 0, b"abc")
    response = tus.patch(location, 3, b"def", status=460,
                         **{"Upload-Checksum": f"sha256 {b64_digest('sha256', b'xyz')}"})
    assert response.json["data"] == {"error": "checksum_mismatch"}
    assert tus.offset(location) == 3
    file_id = tus.patch(location, 3, b"DEF").headers["Upload-File-Id"]
    assert stored_bytes(app, user, file_id) == b"abcDEF"


@pytest.mark.parametrize("checksum, key", [
    ("md5 " + b64_digest("md5", b"abc"), "checksum_algorithm_unsupported"),
    ("sha1 !!!", "invalid_header"),
])
def test_unusable_checksums_are_400(tus, checksum, key):
    location = tus.create(3).headers["Location"]
    response = tus.patch(location, 0, b"abc", status=400, **{"Upload-Checksum": checksum})
    assert response.json["data"]["error"] == key
    assert tus.offset(location) == 0


def test_bytes_past_the_recorded_offset_are_not_believed(tus, app, user):
    """A crash between writing a chunk and recording its offset leaves extra bytes: they are cut off."""
    location = tus.create(6).headers["Location"]
    tus.patch(location, 0, b"abc")
    partial = app.services.storage.partial_dir / location.rsplit("/", 1)[1]
    with open(partial, "ab") as file:
        file.write(b"garbage")
    assert tus.offset(location) == 3
    file_id = tus.patch(location, 3, b"def").headers["Upload-File-Id"]
    assert stored_bytes(app, user, file_id) == b"abcdef"


# --- the running sha256: completion without reading the file again -------------------------

def upload_id_of(location: str) -> str:
    return location.rsplit("/", 1)[1]


def refuse_to_reread(monkeypatch):
    def reread(path, chunk_bytes):
        raise AssertionError("the whole file was read again for its checksums")
    monkeypatch.setattr(open_uploads, "file_digest", reread)


def test_completion_uses_the_running_hash_of_the_accepted_chunks(tus, app, user, monkeypatch):
    refuse_to_reread(monkeypatch)
    data = bytes(range(256)) * 40
    location = tus.create(len(data), body=data[:1000]).headers["Location"]
    tus.patch(location, 1000, data[1000:5000])
    file_id = tus.patch(location, 5000, data[5000:]).headers["Upload-File-Id"]
    assert stored_bytes(app, user, file_id) == data  # the row's sha256 is the file's
    assert upload_id_of(location) not in app.services.uploads.running_hashes.entries


def test_an_upload_whose_chunks_this_process_missed_is_hashed_from_disk(tus, app, user):
    """Another server process took a chunk, or this one restarted: the running hash no longer fits."""
    data = b"abcdefghi"
    location = tus.create(len(data)).headers["Location"]
    for start in range(0, 9, 3):
        app.services.uploads.running_hashes.forget(upload_id_of(location))
        response = tus.patch(location, start, data[start:start + 3])
    assert stored_bytes(app, user, response.headers["Upload-File-Id"]) == data


def test_a_refused_chunk_leaves_the_running_hash_as_it_was(tus, app, user, monkeypatch):
    refuse_to_reread(monkeypatch)
    location = tus.create(6).headers["Location"]
    tus.patch(location, 0, b"abc")
    tus.patch(location, 3, b"def", status=460, **{"Upload-Checksum": f"sha256 {b64_digest('sha256', b'xyz')}"})
    tus.patch(location, 3, b"defg", status=413)
    file_id = tus.patch(location, 3, b"DEF").headers["Upload-File-Id"]
    assert stored_bytes(app, user, file_id) == b"abcDEF"


def test_a_running_hash_is_believed_only_at_the_offset_it_was_saved_at():
    hashes = RunningHashes(max_entries=10)
    running = hashes.resume("u", 0)
    running.update(b"abc")
    hashes.save("u", 3, running)
    assert hashes.resume("u", 6) is None  # someone else appended: it hashed fewer bytes than the file has
    assert hashes.resume("v", 3) is None
    resumed = hashes.resume("u", 3)
    resumed.update(b"def")  # a copy: what a chunk adds counts only once saved
    assert hashes.resume("u", 3).hexdigest() == hashlib.sha256(b"abc").hexdigest()
    hashes.forget("u")
    assert hashes.resume("u", 3) is None


def test_running_hashes_are_bounded_and_drop_the_least_recently_saved():
    hashes = RunningHashes(max_entries=2)
    for upload_id in ("a", "b", "a", "c"):  # the second "a" makes it the most recently saved
        hashes.save(upload_id, 1, BackgroundHash(hashlib.sha256(b"x")))
    assert list(hashes.entries) == ["a", "c"]


def test_delete_and_expiry_forget_the_running_hash(make_config, clock):
    app, client = small_quota_client(make_config, upload_expiry_seconds=600)
    tus = TusClient(client, Auth(client).new_user()["headers"])
    deleted, expired = (tus.create(6, body=b"abc").headers["Location"] for _ in range(2))
    running_hashes = app.services.uploads.running_hashes
    assert {upload_id_of(deleted), upload_id_of(expired)} <= set(running_hashes.entries)
    tus.delete(deleted)
    clock.advance(600)
    services = app.services
    services.uploads.remove_expired()
    assert not {upload_id_of(deleted), upload_id_of(expired)} & set(running_hashes.entries)


class HeldBody(io.BytesIO):
    """A request body whose first read waits for the test: a PATCH caught in the middle of appending."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.reading = threading.Event()
        self.release = threading.Event()

    def read(self, size=-1):
        self.reading.set()
        self.release.wait(10)
        return super().read(size)


def held_patch(tus, location, body):
    """A PATCH whose body is held back by ``body`` (a HeldBody), running on a thread of its own."""
    request = webtest.TestRequest.blank(location, method="PATCH", headers={
        **tus.headers, "Upload-Offset": "0", "Content-Type": CHUNK_TYPE, "Content-Length": str(len(body.getvalue()))})
    request.environ["wsgi.input"] = body
    answers = {}
    thread = threading.Thread(target=lambda: answers.update(patch=tus.client.do_request(request, status="*")))
    thread.start()
    assert body.reading.wait(10)
    return thread, answers


def test_a_delete_waits_for_a_patch_in_progress_and_then_ends_the_upload(tus, app, user):
    location = tus.create(6).headers["Location"]
    body = HeldBody(b"abc")
    patch, answers = held_patch(tus, location, body)
    deleter = threading.Thread(target=lambda: answers.update(delete=tus.delete(location, status="*")))
    deleter.start()
    deleter.join(0.5)
    assert deleter.is_alive()  # waiting for the lock, not answering 409
    body.release.set()
    patch.join(10)
    deleter.join(10)
    assert answers["patch"].status_int == 204
    assert answers["delete"].status_int == 204
    tus.head(location, status=404)


def test_a_delete_gives_up_with_409_when_the_patch_holds_on_too_long(tus, app, user, monkeypatch):
    monkeypatch.setattr(resumable, "TERMINATION_WAIT_SECONDS", 0.2)
    location = tus.create(6).headers["Location"]
    body = HeldBody(b"abc")
    patch, _ = held_patch(tus, location, body)
    try:
        assert tus.delete(location, status=409).json["data"] == {"error": "upload_busy"}
    finally:
        body.release.set()
        patch.join(10)


def test_two_patches_at_once_cannot_both_append(tus, app, user):
    location = tus.create(6).headers["Location"]
    body = HeldBody(b"abc")
    first, answers = held_patch(tus, location, body)
    try:
        second = tus.patch(location, 0, b"xyz", status=409)
        assert second.json["data"] == {"error": "upload_busy"}
    finally:
        body.release.set()
        first.join(10)
    assert answers["patch"].status_int == 204
    file_id = tus.patch(location, 3, b"def").headers["Upload-File-Id"]
    assert stored_bytes(app, user, file_id) == b"abcdef"


def test_x_http_method_override_lets_post_patch_and_delete(tus):
    location = tus.create(6).headers["Location"]
    tus.client.post(location, b"abc", headers={**tus.headers, "Upload-Offset": "0",
                                               "X-HTTP-Method-Override": "PATCH"},
                    content_type=CHUNK_TYPE, status=204)
    assert tus.offset(location) == 3
    tus.client.post(location, headers={**tus.headers, "X-HTTP-Method-Override": "DELETE"}, status=204)
    tus.head(location, status=404)


# --- who may touch an upload ---------------------------------------------------------------

def test_another_users_upload_is_not_found(tus, auth, client):
    location = tus.create(3).headers["Location"]
    stranger = TusClient(client, auth.new_user()["headers"])
    stranger.head(location, status=404)
    stranger.patch(location, 0, b"abc", status=404)
    stranger.delete(location, status=404)
    assert tus.offset(location) == 0


def upload_token_client(tus, response) -> TusClient:
    return TusClient(tus.client, {"Authorization": f"Bearer {response.headers['Upload-Token']}"})


def test_the_upload_token_outlives_the_access_token(tus, app, user, clock):
    data = b"abcdef"
    created = tus.create(len(data))
    location = created.headers["Location"]
    clock.advance(app.services.config.token_ttl_seconds + 60)
    assert tus.patch(location, 0, b"abc", status=401).json["data"]["error"] == "token_expired"
    by_token = upload_token_client(tus, created)
    by_token.patch(location, 0, data[:3])
    file_id = by_token.patch(location, 3, data[3:]).headers["Upload-File-Id"]
    assert stored_bytes(app, user, file_id) == data


def test_the_upload_token_opens_nothing_else(tus):
    created = tus.create(3)
    other = tus.create(3).headers["Location"]
    by_token = upload_token_client(tus, created)
    by_token.head(created.headers["Location"])
    by_token.head(other, status=401)
    for response in (
        tus.client.get("/api/me", headers=by_token.headers, status=401),
        by_token.patch(other, 0, b"abc", status=401),
        by_token.delete(other, status=401),
        by_token.create(3, status=401),
    ):
        assert response.json["data"]["error"] == "token_invalid"


# --- termination and expiry ------------------------------------------------------------

def test_delete_removes_the_bytes_and_the_reservation(make_config):
    app, client = small_quota_client(make_config, quota_bytes=10)
    tus = TusClient(client, Auth(client).new_user()["headers"])
    location = tus.create(10).headers["Location"]
    tus.patch(location, 0, b"abc")
    tus.create(1, status=413)
    response = tus.delete(location)
    assert response.headers["Tus-Resumable"] == "1.0.0"
    tus.head(location, status=404)
    tus.patch(location, 3, b"d", status=404)
    assert list(app.services.storage.partial_dir.iterdir()) == []
    tus.create(10)


def test_expired_uploads_vanish_with_their_reservation(make_config, clock):
    app, client = small_quota_client(make_config, quota_bytes=10, upload_expiry_seconds=600)
    tus = TusClient(client, Auth(client).new_user()["headers"])
    location = tus.create(10).headers["Location"]
    tus.patch(location, 0, b"abc")
    clock.advance(600)  # the access token (30 minutes) still lives
    fresh_id = tus.create(10).headers["Location"].rsplit("/", 1)[1]  # the reservation no longer counts
    tus.head(location, status=404)
    tus.patch(location, 3, b"def", status=404)
    services = app.services
    services.uploads.remove_expired()
    assert {path.name for path in services.storage.partial_dir.iterdir()} == {fresh_id, fresh_id + ".lock"}
    assert [row["id"] for row in services.database.execute("SELECT id FROM uploads")] == [fresh_id]


def test_the_expiry_sweep_keeps_live_uploads_and_forgets_finished_ones(make_config, clock):
    app, client = small_quota_client(make_config, upload_expiry_seconds=600)
    tus = TusClient(client, Auth(client).new_user()["headers"])
    finished = tus.create(3, body=b"abc").headers["Location"]
    clock.advance(590)
    services = app.services
    services.uploads.remove_expired()
    open_location = tus.create(3).headers["Location"]
    clock.advance(20)
    services.uploads.remove_expired()
    ids = [row["id"] for row in services.database.execute("SELECT id FROM uploads")]
    assert ids == [open_location.rsplit("/", 1)[1]]
    assert finished.rsplit("/", 1)[1] not in ids


def test_the_expiry_sweep_removes_an_upload_whose_creation_crashed(tus, app, clock):
    """The row is written before the files: a crash between leaves a row, which expires like any other."""
    upload_id = tus.create(3).headers["Location"].rsplit("/", 1)[1]
    for leftover in app.services.storage.partial_dir.iterdir():
        leftover.unlink()
    clock.advance(app.services.config.upload_expiry_seconds)
    services = app.services
    services.uploads.remove_expired()
    assert services.database.execute("SELECT count(*) FROM uploads WHERE id = ?", (upload_id,)).fetchone()[0] == 0


# --- the API around the protocol -----------------------------------------------------------

def test_cors_preflight_allows_the_tus_headers(client):
    response = client.options("/api/uploads/x", headers={
        "Origin": "https://elsewhere.example", "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "tus-resumable,upload-offset,content-type"}, status=204)
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    for header in ("tus-resumable", "upload-length", "upload-metadata", "upload-offset", "upload-checksum",
                   "x-http-method-override"):
        assert header in allowed
    assert "PATCH" in response.headers["Access-Control-Allow-Methods"]


def test_responses_expose_the_tus_headers_to_other_origins(tus):
    response = tus.create(3, Origin="https://elsewhere.example")
    exposed = response.headers["Access-Control-Expose-Headers"]
    for header in ("Location", "Upload-Offset", "Upload-Length", "Upload-Metadata", "Upload-Expires",
                   "Upload-Token", "Upload-File-Id", "Tus-Resumable", "Tus-Version", "Tus-Extension",
                   "Tus-Max-Size"):
        assert header in exposed


def test_openapi_describes_the_tus_routes(client):
    paths = client.get("/api/openapi.json").json["paths"]
    assert set(paths["/api/uploads"]) == {"options", "get", "post"}  # GET: the list of unfinished uploads
    assert set(paths["/api/uploads/{upload_id}"]) == {"head", "patch", "delete"}
    assert "application/offset+octet-stream" in paths["/api/uploads/{upload_id}"]["patch"]["requestBody"]["content"]
    assert paths["/api/uploads"]["post"]["requestBody"]["required"] is False


def test_upload_busy_is_translated():
    assert i18n.message("upload_busy", "zh-CN") != i18n.message("upload_busy", "en")



# --- GET /api/uploads: my unfinished uploads ------------------------------------------

def test_unfinished_uploads_are_listed_with_their_progress_oldest_first(tus, client, user, clock):
    first = tus.create(10, filename="first.txt", body=b"abcd").headers["Location"]
    clock.advance(5)
    second = tus.create(20, filename="第二.txt").headers["Location"]
    finished = tus.create(3, body=b"xyz").headers["Location"]  # complete: a file now, not an upload
    response = client.get("/api/uploads", headers=user["headers"])
    assert response.json["code"] == 200
    assert response.json["data"] == {"uploads": [
        {"id": upload_id_of(first), "name": "first.txt", "length": 10, "offset": 4,
         "created_at": iso(clock.now - 5), "expires_at": iso(clock.now - 5 + 86400), "folder_id": None},
        {"id": upload_id_of(second), "name": "第二.txt", "length": 20, "offset": 0,
         "created_at": iso(clock.now), "expires_at": iso(clock.now + 86400), "folder_id": None},
    ]}
    assert upload_id_of(finished) not in response.text


def test_the_list_shows_only_my_live_uploads(make_config, clock):
    app, client = small_quota_client(make_config, upload_expiry_seconds=600)
    auth = Auth(client)
    mine, other = auth.new_user(), auth.new_user()
    TusClient(client, mine["headers"]).create(10)
    assert client.get("/api/uploads", headers=other["headers"]).json["data"] == {"uploads": []}
    clock.advance(600)  # expired: gone from the list, as from the quota
    assert client.get("/api/uploads", headers=mine["headers"]).json["data"] == {"uploads": []}


def test_a_listed_upload_can_be_resumed_or_discarded_by_its_id(tus, client, user):
    data = b"hello world"
    tus.create(len(data), body=data[:5])
    (listed,) = client.get("/api/uploads", headers=user["headers"]).json["data"]["uploads"]
    location = f"/api/uploads/{listed['id']}"
    assert tus.offset(location) == listed["offset"] == 5
    tus.patch(location, 5, data[5:])
    assert client.get("/api/uploads", headers=user["headers"]).json["data"] == {"uploads": []}
    tus.create(4)
    (abandoned,) = client.get("/api/uploads", headers=user["headers"]).json["data"]["uploads"]
    tus.delete(f"/api/uploads/{abandoned['id']}")
    assert client.get("/api/uploads", headers=user["headers"]).json["data"] == {"uploads": []}


def test_the_list_needs_an_access_token_not_an_upload_token(tus, client):
    upload_token = tus.create(10).headers["Upload-Token"]
    response = client.get("/api/uploads", headers={"Authorization": f"Bearer {upload_token}"}, status=401)
    assert_error(response, 401, "token_invalid")
    assert_error(client.get("/api/uploads", status=401), 401, "token_missing")
