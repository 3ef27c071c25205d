"""What a server must decide before it reads a body.

An HTTP/1.1 request arrives in two parts: its headers, then its body
(RFC 9112 §2.1). Between the two the server knows the method, the path,
``Content-Length`` and ``Authorization`` — and often that is enough to know
the answer will be a refusal whatever the body says: a path nobody serves
(404), a JSON body larger than any the route takes (413), an upload without a
valid token for it (401), a file bigger than the size limit or than the
uploader's free quota (413). Reading such a body only costs: its bytes cross
the network for nothing, and waitress would receive the whole of it (into a
temporary file past 512 KiB) before the application could say no — three
anonymous 1 GiB ``POST /api/login`` once took 3 GiB of /tmp.

So right after the headers, the parser (server.StrictRequestParser) asks
``BodyGate.refusal``, and ``BodyGate`` asks the application's own rules, never
a copy of them: the router's table (``Router.effective_method``,
``Router.match``), its token check (``middleware.bearer_verdict``,
``Router.authorize``), and the route's ``before_body`` check, which the
handler's module writes for what only it knows (quota, upload offsets). A
refusal is sent at once, the body is never read, and the connection closes
(its unread bytes cannot be told apart from a next request). A client that
sent ``Expect: 100-continue`` (RFC 9110 §10.1.1) gets the refusal instead of
``100 Continue`` and never sends the body at all.

Only requests that carry a body are asked; the rest take their usual way, and
the handlers still check everything again: the gate only answers earlier.
"""

from __future__ import annotations

from .http import BEARER_VERDICT, HTTPError, Request
from .middleware import bearer_verdict


class BodyGate:
    """Asks the route table and the token check whether a request's body can only be refused."""

    def __init__(self, router, tokens):
        self.router = router
        self.tokens = tokens

    def refusal(self, environ: dict) -> HTTPError | None:
        """The error to answer now, from the headers alone (``environ`` has no ``wsgi.input``); None: read on."""
        if not environ.get("PATH_INFO", "").startswith("/api/"):
            return None  # pages and assets take no bodies; whatever they answer is cheap
        request = Request(environ, self.router.services)
        route = None
        try:
            request.method = self.router.effective_method(request)
            route, request.params = self.router.match(request.method, request.path)
            if route.body == "json" and request.content_length > request.app.config.max_json_bytes:
                raise HTTPError(413, "body_too_large")
            if route.auth:
                verdict = bearer_verdict(environ, self.tokens)
                if verdict is not None:
                    environ[BEARER_VERDICT] = verdict
                self.router.authorize(request, route)
            if route.before_body:
                route.before_body(request)
        except HTTPError as refusal:
            if route is not None:
                refusal.headers.extend(route.headers)  # e.g. Tus-Resumable, on every answer of a tus route
            return refusal
        return None
