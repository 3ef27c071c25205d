#!/usr/bin/env python3
"""Record the walkthrough's HTTP transcripts from a real server, over a raw socket.

    python docs/transcripts.py           # rewrite docs/transcripts/*.http and docs/walkthrough*.md
    python docs/transcripts.py --check   # regenerate in memory; exit 1 if any file differs

How it works: the script starts the real ``serve.py`` (tests/live_server.py's
``LiveServer``) on a free port with a fresh temporary data directory, and plays
one user's story against it with a plain ``socket``: every request is built
here byte by byte and every response is read byte by byte, so a transcript
shows exactly what crossed the connection (line ends are shown as plain line
breaks; on the wire they are CRLF). After each exchange it also copies the lines
the server wrote to its log for that request.

Some values change from run to run. They are replaced, consistently within one
run, by placeholders in angle brackets before anything is written:

    tokens (JWTs)            <access-token-1>, <upload-token-1> (by their purpose claim)
    second-factor secrets    <totp-secret-1>, <recovery-code-1>, and the code of the moment
    file and upload ids      <file-id-1>, <upload-id-1>
    HTTP dates, ISO times    <http-date>, <time>
    page validators          "<etag-1>", and a page's body and length (public/ changes often)
    log timestamps, timings  <log-time>, [<time>], <ms>
    the port                 8080 (the server's default; the script used a free one)

Lengths (``Content-Length``) are those of the real bytes: a JWT has the same
length in every run, so they do not change. Everything else — headers, JSON
bodies, multipart framing (the boundary is fixed here), checksums — is shown
as sent.

It also renders ``docs/walkthrough.template.md`` (and ``walkthrough.zh.template.md``
if present) into ``docs/walkthrough.md``: ``{{transcript:NN-name}}`` becomes the
transcript in a code block, ``{{jwt:<access-token-1>}}`` the decoded header and
claims of that token, and ``{{environ:NN-name}}`` the WSGI environ and the
``start_response`` call that the application saw for that request (recorded by
a second, in-process waitress server built by ``authupload.server.build_server``
with one recording layer around the application).
"""

from __future__ import annotations

import argparse
import base64
import difflib
import hashlib
import json
import re
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from authupload.accounts import totp  # noqa: E402
from live_server import LiveServer  # noqa: E402  (tests/live_server.py)

TRANSCRIPTS = DOCS / "transcripts"
TEMPLATES = {DOCS / "walkthrough.template.md": DOCS / "walkthrough.md",
             DOCS / "walkthrough.zh.template.md": DOCS / "walkthrough.zh.md"}

SHOWN_PORT = 8080
USERNAME = "alice2024"
PASSWORD = "correct horse battery"
BOUNDARY = "----authuploadWalkthroughBoundary7MA4YWxk"
ORIGIN = "https://app.example"
MAX_SHOWN_BODY = 1200  # longer bodies are cut at a line end and the rest counted
SOCKET_TIMEOUT = 20


# --- the wire ------------------------------------------------------------------


def build_request(method: str, target: str, headers: list[tuple[str, str]] = (), body: bytes = b"",
                  port: int = SHOWN_PORT) -> bytes:
    """The bytes of an HTTP/1.1 request: request line, Host, headers, a blank line, the body."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{name}: {value}" for name, value in headers]
    if body or method in ("POST", "PATCH", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body


def read_response(sock: socket.socket, method: str) -> bytes:
    """Read exactly one response: the head, then the body as its framing says (RFC 9112 §6)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    fields = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        fields[name.strip().lower()] = value.strip()
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return head + b"\r\n\r\n"
    if fields.get("transfer-encoding", "").lower() == "chunked":
        while not re.search(rb"(^|\r\n)0\r\n\r\n$", rest):
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        return head + b"\r\n\r\n" + rest
    if "content-length" in fields:
        length = int(fields["content-length"])
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        return head + b"\r\n\r\n" + rest
    while chunk := sock.recv(65536):  # no framing: the body ends when the server closes
        rest += chunk
    return head + b"\r\n\r\n" + rest


def exchange(port: int, request: bytes, method: str, send_only: int | None = None) -> bytes | None:
    """Send ``request`` on a new connection and return the response bytes.

    With ``send_only`` only that many bytes are sent before the client hangs up
    (a cut-off upload): there is no response, and None is returned.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT) as sock:
        if send_only is not None:
            sock.sendall(request[:send_only])
            time.sleep(0.2)  # let the server read what was sent before the line goes dead
            return None
        sock.sendall(request)
        return read_response(sock, method)


def split_message(raw: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name, value.strip()))
    return lines[0], headers, body


def header_value(headers: list[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in headers if k.lower() == name.lower()), None)


# --- normalising what changes between runs ---------------------------------------

JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
HEX_ID = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")
HTTP_DATE = re.compile(r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT")
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


def jwt_parts(token: str) -> tuple[dict, dict]:
    """The header and claims of a JWT, decoded without checking the signature (anyone can)."""
    def decode(part: str) -> dict:
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    header, claims, _ = token.split(".")
    return decode(header), decode(claims)


class Normaliser:
    """Replace volatile values by stable placeholders, the same value by the same name every time."""

    def __init__(self, port: int):
        self.port = port
        self.names: dict[str, str] = {}
        self.counters: dict[str, int] = {}
        self.tokens: dict[str, str] = {}  # placeholder → the real token, to decode it later

    def name(self, value: str, kind: str) -> str:
        if value not in self.names:
            self.counters[kind] = self.counters.get(kind, 0) + 1
            self.names[value] = f"<{kind}-{self.counters[kind]}>"
        return self.names[value]

    def learn_id(self, value: str | None, kind: str) -> None:
        if value and HEX_ID.fullmatch(value):
            self.name(value, kind)

    def hide(self, value: str, placeholder: str) -> None:
        """Show ``value`` as ``placeholder`` wherever it appears (for values that only make sense in context)."""
        self.names[value] = placeholder

    def learn_etag(self, value: str | None) -> None:
        """An entity tag is shown as ``"<etag-1>"``: its quotes (and any ``W/``) stay as sent."""
        if value:
            self.name(value.removeprefix("W/").strip('"'), "etag")

    def token(self, match: re.Match) -> str:
        token = match.group(0)
        try:
            purpose = jwt_parts(token)[1].get("purpose", "unknown")
        except ValueError:
            purpose = "unknown"
        placeholder = self.name(token, f"{purpose}-token")
        self.tokens[placeholder] = token
        return placeholder

    def text(self, text: str) -> str:
        text = JWT.sub(self.token, text)
        for value, placeholder in self.names.items():
            if not value.startswith("eyJ"):
                text = text.replace(value, placeholder)
        text = HEX_ID.sub(lambda m: self.name(m.group(0), "id"), text)
        text = HTTP_DATE.sub("<http-date>", text)
        text = ISO_TIME.sub("<time>", text)
        text = text.replace(f"127.0.0.1:{self.port}", f"127.0.0.1:{SHOWN_PORT}")
        return text


# --- showing a message ---------------------------------------------------------------


def is_text(body: bytes) -> bool:
    try:
        decoded = body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(c in "\r\n\t" or c >= " " for c in decoded)


def show_body(body: bytes, headers: list[tuple[str, str]], elide_as: str | None = None) -> str:
    """A body for a reader: text as is (long text cut at a line end), binary data counted."""
    if not body:
        return ""
    if elide_as:
        return f"[{elide_as}]"
    if not is_text(body):
        return f"[{len(body)} bytes of binary data]"
    text = body.decode("utf-8").replace("\r\n", "\n")
    if len(body) <= MAX_SHOWN_BODY:
        return text
    cut = body[:MAX_SHOWN_BODY // 2]
    cut = cut[:cut.rfind(b"\n") + 1] or cut
    return cut.decode("utf-8", "replace").replace("\r\n", "\n") + f"[… {len(body) - len(cut)} more bytes …]"


def show_message(raw: bytes, elide_as: str | None = None) -> str:
    start_line, headers, body = split_message(raw)
    lines = [start_line] + [f"{name}: {value}" for name, value in headers]
    text = "\n".join(lines) + "\n"
    shown = show_body(body, headers, elide_as)
    if shown:
        text += "\n" + shown + ("" if shown.endswith("\n") else "\n")
    return text


# --- the story ----------------------------------------------------------------------------


class Story:
    """Plays the steps against one server and keeps each step's transcript text."""

    def __init__(self, server: LiveServer):
        self.server = server
        self.port = server.port
        self.norm = Normaliser(server.port)
        self.transcripts: dict[str, str] = {}
        self.raw: dict[str, str] = {}
        self.log_offset = len(server.log_path.read_bytes())
        self.state: dict = {}

    # -- one exchange --

    def step(self, name: str, title: str, method: str, target: str, headers=(), body: bytes = b"",
             send_only: int | None = None, elide_request: str | None = None,
             elide_response: str | None = None, log_lines: int = 1,
             page_length: bool = False) -> tuple[str, list, bytes]:
        request = build_request(method, target, list(headers), body, port=self.port)
        cut = None if send_only is None else len(request) - len(body) + send_only
        response = exchange(self.port, request, method, cut)
        parts = [f"# {name}: {title}", "", ">>> request"]
        if send_only is None:
            parts.append(show_message(request, elide_request))
        else:
            head = show_message(request[:len(request) - len(body)])
            parts.append(head.rstrip("\n") + "\n\n" + f"[{send_only} of {len(body)} body bytes sent, "
                         "then the client closed the connection]\n")
        parts.append("<<< response")
        if response is None:
            parts.append("(none: the connection was closed before the request was complete)\n")
            status_line, response_headers, response_body = "", [], b""
        else:
            status_line, response_headers, response_body = split_message(response)
            parts.append(show_message(response, elide_response))
        log = self.server_log(log_lines)
        if log:
            parts.append("--- server log\n" + log)
        text = "\n".join(parts)
        if page_length and response is not None:
            # A page changes whenever public/ does: its length is no part of the lesson.
            length = header_value(response_headers, "Content-Length")
            text = text.replace(f"Content-Length: {length}\n", "Content-Length: <page length>\n")
            text = re.sub(rf"( {status_line.split()[1]}) {length} ", r"\1 <page length> ", text)
            self.norm.learn_etag(header_value(response_headers, "ETag"))
        self.raw[name] = text  # normalised in finish(), once every volatile value is known
        return status_line, response_headers, response_body

    def finish(self) -> None:
        for name, text in self.raw.items():
            self.transcripts[name] = self.norm.text(text).rstrip("\n") + "\n"

    def server_log(self, expected_lines: int) -> str:
        """The log lines written since the last step (waiting briefly for the access-log line)."""
        deadline = time.monotonic() + (3 if expected_lines else 0.3)
        while True:
            data = self.server.log_path.read_bytes()[self.log_offset:]
            complete = data[:data.rfind(b"\n") + 1]
            count = complete.count(b"authupload.access")
            if count >= expected_lines and (expected_lines or time.monotonic() > deadline):
                break
            if time.monotonic() > deadline:
                break
            time.sleep(0.02)
        self.log_offset += len(complete)
        lines = []
        for line in complete.decode("utf-8", "replace").splitlines():
            line = re.sub(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}", "<log-time>", line)
            line = re.sub(r"\d+\.\dms$", "<ms>ms", line)
            line = re.sub(r"\[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000\]", "[<time>]", line)
            lines.append(line)
        return "\n".join(lines) + ("\n" if lines else "")

    def bearer(self, token_key: str = "token") -> tuple[str, str]:
        return ("Authorization", f"Bearer {self.state[token_key]}")

    # -- the user's story --

    def play(self) -> None:
        credentials = json.dumps({"username": USERNAME, "password": PASSWORD}).encode()
        self.step("01-register", "create an account", "POST", "/api/register",
                  [("Content-Type", "application/json")], credentials)

        _, _, body = self.step("02-login", "exchange username and password for a token", "POST", "/api/login",
                               [("Content-Type", "application/json")], credentials, log_lines=1)
        self.state["token"] = json.loads(body)["data"]["access_token"]

        self.step("03-me", "who am I? (a bearer token in Authorization)", "GET", "/api/me", [self.bearer()])
        self.step("04-me-without-token", "the same without a token: 401 and WWW-Authenticate",
                  "GET", "/api/me")

        self.step("05-preflight", "a page on another origin asks first (CORS preflight)", "OPTIONS", "/api/files",
                  [("Origin", ORIGIN), ("Access-Control-Request-Method", "POST"),
                   ("Access-Control-Request-Headers", "authorization")])

        self.upload_multipart()
        self.upload_resumable()

        _, _, body = self.step("12-list", "list my files, newest first", "GET", "/api/files?limit=10",
                               [self.bearer()])
        self.learn_files(body)

        note_id = self.state.get("note_id", "missing")
        self.step("13-download", "download a whole file", "GET", f"/api/files/{note_id}", [self.bearer()])
        story_id = self.state.get("story_id", "missing")
        status, headers, _ = self.step("14-download-range", "download one range of a file: 206",
                                       "GET", f"/api/files/{story_id}",
                                       [self.bearer(), ("Range", "bytes=43-128")])

        status, headers, _ = self.step("15-page", "a page, with its validators", "GET", "/login.html",
                                       elide_response="the HTML of public/login.html, elided here",
                                       page_length=True)
        etag = header_value(headers, "ETag")
        self.step("16-page-not-modified", "the same page again: 304", "GET", "/login.html",
                  [("If-None-Match", etag or '"none"')], page_length=True)

        wrong = json.dumps({"username": USERNAME, "password": "wrong password"}).encode()
        self.step("17-chinese", "a failed login, asking for Chinese", "POST", "/api/login",
                  [("Content-Type", "application/json"), ("Accept-Language", "zh-CN,zh;q=0.9,en;q=0.8")], wrong)

        self.second_factor()

        self.step("23-logout", "log out: this token is revoked", "POST", "/api/logout", [self.bearer()])
        self.step("24-revoked-token", "the revoked token is refused: 401", "GET", "/api/me", [self.bearer()])
        self.finish()

    def second_factor(self) -> None:
        """Turn on two-factor sign-in, then log in with it: a code used twice, and a recovery code."""
        json_type = ("Content-Type", "application/json")
        _, _, body = self.step("18-totp-setup", "two-factor sign-in: a secret for the authenticator app", "POST",
                               "/api/totp/setup", [self.bearer(), json_type],
                               json.dumps({"password": PASSWORD}).encode())
        secret_text = json.loads(body)["data"]["secret"]
        self.norm.name(secret_text, "totp-secret")
        # What the phone's authenticator app would show now (RFC 6238), computed here as the app does.
        code = totp.code_at(totp.secret_from_base32(secret_text), time.time())
        self.norm.hide(f'"code": "{code}"', '"code": "<code-shown-by-the-app>"')
        _, _, body = self.step("19-totp-enable", "prove it with a first code; recovery codes come back", "POST",
                               "/api/totp/enable", [self.bearer(), json_type], json.dumps({"code": code}).encode())
        recovery_codes = json.loads(body)["data"]["recovery_codes"]
        for recovery_code in recovery_codes:
            self.norm.name(recovery_code, "recovery-code")

        credentials = json.dumps({"username": USERNAME, "password": PASSWORD}).encode()
        _, _, body = self.step("20-login-second-step", "the password alone no longer signs in", "POST",
                               "/api/login", [json_type], credentials)
        mfa_token = json.loads(body)["data"]["mfa_token"]
        self.step("21-login-code-replayed", "the same code again: refused", "POST", "/api/login/totp",
                  [json_type], json.dumps({"mfa_token": mfa_token, "code": code}).encode())
        _, _, body = self.step("22-login-recovery-code", "a recovery code finishes the login, once", "POST",
                               "/api/login/totp", [json_type],
                               json.dumps({"mfa_token": mfa_token, "code": recovery_codes[0]}).encode())
        self.state["token"] = json.loads(body)["data"]["access_token"]

    def learn_files(self, body: bytes) -> None:
        try:
            files = json.loads(body)["data"]["files"]
        except (ValueError, KeyError, TypeError):
            return
        for file in files:
            self.norm.learn_id(file.get("id"), "file-id")

    def upload_multipart(self) -> None:
        notes = "Things to do:\n- read app.py\n- follow one request\n".encode()
        table = "step,what\n1,register\n2,log in\n".encode()
        parts = []
        for filename, content_type, content in (("notes.txt", "text/plain", notes),
                                                ("steps.csv", "text/csv", table)):
            parts.append(
                f"--{BOUNDARY}\r\n"
                f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                f"Content-Type: {content_type}\r\n\r\n".encode() + content + b"\r\n"
            )
        body = b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()
        _, _, response = self.step("06-upload-multipart", "upload two files in one multipart/form-data body",
                                   "POST", "/api/files",
                                   [self.bearer(), ("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")],
                                   body)
        try:
            files = json.loads(response)["data"]["files"]
            self.state["note_id"] = files[0]["id"]
        except (ValueError, KeyError, TypeError, IndexError):
            files = []
        for file in files:
            self.norm.learn_id(file.get("id"), "file-id")

    def upload_resumable(self) -> None:
        content = "".join(f"line {n:03d} of a file sent in pieces with tus\n" for n in range(1, 101)).encode()
        first, second = content[:2150], content[2150:]  # 50 lines each
        metadata = ",".join(f"{key} {base64.b64encode(value.encode()).decode()}"
                            for key, value in (("filename", "story.txt"), ("filetype", "text/plain")))
        _, headers, _ = self.step("07-tus-create", "create a resumable upload (tus 1.0)", "POST", "/api/uploads",
                                  [self.bearer(), ("Tus-Resumable", "1.0.0"),
                                   ("Upload-Length", str(len(content))), ("Upload-Metadata", metadata)])
        location = header_value(headers, "Location") or "/api/uploads/missing"
        self.norm.learn_id(location.rsplit("/", 1)[-1], "upload-id")
        upload_token = header_value(headers, "Upload-Token")
        self.state["upload"] = upload_token or self.state["token"]

        def patch(name, title, offset, chunk, send_only=None, log_lines=1):
            digest = base64.b64encode(hashlib.sha256(chunk).digest()).decode()
            return self.step(name, title, "PATCH", location,
                             [self.bearer("upload"), ("Tus-Resumable", "1.0.0"),
                              ("Content-Type", "application/offset+octet-stream"),
                              ("Upload-Offset", str(offset)), ("Upload-Checksum", f"sha256 {digest}")],
                             chunk, send_only=send_only, log_lines=log_lines)

        patch("08-tus-patch", "send the first half (2150 bytes)", 0, first)
        patch("09-tus-patch-interrupted", "send the rest; the connection drops halfway", len(first), second,
              send_only=len(second) // 2, log_lines=0)
        self.step("10-tus-head", "how much did the server keep? (HEAD)", "HEAD", location,
                  [self.bearer("upload"), ("Tus-Resumable", "1.0.0")])
        _, headers, _ = patch("11-tus-resume", "resume from the server's offset", len(first), second)
        file_id = header_value(headers, "Upload-File-Id")
        self.norm.learn_id(file_id, "file-id")
        self.state["story_id"] = file_id


# --- the WSGI environ, as the application saw it ------------------------------------------------


def record_environ(data_dir: Path, requests: list[tuple[str, str, list, bytes]]) -> list[dict]:
    """Serve ``create_app`` with waitress (as serve.py does, via ``build_server``) plus one
    recording layer around it, send ``requests``, and return what the application got."""
    from authupload.config import Config
    from authupload.server import build_server

    import logging
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # as serve.py does
    recorded = []
    config = Config(data_dir=data_dir, port=0, bcrypt_cost=4, threads=1)
    server = build_server(config)
    inner = server.application

    def recording(environ, start_response):
        entry = {"environ": dict(environ)}
        recorded.append(entry)

        def start(status, headers, exc_info=None):
            entry["start_response"] = (status, list(headers))
            return start_response(status, headers, exc_info)

        return inner(environ, start)

    server.application = recording
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    port = server.effective_port
    try:
        for method, target, headers, body in requests:
            headers = [(k, v.replace("{token}", recorded_token(port))) if "{token}" in v else (k, v)
                       for k, v in headers]
            exchange(port, build_request(method, target, headers, body, port=port), method)
    finally:
        # waitress has no clean "stop" for a loop running in another thread (closing its
        # socket under select() raises there); the daemon thread ends with this process.
        server.task_dispatcher.shutdown()
    for entry in recorded:
        entry["port"] = port
    return recorded


def recorded_token(port: int, _cache={}) -> str:
    """Register and log in the walkthrough's user on the recording server (once)."""
    if port not in _cache:
        credentials = json.dumps({"username": USERNAME, "password": PASSWORD}).encode()
        for path in ("/api/register", "/api/login"):
            raw = exchange(port, build_request("POST", path, [("Content-Type", "application/json")],
                                               credentials, port=port), "POST")
        _cache[port] = json.loads(split_message(raw)[2])["data"]["access_token"]
    return _cache[port]


def show_environ(entry: dict, norm: Normaliser) -> str:
    """The environ as a sorted listing, and the start_response call, with volatile values normalised."""
    environ = entry["environ"]
    lines = ["environ = {"]
    for key in sorted(environ):
        value = environ[key]
        if key in ("wsgi.input", "wsgi.errors", "wsgi.file_wrapper", "waitress.client_disconnected"):
            shown = f"<{type(value).__module__}.{getattr(value, '__qualname__', type(value).__qualname__)}>"
            if key == "wsgi.file_wrapper":
                shown = f"<class {value.__module__}.{value.__qualname__}>"
            elif key == "waitress.client_disconnected":
                shown = "<function: has the client hung up?>"
        elif key in ("REMOTE_PORT", "SERVER_PORT"):
            shown = "'<port>'" if key == "REMOTE_PORT" else repr(str(SHOWN_PORT))
        else:
            shown = repr(value)
        lines.append(f"    {key!r}: {shown},")
    lines.append("}")
    status, headers = entry.get("start_response", ("-", []))
    lines.append("")
    lines.append(f"start_response({status!r}, [")
    lines += [f"    ({name!r}, {value!r})," for name, value in headers]
    lines.append("])")
    text = "\n".join(lines)
    text = text.replace(f"127.0.0.1:{entry['port']}", f"127.0.0.1:{SHOWN_PORT}")
    text = JWT.sub("<an access token>", text)  # this server's own token, not one of the story's
    return Normaliser(entry["port"]).text(text)


# --- rendering and checking -----------------------------------------------------------------


def show_jwt(norm: Normaliser, placeholder: str) -> str:
    """The header and claims of a token from the transcripts, with its volatile claims normalised."""
    token = norm.tokens.get(placeholder)
    if token is None:
        return f"(no token {placeholder} in this run)"
    header, claims = jwt_parts(token)
    iat = claims.get("iat")
    shown = {}
    for key, value in claims.items():
        if key == "jti":
            value = "<random, 22 characters>"
        elif key == "sid":
            value = "<the session's id: random, 22 characters>"
        elif key in ("iat", "auth_time") and value == iat:
            value = "<iat: now, in seconds since 1970>"
        elif key == "exp" and isinstance(iat, int):
            value = f"<iat + {value - iat}>"
        shown[key] = value
    encoded_header = token.split(".")[0]
    return ("```text\n"
            f"{encoded_header}.<claims>.<signature>\n```\n\n"
            "```json\n"
            f"// header: base64url-decode the part before the first dot\n{json.dumps(header, indent=2)}\n"
            f"// claims: the middle part\n{norm.text(json.dumps(shown, indent=2, ensure_ascii=False))}\n"
            "// signature: HMAC-SHA256(key, header + \".\" + claims): 32 bytes, base64url\n```")


def render_template(template: str, transcripts: dict[str, str], norm: Normaliser,
                    environs: dict[str, str]) -> str:
    def replace(match: re.Match) -> str:
        kind, name = match.group(1), match.group(2)
        if kind == "transcript":
            if name not in transcripts:
                raise SystemExit(f"template names an unknown transcript: {name}")
            return "```http\n" + transcripts[name] + "```"
        if kind == "jwt":
            return show_jwt(norm, name)
        if kind == "environ":
            if name not in environs:
                raise SystemExit(f"template names an unknown environ recording: {name}")
            return "```python\n" + environs[name] + "\n```"
        raise SystemExit(f"unknown placeholder kind: {kind}")

    header = ("<!-- Generated by docs/transcripts.py from "
              "{template}: edit the template, then run `python docs/transcripts.py`. -->\n")
    return header + re.sub(r"\{\{(transcript|jwt|environ):([^}]+)\}\}", replace, template)


ENVIRON_REQUESTS = {
    # name: (method, target, headers, body)
    "03-me": ("GET", "/api/me?verbose=1", [("Authorization", "Bearer {token}"), ("Accept-Language", "en")], b""),
}


def generate() -> dict[Path, str]:
    """Every generated file's path and its content."""
    outputs: dict[Path, str] = {}
    with tempfile.TemporaryDirectory(prefix="authupload-docs-") as temp:
        temp = Path(temp)
        with LiveServer(temp / "data", "--bcrypt-cost", "12") as server:
            story = Story(server)
            story.play()
        recorded = record_environ(temp / "probe-data", list(ENVIRON_REQUESTS.values()))
        # the register and login of recorded_token come first; the named requests are the last ones
        named = recorded[-len(ENVIRON_REQUESTS):]
        environs = {name: show_environ(entry, story.norm) for name, entry in zip(ENVIRON_REQUESTS, named)}
    for name, text in story.transcripts.items():
        outputs[TRANSCRIPTS / f"{name}.http"] = text
    for template, target in TEMPLATES.items():
        if template.exists():
            rendered = render_template(template.read_text(encoding="utf-8"), story.transcripts, story.norm,
                                       environs)
            outputs[target] = rendered.replace("{template}", template.name)
    return outputs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="regenerate in memory and exit 1 if any file differs (nothing is written)")
    args = parser.parse_args(argv)
    outputs = generate()
    stale = []
    for path, text in outputs.items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path)
        if args.check:
            diff = difflib.unified_diff((current or "").splitlines(keepends=True), text.splitlines(keepends=True),
                                        str(path.relative_to(ROOT)), "regenerated")
            sys.stdout.writelines(list(diff)[:80])
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    extra = sorted(set(TRANSCRIPTS.glob("*.http")) - set(outputs))
    if args.check:
        for path in extra:
            print(f"{path.relative_to(ROOT)}: no longer produced by the story")
        if stale or extra:
            print(f"\n{len(stale) + len(extra)} generated doc file(s) are stale: run `python docs/transcripts.py`")
            return 1
        print(f"{len(outputs)} generated doc files are up to date")
        return 0
    for path in extra:
        path.unlink()
    print(f"wrote {len(stale)} of {len(outputs)} files" + (f"; removed {len(extra)}" if extra else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
