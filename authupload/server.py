"""Serving the application with waitress, and what waitress answers by itself.

waitress parses HTTP/1.1, runs the application in a pool of threads, and reads
each request body completely (in memory up to 512 KiB, then in a temporary
file) before the application sees it.

Why most servers buffer bodies, and what it costs
-------------------------------------------------
One thread (waitress's event loop) reads from every connection; a pool of
worker threads runs the application. A worker blocked on a slow client's next
bytes could serve nobody else, so the event loop receives the whole body
first, and a worker only starts once there is nothing left to wait for: slow
clients cost a buffer, never a thread. The price is paid by big bodies: every
uploaded byte is written to the temporary file, read back by the application,
and written again where it belongs — twice the disk writes and a copy more.

So a route whose body is a file's bytes receives it itself (web/early.py): right
after the headers, the parser asks the route table (``BodyGate.decide``), and
the route's ``BodyReceiver`` takes each piece as the event loop reads it,
writing it straight into its destination. That write lands in the page cache
and returns at once; what blocks — fsync, the database — still waits for the
handler on a worker thread, so other connections are not held up by it. Every
other body (JSON, chunked, pages) is spooled as before.

Its limits are set from our Config:

- ``max_request_body_size`` just above the largest file we accept, so a body
  that can only fail is refused before it is read, from its ``Content-Length``;
- ``recv_bytes`` (waitress's default is 8 KiB) as big as our own reads,
  ``read_chunk_bytes``: waitress receives every request body in a Python loop
  before the application runs, and at 8 KiB a 1 GiB upload takes 131 072
  turns of it. With 1 MiB reads the server spends about half the CPU time
  per uploaded byte (benchmarks/results: multipart and tus uploads); memory
  stays flat, as one read is at most one chunk;
- ``trusted_proxy``: only a proxy we name may set the client address
  (``X-Forwarded-For``); otherwise such headers are removed, so nobody can
  dodge the login throttle by claiming another address;
- ``connection_limit`` far above one address's share, polled with ``poll()``
  (``select()`` cannot watch a descriptor numbered 1024 or more): how many
  connections one address may hold, and for how long, is web/connections.py's
  job, through ``GuardedChannel``.

Before any of a body is read, ``StrictRequestParser`` asks web/early.py whether
the headers already decide a refusal (no valid token, too big, no such route):
such a body is never received, not even into a temporary file.

waitress answers a few errors itself, before the application runs (body too
large, malformed request, headers too large) with a text page of its own. The
API promises a JSON envelope for every ``/api/`` answer, so ``EnvelopeErrorTask``
renders those errors as envelopes too.
"""

from __future__ import annotations

import functools
import resource
import threading
import time

import waitress
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError
from waitress.receiver import FixedStreamReceiver
from waitress.task import ErrorTask, ThreadedTaskDispatcher
from waitress.utilities import Error

from . import i18n
from .files import trash
from .web import http
from .admin.users import any_admin
from .app import create_app, sweep_old_events
from .config import Config
from .files import reconcile
from .web.connections import SERVER_CONNECTION_LIMIT, ConnectionGuard
from .web.early import BodyGate, BodyReceiver
from .web.middleware import security_headers_for

# waitress's own errors, by status, as our stable keys.
WAITRESS_ERROR_KEYS = {400: "bad_request", 413: "body_too_large", 431: "headers_too_large"}
DEADLINE_CHECK_SECONDS = 1  # how often connections are checked against their deadlines (web/connections.py)
HOUSEKEEPING_INTERVAL_SECONDS = 600  # how often expired uploads, trash items and old audit events are swept
FIRST_ADMIN_COMMAND = "python -m authupload users add NAME --admin"
FILES_BESIDE_CONNECTIONS = 256  # descriptors kept for the database, uploads and downloads


class EnvelopeErrorTask(ErrorTask):
    """waitress's error answer, as our JSON envelope with our security headers."""

    def execute(self):
        error = self.request.error
        refusal = getattr(error, "refusal", None)  # our own answer, decided before the body (RefusedBeforeBody)
        if refusal is None:
            key = WAITRESS_ERROR_KEYS.get(error.code, "server_error" if error.code >= 500 else "bad_request")
            refusal = http.HTTPError(error.code, key)
        language = i18n.negotiate_language(self.request.headers.get("ACCEPT_LANGUAGE", ""))
        response = http.error_envelope(language, refusal)
        self.status = http.status_line(error.code)
        self.response_headers.extend(response.headers)
        # The body is an envelope whatever the path (often unknown yet): the API's headers.
        self.response_headers += security_headers_for(is_api=True, present=set())
        if not getattr(error, "body_will_be_skipped", False):
            self.set_close_on_finish()  # the rest of the request was not read: the connection cannot be reused
        body = b"".join(response.body)
        self.content_length = len(body)
        self.write(body)


class RefusedBeforeBody(Error):
    """A request answered before its handler ran (web/early.py), from its headers or by its body's receiver.

    ``body_will_be_skipped``: refused from its headers, the body has a
    ``Content-Length`` and the client will send it, so the channel reads past
    it without storing a byte and the connection stays usable. A browser still
    sending its upload when the answer comes must not have the connection torn
    down under it: it would report a network error instead of our 401 or 413.
    """

    def __init__(self, refusal: http.HTTPError, body_will_be_skipped: bool = False):
        super().__init__(refusal.key)
        self.code = refusal.status
        self.refusal = refusal
        self.body_will_be_skipped = body_will_be_skipped


class StrictRequestParser(HTTPRequestParser):
    """waitress's parser, deciding after the headers whether the body is worth reading.

    A request with both ``Content-Length`` and ``Transfer-Encoding: chunked`` is
    the classic request-smuggling vector: a proxy in front that believes the
    length and a server that believes the chunks disagree about where the next
    request starts. RFC 9112 §6.1 lets a server reject it; we do (400), instead
    of de-chunking it and keeping the connection open as waitress would.

    A body that can only be refused is refused right here, before a byte of it
    is stored (web/early.py explains what is decided, and why here); a body
    its route stores itself goes to the route's receiver instead of a buffer.
    """

    def __init__(self, adj, body_gate: BodyGate | None = None, skip_body=None):
        super().__init__(adj)
        self.body_gate = body_gate
        self.skip_body = skip_body  # GuardedChannel.skip_body: how much of a refused body is still to come
        self.unread_body_bytes = 0
        # waitress makes a parser when a request's first byte arrives: the
        # header deadline counts from here (time.time(), like last_activity).
        self.started_at = time.time()

    def parse_header(self, header_plus):
        try:
            super().parse_header(header_plus)
        except ValueError:  # int() of a Content-Length of thousands of digits
            raise ParsingError("Content-Length is invalid") from None
        if self.chunked and "CONTENT_LENGTH" in self.headers:
            raise ParsingError("Content-Length together with Transfer-Encoding")
        if self.body_rcv is not None and self.body_gate is not None:
            decision = self.body_gate.decide(self.environ_from_headers(), length_known=not self.chunked)
            if isinstance(decision, http.HTTPError):
                self.refuse_before_body(decision)
            elif isinstance(decision, BodyReceiver):
                self.body_rcv = ReceiverStream(self.content_length, decision)

    def abandon(self) -> None:
        """The connection closed before this request's body was complete: let its receiver clean up."""
        if isinstance(self.body_rcv, ReceiverStream):
            self.body_rcv.receiver.close()

    def environ_from_headers(self) -> dict:
        """The WSGI variables the headers already give (PEP 3333), as waitress will set them."""
        environ = {"REQUEST_METHOD": self.command.upper(), "PATH_INFO": self.path, "QUERY_STRING": self.query,
                   "SERVER_PROTOCOL": f"HTTP/{self.version}"}
        for name, value in self.headers.items():
            environ[name if name in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + name] = value
        return environ

    def refuse_before_body(self, refusal: http.HTTPError) -> None:
        """Answer ``refusal`` now: no body receiver, no ``100 Continue``.

        A body of known length that the client sends anyway is read past and
        dropped (``skip_body``), so the connection goes on; a chunked one, or one
        the client holds back for a ``100 Continue`` it will not get (RFC 9110
        §10.1.1), ends with the connection.
        """
        skippable = not self.chunked and not self.expect_continue and self.skip_body is not None
        self.unread_body_bytes = self.content_length if skippable else 0
        self.error = RefusedBeforeBody(refusal, body_will_be_skipped=skippable)
        self.body_rcv = None  # nothing of the body is received, into memory or a temporary file
        self.content_length = 0
        self.expect_continue = False  # RFC 9110 §10.1.1: a final status instead of 100 Continue
        self.completed = True

    def received(self, data):
        consumed = super().received(data)
        if self.unread_body_bytes:
            # The part of a refused body that came with its headers is dropped
            # here; the channel drops the rest as it arrives.
            dropped = min(len(data) - consumed, self.unread_body_bytes)
            self.skip_body(self.unread_body_bytes - dropped)
            self.unread_body_bytes = 0
            consumed += dropped
        return consumed


class ReceiverStream(FixedStreamReceiver):
    """waitress's receiver of a ``Content-Length`` body, handing each piece to a BodyReceiver.

    waitress counts the bytes and tells us when they are all there; in place
    of its buffer (``append``, ``getfile``, ``close``) stands the receiver,
    which becomes ``wsgi.input``: the handler finds it there, already filled.
    Once the receiver sets ``error``, waitress answers that error (the parser
    checks ``error`` after every piece) and the rest of the body is dropped.
    """

    def __init__(self, length: int, receiver: BodyReceiver):
        super().__init__(length, self)
        self.receiver = receiver
        self.received_bytes = 0

    @property
    def error(self):
        refusal = self.receiver.error
        return None if refusal is None else RefusedBeforeBody(refusal)

    def append(self, data: bytes) -> None:
        if self.receiver.error is None:
            self.receiver.write(data)
        self.received_bytes += len(data)

    def __len__(self) -> int:
        return self.received_bytes

    def getfile(self):
        # waitress asks this only as it builds the environ to call the application with
        return self.receiver.hand_over()

    def close(self) -> None:
        self.receiver.close()


class GuardedChannel(HTTPChannel):
    """waitress's channel, with our error pages, our parser and web/connections.py's limits."""

    error_task_class = EnvelopeErrorTask
    parser_class = StrictRequestParser

    def __init__(self, server, sock, addr, adj, map=None, *, guard: ConnectionGuard, counted_address: str,
                 body_gate: BodyGate):
        self.guard = guard
        self.counted_address = counted_address
        # waitress builds each request's parser as parser_class(adj): this one asks the gate.
        self.parser_class = functools.partial(StrictRequestParser, body_gate=body_gate, skip_body=self.skip_body)
        self.skipped_body_bytes_left = 0
        super().__init__(server, sock, addr, adj, map)

    def skip_body(self, byte_count: int) -> None:
        """The next ``byte_count`` bytes are the rest of a refused body: drop them as they come."""
        self.skipped_body_bytes_left = byte_count

    def received(self, data):
        if self.skipped_body_bytes_left:
            dropped = min(len(data), self.skipped_body_bytes_left)
            self.skipped_body_bytes_left -= dropped
            data = data[dropped:]
            if not data:
                return True
        return super().received(data)

    def del_channel(self, map=None):
        if self.request is not None:  # a request cut off halfway: its body will never be complete
            self.request.abandon()
        if self.counted_address is not None:
            self.guard.release(self.counted_address)
            self.counted_address = None  # del_channel may run twice; count the close once
        super().del_channel(map)


class MostRecentlyIdleFirst:
    """A condition variable that wakes the thread which went idle last (a stack, not a queue).

    ``threading.Condition`` wakes the thread that has waited longest. In a pool
    of some 170 threads (``server_threads``) that hands every request to a
    different thread in turn, each with cold caches and a stack to fault back
    in: a few per cent of a small request's CPU, measured. Woken last-in first-out, a
    handful of threads serve the steady traffic and the reserve sleeps until a
    burst of logins needs it. Only what waitress's pool uses, always under its lock.
    """

    def __init__(self, lock: threading.Lock):
        self.lock = lock
        self.sleepers: list[threading.Lock] = []  # one locked lock per waiting thread; the last went idle last

    def wait(self) -> None:
        sleeper = threading.Lock()
        sleeper.acquire()
        self.sleepers.append(sleeper)
        self.lock.release()
        try:
            sleeper.acquire()  # until notify releases it
        finally:
            self.lock.acquire()

    def notify(self, count: int = 1) -> None:
        for _ in range(min(count, len(self.sleepers))):
            self.sleepers.pop().release()

    def notify_all(self) -> None:
        self.notify(len(self.sleepers))


class WorkerPool(ThreadedTaskDispatcher):
    """waitress's pool of worker threads, with idle threads woken most recent first."""

    def __init__(self, thread_count: int):
        super().__init__()
        self.queue_cv = MostRecentlyIdleFirst(self.lock)
        self.set_thread_count(thread_count)


def server_threads(config: Config, services) -> int:
    """waitress's pool: ``--threads``, plus one for every place of the bcrypt gates.

    A login or registration waiting for a bcrypt slot holds its thread; giving
    each place of the gates a thread of its own means full gates never leave
    health checks and downloads without one (accounts/passwords.py, HashGate).
    """
    return config.threads + services.passwords.gate.places + services.registration_passwords.gate.places


def build_server(config: Config):
    """The application, listening on config.host:config.port (not yet serving)."""
    app = create_app(config)
    proxy_settings = {}
    if config.trusted_proxy:
        proxy_settings = {"trusted_proxy": config.trusted_proxy,
                          "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto"}}
    threads = server_threads(config, app.services)
    server = waitress.create_server(
        app,
        _dispatcher=WorkerPool(threads),  # create_server's way to take a pool other than its own
        host=config.host,
        port=config.port,
        threads=threads,
        ident="authupload",
        max_request_body_size=config.max_request_bytes,
        recv_bytes=config.read_chunk_bytes,
        clear_untrusted_proxy_headers=True,
        connection_limit=connection_limit(),
        asyncore_use_poll=True,
        channel_timeout=config.idle_timeout_seconds,
        cleanup_interval=DEADLINE_CHECK_SECONDS,
        **proxy_settings,
    )
    channel_class = functools.partial(GuardedChannel, body_gate=app.body_gate)
    guard = ConnectionGuard(channel_class, config.max_connections_per_address, config.header_timeout_seconds,
                            config.idle_timeout_seconds, config.trusted_proxy)
    server.channel_class = guard.open_channel  # waitress calls it for each accepted socket
    # Every cleanup_interval waitress's server walks its channels to close idle ones
    # (``maintenance``); the guard's check takes its place, with the header deadline too.
    server.maintenance = lambda now: guard.close_overdue(list(server.active_channels.values()), now)
    server.application_services = app.services
    server.serving_lock = app.serving_lock
    return server


def connection_limit() -> int:
    """How many connections the server holds in all: SERVER_CONNECTION_LIMIT if the process may open that many files.

    Each connection is a file descriptor; the soft limit is raised to the hard
    one when it is lower, and some descriptors stay free for the database and
    the files being uploaded or downloaded.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = SERVER_CONNECTION_LIMIT + FILES_BESIDE_CONNECTIONS
    if soft != resource.RLIM_INFINITY and soft < wanted:
        soft = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    if soft == resource.RLIM_INFINITY:
        return SERVER_CONNECTION_LIMIT
    return max(1, min(SERVER_CONNECTION_LIMIT, soft - FILES_BESIDE_CONNECTIONS))


def start_housekeeping(services) -> threading.Thread:
    """Every few minutes: sweep expired resumable uploads (and their quota reservations), old trash and old audit events."""

    def sweep_forever():
        while not stop.wait(HOUSEKEEPING_INTERVAL_SECONDS):
            services.uploads.remove_expired()
            trash.purge_expired(services)
            sweep_old_events(services.database, services.config)

    stop = threading.Event()
    thread = threading.Thread(target=sweep_forever, name="housekeeping", daemon=True)
    thread.start()
    return thread


def run(config: Config) -> None:
    """Serve until Ctrl-C (or SIGTERM)."""
    server = build_server(config)
    start_housekeeping(server.application_services)
    print(f"authupload serving on http://{server.effective_host}:{server.effective_port}/ "
          f"(data in {config.data_dir.resolve()}); Ctrl-C stops it", flush=True)
    if not any_admin(server.application_services.database.connection()):
        print(f"No admin account yet: create one with `{FIRST_ADMIN_COMMAND} --data-dir "
              f"{config.data_dir}`", flush=True)
    try:
        server.run()
    finally:
        server.close()
        reconcile.mark_clean_exit(server.serving_lock)  # the next start need not walk the files
