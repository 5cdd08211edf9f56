"""`kpi-bot --help` (and each command's help) starts without the heavy libraries: a command imports
matplotlib, Bolt, APScheduler only when it runs (bench/startup.py prints the time this saves)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("matplotlib", "slack_bolt", "apscheduler")

# The console script's entry point, then the names of the top-level packages the process has loaded.
HELP_THEN_MODULES = """
import json, sys
from bot.cli import main
try:
    main(sys.argv[1:], prog_name="kpi-bot")
except SystemExit as exit:
    assert exit.code in (0, None), exit.code
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def loaded_packages(*args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", HELP_THEN_MODULES, *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Usage: kpi-bot" in done.stdout
    return set(json.loads(done.stdout.splitlines()[-1]))


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("--help",), id="kpi-bot"),
        *(pytest.param((command, "--help"), id=command) for command in ("serve", "worker", "digest", "report")),
    ],
)
def test_help_does_not_import_the_heavy_libraries(args):
    loaded = loaded_packages(*args)
    assert "click" in loaded  # the probe sees what the process imported
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
