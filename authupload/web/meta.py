"""Handlers about the service itself: is it up, and what does its API look like."""

from __future__ import annotations

import json

from .http import JSON_TYPE, Request, Response, envelope
from .openapi import build_document


def health(request: Request) -> Response:
    """Needs no token and touches no disk: a cheap probe for load balancers and tests."""
    return envelope(request.language, 200, "healthy", {"status": "ok"})


def openapi_document(request: Request) -> Response:
    """The bare OpenAPI document (no envelope: tools expect the document itself)."""
    body = json.dumps(build_document(request.app.routes), ensure_ascii=False, indent=1).encode("utf-8")
    return Response(200, [("Content-Type", JSON_TYPE), ("Content-Length", str(len(body)))], [body])
