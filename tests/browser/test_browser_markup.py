"""The pages keep to the server's Content-Security-Policy (script-src 'self',
style-src 'self'): markup only in public/*.html, with a label for every input."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

PUBLIC = Path(__file__).resolve().parents[2] / "public"
PAGES = ["register.html", "login.html", "welcome.html"]


class Markup(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def parse(name):
    markup = Markup()
    markup.feed((PUBLIC / name).read_text(encoding="utf-8"))
    return markup.tags


@pytest.mark.parametrize("name", PAGES)
def test_no_inline_script_style_or_handlers(name):
    for tag, attrs in parse(name):
        assert "style" not in attrs, (tag, attrs)
        assert not any(attr.startswith("on") for attr in attrs), (tag, attrs)
        assert tag != "style"
        if tag == "script":
            assert attrs.get("src", "").startswith("js/"), attrs
        for value in attrs.values():
            assert not re.match(r"\s*javascript:", value or "", re.I), (tag, attrs)
        if tag in ("script", "link") and (attrs.get("src") or attrs.get("href")):
            target = attrs.get("src") or attrs.get("href")
            assert "//" not in target, f"no CDN: {target}"  # everything is served from public/


@pytest.mark.parametrize("name", PAGES)
def test_every_visible_input_has_a_label(name):
    tags = parse(name)
    labelled = {attrs["for"] for tag, attrs in tags if tag == "label" and "for" in attrs}
    for tag, attrs in tags:
        if tag == "input" and attrs.get("aria-hidden") != "true":
            assert attrs.get("id") in labelled or "data-i18n-aria-label" in attrs, attrs
