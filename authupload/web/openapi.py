"""The OpenAPI 3.1 description of the API, built from the route table.

Because the document is generated from the same ``Route`` rows that dispatch
requests, it cannot list a path the server does not serve or miss one it does.
Each route contributes its method, path, summary, path parameters, whether it
needs a bearer token, and the kind of body it reads.
"""

from __future__ import annotations

import re

ENVELOPE_SCHEMA = {
    "type": "object",
    "required": ["code", "message", "data"],
    "properties": {
        "code": {"type": "integer", "description": "Always equals the HTTP status."},
        "message": {"type": "string", "description": "One sentence, English or Simplified Chinese."},
        "data": {"type": ["object", "null"],
                 "description": "The result; on errors {\"error\": key, \"field\"?: name}."},
    },
}

BODY_SCHEMAS = {
    "json": {"application/json": {"schema": {"type": "object"}}},
    "multipart": {"multipart/form-data": {"schema": {
        "type": "object",
        "properties": {"file": {"type": "array", "items": {"type": "string", "contentMediaType": "application/octet-stream"}}},
    }}},
    "chunk": {"application/offset+octet-stream": {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}}},
}
# tus creation-with-upload: a POST /api/uploads may carry the first bytes, or nothing.
BODY_SCHEMAS["optional chunk"] = BODY_SCHEMAS["chunk"]
# A download link may ask for a preview ({"inline": true}), or send nothing.
BODY_SCHEMAS["optional json"] = BODY_SCHEMAS["json"]
OPTIONAL_BODIES = {"optional chunk", "optional json"}


def build_document(routes) -> dict:
    """An OpenAPI 3.1 document for ``routes`` (a list of routing.Route)."""
    paths: dict = {}
    for route in routes:
        operation = {
            "operationId": route.handler.__name__,
            "summary": route.summary,
            "responses": {"default": {
                "description": "The JSON envelope (file bytes and tus successes excepted).",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Envelope"}}},
            }},
        }
        names = re.findall(r"\{(\w+)\}", route.pattern)
        if names:
            operation["parameters"] = [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in names
            ]
        if route.auth:
            operation["security"] = [{"bearer": []}]
        if route.body:
            operation["requestBody"] = {"required": route.body not in OPTIONAL_BODIES,
                                        "content": BODY_SCHEMAS[route.body]}
        paths.setdefault(route.pattern, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "authupload",
            "version": "1.0.0",
            "description": "Registration, login and authenticated file upload over plain WSGI.",
        },
        "paths": paths,
        "components": {
            "schemas": {"Envelope": ENVELOPE_SCHEMA},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
