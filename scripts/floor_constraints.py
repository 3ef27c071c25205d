#!/usr/bin/env python3
"""Print pip constraints pinning every runtime dependency to the floor pyproject.toml declares.

    pip install -e '.[test]' -c <(python3 scripts/floor_constraints.py)

CI installs these into a venv of its own and runs the fast suite there, so a
declared floor (``multipart>=2.0.0``) is a version the code is known to run on,
never a guess. A floor must name an exact release (three numbers): ``==`` pins it.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
FLOOR = re.compile(r"^([A-Za-z0-9_.-]+)\s*>=\s*([0-9]+\.[0-9]+\.[0-9]+)$")


def floor_pins(pyproject: Path = PYPROJECT) -> list[str]:
    """``name==version`` for each ``name>=version`` runtime dependency; an unpinnable one is an error."""
    dependencies = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    pins = []
    for requirement in dependencies:
        match = FLOOR.match(requirement.strip())
        if not match:
            raise SystemExit(f"{requirement!r}: a dependency needs a floor of three numbers (name>=X.Y.Z)")
        pins.append(f"{match.group(1)}=={match.group(2)}")
    return pins


if __name__ == "__main__":
    sys.stdout.write("".join(pin + "\n" for pin in floor_pins()))
