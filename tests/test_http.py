"""The HTTP vocabulary (http.py): envelopes, status lines, request helpers, conditional requests."""

from __future__ import annotations

import io
import json

import pytest
import webtest

from authupload.web.http import (HTTPError, Request, envelope, error_envelope, iso_time, media_type, not_modified,
                             status_line, string_field)


def body_of(response):
    return json.loads(b"".join(response.body))


def test_envelope_has_code_message_data_and_its_headers():
    response = envelope("en", 200, "registered", {"id": 1})
    assert response.status == 200
    assert body_of(response) == {"code": 200, "message": "Registered.", "data": {"id": 1}}
    headers = dict(response.headers)
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["Content-Length"] == str(len(b"".join(response.body)))
    assert headers["Vary"] == "Accept-Language"


def test_envelope_writes_chinese_as_utf8_not_escapes():
    raw = b"".join(envelope("zh-CN", 200, "registered").body)
    assert "注册成功".encode("utf-8") in raw


def test_error_envelope_names_the_key_and_field():
    response = error_envelope("en", HTTPError(400, "invalid_field", field="username"))
    assert body_of(response)["data"] == {"error": "invalid_field", "field": "username"}
    assert body_of(response)["code"] == 400


def test_every_401_envelope_has_a_bearer_challenge():
    response = error_envelope("en", HTTPError(401, "invalid_credentials"))
    assert ("WWW-Authenticate", "Bearer") in response.headers


def test_a_401_keeps_its_own_challenge():
    response = error_envelope("en", HTTPError(401, "token_invalid",
                                              headers=[("WWW-Authenticate", 'Bearer error="invalid_token"')]))
    assert [v for k, v in response.headers if k == "WWW-Authenticate"] == ['Bearer error="invalid_token"']


@pytest.mark.parametrize("status, line", [
    (200, "200 OK"), (404, "404 Not Found"), (413, "413 Request Entity Too Large"),
    (429, "429 Too Many Requests"), (460, "460 Checksum Mismatch"), (599, "599 Unknown"),
])
def test_status_line_has_the_reason_phrase(status, line):
    assert status_line(status) == line


@pytest.mark.parametrize("header, expected", [
    ("application/json", "application/json"),
    ("Application/JSON; charset=utf-8", "application/json"),
    ("  application/json  ;x=y", "application/json"),
    ("", ""),
])
def test_media_type_drops_parameters_and_case(header, expected):
    assert media_type(header) == expected


@pytest.mark.parametrize("body, name", [({}, "a"), ({"a": 1}, "a"), ({"a": None}, "a"), ({"a": ["x"]}, "a"),
                                        ({"a": "\ud800"}, "a")])
def test_string_field_refuses_missing_non_string_and_unencodable_values(body, name):
    with pytest.raises(HTTPError) as raised:
        string_field(body, name)
    assert (raised.value.status, raised.value.key, raised.value.field) == (400, "invalid_field", name)


def test_string_field_returns_the_string():
    assert string_field({"a": "密码 😀"}, "a") == "密码 😀"


def test_iso_time_is_rfc3339_utc():
    assert iso_time(0) == "1970-01-01T00:00:00Z"
    assert iso_time(1_900_000_000.9) == "2030-03-17T17:46:40Z"


def request_for(path="/x", **environ):
    base = webtest.TestRequest.blank(path).environ
    base.update(environ)
    return Request(base)


@pytest.mark.parametrize("value", ["abc", "1.5", "-"])
def test_a_malformed_content_length_is_400_bad_request(value):
    with pytest.raises(HTTPError) as raised:
        request_for(CONTENT_LENGTH=value).content_length
    assert (raised.value.status, raised.value.key) == (400, "bad_request")


def test_a_missing_or_negative_content_length_is_zero():
    assert request_for(CONTENT_LENGTH="").content_length == 0
    assert request_for(CONTENT_LENGTH="-5").content_length == 0


def test_read_body_refuses_more_than_the_limit_before_reading():
    stream = io.BytesIO(b"x" * 100)
    request = request_for(CONTENT_LENGTH="100", **{"wsgi.input": stream})
    with pytest.raises(HTTPError) as raised:
        request.read_body(99)
    assert (raised.value.status, raised.value.key) == (413, "body_too_large")
    assert stream.tell() == 0
    assert request.read_body(100) == b"x" * 100


def test_header_reads_http_and_cgi_names():
    request = request_for(CONTENT_TYPE="text/plain", HTTP_UPLOAD_OFFSET="5")
    assert request.header("Content-Type") == "text/plain"
    assert request.header("upload-offset") == "5"
    assert request.header("X-Missing", "d") == "d"


def test_query_keeps_blank_values_and_the_last_repeat():
    assert request_for("/x?a=1&a=2&b=").query == {"a": "2", "b": ""}


def test_request_path_is_decoded_as_utf8():
    request = request_for(PATH_INFO="/文件".encode("utf-8").decode("latin-1"))
    assert request.path == "/文件"


ETAG = '"abc"'
MODIFIED = 1_700_000_000  # Tue, 14 Nov 2023 22:13:20 GMT


@pytest.mark.parametrize("headers, expected", [
    ({}, False),
    ({"HTTP_IF_NONE_MATCH": '"abc"'}, True),
    ({"HTTP_IF_NONE_MATCH": 'W/"abc"'}, True),
    ({"HTTP_IF_NONE_MATCH": '"x", "abc"'}, True),
    ({"HTTP_IF_NONE_MATCH": "*"}, True),
    ({"HTTP_IF_NONE_MATCH": '"other"'}, False),
    # If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2)
    ({"HTTP_IF_NONE_MATCH": '"other"', "HTTP_IF_MODIFIED_SINCE": "Tue, 14 Nov 2023 22:13:20 GMT"}, False),
    ({"HTTP_IF_MODIFIED_SINCE": "Tue, 14 Nov 2023 22:13:20 GMT"}, True),
    ({"HTTP_IF_MODIFIED_SINCE": "Wed, 15 Nov 2023 00:00:00 GMT"}, True),
    ({"HTTP_IF_MODIFIED_SINCE": "Tue, 14 Nov 2023 22:13:19 GMT"}, False),
    ({"HTTP_IF_MODIFIED_SINCE": "yesterday"}, False),
    ({"HTTP_IF_MODIFIED_SINCE": ""}, False),
])
def test_not_modified_follows_rfc_9110(headers, expected):
    assert not_modified(request_for(**headers), ETAG, MODIFIED + 0.5) is expected
