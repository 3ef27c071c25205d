#!/usr/bin/env python3
"""Run authupload: ``python serve.py`` serves http://127.0.0.1:8080/ with data in ./data.

``python serve.py --help`` lists every setting; each can also be given as an
``AUTHUPLOAD_<NAME>`` environment variable.
"""

import logging
import signal
import sys

from authupload.config import Config
from authupload.server import run


def main(argv=None) -> None:
    config = Config.from_sources(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    # One access-log line per request is the hottest logging call: skip what no
    # line prints (the logging HOWTO's "Optimization" section: caller, thread, process).
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "task queue depth" notes are noise here
    # SIGTERM (systemd, docker, kill) stops as cleanly as Ctrl-C does; and Ctrl-C
    # works even when started from a shell that ignores SIGINT for background jobs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        run(config)
    except KeyboardInterrupt:
        pass
    except OSError as error:  # e.g. the port is taken: say so without a traceback
        sys.exit(f"authupload cannot serve on {config.host}:{config.port}: {error.strerror or error}")
    print("authupload stopped", flush=True)


if __name__ == "__main__":
    main()
