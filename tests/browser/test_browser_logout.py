"""Logging out leaves nothing of the account in the browser: the token and the
resumable-upload URLs and tokens (tus.js keeps them in localStorage so an upload
survives a reload) all go, so the next person at this browser finds nothing
that still works."""

import re

import pytest
from playwright.sync_api import expect

from browser_harness import MIB, make_file, open_workspace, throttle_upload

pytestmark = pytest.mark.browser


def stored(page):
    return page.evaluate(
        """() => [localStorage, sessionStorage].flatMap((storage) =>
             Array.from({ length: storage.length }, (_, i) => storage.key(i)))"""
    )


def test_logout_removes_every_trace_of_the_account(page, server, tmp_path):
    _, token = server.account()
    big = make_file(tmp_path, "half.bin", 20 * MIB)
    open_workspace(page, server, token)
    page.select_option("#langSelect", "zh-TW")  # a setting of the browser, not of the account
    throttle_upload(page, 2 * MIB)
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/api/uploads")) as created:
        page.set_input_files("#fileInput", str(big))
    upload_token = created.value.headers["upload-token"]
    # Half-way: the upload's URL and its token are remembered for a resume.
    page.wait_for_function("() => document.querySelector('.upload-bar').value > 0")
    remembered = [key for key in stored(page) if "tus-upload" in key]
    assert len(remembered) == 1
    assert upload_token in page.evaluate("key => localStorage.getItem(key)", remembered[0])

    page.get_by_role("button", name="登出").click()
    page.wait_for_url(re.compile(r"/login\.html\?reason=logged_out$"))
    expect(page.locator("#infoAlert")).to_have_text("你已登出，下次見！")
    assert stored(page) == ["lang"]
