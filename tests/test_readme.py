"""The README is the first thing a newcomer runs: keep it true to the code."""

import re
from pathlib import Path

from authupload.config import argument_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section)


def test_quick_start_has_two_commands_one_serving_and_one_testing():
    serve, test = quick_start_commands()
    assert "serve.py" in serve and "pip install" in serve
    assert "pytest" in test and "pip install" in test


def test_ci_runs_the_readme_test_command_word_for_word():
    _, test_command = quick_start_commands()
    assert test_command in (ROOT / ".ci" / "run").read_text().splitlines()


def test_configuration_table_lists_every_flag_of_serve_py():
    flags = {
        option
        for action in argument_parser()._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    }
    documented = set(re.findall(r"^\| `(--[a-z-]+)` \|", README, flags=re.MULTILINE))
    assert documented == flags
