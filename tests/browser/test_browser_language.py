"""English and Simplified Chinese: from the browser's language, with a visible
switch that is remembered; server errors translated by key."""

import re

import pytest
from playwright.sync_api import expect

from browser_harness import PASSWORD, open_workspace

pytestmark = pytest.mark.browser


def test_chinese_browser_gets_chinese_pages_and_accept_language(new_context, server):
    page = new_context(locale="zh-CN").new_page()
    page.goto(f"{server.url}/login.html")
    expect(page.locator("h1")).to_have_text("欢迎回来")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    page.fill("#username", "nobody123")
    page.fill("#password", "wrong password")
    with page.expect_request(lambda r: r.url.endswith("/api/login")) as sent:
        page.click("#loginForm button[type=submit]")
    assert sent.value.headers["accept-language"].startswith("zh")
    expect(page.locator("#errorAlert")).to_have_text("用户名或密码错误。")


def test_switch_is_remembered_across_pages_and_reloads(page, server):
    page.goto(f"{server.url}/register.html")
    expect(page.locator("h1")).to_have_text("Create your account")
    page.fill("#username", "ab")
    expect(page.locator("#usernameError")).to_have_text("Too short: 2 characters, at least 6.")

    page.select_option("#langSelect", "zh-CN")
    expect(page.locator("h1")).to_have_text("创建账户")
    # Messages already shown are translated too.
    expect(page.locator("#usernameError")).to_have_text("太短：2 个字符，至少 6 个。")
    expect(page.locator("#langSelect")).to_have_value("zh-CN")
    assert page.evaluate("localStorage.getItem('lang')") == "zh-CN"

    page.reload()
    expect(page.locator("h1")).to_have_text("创建账户")
    page.click("a[href='login.html']")
    expect(page.locator("h1")).to_have_text("欢迎回来")
    expect(page).to_have_title(re.compile("登录"))

    page.select_option("#langSelect", "en")
    expect(page.locator("h1")).to_have_text("Welcome back")
    page.reload()
    expect(page.locator("h1")).to_have_text("Welcome back")


def test_workspace_in_chinese(new_context, server, tmp_path):
    page = new_context(locale="zh-CN").new_page()
    _, token = server.account()
    server.api("POST", "/api/files", token, files={"file": ("报告.txt", "你好".encode())})
    open_workspace(page, server, token)
    expect(page.locator("#filesTitle")).to_have_text("我的文件")
    expect(page.locator("#usageFiles")).to_have_text("1 个文件")
    expect(page.get_by_role("button", name="下载 报告.txt")).to_be_visible()
    page.select_option("#langSelect", "en")
    expect(page.locator("#usageFiles")).to_have_text("1 file")
    expect(page.get_by_role("button", name="Download 报告.txt")).to_be_visible()
    page.select_option("#langSelect", "zh-CN")
    page.get_by_role("button", name="删除 报告.txt").click()
    expect(page.locator("#confirmText")).to_contain_text("将被永久删除")
    page.click("#confirmNo")
