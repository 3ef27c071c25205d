"""The admin page and the invite flow in Chromium, against a real serve.py in invite
mode whose first admin was made by the real command line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from browser_harness import PASSWORD, Server, open_workspace, unique_username
from live_server import ROOT, LiveServer

pytestmark = pytest.mark.browser

SCREENSHOTS = ROOT / "tests" / "browser" / "out"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def invite_server(tmp_path_factory):
    """serve.py with --registration invite, and its first admin made by ``python -m authupload``."""
    data_dir = tmp_path_factory.mktemp("invite-server") / "data"
    with LiveServer(data_dir, "--bcrypt-cost", "4", "--registration", "invite") as live:
        admin = unique_username()
        made = subprocess.run([sys.executable, "-m", "authupload", "users", "add", admin, "--admin",
                               "--password-stdin", "--data-dir", str(data_dir)],
                              input=PASSWORD, capture_output=True, text=True, cwd=ROOT, timeout=60,
                              env={"PATH": "/usr/bin:/bin", "AUTHUPLOAD_BCRYPT_COST": "4"})
        assert made.returncode == 0, made.stderr
        server = Server(live)
        server.admin = admin
        yield server


def shoot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


def open_admin_page(page, server) -> None:
    open_workspace(page, server, server.login(server.admin))
    page.click("#adminLink")
    page.wait_for_url(re.compile(r"/admin\.html$"))
    expect(page.locator("#adminPage")).to_be_visible()


def test_register_by_invite_link_then_disabling_sends_the_open_workspace_to_login(invite_server, new_context):
    admin_page = new_context().new_page()
    open_admin_page(admin_page, invite_server)
    admin_page.fill("#inviteUses", "1")
    with admin_page.expect_response(lambda r: r.url.endswith("/api/admin/invites") and r.request.method == "POST"):
        admin_page.click("#inviteSubmit")
    link = admin_page.locator(".invite-link").first
    expect(link).to_have_value(re.compile(r"/register\.html\?invite="))
    invite_url = link.input_value()

    # The invited person: the link fills in the code; they register and log in.
    guest = new_context().new_page()
    guest.goto(invite_url)
    expect(guest.locator("#inviteField")).to_be_visible()
    expect(guest.locator("#invite")).to_have_value(invite_url.split("invite=", 1)[1])
    name = unique_username()
    guest.fill("#username", name)
    guest.fill("#password", PASSWORD)
    guest.fill("#confirm", PASSWORD)
    with guest.expect_response(lambda r: r.url.endswith("/api/register")) as answer:
        guest.click("#registerForm button[type=submit]")
    assert answer.value.status == 200
    guest.wait_for_url(re.compile(r"/login\.html"))
    guest.fill("#username", name)
    guest.fill("#password", PASSWORD)
    guest.click("#loginForm button[type=submit]")
    guest.wait_for_url(re.compile(r"/welcome\.html$"))
    expect(guest.locator("#workspace")).to_be_visible()
    expect(guest.locator("#adminLink")).to_be_hidden()

    # The admin finds them and disables the account.
    admin_page.reload()
    admin_page.fill("#userSearch", name)
    row = admin_page.locator(f"#userRows tr[data-username='{name}']")
    expect(row).to_be_visible()
    with admin_page.expect_response(lambda r: "/api/admin/users/" in r.url and r.request.method == "PATCH"):
        row.get_by_role("button", name="Disable").click()
    expect(row.locator(".badge-disabled")).to_be_visible()

    # The open workspace notices when it is looked at again, and leaves for the login page.
    guest.evaluate("window.dispatchEvent(new Event('focus'))")
    guest.wait_for_url(re.compile(r"/login\.html\?reason=token_revoked"))
    expect(guest.locator("#infoAlert")).to_contain_text("session was ended")
    guest.fill("#username", name)
    guest.fill("#password", PASSWORD)
    guest.click("#loginForm button[type=submit]")
    expect(guest.locator("#errorAlert")).to_contain_text("disabled")

    # Both logins are in the audit log.
    admin_page.reload()
    admin_page.select_option("#eventType", "login")
    expect(admin_page.locator("#eventRows tr[data-type='login']").first).to_be_visible()
    logged = admin_page.locator("#eventRows").inner_text()
    assert name in logged and invite_server.admin in logged
    # The account change says which admin made it, by name.
    admin_page.select_option("#eventType", "user_changed")
    expect(admin_page.locator("#eventRows tr[data-type='user_changed']").first).to_contain_text(
        f"admin {invite_server.admin}")


def test_deleting_asks_with_the_accounts_name(invite_server, page):
    token = invite_server.login(invite_server.admin)
    name = unique_username()
    made = invite_server.api("POST", "/api/admin/users", token, json={"username": name, "password": PASSWORD})
    assert made.status_code == 201, made.text
    open_admin_page(page, invite_server)
    page.fill("#userSearch", name)
    row = page.locator(f"#userRows tr[data-username='{name}']")
    row.get_by_role("button", name="Delete…").click()
    dialog = page.locator("#userDialog")
    expect(dialog).to_contain_text(name)
    dialog.get_by_role("button", name="Cancel").click()
    expect(row).to_be_visible()
    row.get_by_role("button", name="Delete…").click()
    with page.expect_response(lambda r: r.request.method == "DELETE"):
        dialog.get_by_role("button", name=f"Delete {name}").click()
    expect(row).to_have_count(0)


def test_a_plain_user_sees_no_admin_link_and_no_admin_page(invite_server, page):
    token = invite_server.login(invite_server.admin)
    name = unique_username()
    invite_server.api("POST", "/api/admin/users", token, json={"username": name, "password": PASSWORD})
    open_workspace(page, invite_server, invite_server.login(name))
    expect(page.locator("#adminLink")).to_be_hidden()
    page.goto(f"{invite_server.url}/admin.html")
    expect(page.locator("#forbiddenNotice")).to_be_visible()
    expect(page.locator("#adminPage")).to_be_hidden()


@pytest.mark.parametrize("locale, lang", [("en-US", "en"), ("zh-TW", "zh-TW"), ("zh-CN", "zh-CN")])
def test_the_admin_page_speaks_every_language_and_fits_a_phone(invite_server, new_context, locale, lang):
    for size, viewport in (("desktop", {"width": 1280, "height": 900}), ("phone", PHONE)):
        page = new_context(locale=locale, viewport=viewport).new_page()
        open_admin_page(page, invite_server)
        expect(page.locator("#userRows tr").first).to_be_visible()
        expect(page.locator("#eventRows tr").first).to_be_visible()
        if size == "desktop":  # an account's actions on one line, not wrapped under each other
            buttons = page.locator("#userRows tr").first.locator("td.actions .btn").all()
            assert len({round(button.bounding_box()["y"]) for button in buttons}) == 1
        assert page.evaluate("document.documentElement.lang") == lang
        # Nothing wider than the screen: no sideways scrolling on a phone.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), size
        shoot(page, f"admin-{size}-{lang}")


def test_register_page_asks_for_an_invite_in_invite_mode(invite_server, page):
    page.goto(f"{invite_server.url}/register.html")
    expect(page.locator("#inviteField")).to_be_visible()
    page.fill("#invite", "1-00000000000000000000000000000000")
    page.fill("#username", unique_username())
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    page.click("#registerForm button[type=submit]")
    expect(page.locator("#inviteError")).to_contain_text("invite code")


def test_closed_mode_says_so_and_login_hides_its_register_link(tmp_path, new_context):
    with LiveServer(tmp_path / "data", "--bcrypt-cost", "4", "--registration", "closed") as live:
        page = new_context().new_page()
        page.goto(f"{live.url}/register.html")
        expect(page.locator("#closedNotice")).to_be_visible()
        expect(page.locator("#registerForm")).to_be_hidden()
        page.goto(f"{live.url}/login.html")
        expect(page.locator("#signupLink")).to_be_hidden()
