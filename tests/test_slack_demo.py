"""The scheduler demo of the README runs end to end and shows every message arriving once."""

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_the_slack_demo_posts_digests_summary_scorecard_alert_and_recovery_once():
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "slack_demo.py")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO_ROOT,
        check=True,
    )
    output = result.stdout
    for key in (
        "weekly_digest:shanghai_ops:2026-W40",
        "weekly_digest:beijing_service:2026-W40",
        "weekly_digest:berlin_ops:2026-W40",
        "management_summary:*:2026-W40",
        "scorecard_quarterly:*:2026-Q3",
        "C0MANAGEMENT period_close:*:2026-Q3",
        "C0HR period_close_hr:*:2026-Q3:r1",
        "recovery:beijing_service:",
    ):
        [line] = [line for line in output.splitlines() if key in line and "chat.postMessage" in line]
        assert line.strip().startswith("1× "), (key, output)
    assert "chat.update" in output
    [results_file] = [line for line in output.splitlines() if "files.completeUploadExternal C0HR" in line]
    assert results_file.strip().startswith("1× ") and "2026-Q3 r1" in results_file, output  # HR's results file
    assert "posted twice: nothing; new after the restart: 0" in output
