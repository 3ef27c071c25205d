"""The whole story a person lives through, in a real browser: register, log in,
upload, see the file listed, download it (content checked), delete it, log out."""

import re

import pytest
from playwright.sync_api import expect

from browser_harness import PASSWORD, make_file, open_workspace, submit_registration, unique_username

pytestmark = pytest.mark.browser

def test_register_login_upload_list_download_delete_logout(page, server, tmp_path):
    username = unique_username()
    sample = make_file(tmp_path, "holiday notes.txt", 300_000)

    # Register: success message, then on to the login page.
    assert submit_registration(page, server, username).status == 200
    expect(page.locator("#successAlert")).to_contain_text("created")
    page.wait_for_url(re.compile(r"/login\.html"))
    expect(page.locator("#infoAlert")).to_contain_text("Log in to continue")
    expect(page.locator("#username")).to_have_value(username)  # pre-filled

    # Log in: token kept in localStorage, success message, on to the workspace.
    page.fill("#password", PASSWORD)
    with page.expect_response(lambda r: r.url.endswith("/api/login")) as logged_in:
        page.click("#loginForm button[type=submit]")
    assert logged_in.value.ok
    expect(page.locator("#successAlert")).to_be_visible()
    page.wait_for_url(re.compile(r"/welcome\.html$"))
    assert page.evaluate("localStorage.getItem('token')")
    expect(page.locator("#currentUser")).to_have_text(username)
    expect(page.locator("#filesEmpty")).to_be_visible()
    expect(page.locator("#usageText")).to_contain_text("0 B of")

    # Upload through the tus endpoints: POST creates, PATCH sends the bytes.
    with page.expect_response(lambda r: "/api/uploads/" in r.url and r.request.method == "PATCH") as patched:
        page.set_input_files("#fileInput", str(sample))
    assert patched.value.status == 204
    assert patched.value.headers.get("upload-file-id")
    # The chunks travel with the upload's own token, not the access token.
    access_token = page.evaluate("localStorage.getItem('token')")
    assert patched.value.request.headers["authorization"] != f"Bearer {access_token}"
    assert patched.value.request.headers["tus-resumable"] == "1.0.0"
    row = page.locator(".upload-row").first
    expect(row.locator(".upload-status")).to_have_text("Uploaded.")
    expect(row.locator(".upload-bar")).to_have_attribute("value", "100")
    expect(page.locator("#successAlert")).to_contain_text("holiday notes.txt")

    # Listed: name, size, date; usage updated.
    file_row = page.locator("#fileRows tr", has_text="holiday notes.txt")
    expect(file_row).to_have_count(1)
    expect(file_row.locator("td.num")).to_have_text("293 KiB")
    expect(page.locator("#usageFiles")).to_have_text("1 file")

    # Download through the short-lived link; the browser saves the exact bytes.
    with page.expect_download() as downloaded:
        file_row.get_by_role("button", name="Download holiday notes.txt").click()
    assert downloaded.value.suggested_filename == "holiday notes.txt"
    assert open(downloaded.value.path(), "rb").read() == sample.read_bytes()

    # Delete (to the trash), after confirming in the dialog; the table shows the empty state again.
    file_row.get_by_role("button", name="Delete holiday notes.txt").click()
    dialog = page.locator("#confirmDialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("holiday notes.txt")
    with page.expect_response(lambda r: r.request.method == "DELETE" and "/api/files/" in r.url) as deleted:
        page.click("#confirmYes")
    assert deleted.value.status == 200
    expect(page.locator("#filesEmpty")).to_be_visible()
    expect(page.locator("#successAlert")).to_contain_text("to the trash")

    # Log out: the server revokes the token, the page forgets it.
    token = page.evaluate("localStorage.getItem('token')")
    with page.expect_response(lambda r: r.url.endswith("/api/logout")) as logged_out:
        page.click("#logoutButton")
    assert logged_out.value.status == 200
    page.wait_for_url(re.compile(r"/login\.html\?reason=logged_out"))
    expect(page.locator("#infoAlert")).to_contain_text("logged out")
    assert page.evaluate("localStorage.getItem('token')") is None
    assert server.api("GET", "/api/me", token).status_code == 401

def test_cancelling_the_delete_dialog_keeps_the_file(page, server, tmp_path):

    _, token = server.account()
    server.api("POST", "/api/files", token, files={"file": ("keep.txt", b"keep me")})
    open_workspace(page, server, token)
    page.get_by_role("button", name="Delete keep.txt").click()
    expect(page.locator("#confirmDialog")).to_be_visible()
    page.keyboard.press("Escape")  # keyboard: Esc closes the dialog without deleting
    expect(page.locator("#confirmDialog")).to_be_hidden()
    page.get_by_role("button", name="Delete keep.txt").click()
    page.click("#confirmNo")
    expect(page.locator("#confirmDialog")).to_be_hidden()
    expect(page.locator("#fileRows tr")).to_have_count(1)
    assert [f["name"] for f in server.files(token)] == ["keep.txt"]
