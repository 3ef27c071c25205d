"""The OpenAPI document (openapi.py, GET /api/openapi.json): built from the route table that dispatches."""

from __future__ import annotations

import re

import pytest

from authupload.app import ROUTES
from authupload.web.openapi import build_document


@pytest.fixture
def document(client):
    response = client.get("/api/openapi.json")
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    return response.json


def test_document_is_bare_openapi_3_1_not_an_envelope(document):
    assert document["openapi"].startswith("3.1.")
    assert "code" not in document
    assert {"title", "version"} <= set(document["info"])
    assert isinstance(document["paths"], dict)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.pattern}")
def test_every_route_appears_with_its_method(document, route):
    operation = document["paths"][route.pattern][route.method.lower()]
    assert operation["summary"] == route.summary
    assert operation["responses"]


def test_no_path_that_the_router_does_not_serve(document):
    served = {(r.pattern, r.method.lower()) for r in ROUTES}
    listed = {(path, method) for path, item in document["paths"].items() for method in item}
    assert listed == served


def test_operation_ids_are_unique(document):
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


def test_path_parameters_are_declared(document):
    for path, item in document["paths"].items():
        names = re.findall(r"\{(\w+)\}", path)
        for operation in item.values():
            declared = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
            assert declared == names, path


def test_routes_that_need_a_token_say_so(document):
    assert document["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer",
                                                                   "bearerFormat": "JWT"}
    assert document["paths"]["/api/me"]["get"]["security"] == [{"bearer": []}]
    assert "security" not in document["paths"]["/api/login"]["post"]
    assert "security" not in document["paths"]["/api/health"]["get"]


def test_json_bodies_are_described(document):
    body = document["paths"]["/api/register"]["post"]["requestBody"]
    assert "application/json" in body["content"]


def test_envelope_schema_is_shared(document):
    schema = document["components"]["schemas"]["Envelope"]
    assert schema["required"] == ["code", "message", "data"]


def test_build_document_follows_the_table_it_is_given():
    assert build_document(ROUTES[:1])["paths"].keys() == {ROUTES[0].pattern}
