"""The registration page: the server's rules checked while typing and on
submit, the specific reason next to each field, server refusals by key."""

import re

import pytest
from playwright.sync_api import expect

from browser_harness import PASSWORD, submit_registration, unique_username

pytestmark = pytest.mark.browser

GOOD_NAME = "alice2024"


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
    page.goto(f"{server.url}/register.html")
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
    page.goto(f"{server.url}/register.html")
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
