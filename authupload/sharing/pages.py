"""The two public pages: ``/s/<token>`` (a share) and ``/r/<token>`` (an upload request).

Both are ordinary files from ``public/`` (share.html, drop.html), whatever the
token: the page's script reads the token from its own URL and asks the API,
which says whether the link is good. Served with two more headers than other pages:

- ``Referrer-Policy: no-referrer`` (every response has it; it matters most
  here): the URL *is* the secret, and a browser would otherwise send it to
  any site the page links to or loads from.
- ``X-Robots-Tag: noindex`` (a de-facto standard of search engines): a link
  that leaked into a crawler's reach is still not listed anywhere.
"""

from __future__ import annotations

import re

from ..web.http import Request, Response
from ..web.static import serve_public

PUBLIC_PAGES = {"s": "/share.html", "r": "/drop.html"}
LINK_PAGE_PATH = re.compile(r"/([sr])/[^/]+")


def serve_page(request: Request) -> Response:
    """A public link's page for ``/s/…`` and ``/r/…``; every other path as a file of ``public/``."""
    found = LINK_PAGE_PATH.fullmatch(request.path)
    if found is None:
        return serve_public(request)
    request.path = PUBLIC_PAGES[found.group(1)]
    response = serve_public(request)
    response.headers.append(("X-Robots-Tag", "noindex"))
    return response
