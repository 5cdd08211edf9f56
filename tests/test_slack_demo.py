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
        "C0MANAGEMENT period_close:*:2026-Q3 ",  # revision 1 (the space: not r2)
        "C0HR period_close_hr:*:2026-Q3:r1",
        "recovery:beijing_service:",
        "U0LEADBJ appeal_invite:*:2026-Q3:team:beijing_service:U0LEADBJ",
        "U0MANAGER appeal_decide:*:1:U0MANAGER",
        "U0HR appeal_decide:*:1:U0HR",
        "U0LEADBJ appeal_state:*:1:under_review",
        "U0LEADBJ appeal_state:*:1:upheld",
        "C0MANAGEMENT period_close:*:2026-Q3:r2",  # the appeal's revised scorecard (its thread: tests elsewhere)
        "C0HR period_close_hr:*:2026-Q3:r2",
    ):
        [line] = [line for line in output.splitlines() if key in line and "chat.postMessage" in line]
        assert line.strip().startswith("1× "), (key, output)
    assert "chat.update" in output
    # HR's results files: the close's, and the revision the upheld appeal made
    first, revised = [line for line in output.splitlines() if "files.completeUploadExternal C0HR" in line]
    assert first.strip().startswith("1× ") and "2026-Q3 r1" in first, output
    assert revised.strip().startswith("1× ") and "2026-Q3 r2" in revised, output
    assert "posted twice: nothing; new after the restart: 0" in output
