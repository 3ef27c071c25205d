"""The registration page: the server's rules (from GET /api/config, never
written into the page) checked while typing and on submit, the specific reason
next to each field, server refusals by key or in the server's own words."""

import re

import pytest
from playwright.sync_api import expect

from browser_harness import PASSWORD, Server, submit_registration, unique_username
from live_server import LiveServer

pytestmark = pytest.mark.browser

GOOD_NAME = "alice2024"


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory):
    """A server that asks for 12-character passwords."""
    flags = ("--bcrypt-cost", "4", "--password-min-chars", "12")
    with LiveServer(tmp_path_factory.mktemp("strict-server") / "data", *flags) as live:
        yield Server(live)


def open_register(page, server):
    """The register page, once it knows the server's rules (its hints show them)."""
    page.goto(f"{server.url}/register.html")
    expect(page.locator("#passwordHint")).not_to_be_empty()


def api_requests(page):
    """Collect the /api/ requests a page sends from now on."""
    sent = []
    page.on("request", lambda request: sent.append(request.url) if "/api/" in request.url else None)
    return sent


@pytest.mark.parametrize(
    ("username", "password", "confirm", "field", "message"),
    [
        ("", PASSWORD, PASSWORD, "#usernameError", "Enter a username."),
        ("abc", PASSWORD, PASSWORD, "#usernameError", "Too short: 3 characters, at least 6."),
        ("a" * 33, PASSWORD, PASSWORD, "#usernameError", "Too long: 33 characters, at most 32."),
        ("bad name!", PASSWORD, PASSWORD, "#usernameError", "Use only ASCII letters, digits or Chinese characters"),
        ("ÄÖÜäöü12", PASSWORD, PASSWORD, "#usernameError", "Use only ASCII letters, digits or Chinese characters"),
        (GOOD_NAME, "", "", "#passwordError", "Enter a password."),
        (GOOD_NAME, "short", "short", "#passwordError", "Too short: 5 characters, at least 8."),
        # Seven emoji are 14 UTF-16 units but 7 characters: too short, as the server counts.
        (GOOD_NAME, "😀" * 7, "😀" * 7, "#passwordError", "Too short: 7 characters, at least 8."),
        (GOOD_NAME, "x" * 1025, "x" * 1025, "#passwordError", "Too long: 1025 characters, at most 1024."),
        (GOOD_NAME, PASSWORD, "", "#confirmError", "Type the password again."),
        (GOOD_NAME, PASSWORD, PASSWORD + "!", "#confirmError", "The two passwords do not match."),
    ],
)
def test_each_rule_is_explained_next_to_its_field_and_nothing_is_sent(
    page, server, username, password, confirm, field, message
):
    open_register(page, server)
    sent = api_requests(page)
    page.fill("#username", username)
    page.fill("#password", password)
    page.fill("#confirm", confirm)
    page.click("#registerForm button[type=submit]")
    expect(page.locator(field)).to_contain_text(message)
    expect(page.locator("#errorAlert")).to_contain_text("Please correct the fields")
    input_id = field.removesuffix("Error")
    expect(page.locator(input_id)).to_have_attribute("aria-invalid", "true")
    assert sent == []


def test_rules_are_checked_while_typing(page, server):
    open_register(page, server)
    page.type("#username", "ab")
    expect(page.locator("#usernameError")).to_have_text("Too short: 2 characters, at least 6.")
    page.type("#username", "cdef")
    expect(page.locator("#usernameError")).to_be_empty()
    page.fill("#password", PASSWORD)
    page.type("#confirm", "corr")
    expect(page.locator("#confirmError")).to_have_text("The two passwords do not match.")
    page.fill("#confirm", PASSWORD)
    expect(page.locator("#confirmError")).to_be_empty()
    # Changing the password again re-checks the confirmation.
    page.fill("#password", PASSWORD + "x")
    expect(page.locator("#confirmError")).to_have_text("The two passwords do not match.")


def test_eight_emoji_and_chinese_username_are_accepted(page, server):
    username = "用户" + unique_username()[-8:]
    page.goto(f"{server.url}/register.html")
    page.fill("#username", username)
    page.fill("#password", "😀" * 8)
    page.fill("#confirm", "😀" * 8)
    with page.expect_response(lambda r: r.url.endswith("/api/register")) as answer:
        page.click("#registerForm button[type=submit]")
    assert answer.value.status == 200
    expect(page.locator("#successAlert")).to_contain_text(username)
    server.login(username, "😀" * 8)


def test_a_taken_username_is_said_next_to_the_field(page, server):
    taken = server.register()
    answer = submit_registration(page, server, taken.upper())  # unique regardless of letter case
    assert answer.status == 409
    expect(page.locator("#usernameError")).to_have_text("This username is already taken. Please choose another.")
    expect(page.locator("#errorAlert")).to_have_text("This username is already taken. Please choose another.")
    expect(page.locator("#successAlert")).to_be_empty()
    assert re.search(r"/register\.html$", page.url)


def test_register_page_works_with_the_keyboard_alone(page, server):
    username = unique_username()
    page.goto(f"{server.url}/register.html")
    page.focus("#username")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    with page.expect_response(lambda r: r.url.endswith("/api/register")) as answer:
        page.keyboard.press("Enter")
    assert answer.value.status == 200
    page.wait_for_url(re.compile(r"/login\.html"))


def test_the_rules_are_the_servers_settings(page, strict_server):
    open_register(page, strict_server)
    expect(page.locator("#usernameHint")).to_have_text("6–32 letters, digits or Chinese characters.")
    expect(page.locator("#passwordHint")).to_have_text("At least 12 characters. Spaces, symbols and emoji are welcome.")
    page.fill("#username", unique_username())
    page.fill("#password", "ten chars!")
    expect(page.locator("#passwordError")).to_have_text("Too short: 10 characters, at least 12.")
    page.select_option("#langSelect", "zh-TW")
    expect(page.locator("#passwordHint")).to_have_text("至少 12 個字元，可以使用空白、符號和表情符號。")
    expect(page.locator("#passwordError")).to_have_text("太短：10 個字元，至少要 12 個。")
    page.fill("#password", "twelve chars")
    expect(page.locator("#passwordError")).to_be_empty()


def test_a_refusal_the_page_could_not_foresee_is_said_in_the_servers_words(page, strict_server):
    # Without GET /api/config (a proxy that blocks it, say) the page cannot know
    # the rule, so the server judges, and its own sentence names its limit.
    page.route("**/api/config", lambda route: route.abort("connectionrefused"))
    page.goto(f"{strict_server.url}/register.html")
    page.fill("#username", unique_username())
    page.fill("#password", "ten chars!")
    page.fill("#confirm", "ten chars!")
    with page.expect_response(lambda r: r.url.endswith("/api/register")) as answer:
        page.click("#registerForm button[type=submit]")
    assert answer.value.status == 400
    expect(page.locator("#passwordError")).to_have_text("Password must be 12–1024 characters.")
    expect(page.locator("#errorAlert")).to_have_text("Password must be 12–1024 characters.")
    expect(page.locator("#password")).to_be_focused()
