#!/usr/bin/env python3
"""The baseline for the audit log's cost: ``serve.py`` with the account handlers' event writes removed.

Only for benchmarks/operators.py, which measures login throughput through this
and through the real ``serve.py`` side by side; every flag is serve.py's.

    python benchmarks/serve_without_audit.py --port 8081 --data-dir /tmp/x
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import serve  # noqa: E402
from authupload.accounts import handlers  # noqa: E402

handlers.record_event = lambda *arguments, **keywords: None  # the one thing this baseline leaves out

if __name__ == "__main__":
    serve.main()
