"""A reference point for uploads: a bare WSGI app on waitress that copies the body into a file and fsyncs.

    python benchmarks/bare_upload_app.py PORT DIRECTORY

Any ``POST`` or ``PUT`` body (multipart or not: it is not parsed) is copied from
``wsgi.input`` in 1 MiB reads into a new file under DIRECTORY, fsynced, and
answered ``201``; ``GET /`` answers ``200`` (the benchmark's "is it up?").
waitress runs with the same ``recv_bytes`` and body limit as authupload
(server.py), so the difference to authupload is the application's work — and
waitress's spooling of the body, which this app pays like every plain WSGI app.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import waitress

MIB = 1024 * 1024


def make_app(directory: Path):
    def app(environ, start_response):
        if environ["REQUEST_METHOD"] not in ("POST", "PUT"):
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
            return [b"up"]
        remaining = int(environ.get("CONTENT_LENGTH") or 0)
        with open(directory / uuid.uuid4().hex, "xb") as file:
            while remaining:
                chunk = environ["wsgi.input"].read(min(MIB, remaining))
                if not chunk:
                    break
                file.write(chunk)
                remaining -= len(chunk)
            file.flush()
            os.fsync(file.fileno())
        start_response("201 Created", [("Content-Type", "text/plain"), ("Content-Length", "0")])
        return [b""]

    return app


if __name__ == "__main__":
    port, directory = int(sys.argv[1]), Path(sys.argv[2])
    waitress.serve(make_app(directory), host="127.0.0.1", port=port, recv_bytes=MIB,
                   max_request_body_size=2 * 1024 * MIB, threads=4, _quiet=True)
