"""The router (routing.py): 404 and 405 envelopes, HEAD, auth verdicts, and the last-resort 500."""

from __future__ import annotations

import logging
import re

import pytest

from authupload.app import ROUTES
from authupload.web.http import HTTPError, Response, envelope
from authupload.web.routing import Route, Router
from authupload.web.static import serve_public
from support import validated_client


@pytest.mark.parametrize("path", ["/api/nothing", "/api/", "/api/register/extra", "/api/files/a/b/c",
                                  "/api/REGISTER", "/api/me/"])
def test_unknown_api_path_is_404_envelope(client, path):
    response = client.get(path, expect_errors=True)
    assert response.status_int == 404
    assert response.json == {"code": 404, "message": "Not found.", "data": {"error": "not_found"}}


@pytest.mark.parametrize("method, path, allow", [
    ("GET", "/api/register", "POST"),
    ("PUT", "/api/login", "POST"),
    ("DELETE", "/api/me", "GET, HEAD"),
    ("POST", "/api/health", "GET, HEAD"),
    ("PUT", "/api/files", "GET, HEAD, POST"),
    ("POST", "/api/files/abc", "DELETE, GET, HEAD, PATCH"),
    ("GET", "/api/token/refresh", "POST"),
    ("OPTIONS", "/api/login", "POST"),  # OPTIONS without a preflight header is an ordinary request
])
def test_known_path_with_wrong_method_is_405_with_allow(client, method, path, allow):
    response = client.request(path, method=method, expect_errors=True)
    assert response.status_int == 405
    assert response.headers["Allow"] == allow
    assert response.json["code"] == 405
    assert response.json["data"] == {"error": "method_not_allowed"}


def test_405_comes_before_authentication(client):
    response = client.request("/api/me", method="PUT", expect_errors=True)
    assert response.status_int == 405


@pytest.mark.parametrize("path", ["/api/health", "/api/openapi.json"])
def test_head_on_a_get_route_has_the_get_headers_and_no_body(client, path):
    get = client.get(path)
    head = client.head(path)
    assert head.status_int == 200
    assert head.body == b""
    assert head.headers["Content-Length"] == get.headers["Content-Length"]
    assert head.headers["Content-Type"] == get.headers["Content-Type"]


def test_head_on_a_route_that_needs_a_token_is_still_401_without_one(client):
    response = client.head("/api/me", expect_errors=True)
    assert response.status_int == 401
    assert response.body == b""


def test_path_parameters_reach_the_handler(app):
    seen = {}

    def handler(request):
        seen.update(request.params)
        return envelope(request.language, 200, "ok")

    router = Router([Route("GET", "/api/things/{thing_id}/parts/{part}", handler)], app.services, serve_public)
    client = validated_client(router)
    client.get("/api/things/abc123/parts/x%20y")
    assert seen == {"thing_id": "abc123", "part": "x y"}
    assert client.get("/api/things/a/b/parts/c", expect_errors=True).status_int == 404  # one segment only


def boom(request):
    raise RuntimeError("secret detail at /srv/authupload/app.py line 42")


def test_a_handler_that_raises_gives_a_generic_500_envelope(app, caplog):
    caplog.set_level(logging.ERROR)
    router = Router([Route("GET", "/api/boom", boom)], app.services, serve_public)
    client = validated_client(router)
    response = client.get("/api/boom", expect_errors=True)
    assert response.status_int == 500
    assert response.json == {"code": 500, "message": "Something went wrong on the server.",
                             "data": {"error": "server_error"}}
    assert "secret detail" not in response.text
    assert "Traceback" not in response.text and "/srv" not in response.text
    # ... while the server log keeps the whole story.
    assert "secret detail" in caplog.text and "Traceback" in caplog.text


def test_a_500_speaks_the_callers_language(app):
    # The route table holds the functions themselves: build a router whose health handler fails.
    routes = [Route(r.method, r.pattern, boom if r.handler.__name__ == "health" else r.handler, r.auth, r.body)
              for r in ROUTES]
    router = Router(routes, app.services, serve_public)
    response = validated_client(router).get("/api/health", expect_errors=True,
                                                       headers={"Accept-Language": "zh-CN"})
    assert response.status_int == 500
    assert response.json["data"] == {"error": "server_error"}
    assert response.json["message"] == "服务器内部错误。"


def test_an_http_error_from_a_handler_becomes_its_envelope(app):
    def teapot(request):
        raise HTTPError(418, "not_found", headers=[("X-Why", "because")])

    client = validated_client(Router([Route("GET", "/api/tea", teapot)], app.services, serve_public))
    response = client.get("/api/tea", expect_errors=True)
    assert response.status_int == 418 and response.json["code"] == 418
    assert response.headers["X-Why"] == "because"


def test_a_handler_response_is_returned_as_is(app):
    def plain(request):
        return Response(200, [("Content-Type", "text/plain"), ("Content-Length", "2")], [b"hi"])

    client = validated_client(Router([Route("GET", "/api/plain", plain)], app.services, serve_public))
    assert client.get("/api/plain").body == b"hi"


def test_paths_outside_api_go_to_the_fallback(app):
    router = Router([], app.services, lambda request: Response(200, [("Content-Type", "text/plain"),
                                                                    ("Content-Length", "4")], [b"page"]))
    assert validated_client(router).get("/anything").body == b"page"


def linear_match(routes, method, path):
    """What the router must answer: the first route of the table whose pattern and method fit."""
    for route in routes:
        found = route.regex.match(path)
        if found and (route.method == method or (method == "HEAD" and route.method == "GET")):
            return route, found.groupdict()
    return None


def test_routes_indexed_by_shape_answer_exactly_as_trying_every_route_in_order():
    from authupload.app import ROUTES
    router = Router(ROUTES, services=None, fallback=None)
    paths = {re.sub(r"\{\w+\}", "x1", route.pattern) for route in ROUTES}
    paths |= {"/api", "/api/", "/api/files/x1/extra", "/api/x1", "/api/admin/users/x1/x1/x1"}
    for path in sorted(paths):
        for method in ("GET", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS", "PUT"):
            expected = linear_match(ROUTES, method, path)
            try:
                actual = router.match(method, path)
            except HTTPError:
                actual = None
            assert actual == expected, (method, path)
