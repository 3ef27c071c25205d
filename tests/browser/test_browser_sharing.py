"""Sharing in a real browser: the owner shares files from the workspace, a visitor
opens the link in a fresh profile in another language, unlocks it and downloads
a file and the ZIP; the owner makes an upload request, a sender uses it from a
fresh profile, is interrupted by a reload and resumes; phone width."""

import hashlib
import io
import re
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from browser_harness import MIB, make_file, open_workspace, throttle_upload

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).parent / "out"


def shot(page, name):
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fill_and_create(page, fields: dict, button: str, api_path: str):
    """Fill a form's fields as a person would, press its button, and return the POST's response."""
    for selector, value in fields.items():
        page.fill(selector, value)
    with page.expect_response(lambda r: r.url.endswith(api_path) and r.request.method == "POST") as created:
        page.click(button)
    return created.value


def test_share_two_files_with_a_password_and_a_limit(page, new_context, server, tmp_path):
    _, token = server.account()
    first, second = b"first file, " * 5000, bytes(range(256)) * 400
    for name, data in (("notes.txt", first), ("table.bin", second)):
        assert server.api("POST", "/api/files", token, files={"file": (name, data)}).status_code == 200
    server.api("POST", "/api/folders", token, json={"name": "drafts"})
    open_workspace(page, server, token)

    expect(page.locator("#shareSelected")).to_be_disabled()
    page.get_by_label("Select drafts", exact=True).check()  # a folder is selected, but folders are not shared
    expect(page.locator("#selectionBar")).to_be_visible()
    expect(page.locator("#shareSelected")).to_be_disabled()
    for name in ("notes.txt", "table.bin"):
        page.get_by_label(f"Select {name}", exact=True).check()
    expect(page.locator("#shareSelected")).to_have_text("Share 2 selected")
    page.click("#shareSelected")
    fields = {"#shareSecret": "open sesame", "#shareLimit": "2", "#shareNoteInput": "The files for Tuesday"}
    assert fill_and_create(page, fields, "#shareCreate", "/api/shares").status == 201
    link = page.input_value("#shareLink")
    assert re.fullmatch(rf"{re.escape(server.url)}/s/[A-Za-z0-9_-]{{32}}", link)
    shot(page, "share-dialog")
    page.click("#shareDone")
    item = page.locator("#shareItems .link-item").first
    expect(item).to_contain_text("notes.txt, table.bin")
    expect(item).to_contain_text("0 of 2 downloads")
    expect(item.locator(".badge")).to_have_text("Active")

    # A visitor: a fresh profile (nothing stored), reading Traditional Chinese.
    visitor = new_context(locale="zh-TW").new_page()
    visitor.goto(link)
    expect(visitor.locator("#sharedBy")).to_contain_text("與您分享了這些檔案")
    expect(visitor.locator("#shareNote")).to_have_text("The files for Tuesday")
    expect(visitor.locator("#unlockForm")).to_be_visible()
    assert visitor.locator("#sharedFiles li").count() == 0
    visitor.fill("#sharePassword", "wrong guess")
    visitor.click("#unlockButton")
    expect(visitor.locator("#errorAlert")).to_have_text("密碼錯誤。")
    visitor.fill("#sharePassword", "open sesame")
    visitor.click("#unlockButton")
    expect(visitor.locator("#sharedFiles li")).to_have_count(2)
    expect(visitor.locator("#downloadsLeft")).to_have_text("剩餘下載次數：2。")
    shot(visitor, "share-page-zh-TW")

    with visitor.expect_download() as single:
        visitor.get_by_role("link", name="下載 notes.txt").click()
    assert Path(single.value.path()).read_bytes() == first
    with visitor.expect_download() as archive:
        visitor.click("#zipLink")
    with zipfile.ZipFile(io.BytesIO(Path(archive.value.path()).read_bytes())) as opened:
        assert opened.read("notes.txt") == first  # the same bytes as the single download
        assert opened.read("table.bin") == second
    assert not visitor.evaluate("Object.keys(localStorage).length")  # nothing of the share is kept

    page.click("#refreshShares")
    expect(item).to_contain_text("2 of 2 downloads")
    expect(item.locator(".badge")).to_have_text("Used up")
    visitor.reload()
    expect(visitor.locator("#errorAlert")).to_have_text("此連結的下載次數已用完。")
    shot(page, "workspace-shared")


def test_revoked_link_says_so(page, server):
    _, token = server.account()
    file_id = server.api("POST", "/api/files", token, files={"file": ("a.txt", b"x")}).json()["data"]["files"][0]["id"]
    share = server.api("POST", "/api/shares", token, json={"file_ids": [file_id]}).json()["data"]
    open_workspace(page, server, token)
    page.get_by_role("button", name="Revoke the link for a.txt").click()
    expect(page.locator("#sharesEmpty")).to_be_visible()
    page.goto(share["url"])
    expect(page.locator("#errorAlert")).to_have_text("Not found — it may have been deleted already.")
    expect(page.locator("#shareBody")).to_be_hidden()


def test_upload_request_received_with_a_name_after_a_reload(page, new_context, server, tmp_path):
    _, token = server.account()
    open_workspace(page, server, token)
    fields = {"#requestTitle": "Scans for the visa", "#requestNote": "PDF or JPEG, please.", "#requestMaxFiles": "3"}
    assert fill_and_create(page, fields, "#requestCreate", "/api/requests").status == 201
    item = page.locator("#requestItems .link-item").first
    expect(item.locator(".badge")).to_have_text("Open")
    link = item.locator(".link-field").input_value()
    assert "/r/" in link

    big = make_file(tmp_path, "passport.bin", 20 * MIB)  # three 8 MiB chunks
    sender = new_context(locale="zh-CN").new_page()
    sender.goto(link)
    expect(sender.locator("#pageTitle")).to_have_text("Scans for the visa")
    expect(sender.locator("#requestNote")).to_have_text("PDF or JPEG, please.")
    sender.fill("#senderName", "王小明")
    sender.click("#sessionButton")
    expect(sender.locator("#uploadForm")).to_be_visible()
    throttle_upload(sender, 6 * MIB)
    with sender.expect_response(lambda r: r.request.method == "PATCH" and r.status == 204, timeout=20_000) as first:
        sender.set_input_files("#fileInput", str(big))
    assert first.value.headers["upload-offset"] == str(8 * MIB)
    sender.reload()  # interrupted; the server keeps the first chunk, the tab keeps its session
    expect(sender.locator("#uploadForm")).to_be_visible()
    with sender.expect_response(lambda r: r.request.method == "HEAD" and "/api/uploads/" in r.url) as head:
        sender.set_input_files("#fileInput", str(big))
    assert int(head.value.headers["upload-offset"]) >= 8 * MIB
    row = sender.locator(".upload-row", has_text="passport.bin")
    expect(row.locator(".upload-status")).to_have_text("上传完成。", timeout=30_000)
    expect(sender.locator("#requestRoom")).to_contain_text("还可发送 2 个文件")
    # Nothing in localStorage; the session and resume entries live in this tab only.
    assert sender.evaluate("Object.keys(localStorage).filter(k => k !== 'lang').length") == 0
    shot(sender, "drop-page-zh-CN")

    files = server.files(token)
    assert [(f["name"], f["sha256"]) for f in files] == [("passport.bin", sha256(big.read_bytes()))]
    assert files[0]["received"]["uploader_name"] == "王小明"
    page.click("#refreshRequests")
    expect(page.locator("#fileRows .received-note")).to_have_text("from 王小明 · via “Scans for the visa”")
    expect(item).to_contain_text("1 file received")
    shot(page, "workspace-requests")


def test_a_dropped_connection_on_the_drop_page_retries_and_resumes(new_context, server, tmp_path):
    _, token = server.account()
    request = server.api("POST", "/api/requests", token, json={"title": "Flaky"}).json()["data"]
    big = make_file(tmp_path, "flaky-drop.bin", 12 * MIB)  # chunks at 0 and 8 MiB
    page = new_context().new_page()
    page.goto(request["url"])
    page.fill("#senderName", "Ada")
    page.click("#sessionButton")
    # Files are chosen once the drop token has arrived (the form shows then); chosen
    # earlier, the page asks for a session again (test_an_ended_drop_session_…).
    expect(page.locator("#uploadForm")).to_be_visible()
    dropped = []

    def drop_second_chunk_once(route):
        if route.request.method == "PATCH" and route.request.headers.get("upload-offset") == str(8 * MIB) \
                and not dropped:
            dropped.append(route.request.url)
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/uploads/*", drop_second_chunk_once)
    page.set_input_files("#fileInput", str(big))
    row = page.locator(".upload-row", has_text="flaky-drop.bin")
    # The first 8 MiB go up before the cut: on a busy machine that takes a while.
    expect(row.locator(".upload-status")).to_have_text("Connection lost. Retrying in 1 s…", timeout=20_000)
    expect(row.locator(".upload-status")).to_have_text("Uploaded.", timeout=20_000)
    assert dropped
    (file,) = server.files(token)
    assert (file["sha256"], file["received"]["uploader_name"]) == (sha256(big.read_bytes()), "Ada")


def test_an_ended_drop_session_asks_for_a_new_one_before_sending_anything(new_context, server):
    """Without a live drop token an upload could only be refused (401): the page asks first."""
    _, token = server.account()
    request = server.api("POST", "/api/requests", token, json={"title": "Later"}).json()["data"]
    page = new_context().new_page()
    page.goto(request["url"])
    page.click("#sessionButton")
    expect(page.locator("#uploadForm")).to_be_visible()
    page.evaluate("""() => {
        for (const key of Object.keys(sessionStorage).filter((k) => k.startsWith("drop-session:"))) {
            const saved = JSON.parse(sessionStorage.getItem(key));
            sessionStorage.setItem(key, JSON.stringify({ ...saved, expiresAt: Date.now() }));
        }
    }""")
    sent = []
    page.on("request", lambda r: sent.append(r.method) if "/api/uploads" in r.url else None)
    page.set_input_files("#fileInput", files=[{"name": "late.txt", "mimeType": "text/plain", "buffer": b"late"}])
    expect(page.locator("#errorAlert")).to_contain_text("hour to send files is over")
    expect(page.locator("#sessionForm")).to_be_visible()
    assert sent == [] and page.locator(".upload-row").count() == 0
    page.click("#sessionButton")
    expect(page.locator("#uploadForm")).to_be_visible()
    page.set_input_files("#fileInput", files=[{"name": "late.txt", "mimeType": "text/plain", "buffer": b"late"}])
    expect(page.locator(".upload-row .upload-status")).to_have_text("Uploaded.")
    assert [file["name"] for file in server.files(token)] == ["late.txt"]


def test_a_full_request_says_so_clearly(new_context, server):
    _, token = server.account()
    request = server.api("POST", "/api/requests", token, json={"title": "One file", "max_files": 1}).json()["data"]
    page = new_context().new_page()
    page.goto(request["url"])
    page.click("#sessionButton")
    expect(page.locator("#uploadForm")).to_be_visible()
    page.set_input_files("#fileInput", files=[{"name": "one.txt", "mimeType": "text/plain", "buffer": b"1"}])
    expect(page.locator(".upload-row .upload-status")).to_have_text("Uploaded.")
    page.set_input_files("#fileInput", files=[{"name": "two.txt", "mimeType": "text/plain", "buffer": b"2"}])
    expect(page.locator("#errorAlert")).to_have_text("This upload link takes no more files.")
    page.reload()
    expect(page.locator("#errorAlert")).to_have_text("This upload link takes no more files.")
    expect(page.locator("#sessionForm")).to_be_hidden()


def test_expired_request_and_password(new_context, server):
    _, token = server.account()
    request = server.api("POST", "/api/requests", token, json={"title": "Secret", "password": "letmein1"}).json()["data"]
    page = new_context().new_page()
    page.goto(request["url"])
    expect(page.locator("#passwordField")).to_be_visible()
    page.fill("#dropPassword", "nope")
    page.click("#sessionButton")
    expect(page.locator("#errorAlert")).to_have_text("Wrong password.")
    page.fill("#dropPassword", "letmein1")
    page.click("#sessionButton")
    expect(page.locator("#uploadForm")).to_be_visible()


def test_phone_width_public_pages_and_cards_fit(new_context, server):
    phone = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}
    _, token = server.account()
    file_id = server.api("POST", "/api/files", token, files={
        "file": ("a rather long file name that must not widen the page at all.pdf", b"%PDF-1.4")}).json()["data"]["files"][0]["id"]
    share = server.api("POST", "/api/shares", token, json={"file_ids": [file_id], "note": "n"}).json()["data"]
    request = server.api("POST", "/api/requests", token, json={"title": "Phone"}).json()["data"]
    page = new_context(**phone).new_page()
    for url, name in ((share["url"], "share-phone"), (request["url"], "drop-phone")):
        page.goto(url)
        page.wait_for_selector(".public-card h1")
        expect(page.locator("#loadingNotice")).to_be_hidden()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        shot(page, name)
    open_workspace(page, server, token)
    page.locator("#shareItems .link-item").first.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.locator("#requestsTitle").scroll_into_view_if_needed()
    shot(page, "workspace-phone")


def test_share_page_by_keyboard(page, server):
    _, token = server.account()
    file_id = server.api("POST", "/api/files", token, files={"file": ("k.txt", b"keys")}).json()["data"]["files"][0]["id"]
    share = server.api("POST", "/api/shares", token, json={"file_ids": [file_id], "password": "tab tab"}).json()["data"]
    page.goto(share["url"])
    expect(page.locator("#sharePassword")).to_be_focused()  # the one thing to do is ready for typing
    page.keyboard.type("tab tab")
    page.keyboard.press("Enter")
    expect(page.locator("#sharedFiles li")).to_have_count(1)
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused in ("Download", "Download all as ZIP") or page.evaluate("document.activeElement.id") == "langSelect"
