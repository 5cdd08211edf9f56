"""The README's two commands are what a newcomer types, and CI must run the test one verbatim."""

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _readme_commands() -> list[str]:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_the_readme_gives_a_demo_command_and_a_test_command():
    demo, tests = _readme_commands()
    assert demo.startswith("python3 -m venv .venv") and demo.endswith("kpi-bot demo")
    assert tests.startswith("python3 -m venv .venv") and tests.endswith(".venv/bin/pytest")


def test_ci_runs_the_readme_test_command_verbatim():
    _, tests = _readme_commands()
    ci_lines = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert tests in ci_lines


def test_every_place_the_layout_names_exists():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    places = {path for path in re.findall(r"`([\w/.]+)`", layout) if "/" in path}
    assert places, "the layout names no file"
    assert sorted(path for path in places if not (REPO_ROOT / path).exists()) == []
