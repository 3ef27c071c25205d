"""Property-based fuzzing of what test_fuzz.py leaves out (docs/threats.md, "Fuzzing"):
multipart bodies, file names, and the tus headers. Bounded to stay fast.

Properties: never a 5xx, always an envelope; a refused upload stores nothing; a
stored file's name obeys the cleaning rules and its bytes live under a server name.
"""

from __future__ import annotations

import base64
import re
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import forms

FUZZ = settings(max_examples=100, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
TUS = {"Tus-Resumable": "1.0.0"}
BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def headers_of(auth) -> dict:
    # One user per test function is enough: hypothesis reuses the function's fixtures.
    if not hasattr(auth, "fuzz_user"):
        auth.fuzz_user = auth.new_user()
    return auth.fuzz_user["headers"]


def assert_envelope(response):
    assert response.status_int < 500, response.text
    if response.status_int not in (201, 204):
        assert response.content_type == "application/json"
        assert response.json["code"] == response.status_int
    assert "Traceback" not in response.text


def file_count(app) -> int:
    return app.services.database.execute("SELECT count(*) FROM files").fetchone()[0]


def assert_clean(name: str):
    assert 1 <= len(name) <= 255
    assert "/" not in name and "\\" not in name
    assert not any(unicodedata.category(c) == "Cc" or c in BIDI for c in name)
    assert name == name.strip(" .") or name == "unnamed"


@FUZZ
@given(name=st.text(max_size=300))
def test_any_file_name_is_stored_clean_under_a_server_name(app, client, auth, name):
    encoded = name.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
    response = forms.upload(client, {"headers": headers_of(auth)}, (encoded, b"x"), status="*")
    assert_envelope(response)
    if response.status_int == 200:
        (file,) = response.json["data"]["files"]
        assert_clean(file["name"])
        assert re.fullmatch(r"[0-9a-f]{32}", file["id"])


@FUZZ
@given(raw=st.binary(max_size=400), prefix=st.sampled_from([b"", forms.opening()]))
def test_any_multipart_body_is_an_envelope_and_stores_nothing_unless_200(app, client, auth, raw, prefix):
    before = file_count(app)
    response = forms.post(client, headers_of(auth), prefix + raw, status="*")
    assert_envelope(response)
    if response.status_int != 200:
        assert file_count(app) == before
        assert not any(app.services.storage.tmp_dir.iterdir())


part_headers = st.lists(st.sampled_from([
    b'Content-Disposition: form-data; name="file"; filename="a.txt"',
    b'Content-Disposition: form-data; name="file"',
    b'Content-Disposition: form-data; name="filename"',
    b"Content-Disposition: attachment",
    b"Content-Type: text/html",
    b"Content-Type: multipart/mixed; boundary=x",
    b"Content-Transfer-Encoding: base64",
    b"X: " + b"y" * 5000,
    b"no colon here",
]), max_size=4)


@FUZZ
@given(parts=st.lists(st.tuples(part_headers, st.binary(max_size=60)), max_size=4),
       closed=st.booleans())
def test_any_arrangement_of_parts_is_an_envelope_and_all_or_nothing(app, client, auth, parts, closed):
    before = file_count(app)
    built = [b"\r\n".join(head) + b"\r\n\r\n" + data for head, data in parts]
    raw = forms.body(*built) if closed else forms.opening() + forms.between().join(built)
    response = forms.post(client, headers_of(auth), raw, status="*")
    assert_envelope(response)
    stored = file_count(app) - before
    assert stored == (len(response.json["data"]["files"]) if response.status_int == 200 else 0)


header_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=40)


@FUZZ
@given(length=st.one_of(header_text, st.integers(-5, 2**70).map(str)), metadata=header_text,
       checksum=header_text, body=st.binary(max_size=40))
def test_any_tus_creation_headers_get_an_envelope_or_a_201(app, client, auth, length, metadata, checksum, body):
    headers = {**headers_of(auth), **TUS, "Upload-Length": length, "Upload-Metadata": metadata,
               "Upload-Checksum": checksum, "Content-Type": "application/offset+octet-stream"}
    response = client.post("/api/uploads", body, headers=headers, expect_errors=True)
    assert_envelope(response)


@FUZZ
@given(offset=st.one_of(header_text, st.integers(-5, 2**70).map(str)), checksum=header_text,
       body=st.binary(max_size=40))
def test_any_tus_patch_headers_keep_the_offset_equal_to_the_bytes_stored(app, client, auth, offset, checksum, body):
    headers = {**headers_of(auth), **TUS}
    created = client.post("/api/uploads", headers={**headers, "Upload-Length": "20"}, status=201)
    location = created.headers["Location"]
    response = client.patch(location, body, headers={**headers, "Upload-Offset": offset, "Upload-Checksum": checksum,
                                                     "Content-Type": "application/offset+octet-stream"},
                            expect_errors=True)
    assert_envelope(response)
    stored = client.head(location, headers=headers)
    upload_id = location.rsplit("/", 1)[1]
    partial = app.services.storage.partial_dir / upload_id
    assert int(stored.headers["Upload-Offset"]) == (partial.stat().st_size if partial.exists() else 20)
    client.delete(location, headers=headers, expect_errors=True)


@FUZZ
@given(filename=st.binary(max_size=80), filetype=st.binary(max_size=40))
def test_any_tus_metadata_values_are_stored_clean(app, client, auth, filename, filetype):
    metadata = f"filename {base64.b64encode(filename).decode()},filetype {base64.b64encode(filetype).decode()}"
    response = client.post("/api/uploads", b"x", headers={
        **headers_of(auth), **TUS, "Upload-Length": "1", "Upload-Metadata": metadata,
        "Content-Type": "application/offset+octet-stream"}, expect_errors=True)
    assert_envelope(response)
    assert response.status_int == 201
    row = app.services.database.execute("SELECT name, content_type FROM files WHERE id = ?",
                                        (response.headers["Upload-File-Id"],)).fetchone()
    assert_clean(row["name"])
    assert re.fullmatch(r"[!#$%&'*+.^_`|~0-9a-z-]+/[!#$%&'*+.^_`|~0-9a-z-]+", row["content_type"])
