"""The login page: token stored, on to `next` or the workspace; wrong
credentials, throttling (with the wait), a busy server and network failure each
get their own clear message."""

import json
import re

import pytest
from playwright.sync_api import expect

from browser_harness import PASSWORD

pytestmark = pytest.mark.browser


def log_in(page, username, password):
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_response(lambda r: r.url.endswith("/api/login")) as answer:
        page.click("#loginForm button[type=submit]")
    return answer.value


def test_login_keeps_the_token_and_opens_the_workspace(page, server):
    username = server.register()
    page.goto(f"{server.url}/login.html")
    assert log_in(page, username, PASSWORD).status == 200
    expect(page.locator("#successAlert")).to_have_text("Logged in. Opening your files…")
    page.wait_for_url(re.compile(r"/welcome\.html$"))
    token = page.evaluate("localStorage.getItem('token')")
    assert server.api("GET", "/api/me", token).json()["data"]["username"] == username


def test_wrong_password_says_so(page, server):
    username = server.register()
    page.goto(f"{server.url}/login.html")
    assert log_in(page, username, "not the password").status == 401
    expect(page.locator("#errorAlert")).to_have_text("Wrong username or password.")
    assert page.evaluate("localStorage.getItem('token')") is None


def test_empty_fields_are_named(page, server):
    page.goto(f"{server.url}/login.html")
    page.click("#loginForm button[type=submit]")
    expect(page.locator("#usernameError")).to_have_text("Enter your username.")
    expect(page.locator("#passwordError")).to_have_text("Enter your password.")


def test_throttled_login_shows_the_wait(page, server):
    username = server.register()  # the test server locks a username after 3 failures
    page.goto(f"{server.url}/login.html")
    for _ in range(3):
        log_in(page, username, "wrong password")
    answer = log_in(page, username, PASSWORD)
    assert answer.status == 429
    assert answer.headers.get("retry-after")
    expect(page.locator("#errorAlert")).to_contain_text("Too many failed attempts. Please try again in")
    expect(page.locator("#errorAlert")).to_contain_text("min")


def test_busy_server_says_try_again(page, server):
    # Forcing a real 503 needs a login storm; the page's part is to read the key.
    body = {"code": 503, "message": "busy", "data": {"error": "server_busy"}}
    page.route("**/api/login", lambda route: route.fulfill(status=503, json=body, headers={"Retry-After": "1"}))
    page.goto(f"{server.url}/login.html")
    log_in(page, "someone1", PASSWORD)
    expect(page.locator("#errorAlert")).to_have_text("The server is busy right now. Please try again in a moment.")


def test_network_failure_says_the_server_cannot_be_reached(page, server):
    page.goto(f"{server.url}/login.html")
    page.route("**/api/login", lambda route: route.abort("connectionrefused"))
    page.fill("#username", "someone1")
    page.fill("#password", PASSWORD)
    page.click("#loginForm button[type=submit]")
    expect(page.locator("#errorAlert")).to_have_text("Cannot reach the server. Check your connection and try again.")


def test_next_leads_back_only_to_this_site(page, server):
    username = server.register()
    page.goto(f"{server.url}/login.html?next=https://evil.example/")
    log_in(page, username, PASSWORD)
    page.wait_for_url(re.compile(r"/welcome\.html$"))
    assert page.url.startswith(server.url)


def test_unknown_error_key_never_shows_raw_json(page, server):
    body = {"code": 418, "message": "I am a teapot.", "data": {"error": "brand_new_key"}}
    page.route("**/api/login", lambda route: route.fulfill(status=418, body=json.dumps(body),
                                                            content_type="application/json"))
    page.goto(f"{server.url}/login.html")
    log_in(page, "someone1", PASSWORD)
    expect(page.locator("#errorAlert")).to_have_text("I am a teapot.")
