"""The router: from (method, path) to a handler, as a plain WSGI application.

A ``Route`` is one row of the table at the top of app.py: method, path pattern,
handler, the token purposes it accepts, and a one-line summary (the same rows
build /api/openapi.json). Patterns name their variables in braces:
``/api/files/{file_id}`` matches ``/api/files/3f9c…`` and the handler finds
``request.params["file_id"]``. A variable matches one path segment, never a ``/``.

Dispatch, in order (RFC 9110 §15.5.5–6), after a ``POST`` has been given the
method its ``X-HTTP-Method-Override`` names (tus 1.0 asks for that):
1. no pattern matches the path → ``404 not_found``;
2. patterns match but none for this method → ``405 method_not_allowed`` with
   ``Allow`` listing the methods that would work (``HEAD`` rides along with
   ``GET``: it is answered as a ``GET`` without the body);
3. the route wants a token → the bearer middleware's verdict is applied;
4. the handler runs; an ``HTTPError`` becomes its envelope, and anything else
   becomes a logged ``500 server_error`` that shows the client no detail.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from typing import Callable

from .http import HTTPError, Request, Response, error_envelope
from .http import unauthorized
from .middleware import loggable_path

log = logging.getLogger("authupload")

OVERRIDABLE_METHODS = ("PATCH", "DELETE")  # what tus needs a POST to stand in for


@dataclasses.dataclass(frozen=True)
class Route:
    method: str
    pattern: str
    handler: Callable[[Request], Response]
    auth: tuple[str, ...] = ()  # token purposes accepted; empty: no token needed
    body: str = ""  # what the request carries: "json", "optional json", "multipart", "chunk", "optional chunk" or nothing
    summary: str = ""
    headers: tuple[tuple[str, str], ...] = ()  # on every response of this route, errors included
    # Checks on the headers alone, run before the body is read (early.py): raise
    # the HTTPError the handler would end with, whatever the body.
    before_body: Callable[[Request], None] | None = None
    # Where the body goes once before_body has passed (early.py): a BodyReceiver
    # that stores it as it arrives, or None to let waitress spool it.
    receive_body: Callable[[Request], object] | None = None

    @property
    def regex(self) -> re.Pattern:
        return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.pattern) + "$")


SHAPE_SEGMENTS = 3  # "", "api" and the resource name: what tells the routes apart


def route_shape(pattern: str) -> tuple:
    """(segment count, leading literal segments) of a pattern; None for the second when they hold a variable."""
    segments = pattern.split("/")
    leading = tuple(segments[:SHAPE_SEGMENTS])
    return len(segments), (None if any("{" in segment for segment in leading) else leading)


class Router:
    """A WSGI application that dispatches to the routes' handlers."""

    def __init__(self, routes: list[Route], services, fallback: Callable[[Request], Response]):
        self.routes = routes
        self.services = services
        self.fallback = fallback  # everything outside /api/: the static pages
        # Routes by shape, so a request tries only the few patterns that could
        # match it rather than all sixty: a variable matches exactly one segment,
        # so a path can only match a pattern with as many segments, and the same
        # literal first segments ("/api/files/…"). Patterns with a variable among
        # those first segments are tried for every path of their length.
        self._by_shape: dict[tuple, list[tuple[int, Route, re.Pattern]]] = {}
        for order, route in enumerate(routes):
            self._by_shape.setdefault(route_shape(route.pattern), []).append((order, route, route.regex))

    def __call__(self, environ, start_response):
        request = Request(environ, self.services)
        try:
            response = self.dispatch(request)
        except HTTPError as error:
            response = error_envelope(request.language, error)
        except Exception:
            # The traceback goes to the server log, never to the client (API.md: no paths, no code).
            log.exception("unhandled error in %s %s", request.method, loggable_path(request.path))
            response = error_envelope(request.language, HTTPError(500, "server_error"))
        if request.method == "HEAD":
            if hasattr(response.body, "close"):
                response.body.close()  # e.g. an opened file that will not be sent
            response.body = (b"",)  # RFC 9110 §9.3.2: HEAD is GET without the content
        return response.start(start_response)

    def dispatch(self, request: Request) -> Response:
        if not request.path.startswith("/api/"):
            return self.fallback(request)
        request.method = self.effective_method(request)
        route, params = self.match(request.method, request.path)
        request.params = params
        try:
            if route.auth:
                self.authorize(request, route)
            response = route.handler(request)
        except HTTPError as error:
            error.headers.extend(route.headers)
            raise
        response.headers.extend(route.headers)
        return response

    @staticmethod
    def effective_method(request: Request) -> str:
        """The method to route by: a POST may name another in ``X-HTTP-Method-Override``.

        tus 1.0 §X-HTTP-Method-Override: clients stuck behind proxies or
        runtimes that only pass GET and POST send PATCH or DELETE this way.
        Safe here: auth is a bearer header, and a foreign page cannot add this
        header without a CORS preflight we answer. Only those two methods may
        be named (400 otherwise): a POST turned into HEAD would be answered with
        a Content-Length and no body, which desynchronises the connection, and
        into GET or OPTIONS it would only hide what the request really is.
        """
        override = request.header("X-HTTP-Method-Override").strip().upper()
        if request.method != "POST" or not override:
            return request.method
        if override not in OVERRIDABLE_METHODS:
            raise HTTPError(400, "invalid_header", field="X-HTTP-Method-Override")
        return override

    def match(self, method: str, path: str) -> tuple[Route, dict]:
        """The route for ``method`` and ``path``, or the 404/405 that explains why there is none."""
        allowed = []
        segments = path.split("/")
        candidates = sorted(self._by_shape.get((len(segments), tuple(segments[:SHAPE_SEGMENTS])), [])
                            + self._by_shape.get((len(segments), None), []), key=lambda entry: entry[0])
        for _, route, regex in candidates:  # in table order, as if every route were tried
            found = regex.match(path)
            if found is None:
                continue
            if route.method == method or (method == "HEAD" and route.method == "GET"):
                return route, found.groupdict()
            allowed.append(route.method)
        if not allowed:
            raise HTTPError(404, "not_found")
        if "GET" in allowed:
            allowed.append("HEAD")
        allow = ", ".join(sorted(set(allowed)))
        raise HTTPError(405, "method_not_allowed", headers=[("Allow", allow)])

    @staticmethod
    def authorize(request: Request, route: Route) -> None:
        """Apply the bearer middleware's verdict (http.BearerVerdict): claims of an accepted purpose, or 401."""
        verdict = request.bearer
        if verdict is None:
            raise unauthorized("token_missing")
        if verdict.refusal is not None:
            raise verdict.refusal
        if verdict.claims["purpose"] not in route.auth:
            raise unauthorized("token_invalid")
