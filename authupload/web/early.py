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
``BodyGate.decide``, and ``BodyGate`` asks the application's own rules, never
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

The gate runs on waitress's event-loop thread, which serves every connection,
so it must never wait: its checks only read (a token's liveness, a quota, an
upload's offset — each one indexed lookup), and in WAL mode a reader never
waits for a writer (db.py). Nothing here writes to the database.

The same moment decides where an accepted body goes. Most bodies are spooled
by waitress (server.py explains why, and what it costs); a route whose body is
a file's bytes names a ``receive_body`` hook, and the ``BodyReceiver`` it
answers takes the bytes as they arrive, straight into the file they belong to
(a write into the page cache; never an fsync, never a lock it would wait for).
The handler then finds that receiver as ``wsgi.input`` and only settles it.
"""

from __future__ import annotations

from .http import BEARER_VERDICT, HTTPError, Request
from .middleware import bearer_verdict


class BodyReceiver:
    """Takes a request body as it arrives, on waitress's event-loop thread (server.py).

    ``write`` must only do what is quick — a write into the page cache, a hash
    handed to another thread — as every other connection waits meanwhile;
    fsync and database work belong to the handler, on a worker thread. A
    receiver that cannot take more sets ``error``: the request is answered with
    it, the rest of the body is dropped, and ``close`` cleans up. ``close`` runs
    when the request is done, and also when the client hung up halfway.
    """

    error: HTTPError | None = None
    # Set when the whole body is here and the application takes it as wsgi.input:
    # from then on its answer decides what is kept, not a hang-up.
    handed_over: bool = False

    def hand_over(self) -> "BodyReceiver":
        """The body is complete and becomes ``wsgi.input``: the application's to accept or refuse."""
        self.handed_over = True
        return self

    def write(self, data: bytes) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class BodyGate:
    """Asks the route table and the token check whether a request's body can only be refused."""

    def __init__(self, router, tokens):
        self.router = router
        self.tokens = tokens

    def decide(self, environ: dict, length_known: bool) -> HTTPError | BodyReceiver | None:
        """From the headers alone (``environ`` has no ``wsgi.input``): the error to answer now, or where the body goes.

        A ``BodyReceiver`` only for a body of known length (not chunked): its
        route stores the bytes itself; None: waitress spools the body as usual.
        """
        if not environ.get("PATH_INFO", "").startswith("/api/"):
            return None  # pages and assets take no bodies; whatever they answer is cheap
        request = Request(environ, self.router.services)
        route = None
        try:
            request.method = self.router.effective_method(request)
            route, request.params = self.router.match(request.method, request.path)
            if route.body in ("json", "optional json") and request.content_length > request.app.config.max_json_bytes:
                raise HTTPError(413, "body_too_large")
            if route.auth:
                # Read-only here: this runs on waitress's event-loop thread, which
                # serves every connection and must never wait for SQLite's write
                # lock; the bearer middleware notes the session's activity later,
                # on a worker thread, when the request is dispatched.
                verdict = bearer_verdict(environ, self.tokens, note_activity=False)
                if verdict is not None:
                    environ[BEARER_VERDICT] = verdict
                self.router.authorize(request, route)
            if route.before_body:
                route.before_body(request)
            if route.receive_body and length_known:
                return route.receive_body(request)
        except HTTPError as refusal:
            if route is not None:
                refusal.headers.extend(route.headers)  # e.g. Tus-Resumable, on every answer of a tus route
            return refusal
        return None
