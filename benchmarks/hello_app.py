#!/usr/bin/env python3
"""The baseline for small requests: the least a WSGI app can do, on the same waitress.

Every path answers ``200`` with a short JSON body of the same size class as our
``/api/health`` envelope. Served with the same waitress settings as ``serve.py``
(threads, body limit, proxy-header clearing), the gap between this and authupload
is our framework's cost: middleware, routing, token checks, database, logging.

    python benchmarks/hello_app.py --port 8081 --threads 8
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import waitress

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from authupload.config import Config  # noqa: E402

BODY = b'{"code":200,"message":"Hello, world.","data":{"status":"ok"}}'
HEADERS = [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(BODY)))]


def hello(environ, start_response):
    start_response("200 OK", list(HEADERS))
    return [BODY]


def main(argv=None) -> None:
    defaults = Config()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--threads", type=int, default=defaults.threads)
    args = parser.parse_args(argv)
    # The same settings server.build_server gives waitress.
    waitress.serve(hello, host=args.host, port=args.port, threads=args.threads, ident="authupload",
                   max_request_body_size=defaults.max_request_bytes, clear_untrusted_proxy_headers=True,
                   _quiet=True)


if __name__ == "__main__":
    main()
