#!/usr/bin/env python3
"""Build tests/data/datadir-v1/: a small data directory written by release 1.0 (commit 8f7d5d4).

    git worktree add /tmp/v1 8f7d5d4
    PYTHONPATH=/tmp/v1 .venv/bin/python tests/data/make_datadir_v1.py /tmp/v1

It drives that release's own code through its HTTP API (WebTest, in process, at
a fixed clock): accounts with ASCII and CJK names, files with non-ASCII names,
one file deleted, and an open tus upload half sent. What a later release must
still find there goes to ``manifest.json`` beside the data; tests/test_upgrade.py
opens a copy with today's code (its migrations run) and checks all of it.
Run it again only to rebuild the data from scratch; the result is committed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET = HERE / "datadir-v1"
CLOCK = 1_900_000_000.0  # the clock the data was written at; the upgrade test reopens it an hour later
PASSWORD = "correct horse"

ACCOUNTS = {
    "alice123": [("notes.txt", b"plain ASCII notes\n"), ("履歷表.pdf", bytes(range(256)) * 8),
                 ("café menu.txt", "crème brûlée\n".encode())],
    "王小明abc": [("照片 2026.jpg", b"\xff\xd8\xff" + b"jpeg-ish" * 300), ("empty.bin", b"")],
    "bob45678": [],
}
DELETED = ("alice123", "to delete.txt", b"gone")
OPEN_UPLOAD = ("王小明abc", "半途.bin", bytes(range(97, 123)) * 100, 1000)  # owner, name, bytes, sent so far


def main(release_root: str) -> None:
    sys.path.insert(0, release_root)
    import webtest
    from authupload import Config, create_app

    assert Path(sys.modules["authupload"].__file__).is_relative_to(release_root), "not the old release's code"
    shutil.rmtree(TARGET, ignore_errors=True)
    app = create_app(Config(data_dir=TARGET, bcrypt_cost=4, clock=lambda: CLOCK))
    client = webtest.TestApp(app)
    manifest = {"clock": CLOCK, "password": PASSWORD, "accounts": {}, "open_upload": None}
    headers = {}
    for username, files in ACCOUNTS.items():
        client.post_json("/api/register", {"username": username, "password": PASSWORD})
        token = client.post_json("/api/login", {"username": username, "password": PASSWORD}).json["data"]
        headers[username] = {"Authorization": f"Bearer {token['access_token']}"}
        stored = []
        for name, data in files:
            (file,) = client.post("/api/files", headers=headers[username],
                                  upload_files=[("file", name, data)]).json["data"]["files"]
            stored.append({"id": file["id"], "name": name, "size": len(data),
                           "sha256": hashlib.sha256(data).hexdigest()})
        manifest["accounts"][username] = {"files": stored}
    owner, name, data = DELETED[0], DELETED[1], DELETED[2]
    (gone,) = client.post("/api/files", headers=headers[owner], upload_files=[("file", name, data)]).json["data"]["files"]
    client.delete(f"/api/files/{gone['id']}", headers=headers[owner])

    owner, name, data, sent = OPEN_UPLOAD
    metadata = "filename " + base64.b64encode(name.encode()).decode()
    created = client.post("/api/uploads", data[:sent], headers={
        **headers[owner], "Tus-Resumable": "1.0.0", "Upload-Length": str(len(data)), "Upload-Metadata": metadata,
        "Content-Type": "application/offset+octet-stream"})
    manifest["open_upload"] = {"owner": owner, "location": created.headers["Location"], "name": name,
                               "offset": sent, "length": len(data), "data_hex": data.hex()}
    for username in ACCOUNTS:
        usage = client.get("/api/me", headers=headers[username]).json["data"]["usage"]
        manifest["accounts"][username]["usage"] = {"files": usage["files"], "bytes": usage["bytes"]}
    del app, client
    for transient in ("tmp",):  # a live process's scratch folder: never part of a data directory's state
        shutil.rmtree(TARGET / transient, ignore_errors=True)
    (HERE / "datadir-v1.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
