"""docs/threats.md stays true: every test it names exists, every attack test is in it,
and every ``module.function`` it names as a defence is defined in that module.

Plain text search, no imports: fast, and it cannot be fooled by a test that is
skipped or collected under another name.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THREATS = (ROOT / "docs" / "threats.md").read_text(encoding="utf-8")
TEST_REFERENCE = re.compile(r"tests/(test_\w+\.py)::(test_\w+)")
MODULES = {path.stem for path in (ROOT / "authupload").glob("*.py")}


def defined_tests(filename: str) -> set[str]:
    path = ROOT / "tests" / filename
    if not path.exists():
        return set()
    return set(re.findall(r"^(?:async )?def (test_\w+)\(", path.read_text(encoding="utf-8"), re.M))


def test_every_test_named_in_the_threat_model_exists():
    references = TEST_REFERENCE.findall(THREATS)
    assert len(references) > 100
    missing = [f"tests/{file}::{name}" for file, name in references if name not in defined_tests(file)]
    assert missing == [], f"docs/threats.md names tests that do not exist: {missing}"


def test_every_attack_test_is_in_the_threat_model():
    referenced = set(TEST_REFERENCE.findall(THREATS))
    unmapped = [f"tests/{path.name}::{name}" for path in sorted((ROOT / "tests").glob("test_attacks_*.py"))
                for name in sorted(defined_tests(path.name)) if (path.name, name) not in referenced]
    assert unmapped == [], f"attack tests missing from docs/threats.md: {unmapped}"


def test_every_defence_named_in_the_threat_model_is_defined():
    missing = []
    for module, dotted in re.findall(r"`(\w+)\.([\w.]+)", THREATS):
        if module not in MODULES:
            continue  # e.g. `Storage.find` (a class) or a file name
        name = dotted.split(".")[-1]
        source = (ROOT / "authupload" / f"{module}.py").read_text(encoding="utf-8")
        if not re.search(rf"^\s*(?:def|class) {name}\b|^\s*{name}\s*[:=]", source, re.M):
            missing.append(f"{module}.{dotted}")
    assert missing == [], f"docs/threats.md names defences that do not exist: {missing}"
