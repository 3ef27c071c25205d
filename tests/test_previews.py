"""Previews: inline only for the types browsers show without script, always sandboxed."""

from __future__ import annotations

import pytest

import forms
from authupload.files.previews import INLINE_TYPES, inline_type

HTML = b"<!doctype html><script>parent.pwned = 1</script><h1>hi</h1>"


def stored(client, user, content_type: str, data: bytes = HTML) -> dict:
    raw = forms.body(forms.file_part("page.html", data, content_type))
    return forms.post(client, user["headers"], raw).json["data"]["files"][0]


PREVIEWS = [
    *[(declared, declared, "inline") for declared in sorted(INLINE_TYPES)],
    # Every text type is shown as plain UTF-8 text: never as HTML, CSS or script.
    *[(declared, "text/plain; charset=utf-8", "inline")
      for declared in ("text/html", "text/css", "text/javascript", "text/plain", "text/x-python")],
    # Anything else stays an attachment of its declared type.
    *[(declared, declared, "attachment")
      for declared in ("image/svg+xml", "application/xhtml+xml", "application/octet-stream",
                       "application/javascript", "image/x-icon", "video/quicktime")],
]


@pytest.mark.parametrize("declared, shown_as, disposition", PREVIEWS)
def test_a_preview_is_inline_only_for_the_listed_types_and_always_sandboxed_and_unsniffed(
        client, user, declared, shown_as, disposition):
    file = stored(client, user, declared)
    response = client.get(f"/api/files/{file['id']}?inline=1", headers=user["headers"])
    assert response.headers["Content-Type"] == shown_as
    assert response.headers["Content-Disposition"].startswith(disposition + ";")
    assert response.headers["Content-Security-Policy"] == "sandbox"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.body == HTML


def test_without_inline_every_type_is_an_attachment(client, user):
    file = stored(client, user, "image/png")
    response = client.get(f"/api/files/{file['id']}", headers=user["headers"])
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert client.get(f"/api/files/{file['id']}?inline=0", headers=user["headers"]).headers[
        "Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize("value", ["2", "yes", "", "-1", "1" * 40])
def test_a_bad_inline_value_is_invalid_query(client, user, value):
    file = stored(client, user, "image/png")
    response = client.get(f"/api/files/{file['id']}?inline={value}", headers=user["headers"], status=400)
    assert response.json["data"] == {"error": "invalid_query", "field": "inline"}


def test_a_preview_link_shows_inline_and_a_plain_link_downloads(client, user):
    file = stored(client, user, "application/pdf")
    preview = client.post_json(f"/api/files/{file['id']}/link", {"inline": True}, headers=user["headers"])
    plain = client.post(f"/api/files/{file['id']}/link", headers=user["headers"])
    assert client.get(preview.json["data"]["url"]).headers["Content-Disposition"].startswith("inline;")
    assert client.get(plain.json["data"]["url"]).headers["Content-Disposition"].startswith("attachment;")
    html = stored(client, user, "image/svg+xml")
    link = client.post_json(f"/api/files/{html['id']}/link", {"inline": True}, headers=user["headers"])
    assert client.get(link.json["data"]["url"]).headers["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize("body", [{"inline": "yes"}, {"inline": 1}, {"inline": None}])
def test_a_non_boolean_inline_in_a_link_request_is_invalid(client, user, body):
    file = stored(client, user, "image/png")
    response = client.post_json(f"/api/files/{file['id']}/link", body, headers=user["headers"], status=400)
    assert response.json["data"] == {"error": "invalid_field", "field": "inline"}


def test_inline_type_table():
    assert inline_type("image/png") == "image/png"
    assert inline_type("text/markdown") == "text/plain; charset=utf-8"
    assert inline_type("image/svg+xml") is None
    assert inline_type("text") is None


def test_a_link_request_body_over_the_json_limit_is_413(client, user):
    file = stored(client, user, "image/png")
    response = client.post(f"/api/files/{file['id']}/link", b"{" + b" " * 70_000 + b"}", headers={
        **user["headers"], "Content-Type": "application/json"}, status=413)
    assert response.json["data"] == {"error": "body_too_large"}
