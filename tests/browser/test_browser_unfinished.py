"""Unfinished uploads (GET /api/uploads): an upload abandoned elsewhere — a
closed laptop, a cleared browser — is listed in the workspace with how far it
got; "Resume…" asks for the same file again (same name and size) and sends
only the rest, "Discard" frees its space at once."""

import base64
import hashlib
import re

import pytest
from playwright.sync_api import expect

from browser_harness import MIB, make_file, open_workspace, throttle_upload

pytestmark = pytest.mark.browser

TUS = {"Tus-Resumable": "1.0.0"}


def abandon(server, token, path, sent_bytes):
    """Start a tus upload of `path` from "another computer" and stop after `sent_bytes`."""
    name = base64.b64encode(path.name.encode()).decode()
    created = server.api("POST", "/api/uploads", token, headers={
        **TUS, "Upload-Length": str(path.stat().st_size), "Upload-Metadata": f"filename {name}"})
    assert created.status_code == 201, created.text
    url = created.headers["Location"]
    patched = server.api("PATCH", url, token, data=path.read_bytes()[:sent_bytes], headers={
        **TUS, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"})
    assert patched.status_code == 204, patched.text
    return url.rsplit("/", 1)[-1]


def unfinished_ids(server, token):
    answer = server.api("GET", "/api/uploads", token, headers=TUS)
    assert answer.status_code == 200, answer.text
    return [upload["id"] for upload in answer.json()["data"]["uploads"]]


def test_an_abandoned_upload_is_resumed_with_the_same_file(page, server, tmp_path):
    _, token = server.account()
    original = make_file(tmp_path, "holiday.mov", 3 * MIB)
    upload_id = abandon(server, token, original, 1 * MIB)
    (tmp_path / "elsewhere").mkdir()
    other = make_file(tmp_path / "elsewhere", "holiday.mov", 2 * MIB)  # the same name, another file

    open_workspace(page, server, token)
    section = page.locator("#unfinishedUploads")
    expect(section).to_be_visible()
    row = section.locator(f"[data-upload-id='{upload_id}']")
    expect(row.locator(".upload-name")).to_have_text("holiday.mov")
    expect(row.locator(".upload-progress")).to_have_text("33% · 1 MiB of 3 MiB")
    expect(row.locator(".unfinished-expires")).to_contain_text("Kept until")

    # By keyboard: the button opens the file chooser.
    with page.expect_file_chooser(timeout=30_000) as chooser:
        row.get_by_role("button", name="Resume holiday.mov: choose the same file again").press("Enter")
    chooser.value.set_files(str(other))
    expect(row.locator(".upload-status")).to_have_text("That is not the same file: choose “holiday.mov” (3 MiB).")
    assert unfinished_ids(server, token) == [upload_id]  # nothing was sent

    offsets = []
    page.on("request", lambda r: offsets.append(r.headers.get("upload-offset")) if r.method == "PATCH" else None)
    with page.expect_file_chooser(timeout=30_000) as chooser:
        row.get_by_role("button", name="Resume holiday.mov: choose the same file again").click()
    chooser.value.set_files(str(original))
    expect(section).to_be_hidden()
    sending = page.locator("#uploadList .upload-row", has_text="holiday.mov")
    expect(sending.locator(".upload-status")).to_have_text("Uploaded.", timeout=20_000)
    assert offsets[0] == str(1 * MIB)  # only the rest was sent
    assert [(f["name"], f["sha256"]) for f in server.files(token)] == [
        ("holiday.mov", hashlib.sha256(original.read_bytes()).hexdigest())]
    assert unfinished_ids(server, token) == []
    expect(page.locator("#fileRows tr")).to_have_count(1)


def test_an_abandoned_upload_is_discarded_and_its_space_freed(page, server, tmp_path):
    _, token = server.account()
    upload_id = abandon(server, token, make_file(tmp_path, "old backup.tar", 2 * MIB), 1 * MIB)
    open_workspace(page, server, token)
    row = page.locator(f"#unfinishedList [data-upload-id='{upload_id}']")
    with page.expect_response(lambda r: r.request.method == "DELETE" and r.url.endswith(upload_id)) as deleted:
        row.get_by_role("button", name="Discard the unfinished upload of old backup.tar").click()
    assert deleted.value.status == 204
    expect(page.locator("#successAlert")).to_have_text("Discarded the unfinished upload of “old backup.tar”.")
    expect(page.locator("#unfinishedUploads")).to_be_hidden()
    assert unfinished_ids(server, token) == []


def test_an_upload_this_page_is_sending_is_not_listed_as_unfinished(page, server, tmp_path):
    _, token = server.account()
    open_workspace(page, server, token)
    throttle_upload(page, 1 * MIB)
    page.set_input_files("#fileInput", str(make_file(tmp_path, "slow.bin", 12 * MIB)))
    page.wait_for_function("() => document.querySelector('.upload-bar').value > 0")
    assert len(unfinished_ids(server, token)) == 1  # the server lists it…
    with page.expect_response(lambda r: r.url.endswith("/api/uploads") and r.request.method == "GET"):
        page.locator("#refreshButton").click()
    expect(page.locator("#unfinishedUploads")).to_be_hidden()  # …but it is not abandoned
    expect(page.locator("#uploadList .upload-row")).to_have_class(re.compile(r"\bis-active\b"))


def test_a_redraw_of_the_list_keeps_the_keyboard_on_its_button(page, server, tmp_path):
    _, token = server.account()
    upload_id = abandon(server, token, make_file(tmp_path, "left.bin", 2 * MIB), 1 * MIB)
    open_workspace(page, server, token)
    resume = page.locator(f"#unfinishedUploads [data-upload-id='{upload_id}'] .resume-button")
    resume.focus()
    # Starting another upload redraws the unfinished list (it hides the ones being sent).
    page.set_input_files("#fileInput", str(make_file(tmp_path, "new.txt", 10)))
    expect(page.locator("#uploadList .upload-row", has_text="new.txt")).to_be_visible()
    expect(resume).to_be_focused()

