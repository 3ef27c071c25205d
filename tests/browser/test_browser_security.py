"""Account security in a real browser, as a new user would try it: turn on two-factor sign-in by
scanning the page's QR code (zbarimg plays the authenticator app's camera), sign in on a second
browser with a code, end that second session from the first, and see both sign-ins in the activity
list. Then the recovery-code way in, a wrong code, and the page at phone width in Chinese.
(The README's screenshots of this page come from scripts/screenshots.py.)"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from authupload.accounts import totp
from browser_harness import MIB, PASSWORD, Server, make_file, open_workspace, throttle_upload, unique_username
from live_server import ROOT, LiveServer
from test_browser_qr import decode

pytestmark = pytest.mark.browser

def app_code(secret: str, steps_ahead: int = 0) -> str:
    """What an authenticator app holding ``secret`` shows now (or one step later: the server allows
    one step of drift, and a code already used is refused)."""
    return totp.code_at(totp.secret_from_base32(secret), time.time() + steps_ahead * totp.STEP_SECONDS)


def scan_qr_code(page, tmp_path) -> str:
    """Photograph the QR code on the page and decode it, as a phone's authenticator app does."""
    image = tmp_path / "qr.png"
    page.locator("#qrCode svg").screenshot(path=str(image))
    return decode(image)


def log_in_with_password(page, server, username: str) -> None:
    page.goto(f"{server.url}/login.html")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#loginForm button[type=submit]")


def turn_on_through_the_api(server, token: str) -> tuple[str, list[str]]:
    setup = server.api("POST", "/api/totp/setup", token, json={"password": PASSWORD}).json()["data"]
    enabled = server.api("POST", "/api/totp/enable", token, json={"code": app_code(setup["secret"])})
    assert enabled.status_code == 200, enabled.text
    return setup["secret"], enabled.json()["data"]["recovery_codes"]


def test_turn_on_scan_sign_in_elsewhere_end_that_session_and_see_both_sign_ins(page, server, new_context, tmp_path):
    username, token = server.account()
    open_workspace(page, server, token)

    # From the workspace header to the security page.
    page.click("#securityLink")
    page.wait_for_url(re.compile(r"/security\.html$"))
    expect(page.locator("#tfaState")).to_contain_text("Off")

    # Behind the password: the QR code drawn in the page, and the key as text.
    page.fill("#setupPassword", PASSWORD)
    with page.expect_response(lambda r: r.url.endswith("/api/totp/setup")) as answer:
        page.press("#setupPassword", "Enter")  # the keyboard is enough
    issued = answer.value.json()["data"]
    expect(page.locator("#qrCode svg")).to_be_visible()
    scanned = scan_qr_code(page, tmp_path)
    assert scanned == issued["otpauth_uri"]
    secret = parse_qs(urlsplit(scanned).query)["secret"][0]  # what the app keeps from the scan
    assert page.locator("#secretText").inner_text().replace(" ", "") == secret
    page.screenshot(path=str(tmp_path / "setup.png"), full_page=True)

    # Confirm with the app's code: on, and ten recovery codes shown once.
    page.fill("#enableCode", app_code(secret))
    page.click("#enableSubmit")
    expect(page.locator("#recoveryPanel")).to_be_visible()
    expect(page.locator("#recoveryCodes li")).to_have_count(10)
    expect(page.locator("#tfaState")).to_contain_text("On")
    expect(page.locator("#qrCode svg")).to_have_count(0)  # the secret is off the screen
    with page.expect_download() as downloaded:
        page.click("#downloadCodes")
    saved = open(downloaded.value.path(), encoding="utf-8").read()
    shown = page.locator("#recoveryCodes li").all_inner_texts()
    assert all(code in saved for code in shown)
    page.screenshot(path=str(tmp_path / "recovery.png"), full_page=True)
    page.click("#recoveryDone")
    expect(page.locator("#manageForm")).to_be_visible()

    # A second browser: the password is not enough, the code finishes the login.
    other = new_context().new_page()
    log_in_with_password(other, server, username)
    expect(other.locator("#codeForm")).to_be_visible()
    expect(other.locator("#loginForm")).to_be_hidden()
    other.screenshot(path=str(tmp_path / "login-code.png"), full_page=True)
    other.fill("#code", app_code(secret, steps_ahead=1))
    other.press("#code", "Enter")
    other.wait_for_url(re.compile(r"/welcome\.html$"))
    expect(other.locator("#workspace")).to_be_visible()

    # The first browser sees both sessions, this one marked, and ends the other.
    page.reload()
    rows = page.locator("#sessionList .session-row")
    expect(rows).to_have_count(2)
    expect(page.locator("#sessionList .is-current .badge")).to_have_text("This device")
    page.screenshot(path=str(tmp_path / "sessions.png"), full_page=True)
    page.locator("#sessionList .session-row:not(.is-current) .session-end").click()
    expect(page.locator("#successAlert")).to_contain_text("ended")
    expect(rows).to_have_count(1)

    # The second browser's next request is refused: its workspace goes to the login page.
    other.click("#refreshButton")
    other.wait_for_url(re.compile(r"/login\.html\?.*reason=token_revoked"))
    expect(other.locator("#infoAlert")).to_contain_text("signed this device out")

    # Both sign-ins are in the activity list, the ended session too.
    activity = page.locator("#activityRows tr")
    expect(page.locator("#activityRows tr[data-type=login]")).to_have_count(2)
    expect(page.locator("#activityRows tr[data-type=session_revoked]")).to_have_count(1)
    expect(page.locator("#activityRows tr[data-type=totp_enabled]")).to_have_count(1)
    assert "127.0.0.1" in activity.first.inner_text()
    page.screenshot(path=str(tmp_path / "activity.png"), full_page=True)


def test_a_recovery_code_signs_in_when_the_phone_is_lost(page, server):
    username, token = server.account()
    _, recovery_codes = turn_on_through_the_api(server, token)
    log_in_with_password(page, server, username)
    expect(page.locator("#codeLabel")).to_have_text("Code from the app")
    page.click("#switchCodeKind")
    expect(page.locator("#codeLabel")).to_have_text("Recovery code")
    expect(page.locator("#code")).to_be_focused()
    page.keyboard.type(recovery_codes[0].upper())
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/welcome\.html$"))


def test_a_wrong_code_is_said_beside_the_field_and_start_over_returns_to_the_password(page, server):
    username, token = server.account()
    turn_on_through_the_api(server, token)
    log_in_with_password(page, server, username)
    page.fill("#code", "000000")
    with page.expect_response(lambda r: r.url.endswith("/api/login/totp")) as answer:
        page.click("#codeSubmit")
    assert answer.value.status == 401
    expect(page.locator("#codeError")).to_have_text("That code is wrong, expired or already used.")
    expect(page.locator("#code")).to_have_attribute("aria-invalid", "true")
    assert "token" not in page.evaluate("Object.keys(localStorage)")
    page.click("#startOver")
    expect(page.locator("#loginForm")).to_be_visible()
    expect(page.locator("#password")).to_be_focused()


@pytest.mark.parametrize("while_away", [False, True])
def test_an_upload_cut_off_by_its_session_ending_resumes_after_the_next_login(page, server, tmp_path, while_away):
    """The Upload-Token dies with its session; the same file picked again after logging in
    goes on from the bytes the server has, with the new access token, instead of from zero —
    whether the page saw its session end (its next PATCH refused) or was closed meanwhile
    (the remembered Upload-Token is refused on resume)."""
    username, token = server.account()
    sample = make_file(tmp_path, "big-video.mp4", 16 * MIB)  # two PATCHes of 8 MiB
    open_workspace(page, server, token)
    throttle_upload(page, 4 * MIB)
    elsewhere = []

    def sign_out_everywhere_else() -> None:
        """From another device: "sign out everywhere else" ends the page's session."""
        elsewhere.append(server.login(username))
        assert server.api("DELETE", "/api/sessions", elsewhere[0]).json()["data"] == {"ended": 1}

    def end_the_session_before_the_second_chunk(route):
        if route.request.method == "PATCH" and route.request.headers.get("upload-offset") != "0" and not elsewhere:
            sign_out_everywhere_else()
        route.continue_()

    if not while_away:
        page.route("**/api/uploads/*", end_the_session_before_the_second_chunk)
    with page.expect_response(lambda r: "/api/uploads/" in r.url and r.request.method == "PATCH") as first:
        page.set_input_files("#fileInput", str(sample))
    assert first.value.status == 204 and int(first.value.headers["upload-offset"]) == 8 * MIB
    if while_away:
        page.goto(f"{server.url}/login.html")  # the tab is left mid-upload; the upload is remembered
        sign_out_everywhere_else()
    else:
        page.wait_for_url(re.compile(r"/login\.html\?.*reason=token_revoked"), timeout=30_000)
        page.unroute("**/api/uploads/*")

    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#loginForm button[type=submit]")
    page.wait_for_url(re.compile(r"/welcome\.html$"))
    requests = []
    page.on("request", lambda request: requests.append((request.method, request.url)) if "/api/uploads" in request.url
            else None)
    with page.expect_response(lambda r: "/api/uploads/" in r.url and r.request.method == "PATCH",
                              timeout=30_000) as resumed:
        page.set_input_files("#fileInput", str(sample))
    assert resumed.value.status == 204
    # On from where it stopped: at least the acknowledged 8 MiB, plus whatever of the
    # cut-off second PATCH had arrived (the server keeps the bytes of a cut-off PATCH).
    assert 8 * MIB <= int(resumed.value.request.headers["upload-offset"]) < 16 * MIB
    assert not [url for method, url in requests if method == "POST"]  # no new upload was created
    expect(page.locator(".upload-row .upload-status").last).to_have_text("Uploaded.", timeout=30_000)
    assert [f["size"] for f in server.files(elsewhere[0])] == [16 * MIB]


@pytest.mark.parametrize("language, width", [("en", 1280), ("zh-CN", 1280), ("zh-TW", 375)])
def test_the_security_page_in_each_language_and_at_phone_width(new_context, server, tmp_path, language, width):
    username, token = server.account()
    page = new_context(locale=language, viewport={"width": width, "height": 900}).new_page()
    open_workspace(page, server, token)
    page.goto(f"{server.url}/security.html")
    expect(page.locator("#sessionList .session-row")).to_have_count(1)
    expected = {"en": "Two-factor sign-in", "zh-CN": "两步验证", "zh-TW": "兩步驟驗證"}[language]
    expect(page.locator("#tfaTitle")).to_have_text(expected)
    # Nothing wider than the screen: no sideways scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(tmp_path / f"security-{language}-{width}.png"), full_page=True)


def test_an_admin_removes_a_lost_second_factor_from_the_admin_page(tmp_path, new_context):
    """The phone is lost and the recovery codes with it: the admin's page shows who has a second
    factor and removes it after asking; the holder then signs in with the password alone."""
    data_dir = tmp_path / "data"
    with LiveServer(data_dir, "--bcrypt-cost", "4") as live:
        server = Server(live)
        admin = unique_username()
        made = subprocess.run([sys.executable, "-m", "authupload", "users", "add", admin, "--admin", "--password-stdin",
                               "--data-dir", str(data_dir)], input=PASSWORD, capture_output=True, text=True, cwd=ROOT,
                              timeout=60, env={"PATH": "/usr/bin:/bin", "AUTHUPLOAD_BCRYPT_COST": "4"})
        assert made.returncode == 0, made.stderr
        holder, token = server.account()
        turn_on_through_the_api(server, token)

        page = new_context().new_page()
        open_workspace(page, server, server.login(admin))
        page.click("#adminLink")
        row = page.locator(f"#userRows tr[data-username='{holder}']")
        expect(row.locator(".badge-totp")).to_be_visible()
        page.screenshot(path=str(tmp_path / "admin-totp.png"), full_page=True)
        row.get_by_role("button", name="Remove 2FA").click()
        dialog = page.locator("#userDialog")
        expect(dialog).to_contain_text(holder)
        with page.expect_response(lambda r: r.request.method == "PATCH") as patched:
            dialog.get_by_role("button", name="Remove it").click()
        assert patched.value.json()["data"]["totp"] is False
        expect(row.locator(".badge-totp")).to_have_count(0)
        assert server.login(holder)  # the password alone signs in again
