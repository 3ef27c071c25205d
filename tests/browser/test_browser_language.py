"""English, Simplified and Traditional Chinese: from the browser's language,
with a language menu (keyboard included) that is remembered; Accept-Language
follows the page; server errors translated by key."""

import re

import pytest
from playwright.sync_api import expect

from browser_harness import open_workspace, unique_username

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("locale, lang, title, page_title, wrong", [
    ("zh-CN", "zh-CN", "欢迎回来", "登录", "用户名或密码错误。"),
    ("zh-TW", "zh-TW", "歡迎回來", "登入", "使用者名稱或密碼錯誤。"),
    ("zh-HK", "zh-TW", "歡迎回來", "登入", "使用者名稱或密碼錯誤。"),
    ("zh-MO", "zh-TW", "歡迎回來", "登入", "使用者名稱或密碼錯誤。"),
])
def test_chinese_browser_gets_its_script_and_accept_language(new_context, server, locale, lang, title, page_title,
                                                             wrong):
    page = new_context(locale=locale).new_page()
    page.goto(f"{server.url}/login.html")
    expect(page.locator("h1")).to_have_text(title)
    expect(page).to_have_title(re.compile(page_title))
    assert page.evaluate("document.documentElement.lang") == lang
    expect(page.locator("#langSelect")).to_have_value(lang)
    page.fill("#username", unique_username())  # a fresh name: no earlier failures lock it
    page.fill("#password", "wrong password")
    with page.expect_request(lambda r: r.url.endswith("/api/login")) as sent:
        page.click("#loginForm button[type=submit]")
    assert sent.value.headers["accept-language"].startswith(lang)
    expect(page.locator("#errorAlert")).to_have_text(wrong)


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
    expect(page.locator("#confirmText")).to_contain_text("将移到回收站")
    page.click("#confirmNo")


def test_browser_language_tags_choose_the_script(page, server):
    page.goto(f"{server.url}/login.html")
    chosen = page.evaluate(
        """async (tags) => {
            const { browserLanguage } = await import("/js/i18n.js");
            return tags.map((tag) => browserLanguage(tag));
        }""",
        ["zh-TW", "zh-HK", "zh-MO", "zh-Hant", "zh-Hant-TW", "zh-hant-cn", "zh-CN", "zh", "zh-SG", "zh-Hans",
         "zh-Hans-TW", "en-US", "fr", "zh-Taiwan"],
    )
    # The script decides over the region, as on the server (API.md decisions: Language).
    assert chosen == ["zh-TW"] * 6 + ["zh-CN"] * 5 + ["en", "en", "zh-CN"]


def test_the_language_menu_offers_three_and_works_by_keyboard(page, server):
    page.goto(f"{server.url}/register.html")
    menu = page.locator("#langSelect")
    expect(menu).to_have_accessible_name("Language")
    assert menu.locator("option").all_text_contents() == ["English", "简体中文", "繁體中文"]
    assert [o.get_attribute("lang") for o in menu.locator("option").all()] == ["en", "zh-CN", "zh-TW"]
    # Tab from the brand link reaches the menu; arrow keys change the language.
    page.locator(".brand").focus()
    page.keyboard.press("Tab")
    expect(menu).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.locator("h1")).to_have_text("创建账户")
    page.keyboard.press("ArrowDown")
    expect(page.locator("h1")).to_have_text("建立你的帳號")
    expect(menu).to_have_accessible_name("語言")
    assert page.evaluate("localStorage.getItem('lang')") == "zh-TW"


def test_accept_language_follows_the_chosen_language(page, server):
    page.goto(f"{server.url}/login.html")
    page.fill("#username", unique_username())
    page.fill("#password", "wrong password")
    sent = {}
    for lang, expected in [("zh-TW", "zh-TW"), ("zh-CN", "zh-CN"), ("en", "en")]:
        page.select_option("#langSelect", lang)
        with page.expect_request(lambda r: r.url.endswith("/api/login")) as request:
            page.click("#loginForm button[type=submit]")
        sent[lang] = request.value.headers["accept-language"].split(",")[0]
        expect(page.locator("#loginForm button[type=submit]")).to_be_enabled()
    assert sent == {"zh-TW": "zh-TW", "zh-CN": "zh-CN", "en": "en"}


def test_workspace_in_traditional_chinese(new_context, server):
    page = new_context(locale="zh-TW").new_page()
    _, token = server.account()
    server.api("POST", "/api/files", token, files={"file": ("報告.txt", "你好".encode())})
    open_workspace(page, server, token)
    expect(page).to_have_title(re.compile("我的檔案"))
    expect(page.locator("#filesTitle")).to_have_text("我的檔案")
    expect(page.locator("#uploadTitle")).to_have_text("上傳檔案")
    expect(page.locator("#usageFiles")).to_have_text("1 個檔案")
    expect(page.get_by_role("button", name="下載 報告.txt")).to_be_visible()
    expect(page.get_by_role("button", name="登出")).to_be_visible()
    page.get_by_role("button", name="刪除 報告.txt").click()
    expect(page.locator("#confirmText")).to_have_text("「報告.txt」將移至垃圾桶，在被永久刪除之前都可以從那裡還原。")
    page.click("#confirmNo")
