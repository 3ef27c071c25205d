"""The workspace is reachable only when logged in: no token, an expired token
(noticed before any request) or a 401 from the server (a revoked token) leads
to the login page with the reason, and back to the workspace after logging in.
While the workspace is open the token is refreshed before it expires."""

import re
import time

import pytest
from playwright.sync_api import expect

from browser_harness import PASSWORD, fake_jwt, open_workspace

pytestmark = pytest.mark.browser


def test_root_without_a_token_leads_to_login_and_back(page, server):
    username = server.register()
    page.goto(f"{server.url}/")  # the server redirects / to the workspace
    page.wait_for_url(re.compile(r"/login\.html\?reason=token_missing&next=%2Fwelcome\.html$"))
    expect(page.locator("#infoAlert")).to_have_text("Please log in to open your files.")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#loginForm button[type=submit]")
    page.wait_for_url(re.compile(r"/welcome\.html$"))
    expect(page.locator("#currentUser")).to_have_text(username)


def test_expired_token_is_noticed_before_any_request(page, server):
    expired = fake_jwt(sub="1", name="someone", iat=int(time.time()) - 3600, exp=int(time.time()) - 60, jti="x")
    page.goto(f"{server.url}/login.html")
    page.evaluate("token => localStorage.setItem('token', token)", expired)
    api_calls = []
    # GET /api/config (public, no token: the login page reads the registration mode) does not count.
    page.on("request", lambda request: api_calls.append(request.url)
            if "/api/" in request.url and not request.url.endswith("/api/config") else None)
    page.goto(f"{server.url}/welcome.html")
    page.wait_for_url(re.compile(r"/login\.html\?reason=token_expired"))
    expect(page.locator("#infoAlert")).to_have_text("Your session has expired. Please log in again.")
    assert api_calls == []
    assert page.evaluate("localStorage.getItem('token')") is None


def test_revoked_token_leads_to_login_on_the_next_request(page, server):
    _, token = server.account()
    open_workspace(page, server, token)
    # The same session logs out elsewhere (another tab, device, or the API).
    assert server.api("POST", "/api/logout", token).status_code == 200
    # The refresh asks for /api/me, the folder, its files and /api/uploads at once;
    # whichever 401 comes first sends the page away (and may cancel the others).
    with page.expect_response(lambda r: re.search(r"/api/(me|files|folders/\w+|uploads)(\?|$)", r.url)) as answer:
        page.click("#refreshButton")
    assert answer.value.status == 401
    page.wait_for_url(re.compile(r"/login\.html\?reason=token_revoked"))
    expect(page.locator("#infoAlert")).to_contain_text("Your session was ended")


def test_logout_in_another_context_does_not_end_this_session(new_context, server):
    username = server.register()
    first, second = new_context().new_page(), new_context().new_page()
    open_workspace(first, server, server.login(username))
    open_workspace(second, server, server.login(username))
    second.click("#logoutButton")
    second.wait_for_url(re.compile(r"/login\.html"))
    with first.expect_response(lambda r: r.url.endswith("/api/me")) as answer:
        first.click("#refreshButton")
    assert answer.value.status == 200
    expect(first.locator("#currentUser")).to_have_text(username)


def test_token_is_refreshed_while_the_workspace_is_open(page, tight_server):
    # tight_server issues 12-second tokens; the page refreshes 3 s before expiry.
    _, token = tight_server.account()
    open_workspace(page, tight_server, token)
    with page.expect_response(lambda r: r.url.endswith("/api/token/refresh"), timeout=15_000) as answer:
        pass
    assert answer.value.status == 200
    fresh = page.evaluate("localStorage.getItem('token')")
    assert fresh and fresh != token
    # Still at work after the first token has expired.
    page.wait_for_timeout(max(0, 13_000 - 9_000))
    with page.expect_response(lambda r: r.url.endswith("/api/me")) as me:
        page.click("#refreshButton")
    assert me.value.status == 200
    assert re.search(r"/welcome\.html$", page.url)
