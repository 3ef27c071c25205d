"""Fixtures for the real-browser tests: a real ``serve.py`` process, Debian's
Chromium driven by Playwright, a fresh browser context (empty localStorage) per
test, and helpers that set up accounts through the API so each test drives the
page it is about.

Run with

    python -m pytest -m browser tests/browser

Nothing downloads a browser: Chromium is /usr/bin/chromium (apt), and
``playwright install`` is never run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from browser_harness import MIB, Server
from live_server import LiveServer

CHROMIUM = os.environ.get("AUTHUPLOAD_CHROMIUM", "/usr/bin/chromium")

# The session server: failed-login limits low per username (so the throttling
# test needs few attempts) but high per address (every test logs in from
# 127.0.0.1, and wrong-password tests must not lock the others out).
SERVER_FLAGS = (
    "--bcrypt-cost", "4",
    "--max-failures-per-username", "3",
    "--max-failures-per-address", "10000",
)
# A second server with tiny limits: size, quota and a short-lived token.
TIGHT_FLAGS = (
    "--bcrypt-cost", "4",
    "--max-file-bytes", str(2 * MIB),
    "--quota-bytes", str(3 * MIB),
    "--token-ttl-seconds", "12",
)


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives a real Chromium through Playwright")


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    with LiveServer(tmp_path_factory.mktemp("browser-server") / "data", *SERVER_FLAGS) as live:
        yield Server(live)


@pytest.fixture(scope="session")
def tight_server(tmp_path_factory):
    """Started only by the tests that ask for it: 2 MiB files, 3 MiB quota, 12 s tokens."""
    with LiveServer(tmp_path_factory.mktemp("browser-tight-server") / "data", *TIGHT_FLAGS) as live:
        yield Server(live)


# ---- Browser -------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium"
        if os.environ.get("AUTHUPLOAD_REQUIRE_BROWSER") or os.environ.get("CI"):
            pytest.fail(message)  # in CI a missing browser is a failure, never a skip
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_context(browser):
    """Make browser contexts (fresh profiles); all are closed after the test."""
    contexts = []

    def make(**options):
        options = {"locale": "en-US", "accept_downloads": True, **options}
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context):
    page = new_context().new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(error))
    # The pages must live with the server's Content-Security-Policy: no inline
    # script, no style attributes. Chromium reports violations on the console.
    page.on("console", lambda message: page.errors.append(message.text)
            if "Content Security Policy" in message.text else None)
    yield page
    # An uncaught exception or a CSP violation is a bug even when the test passed.
    assert not page.errors, page.errors
