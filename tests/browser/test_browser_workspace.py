"""The upload workspace: several uploads at once with progress, limits said
before any byte is sent, resume after a reload and after a dropped connection,
change password, and a phone-width window."""

import hashlib
import re

import pytest
from playwright.sync_api import expect

from browser_harness import MIB, PASSWORD, make_file, open_workspace, throttle_upload

pytestmark = pytest.mark.browser


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_several_files_at_once_each_with_progress(page, server, tmp_path):
    _, token = server.account()
    files = [
        make_file(tmp_path, "one.bin", 3 * MIB),
        make_file(tmp_path, "two.bin", 2 * MIB),
        make_file(tmp_path, "三.txt", 1500),
        make_file(tmp_path, "empty.txt", 0),  # complete as soon as it is created
    ]
    open_workspace(page, server, token)
    throttle_upload(page, 2 * MIB)  # slow enough to watch the bars move
    page.set_input_files("#fileInput", [str(f) for f in files])

    rows = page.locator(".upload-row")
    expect(rows).to_have_count(4)
    # Progress observed mid-way: a bar between 1 and 99 %, with bytes, speed and time left.
    page.wait_for_function(
        "() => [...document.querySelectorAll('.upload-bar')].some(bar => bar.value > 0 && bar.value < 100)"
    )
    one = page.locator(".upload-row", has_text="one.bin")
    expect(one.locator(".upload-progress")).to_contain_text(re.compile(r"\d+% · [\d.]+ \w?i?B of 3 MiB"))
    expect(one.locator(".upload-speed")).to_contain_text(re.compile(r"/s · .* left"))

    for row in rows.all():
        expect(row.locator(".upload-status")).to_have_text("Uploaded.", timeout=20_000)
    expect(page.locator("#fileRows tr")).to_have_count(4)
    expect(page.locator("#usageFiles")).to_have_text("4 files")
    stored = {f["name"]: f["sha256"] for f in server.files(token)}
    assert stored == {f.name: sha256(f) for f in files}


def test_cancel_stops_and_frees_the_upload(page, server, tmp_path):
    _, token = server.account()
    big = make_file(tmp_path, "big.bin", 20 * MIB)
    open_workspace(page, server, token)
    throttle_upload(page, 1 * MIB)
    page.set_input_files("#fileInput", str(big))
    row = page.locator(".upload-row", has_text="big.bin")
    page.wait_for_function("() => document.querySelector('.upload-bar').value > 0")
    with page.expect_response(lambda r: r.request.method == "DELETE" and "/api/uploads/" in r.url) as deleted:
        row.get_by_role("button", name="Cancel upload of big.bin").click()
    assert deleted.value.status == 204
    expect(row.locator(".upload-status")).to_have_text("Cancelled.")
    assert server.files(token) == []
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('tus-upload:'))") == []


def test_too_large_and_over_quota_are_said_before_any_byte(page, tight_server, tmp_path):
    # tight_server: 2 MiB per file, 3 MiB quota.
    _, token = tight_server.account()
    open_workspace(page, tight_server, token)
    expect(page.locator("#dropNote")).to_contain_text("2 MiB")
    sent = []
    page.on("request", lambda r: sent.append(r.method) if "/api/uploads" in r.url else None)

    page.set_input_files("#fileInput", str(make_file(tmp_path, "huge.bin", 2 * MIB + 1)))
    expect(page.locator(".upload-row", has_text="huge.bin").locator(".upload-status")).to_have_text(
        "Not uploaded: this file is larger than the 2 MiB limit."
    )
    assert sent == []

    page.set_input_files("#fileInput", str(make_file(tmp_path, "fits.bin", 2 * MIB)))
    expect(page.locator(".upload-row", has_text="fits.bin").locator(".upload-status")).to_have_text("Uploaded.")
    expect(page.locator("#usageFree")).to_have_text("1 MiB free")
    sent.clear()
    page.set_input_files("#fileInput", str(make_file(tmp_path, "more.bin", int(1.5 * MIB))))
    expect(page.locator(".upload-row", has_text="more.bin").locator(".upload-status")).to_have_text(
        "Not uploaded: not enough space: 1 MiB free."
    )
    assert sent == []


def test_server_refusal_at_creation_is_shown_by_key(page, tight_server, tmp_path):
    """If the page's own check is fooled (usage changed elsewhere), the server's 413 at POST still says why."""
    _, token = tight_server.account()
    open_workspace(page, tight_server, token)
    tight_server.api("POST", "/api/files", token, files={"file": ("elsewhere.bin", b"x" * (2 * MIB))})
    with page.expect_response(lambda r: r.url.endswith("/api/uploads") and r.request.method == "POST") as created:
        page.set_input_files("#fileInput", str(make_file(tmp_path, "late.bin", int(1.5 * MIB))))
    assert created.value.status == 413
    expect(page.locator(".upload-row", has_text="late.bin").locator(".upload-status")).to_have_text(
        "Not uploaded: Not enough space left in your storage quota."
    )


def test_upload_resumes_after_a_reload_when_the_same_file_is_chosen(page, server, tmp_path):
    _, token = server.account()
    big = make_file(tmp_path, "resume-me.bin", 20 * MIB)  # three 8 MiB chunks
    open_workspace(page, server, token)
    throttle_upload(page, 6 * MIB)
    with page.expect_response(lambda r: r.request.method == "PATCH" and r.status == 204, timeout=20_000) as first:
        page.set_input_files("#fileInput", str(big))
    assert first.value.headers["upload-offset"] == str(8 * MIB)
    page.reload()  # the upload is interrupted; the server keeps the first chunk
    page.wait_for_selector("#workspace:not([hidden])")
    expect(page.locator("#unfinishedList .upload-row", has_text="resume-me.bin")).to_be_visible()

    patches = []
    page.on("request", lambda r: patches.append(r.headers.get("upload-offset")) if r.method == "PATCH" else None)
    with page.expect_response(lambda r: r.request.method == "HEAD" and "/api/uploads/" in r.url) as head:
        page.set_input_files("#fileInput", str(big))
    assert int(head.value.headers["upload-offset"]) >= 8 * MIB
    expect(page.locator("#unfinishedUploads")).to_be_hidden()  # continuing: no longer abandoned
    row = page.locator("#uploadList .upload-row", has_text="resume-me.bin")
    expect(row.locator(".upload-status")).to_have_text("Uploaded.", timeout=30_000)
    assert patches and int(patches[0]) >= 8 * MIB  # no byte before 8 MiB was sent again
    assert [(f["name"], f["sha256"]) for f in server.files(token)] == [("resume-me.bin", sha256(big))]


def test_dropped_connection_retries_and_resumes_by_itself(page, server, tmp_path):
    _, token = server.account()
    big = make_file(tmp_path, "flaky.bin", 12 * MIB)  # chunks at 0 and 8 MiB
    open_workspace(page, server, token)

    # The connection drops when the second chunk is sent, once.
    dropped = []

    def drop_second_chunk_once(route):
        request = route.request
        if request.method == "PATCH" and request.headers.get("upload-offset") == str(8 * MIB) and not dropped:
            dropped.append(request.url)
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/uploads/*", drop_second_chunk_once)
    methods = []
    page.on("request", lambda r: methods.append(r.method) if "/api/uploads/" in r.url else None)
    page.set_input_files("#fileInput", str(big))
    row = page.locator(".upload-row", has_text="flaky.bin")
    expect(row.locator(".upload-status")).to_have_text("Connection lost. Retrying in 1 s…")
    expect(row.locator(".upload-status")).to_have_text("Uploaded.", timeout=20_000)
    assert dropped
    # After the error the page asked where to go on from (HEAD), then sent the rest.
    assert methods == ["PATCH", "PATCH", "HEAD", "PATCH"]
    assert [(f["name"], f["sha256"]) for f in server.files(token)] == [("flaky.bin", sha256(big))]


def test_drag_and_drop_uploads(page, server):
    _, token = server.account()
    open_workspace(page, server, token)
    # Build a DataTransfer in the page, as a real drop would bring.
    transfer = page.evaluate_handle(
        """() => { const dt = new DataTransfer();
                   dt.items.add(new File(['dropped bytes'], 'dropped.txt', { type: 'text/plain' }));
                   return dt; }"""
    )
    page.dispatch_event("#dropZone", "dragenter", {"dataTransfer": transfer})
    expect(page.locator("#dropZone")).to_have_class(re.compile("is-dragging"))
    page.dispatch_event("#dropZone", "drop", {"dataTransfer": transfer})
    expect(page.locator(".upload-row", has_text="dropped.txt").locator(".upload-status")).to_have_text("Uploaded.")
    files = server.files(token)
    assert [(f["name"], f["size"], f["content_type"]) for f in files] == [("dropped.txt", 13, "text/plain")]


def test_change_password(page, server):
    username, token = server.account()
    open_workspace(page, server, token)
    page.fill("#oldPassword", "not my password")
    page.fill("#newPassword", "a brand new secret")
    page.fill("#confirmPassword", "a brand new secret")
    with page.expect_response(lambda r: r.url.endswith("/api/password")) as wrong:
        page.click("#passwordSubmit")
    assert wrong.value.status == 400
    expect(page.locator("#oldPasswordError")).to_have_text("The current password is wrong.")
    assert re.search(r"/welcome\.html$", page.url)  # 400, not 401: still logged in

    page.fill("#oldPassword", PASSWORD)
    page.fill("#newPassword", "short")
    page.click("#passwordSubmit")
    expect(page.locator("#newPasswordError")).to_have_text("Too short: 5 characters, at least 8.")

    page.fill("#newPassword", "a brand new secret")
    with page.expect_response(lambda r: r.url.endswith("/api/password")) as changed:
        page.click("#passwordSubmit")
    assert changed.value.status == 200
    expect(page.locator("#passwordSuccess")).to_have_text("Password changed. Your other sessions were signed out.")
    fresh = page.evaluate("localStorage.getItem('token')")
    assert fresh != token
    assert server.api("GET", "/api/me", token).status_code == 401
    assert server.api("GET", "/api/me", fresh).status_code == 200
    server.login(username, "a brand new secret")


def test_phone_width_workspace_fits_and_works(new_context, server, tmp_path):
    page = new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True).new_page()
    _, token = server.account()
    server.api("POST", "/api/files", token,
               files={"file": ("a rather long file name that must not widen the page.pdf", b"%PDF-1.4")})
    open_workspace(page, server, token)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    row = page.locator("#fileRows tr").first
    for button in ("Download", "Delete"):
        box = row.get_by_role("button", name=re.compile(button)).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375
        assert box["height"] >= 28  # big enough for a finger
    page.set_input_files("#fileInput", str(make_file(tmp_path, "phone.jpg", 50_000)))
    expect(page.locator(".upload-row .upload-status")).to_have_text("Uploaded.")
    expect(page.locator("#fileRows tr")).to_have_count(2)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    for name in ("register", "login"):
        page.goto(f"{server.url}/{name}.html")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
