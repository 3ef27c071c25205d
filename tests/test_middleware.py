"""The middleware stack (middleware.py): envelopes and headers on every answer, CORS, the access log."""

from __future__ import annotations

import logging
import re

import pytest

from authupload import create_app
from support import validated_client

API_SAMPLE = [
    ("GET", "/api/health"),
    ("GET", "/api/nothing"),
    ("GET", "/api/me"),
    ("DELETE", "/api/register"),
    ("POST", "/api/login"),
    ("POST", "/api/register"),
]


def call(client, method, path, **kwargs):
    return client.request(path, method=method, expect_errors=True, **kwargs)


@pytest.mark.parametrize("method, path", API_SAMPLE)
def test_every_api_response_is_an_envelope_whose_code_is_the_status(client, method, path):
    response = call(client, method, path)
    assert response.content_type == "application/json"
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert set(response.json) == {"code", "message", "data"}
    assert response.json["code"] == response.status_int
    assert isinstance(response.json["message"], str) and response.json["message"]


@pytest.mark.parametrize("method, path", API_SAMPLE)
def test_every_api_response_varies_on_accept_language_and_is_not_stored(client, method, path):
    response = call(client, method, path)
    assert "Accept-Language" in response.headers.getall("Vary")
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("method, path", API_SAMPLE + [("GET", "/welcome.html"), ("GET", "/"),
                                                       ("GET", "/missing.html"), ("GET", "/api/openapi.json")])
def test_every_response_has_nosniff_and_no_referrer(client, method, path):
    response = call(client, method, path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("path", ["/welcome.html", "/login.html", "/register.html"])
def test_pages_have_a_csp_without_inline_script_and_without_framing(client, path):
    csp = client.get(path).headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in csp
    assert directives["frame-ancestors"] == "'none'"


def test_api_responses_carry_no_page_csp(client):
    assert "Content-Security-Policy" not in client.get("/api/health").headers


def preflight(client, path="/api/register", origin="https://pages.example", method="POST",
              request_headers="authorization, content-type"):
    return client.options(path, headers={"Origin": origin, "Access-Control-Request-Method": method,
                                         "Access-Control-Request-Headers": request_headers}, expect_errors=True)


def header_list(value):
    return {item.strip().lower() for item in value.split(",")}


@pytest.mark.parametrize("path", ["/api/register", "/api/me", "/api/files/abc", "/api/uploads", "/api/nothing"])
def test_cors_preflight_is_204_with_methods_headers_and_max_age(client, path):
    response = preflight(client, path)
    assert response.status_int == 204
    assert response.body == b""
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert {"get", "post", "head", "patch", "delete"} <= header_list(response.headers["Access-Control-Allow-Methods"])
    assert {"authorization", "content-type", "tus-resumable", "upload-length", "upload-metadata", "upload-offset",
            "upload-checksum", "x-http-method-override"} <= header_list(
        response.headers["Access-Control-Allow-Headers"])
    assert response.headers["Access-Control-Max-Age"] == "600"
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_cors_max_age_is_a_setting(make_config):
    client = validated_client(create_app(make_config(cors_max_age_seconds=42)))
    assert preflight(client).headers["Access-Control-Max-Age"] == "42"


def test_cors_responses_allow_any_origin_and_expose_the_tus_headers(client):
    response = client.get("/api/health", headers={"Origin": "https://pages.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    exposed = header_list(response.headers["Access-Control-Expose-Headers"])
    assert {"location", "upload-offset", "upload-length", "upload-metadata", "upload-expires", "upload-token",
            "upload-file-id", "tus-resumable", "tus-version", "tus-extension", "tus-max-size"} <= exposed
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_a_response_without_origin_carries_no_cors_headers(client):
    assert "Access-Control-Allow-Origin" not in client.get("/api/health").headers


@pytest.fixture
def strict_client(make_config):
    return validated_client(create_app(make_config(cors_origins=("https://good.example",))))


def test_configured_origin_is_allowed_by_name(strict_client):
    response = preflight(strict_client, origin="https://good.example")
    assert response.status_int == 204
    assert response.headers["Access-Control-Allow-Origin"] == "https://good.example"
    assert "Origin" in response.headers.getall("Vary")
    actual = strict_client.get("/api/health", headers={"Origin": "https://good.example"})
    assert actual.headers["Access-Control-Allow-Origin"] == "https://good.example"
    assert "Origin" in actual.headers.getall("Vary")


@pytest.mark.parametrize("origin", ["https://evil.example", "https://good.example.evil", "null",
                                    "http://good.example"])
def test_other_origins_are_refused_when_origins_are_configured(strict_client, origin):
    response = preflight(strict_client, origin=origin)
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Methods" not in response.headers
    actual = strict_client.get("/api/health", headers={"Origin": origin})
    assert "Access-Control-Allow-Origin" not in actual.headers


def test_a_preflight_needs_no_token(client):
    assert preflight(client, "/api/me", method="GET").status_int == 204


# --- the access log ---------------------------------------------------------------


def access_lines(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "authupload.access"]


# httpd's common log format (%h %l %u %t "%r" %>s %b), then the milliseconds taken.
COMMON_LOG_LINE = re.compile(
    r'(?P<address>\S+) - (?P<user>\S+) \[(?P<time>\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000)\] '
    r'"(?P<method>[A-Z]+) (?P<path>(?:[^"\\]|\\.)*) (?P<protocol>HTTP/1\.[01])" '
    r'(?P<status>\d{3}) (?P<bytes>\d+) (?P<ms>\d+\.\d)ms'
)


def parsed_line(caplog) -> dict:
    (line,) = access_lines(caplog)
    match = COMMON_LOG_LINE.fullmatch(line)
    assert match, line
    return match.groupdict()


def test_access_log_is_one_common_log_format_line_with_the_duration(client, caplog):
    caplog.set_level(logging.INFO)
    response = client.get("/api/health", extra_environ={"REMOTE_ADDR": "203.0.113.9"})
    line = parsed_line(caplog)
    assert (line["address"], line["user"], line["method"], line["path"], line["status"]) == \
        ("203.0.113.9", "-", "GET", "/api/health", "200")
    assert int(line["bytes"]) == len(response.body)


def test_access_log_names_the_user_of_a_verified_token_only(client, auth, caplog):
    user = auth.new_user()
    caplog.set_level(logging.INFO)
    client.get("/api/me", headers=user["headers"])
    assert parsed_line(caplog)["user"] == str(user["id"])
    caplog.clear()
    client.get("/api/me", headers={"Authorization": "Bearer " + user["token"][:-4] + "AAAA"}, expect_errors=True)
    line = parsed_line(caplog)
    assert (line["user"], line["status"]) == ("-", "401")  # a refused token names nobody


def test_access_log_records_errors_too(client, caplog):
    caplog.set_level(logging.INFO)
    client.post("/api/nothing", expect_errors=True)
    line = parsed_line(caplog)
    assert (line["method"], line["path"], line["status"]) == ("POST", "/api/nothing", "404")


def test_access_log_never_shows_the_query_string(client, caplog):
    caplog.set_level(logging.INFO)
    client.get("/api/files/abc/download?token=very.secret.token", expect_errors=True)
    (line,) = access_lines(caplog)
    assert parsed_line(caplog)["path"] == "/api/files/abc/download"
    assert "secret" not in line and "?" not in line


def test_access_log_escapes_control_characters_in_the_path(client, caplog):
    caplog.set_level(logging.INFO)
    client.get('/api/x%0Aforged%22%20line', expect_errors=True)
    (line,) = access_lines(caplog)
    assert "\n" not in line and "\\n" in line
    assert parsed_line(caplog)["path"] == '/api/x\\nforged\\" line'  # the quote cannot end the request field


def test_access_log_never_shows_the_authorization_header(client, auth, caplog):
    caplog.set_level(logging.INFO)
    user = auth.new_user()
    client.get("/api/me", headers=user["headers"])
    assert user["token"] not in caplog.text
