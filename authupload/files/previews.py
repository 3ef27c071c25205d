"""Previews: which stored files a browser may show inline, and as what type.

A file's bytes and its declared type come from its uploader, who may be hostile.
Shown inline on our origin, an HTML page (or an SVG, which is XML that can carry
script) would run with the origin where our pages keep their token.
So only types that browsers render without running script are ever sent with
``Content-Disposition: inline`` (RFC 6266 §4.2), and always with

- ``X-Content-Type-Options: nosniff`` (Fetch §X-Content-Type-Options): the
  browser must treat the bytes as the type we name, never sniff an HTML page
  out of a "PNG";
- ``Content-Security-Policy: sandbox`` (CSP3 §sandbox): should anything still
  be rendered as a document, it runs in a unique opaque origin with scripts
  disabled.

Every ``text/*`` type is sent as ``text/plain; charset=utf-8``: text is shown
as text, never as HTML, CSS or JavaScript. Everything else stays an attachment.
"""

from __future__ import annotations

INLINE_TYPES = frozenset({
    "image/png", "image/jpeg", "image/gif", "image/webp", "image/avif",
    "video/mp4", "video/webm",
    "audio/mpeg", "audio/ogg", "audio/wav", "audio/webm",
    "application/pdf",
})
PLAIN_TEXT = "text/plain; charset=utf-8"


def inline_type(content_type: str) -> str | None:
    """The type to show a file inline as, or None if it must stay an attachment (API.md: Previews)."""
    if content_type in INLINE_TYPES:
        return content_type
    if content_type.startswith("text/"):
        return PLAIN_TEXT
    return None
