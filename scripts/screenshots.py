#!/usr/bin/env python3
"""Take screenshots of every page for the README: desktop (1280 wide) and phone
(375 wide), in English, Simplified and Traditional Chinese, into docs/screenshots/.

    python scripts/screenshots.py [--out docs/screenshots]
                                  [--pages register login welcome security admin share drop]

It starts its own ``serve.py`` on a free loopback port with a temporary data
directory, makes an admin account with ``python -m authupload users add`` (the
way an operator makes the first one), creates a demo account with a few files,
one unfinished upload, a password-protected share and an upload request through
the API, and drives
Debian's Chromium (/usr/bin/chromium) with Playwright. Chinese text needs a CJK
font (apt-get install fonts-wqy-microhei), or it is drawn as empty boxes.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import requests
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("AUTHUPLOAD_CHROMIUM", "/usr/bin/chromium")
USERNAME = "alice2024"
PASSWORD = "correct horse battery"
ADMIN_NAME = "operator"
SHARE_PASSWORD = "lighthouse"
MIB = 1024 * 1024
PAGES = ["register", "login", "welcome", "security", "admin", "share", "drop"]

VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 375, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True},
}
# Page language → (browser locale, time zone) of a person who reads it.
LANGUAGES = {"en": ("en-US", "Europe/London"), "zh-CN": ("zh-CN", "Asia/Shanghai"), "zh-TW": ("zh-TW", "Asia/Taipei")}
DEMO_FILES = [
    ("Quarterly report 2026.pdf", 1_843_200, "application/pdf"),
    ("holiday-photo.jpg", 3_407_872, "image/jpeg"),
    ("会议纪要.docx", 48_128, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("旅遊行程.xlsx", 21_504, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("notes.txt", 2_150, "text/plain"),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_admin(data_dir: Path) -> None:
    """The first admin, from the command line beside the running server (which made
    the data directory): the way an operator makes the first one."""
    subprocess.run([sys.executable, "-m", "authupload", "users", "add", ADMIN_NAME, "--admin",
                    "--password-stdin", "--data-dir", str(data_dir)],
                   cwd=ROOT, input=PASSWORD + "\n", text=True, check=True, stdout=subprocess.DEVNULL)


def start_server(data_dir: Path) -> tuple[subprocess.Popen, str]:
    """serve.py on a free port; returns once /api/health answers (never a fixed sleep)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "serve.py"), "--host", "127.0.0.1", "--port", str(port),
         "--data-dir", str(data_dir), "--bcrypt-cost", "4"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"serve.py exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/api/health", timeout=1) as answer:
                if json.load(answer)["data"]["status"] == "ok":
                    return process, url
        except OSError:
            time.sleep(0.05)
    process.terminate()
    raise SystemExit("serve.py did not answer /api/health in time")


def demo_account(url: str) -> str:
    """Register the demo user, upload a few files, return a token."""
    requests.post(f"{url}/api/register", json={"username": USERNAME, "password": PASSWORD}, timeout=10)
    token = requests.post(f"{url}/api/login", json={"username": USERNAME, "password": PASSWORD},
                          timeout=10).json()["data"]["access_token"]
    for name, size, content_type in DEMO_FILES:
        answer = requests.post(f"{url}/api/files", headers={"Authorization": f"Bearer {token}"},
                               files={"file": (name, os.urandom(size), content_type)}, timeout=30)
        answer.raise_for_status()
        time.sleep(1.1)  # distinct upload times, so the dates column looks real
    abandon_an_upload(url, token)
    return token


def abandon_an_upload(url: str, token: str) -> None:
    """A tus upload that stopped after its first 6 MiB, as a closed laptop leaves
    it: the workspace lists it under "Unfinished uploads"."""
    name = base64.b64encode("backup-2026-03.tar".encode()).decode()
    tus = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
    created = requests.post(f"{url}/api/uploads", headers={**tus, "Upload-Length": str(16 * MIB),
                                                             "Upload-Metadata": f"filename {name}"}, timeout=10)
    created.raise_for_status()
    requests.patch(url + created.headers["Location"], data=os.urandom(6 * MIB), timeout=30, headers={
        **tus, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}).raise_for_status()


def login(url: str, username: str) -> str:
    answer = requests.post(f"{url}/api/login", json={"username": username, "password": PASSWORD}, timeout=10)
    answer.raise_for_status()
    return answer.json()["data"]["access_token"]


def admin_demo(url: str) -> str:
    """A few more accounts, one of them disabled, and an invite: the admin page's
    tables and audit log have something to show. Returns the admin's token."""
    token = login(url, ADMIN_NAME)
    bearer = {"Authorization": f"Bearer {token}"}
    for username, extra in [("bobsmith", {"quota_bytes": 2 * 1024 * MIB}), ("王小明2026", {}), ("carol1990", {})]:
        created = requests.post(f"{url}/api/admin/users", headers=bearer, timeout=10,
                                json={"username": username, "password": PASSWORD, **extra})
        created.raise_for_status()
    login(url, "bobsmith")
    carol = created.json()["data"]["id"]
    requests.patch(f"{url}/api/admin/users/{carol}", headers=bearer, json={"disabled": True},
                   timeout=10).raise_for_status()
    requests.post(f"{url}/api/admin/invites", headers=bearer, json={"uses": 5, "expires_in": 3 * 86400},
                  timeout=10).raise_for_status()
    return token


def share_link(url: str, token: str) -> str:
    """A share of the demo account's report and photo, with a password and a note."""
    bearer = {"Authorization": f"Bearer {token}"}
    files = requests.get(f"{url}/api/files", headers=bearer, timeout=10).json()["data"]["files"]
    answer = requests.post(f"{url}/api/shares", headers=bearer, timeout=10, json={
        "file_ids": [file["id"] for file in files if file["name"] in {DEMO_FILES[0][0], DEMO_FILES[1][0]}], "password": SHARE_PASSWORD, "max_downloads": 10,
        "note": "The report and the photo from the trip. The password is the one we agreed on."})
    answer.raise_for_status()
    return answer.json()["data"]["url"]


def request_link(url: str, token: str) -> str:
    """An upload request: someone without an account may send up to 10 files."""
    answer = requests.post(f"{url}/api/requests", headers={"Authorization": f"Bearer {token}"}, timeout=10,
                           json={"title": "Photos from the wedding", "max_files": 10, "max_bytes": 500 * MIB,
                                 "note": "Send me your best photos, originals please: no need to make them smaller."})
    answer.raise_for_status()
    return answer.json()["data"]["url"]


def shoot_admin(page, url: str, token: str, path: Path) -> None:
    page.goto(f"{url}/login.html")
    page.evaluate("token => localStorage.setItem('token', token)", token)
    page.goto(f"{url}/admin.html")
    page.wait_for_selector("#userRows tr")
    page.wait_for_selector("#inviteList li")
    page.wait_for_selector("#eventRows tr")
    page.screenshot(path=path, full_page=True)


def shoot_share(page, share_url: str, path: Path) -> None:
    """The share page after the visitor typed the password: the files and the ZIP button."""
    page.goto(share_url)
    page.fill("#sharePassword", SHARE_PASSWORD)
    page.click("#unlockButton")
    page.wait_for_selector("#sharedFiles li")
    page.mouse.move(0, 0)  # the pointer left on the unlock button would hover what took its place
    page.screenshot(path=path, full_page=True)


def shoot_drop(page, drop_url: str, path: Path, photo: Path) -> None:
    """The drop page after the sender gave a name and sent one photo."""
    page.goto(drop_url)
    page.fill("#senderName", "Li Wei")
    page.click("#sessionButton")
    page.wait_for_selector("#uploadForm:not([hidden])")
    page.set_input_files("#fileInput", str(photo))
    page.wait_for_selector(".upload-row.is-done", timeout=30_000)
    # The bar eases to each new width over 0.2 s (app.css). Playwright's animations="disabled"
    # does not reach a <progress> bar's inner part and the page's CSP refuses an injected
    # style, so let the transition end, or the shot shows "100%" under a bar short of it.
    page.wait_for_timeout(500)
    page.screenshot(path=path, full_page=True)


def shoot_register(page, url: str, path: Path) -> None:
    page.goto(f"{url}/register.html")
    page.fill("#username", "bob")
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    page.locator("#username").blur()
    page.wait_for_selector("#usernameError:not(:empty)")
    page.screenshot(path=path, full_page=True)


def shoot_login(page, url: str, path: Path) -> None:
    page.goto(f"{url}/login.html?reason=token_expired&next=%2Fwelcome.html")
    page.fill("#username", USERNAME)
    page.screenshot(path=path, full_page=True)


def sign_in_elsewhere(url: str) -> None:
    """Two more sessions of the demo account, from a phone and a laptop, and one mistyped
    password: the security page's sessions and activity lists have something to show."""
    for user_agent, password in [
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
         " Version/18.1 Mobile/15E148 Safari/604.1", "not my password"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
         " Version/18.1 Mobile/15E148 Safari/604.1", PASSWORD),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0", PASSWORD),
    ]:
        requests.post(f"{url}/api/login", json={"username": USERNAME, "password": password},
                      headers={"User-Agent": user_agent}, timeout=10)


def shoot_security(page, url: str, token: str, path: Path) -> None:
    """The security page halfway through turning two-factor sign-in on: the QR code and the key."""
    page.goto(f"{url}/login.html")
    page.evaluate("token => localStorage.setItem('token', token)", token)
    page.goto(f"{url}/security.html")
    page.wait_for_selector("#sessionList .session-row")
    page.fill("#setupPassword", PASSWORD)
    page.click("#setupSubmit")
    page.wait_for_selector("#qrCode svg")
    page.screenshot(path=path, full_page=True)


def shoot_welcome(page, url: str, token: str, path: Path, upload: Path) -> None:
    page.goto(f"{url}/login.html")
    page.evaluate("token => localStorage.setItem('token', token)", token)
    page.goto(f"{url}/welcome.html")
    page.wait_for_selector("#workspace:not([hidden])")
    page.wait_for_selector("#fileRows tr")
    # One upload caught mid-way, so the progress bar shows: slow the network down.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions",
             {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 2 * MIB})
    page.set_input_files("#fileInput", str(upload))
    page.wait_for_function("() => { const bar = document.querySelector('.upload-bar');"
                           " return bar && bar.value >= 30; }", timeout=30_000)
    page.wait_for_function("() => document.querySelector('.upload-speed').textContent !== ''")
    page.screenshot(path=path, full_page=True)
    # Leave no half upload behind for the next screenshot.
    page.locator(".upload-cancel").first.click()
    page.wait_for_selector(".upload-row.is-cancelled")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--pages", nargs="+", choices=PAGES, default=PAGES, help="only these pages")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        upload = scratch / "team-video.mp4"
        upload.write_bytes(os.urandom(24 * MIB))
        photo = scratch / "first-dance.jpg"
        photo.write_bytes(os.urandom(MIB))
        process, url = start_server(scratch / "data")
        try:
            make_admin(scratch / "data")
            token = demo_account(url)
            sign_in_elsewhere(url)
            admin_token = admin_demo(url)
            share_url = share_link(url, token)
            drop_url = request_link(url, token)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
                for lang, (locale, time_zone) in LANGUAGES.items():
                    for form, options in VIEWPORTS.items():
                        context = browser.new_context(locale=locale, timezone_id=time_zone, **options)
                        context.set_default_timeout(15_000)
                        page = context.new_page()
                        if "register" in args.pages:
                            shoot_register(page, url, args.out / f"register-{form}-{lang}.png")
                        if "login" in args.pages:
                            shoot_login(page, url, args.out / f"login-{form}-{lang}.png")
                        if "welcome" in args.pages:
                            shoot_welcome(page, url, token, args.out / f"welcome-{form}-{lang}.png", upload)
                        if "security" in args.pages:
                            shoot_security(page, url, token, args.out / f"security-{form}-{lang}.png")
                        if "admin" in args.pages:
                            shoot_admin(page, url, admin_token, args.out / f"admin-{form}-{lang}.png")
                        if "share" in args.pages:
                            shoot_share(page, share_url, args.out / f"share-{form}-{lang}.png")
                        if "drop" in args.pages:
                            shoot_drop(page, drop_url, args.out / f"drop-{form}-{lang}.png", photo)
                        context.close()
                        print(f"{lang} {form}: done")
                browser.close()
        finally:
            process.terminate()
            process.wait(timeout=10)
    print(f"screenshots written to {args.out}")


if __name__ == "__main__":
    main()
