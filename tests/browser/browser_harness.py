"""What the browser tests share besides fixtures: the Server wrapper with API
helpers for setting up accounts, and small helpers for pages and files.
(Test modules import this; conftest.py holds the fixtures.)"""

from __future__ import annotations

import base64
import json
import secrets
import time
from pathlib import Path

import requests

from live_server import LiveServer  # tests/live_server.py: serve.py on a free port, waits for /api/health

PASSWORD = "correct horse battery"
MIB = 1024 * 1024


# ---- Servers -------------------------------------------------------------------


class Server:
    """A running serve.py with API helpers for setting up a test's account."""

    def __init__(self, live: LiveServer):
        self.live = live
        self.url = live.url

    def register(self, username: str | None = None, password: str = PASSWORD) -> str:
        username = username or unique_username()
        answer = requests.post(f"{self.url}/api/register", json={"username": username, "password": password}, timeout=10)
        assert answer.status_code == 200, answer.text
        return username

    def login(self, username: str, password: str = PASSWORD) -> str:
        answer = requests.post(f"{self.url}/api/login", json={"username": username, "password": password}, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()["data"]["access_token"]

    def account(self) -> tuple[str, str]:
        """A new user, logged in: (username, token)."""
        username = self.register()
        return username, self.login(username)

    def api(self, method: str, path: str, token: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        return requests.request(method, f"{self.url}{path}", headers=headers, timeout=30, **kwargs)

    def files(self, token: str) -> list[dict]:
        answer = self.api("GET", "/api/files", token)
        assert answer.status_code == 200, answer.text
        return answer.json()["data"]["files"]


# ---- Helpers ---------------------------------------------------------------------


def unique_username() -> str:
    """Letters and digits only, unique per run, within the 6–32 rule."""
    return f"u{int(time.time())}{secrets.token_hex(4)}"


def submit_registration(page, server: Server, username: str, password: str = PASSWORD):
    """Fill the register form as a person would, submit it, and return the /api/register response."""
    page.goto(f"{server.url}/register.html")
    page.fill("#username", username)
    page.fill("#password", password)
    page.fill("#confirm", password)
    with page.expect_response(lambda r: r.url.endswith("/api/register")) as answer:
        page.click("#registerForm button[type=submit]")
    return answer.value


def open_workspace(page, server: Server, token: str) -> None:
    """Put a token where login.js would, then open the workspace and wait for it."""
    page.goto(f"{server.url}/login.html")
    page.evaluate("token => localStorage.setItem('token', token)", token)
    page.goto(f"{server.url}/welcome.html")
    page.wait_for_selector("#workspace:not([hidden])")


def fake_jwt(**claims) -> str:
    """A JWT-shaped string with these claims and a worthless signature."""

    def part(obj) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.{part('not-a-signature')}"


def make_file(directory: Path, name: str, size: int) -> Path:
    """A file of `size` random bytes (incompressible, so no layer can shortcut it)."""
    path = directory / name
    block = secrets.token_bytes(64 * 1024)
    with open(path, "wb") as out:
        for start in range(0, size, len(block)):
            out.write(block[: min(len(block), size - start)])
    return path


def throttle_upload(page, bytes_per_second: int):
    """Slow the page's uploads down (Chrome DevTools network emulation), so a
    test can watch progress move or reload in the middle of an upload."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": bytes_per_second},
    )
    return cdp
