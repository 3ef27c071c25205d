"""The docs stay true: the architecture page matches the code, and the walkthrough's
transcripts match what the current server really sends."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from authupload import create_app
from authupload.app import ROUTES

ROOT = Path(__file__).resolve().parent.parent
ARCHITECTURE = ROOT / "docs" / "architecture.md"


def section(name: str) -> str:
    """The text between ``<!-- name… -->`` and ``<!-- /name -->`` in architecture.md."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    found = re.search(rf"<!-- {name}\b.*?-->(.*?)<!-- /{name} -->", text, re.S)
    assert found, f"architecture.md has no <!-- {name} --> section"
    return found.group(1)


def test_route_table_in_architecture_doc_is_exactly_the_router_table():
    documented = re.findall(r"^\| `([A-Z]+)` \| `([^`]+)` \|", section("routes"), re.M)
    actual = [(route.method, route.pattern) for route in ROUTES]
    assert documented == actual, "docs/architecture.md's route table differs from authupload.app.ROUTES"


def test_route_table_names_each_route_handler():
    handlers = re.findall(r"^\| `[A-Z]+` \| `[^`]+` \| `([\w.]+)` \|", section("routes"), re.M)
    actual = [f"{route.handler.__module__.removeprefix('authupload.')}.{route.handler.__name__}" for route in ROUTES]
    assert handlers == actual


def test_every_module_is_in_the_module_map():
    listed = set(re.findall(r"^- \[`([\w./]+\.py)`\]", section("modules"), re.M))
    package = ROOT / "authupload"
    modules = {path.relative_to(package).as_posix() for path in package.rglob("*.py")}
    assert modules - listed == set(), "modules missing from docs/architecture.md's module map"
    assert listed - modules == set(), "docs/architecture.md lists modules that do not exist"


def test_every_table_and_column_is_in_the_schema(make_config):
    schema = section("schema")
    connection = create_app(make_config()).services.database.connection()
    tables = [row[0] for row in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    for table in tables:
        block = re.search(rf"^{table}\s.*?(?=^\S|\Z)", schema, re.M | re.S)
        assert block, f"table {table} is missing from docs/architecture.md's schema"
        for column in connection.execute(f"PRAGMA table_info({table})"):
            assert re.search(rf"^\s+{column['name']}\s", block.group(0), re.M), \
                f"column {table}.{column['name']} is missing from docs/architecture.md's schema"


def test_doc_links_to_modules_resolve():
    for doc in (ROOT / "docs").glob("*.md"):
        for target in re.findall(r"\]\((\.\./[^)#]+)", doc.read_text(encoding="utf-8")):
            assert (doc.parent / target).resolve().exists(), f"{doc.name} links to missing {target}"


@pytest.mark.slow
def test_transcripts_and_walkthrough_match_the_running_server():
    result = subprocess.run([sys.executable, str(ROOT / "docs" / "transcripts.py"), "--check"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (
        "docs/transcripts/*.http or docs/walkthrough*.md are stale: run `python docs/transcripts.py` "
        "and review the diff.\n" + result.stdout[-4000:] + result.stderr[-2000:])


def test_functions_named_in_doc_links_exist():
    """``[`Storage.commit`](../authupload/storage.py)`` must name something defined in that file."""
    for doc in (ROOT / "docs").glob("*.md"):
        text = doc.read_text(encoding="utf-8")
        for name, target in re.findall(r"\[`([\w.]+)(?:\([^`]*\))?`\]\((\.\./authupload/[\w/]+\.py)\)", text):
            source = (doc.parent / target).read_text(encoding="utf-8")
            last = name.split(".")[-1]
            if last.endswith(".py") or name.endswith(".py"):
                continue
            assert re.search(rf"^\s*(def|class) {last}\b|^{last}\s*=", source, re.M), \
                f"{doc.name}: {name} is not defined in {target}"
