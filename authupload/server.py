"""Serving the application with waitress, and what waitress answers by itself.

waitress parses HTTP/1.1, runs the application in a pool of threads, and reads
each request body completely (in memory up to 512 KiB, then in a temporary
file) before the application sees it. Its limits are set from our Config:

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
  dodge the login throttle by claiming another address.

waitress answers a few errors itself, before the application runs (body too
large, malformed request, headers too large) with a text page of its own. The
API promises a JSON envelope for every ``/api/`` answer, so ``EnvelopeErrorTask``
renders those errors as envelopes too.
"""

from __future__ import annotations

import threading

import waitress
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError
from waitress.task import ErrorTask

from . import i18n
from .files import trash
from .web import http
from .app import create_app
from .config import Config
from .web.middleware import security_headers_for

# waitress's own errors, by status, as our stable keys.
WAITRESS_ERROR_KEYS = {400: "bad_request", 413: "body_too_large", 431: "headers_too_large"}
# A response an application yields piece by piece (a ZIP built while it is sent)
# waits in waitress's output buffer. By default that buffer moves to a temporary
# file past 1 MiB and holds up to 16 MiB: the bytes went through the disk, at a
# third of a file download's speed. Up to 4 MiB in memory, and the application
# waits while the client catches up: memory per connection stays bounded.
STREAM_BUFFER_BYTES = 4 * 1024 * 1024
HOUSEKEEPING_INTERVAL_SECONDS = 600  # how often expired resumable uploads and trash items are swept


class EnvelopeErrorTask(ErrorTask):
    """waitress's error answer, as our JSON envelope with our security headers."""

    def execute(self):
        error = self.request.error
        key = WAITRESS_ERROR_KEYS.get(error.code, "server_error" if error.code >= 500 else "bad_request")
        language = i18n.negotiate_language(self.request.headers.get("ACCEPT_LANGUAGE", ""))
        response = http.error_envelope(language, http.HTTPError(error.code, key))
        self.status = http.status_line(error.code)
        self.response_headers.extend(response.headers)
        # The body is an envelope whatever the path (often unknown yet): the API's headers.
        self.response_headers += security_headers_for(is_api=True, present=set())
        self.set_close_on_finish()  # the rest of the request was not read: the connection cannot be reused
        body = b"".join(response.body)
        self.content_length = len(body)
        self.write(body)


class StrictRequestParser(HTTPRequestParser):
    """waitress's parser, refusing a body framed two ways at once.

    A request with both ``Content-Length`` and ``Transfer-Encoding: chunked`` is
    the classic request-smuggling vector: a proxy in front that believes the
    length and a server that believes the chunks disagree about where the next
    request starts. RFC 9112 §6.1 lets a server reject it; we do (400), instead
    of de-chunking it and keeping the connection open as waitress would.
    """

    def parse_header(self, header_plus):
        super().parse_header(header_plus)
        if self.chunked and "CONTENT_LENGTH" in self.headers:
            raise ParsingError("Content-Length together with Transfer-Encoding")


class EnvelopeChannel(HTTPChannel):
    error_task_class = EnvelopeErrorTask
    parser_class = StrictRequestParser


def build_server(config: Config):
    """The application, listening on config.host:config.port (not yet serving)."""
    app = create_app(config)
    proxy_settings = {}
    if config.trusted_proxy:
        proxy_settings = {"trusted_proxy": config.trusted_proxy,
                          "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto"}}
    server = waitress.create_server(
        app,
        host=config.host,
        port=config.port,
        threads=config.threads,
        ident="authupload",
        max_request_body_size=config.max_request_bytes,
        recv_bytes=config.read_chunk_bytes,
        outbuf_overflow=STREAM_BUFFER_BYTES,
        outbuf_high_watermark=STREAM_BUFFER_BYTES,
        clear_untrusted_proxy_headers=True,
        **proxy_settings,
    )
    server.channel_class = EnvelopeChannel
    server.application_services = app.services
    return server


def start_housekeeping(services) -> threading.Thread:
    """Every few minutes: sweep expired resumable uploads (and their quota reservations), purge old trash."""

    def sweep_forever():
        while not stop.wait(HOUSEKEEPING_INTERVAL_SECONDS):
            services.uploads.remove_expired()
            trash.purge_expired(services)

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
    try:
        server.run()
    finally:
        server.close()
