"""The pages' sentences (public/js/messages/*.js): every key in every page
language with the same placeholders, every key used somewhere, every key used
defined, no key defined by two modules, and Traditional Chinese written in
Traditional characters.

A message module is one object literal with quoted keys (i18n.js says so at
the top), which is JSON once its comment lines, the export and the trailing
commas are taken away; that is how this test reads it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from authupload import i18n

PUBLIC = Path(__file__).resolve().parent.parent / "public"
MESSAGES_DIR = PUBLIC / "js" / "messages"
LANGUAGES = ["en", "zh-CN", "zh-TW"]
# Plural variants ("ws.usageFiles.one") exist only where a language has that form.
PLURAL_SUFFIXES = (".zero", ".one", ".two", ".few", ".many")
# Error keys the pages make up themselves, for answers that carry no server key.
CLIENT_ERROR_KEYS = {"network", "unknown", "serverSaid", "too_many_attempts_nowait", "upload_gone"}


def read_module(path: Path) -> dict[str, dict[str, str]]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("//")]
    text = "\n".join(lines).strip()
    assert text.startswith("export default {") and text.endswith("};"), f"{path.name}: one `export default {{…}};`"
    body = text[len("export default "):-1]
    body = re.sub(r"^(\s*)(en|[\w-]+):", r'\1"\2":', body, flags=re.M)  # en: → "en":
    body = re.sub(r",(\s*[}\]])", r"\1", body)  # trailing commas
    return json.loads(body)


def all_modules() -> dict[str, dict[str, dict[str, str]]]:
    return {path.name: read_module(path) for path in sorted(MESSAGES_DIR.glob("*.js"))}


def defined_keys() -> set[str]:
    return {key for table in all_modules().values() for lang in table.values() for key in lang}


def page_sources() -> str:
    """Markup and behaviour, without the message tables themselves."""
    files = [*PUBLIC.glob("*.html"), *(p for p in PUBLIC.rglob("*.js") if MESSAGES_DIR not in p.parents)]
    return "\n".join(path.read_text(encoding="utf-8") for path in files)


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


@pytest.mark.parametrize("name", sorted(p.name for p in MESSAGES_DIR.glob("*.js")))
def test_every_key_is_in_every_language_with_the_same_placeholders(name):
    table = all_modules()[name]
    assert sorted(table) == sorted(LANGUAGES)
    keys = {lang: {k for k in table[lang] if not k.endswith(PLURAL_SUFFIXES)} for lang in LANGUAGES}
    assert keys["zh-CN"] == keys["en"], keys["en"] ^ keys["zh-CN"]
    assert keys["zh-TW"] == keys["en"], keys["en"] ^ keys["zh-TW"]
    for key in keys["en"]:
        args = {lang: placeholders(table[lang][key]) for lang in LANGUAGES}
        assert args["zh-CN"] == args["en"] == args["zh-TW"], (key, args)


def test_no_key_is_defined_by_two_modules():
    owners: dict[str, str] = {}
    for name, table in all_modules().items():
        for key in table["en"]:
            assert key not in owners, f"{key} is defined in {owners.get(key)} and {name}"
            owners[key] = name


def used_literally(key: str, sources: str) -> bool:
    return re.search(r"""["'`]""" + re.escape(key) + r"""["'`]""", sources) is not None


def is_used(key: str, sources: str) -> bool:
    """Used as written, as a plural form of a used key, or built from a family
    prefix that the code completes at run time (`"reason." + reason`,
    `error.${error.key}`): then its last part must be a word the code or the
    server actually produces."""
    base = key
    for suffix in PLURAL_SUFFIXES:
        if key.endswith(suffix):
            base = key[: -len(suffix)]
    if used_literally(base, sources):
        return True
    family, _, last = base.partition(".")
    built = re.search(r"""["'`]""" + re.escape(family) + r"""\.(["'`] \+|\$\{)""", sources)
    if not built:
        return False
    if family in ("error", "reason"):
        # An error key (or the login page's reason, which is often one) comes
        # from the server or from the pages' own few.
        server_key = last.split(".")[0]
        if server_key in i18n.MESSAGES or server_key in CLIENT_ERROR_KEYS:
            return True
    return re.search(r"""["'`=]""" + re.escape(last) + r"""\b""", sources) is not None


def test_every_defined_key_is_used():
    sources = page_sources()
    unused = sorted(key for key in defined_keys() if not is_used(key, sources))
    assert unused == []


def test_every_key_the_pages_use_is_defined():
    sources = page_sources()
    defined = defined_keys()
    families = {key.split(".")[0] for key in defined}
    used = set(re.findall(r'data-i18n(?:-[a-z-]+)?="([\w.]+)"', sources))
    # String literals shaped like a key of a known family ("files.title"),
    # not file names ("login.html").
    for literal in re.findall(r"""["'`]([a-z]+\.[A-Za-z_.]+)["'`]""", sources):
        if literal.split(".")[0] in families and not re.search(r"\.(html|js|css|svg|json)$", literal):
            used.add(literal)
    assert sorted(used - defined) == []


def test_every_error_the_server_raises_has_a_sentence_in_the_pages():
    """A page meets any of them; the server's own message is only a fallback."""
    package = Path(__file__).resolve().parent.parent / "authupload"
    raised = {key for path in package.rglob("*.py")
              for key in re.findall(r'HTTPError\(\s*\d+,\s*"(\w+)"', path.read_text(encoding="utf-8"))}
    assert len(raised) > 20
    assert sorted(raised - {key.removeprefix("error.") for key in defined_keys()}) == []


def test_traditional_chinese_is_written_in_traditional_characters():
    """Character conversion alone is not translation, but a Simplified form
    left in a Traditional sentence is always a mistake."""
    simplified = set("录户传档们设务选择删码请过时还这为会应检项间网络连续进复见输确认钟载结实体汉数错误样标无")
    for name, table in all_modules().items():
        for key, text in table["zh-TW"].items():
            found = simplified & set(text)
            assert not found, f"{name} {key}: {text!r} has Simplified {''.join(sorted(found))}"
