"""A busy server is waited out, not shown as a failure: a real 503 server_busy
with Retry-After (the bcrypt gate full) makes the page say "Server busy,
retrying in 2 s…" and send the request again by itself, which succeeds once the
burst is over."""

import re
import threading

import pytest
import requests
from playwright.sync_api import expect

from browser_harness import PASSWORD, Server
from live_server import LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def busy_server(tmp_path_factory):
    """One bcrypt hash at a time and no place to wait: while one login hashes,
    the next is 503 with Retry-After. Cost 13 makes each hash last long enough
    that a page's request hardly ever slips in between."""
    flags = ("--bcrypt-cost", "13", "--hash-concurrency", "1", "--hash-queue-limit", "0")
    with LiveServer(tmp_path_factory.mktemp("busy-server") / "data", *flags) as live:
        yield Server(live)


def keep_logging_in(server, username, stop):
    """Someone else's login burst: a login always waiting for the one bcrypt slot."""
    with requests.Session() as session:
        while not stop.is_set():
            session.post(f"{server.url}/api/login", json={"username": username, "password": PASSWORD}, timeout=30)


def test_a_busy_server_is_retried_after_retry_after_with_a_notice(page, busy_server):
    others = busy_server.register()
    username = busy_server.register()
    answers = []
    page.on("response", lambda r: answers.append((r.status, r.headers.get("retry-after")))
            if r.url.endswith("/api/login") else None)
    page.goto(f"{busy_server.url}/login.html")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)

    stop = threading.Event()
    burst = [threading.Thread(target=keep_logging_in, args=(busy_server, others, stop)) for _ in range(3)]
    for thread in burst:
        thread.start()
    try:
        page.click("#loginForm button[type=submit]")
        notice = page.locator("#busyNotice")
        expect(notice).to_have_text(re.compile(r"^Server busy, retrying in \d+ s…$"), timeout=15_000)
        expect(notice).to_have_attribute("role", "status")
        expect(page.locator("#errorAlert")).to_be_empty()  # waiting is not a failure
        page.select_option("#langSelect", "zh-TW")  # said in every page language
        expect(notice).to_have_text(re.compile(r"^伺服器忙碌中，\d+ 秒後自動重試…$"))
    finally:
        stop.set()
        for thread in burst:
            thread.join()

    page.wait_for_url(re.compile(r"/welcome\.html$"), timeout=20_000)
    assert any(status == 503 and wait and wait.isdigit() for status, wait in answers)
    assert answers[-1] == (200, None)
