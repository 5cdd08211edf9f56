"""Write -> alert latency: a lead records an overdue customer case in the Slack modal of `kpi-bot serve`,
and the time until the fake Slack server receives the alert in the team channel is measured.

    python bench/alerts.py [--cases 100]

`kpi-bot serve` runs as a subprocess on SQLite with the demo data; its Web API points at the fake Slack
server of the tests, and each submission is signed like Slack's. Prints p50/p95 (target: p95 <= 1 s).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bench.ack import SECRET, start  # noqa: E402
from bot.resources import EXAMPLE_CONFIG  # noqa: E402
from tests.fake_slack import FakeSlack  # noqa: E402
from tests.slack_requests import SlackClient, datetimepicker_value, static_select_value  # noqa: E402

LEAD = "U0LEADBJ"
CHANNEL = "C0BEIJING"


def alerts_posted(fake: FakeSlack) -> list[float]:
    return [
        call.time
        for call in fake.calls("chat.postMessage")
        if call.params.get("channel") == CHANNEL and str(call.params.get("text", "")).startswith("🔴")
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100)
    args = parser.parse_args()
    with FakeSlack() as fake, tempfile.TemporaryDirectory() as folder:
        env = os.environ | {
            "KPI_DATABASE_URL": f"sqlite:///{folder}/bench.db",
            "KPI_CONFIG": str(EXAMPLE_CONFIG),
            "KPI_ALERT_SWEEP_SECONDS": "3600",  # only the write path alerts during the run
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_API_URL": fake.base_url,
        }
        subprocess.run([sys.executable, "-m", "bot.cli", "demo"], env=env, check=True, capture_output=True)
        process, url = start([sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", "0"], env)
        try:
            client = SlackClient(url, SECRET)
            time.sleep(2)  # let the start-up catch-up post its digests first
            latencies = []
            for number in range(args.cases):
                before = len(alerts_posted(fake))
                raised = int(time.time()) - 5 * 3600  # past the 4 h response target already
                started = time.time()
                reply = client.submit_view(
                    callback_id="submit_case",
                    values={
                        "team": {"value": static_select_value("beijing_service")},
                        "case_kind": {"value": static_select_value("after_sales")},
                        "raised_at": {"value": datetimepicker_value(raised)},
                    },
                    user_id=LEAD,
                    view_id=f"VBENCH{number:05d}",
                )
                assert reply.status == 200, reply
                deadline = started + 10
                while len(alerts_posted(fake)) <= before and time.time() < deadline:
                    time.sleep(0.002)
                posted = alerts_posted(fake)
                if len(posted) <= before:
                    raise SystemExit(f"no alert for case {number} within 10 s")
                latencies.append((posted[-1] - started) * 1000)
        finally:
            process.terminate()
            process.wait(timeout=30)
    quantiles = statistics.quantiles(latencies, n=100, method="inclusive")
    print(f"{args.cases} overdue cases recorded through the modal, write -> alert in the channel, ms")
    print(f"  p50 {quantiles[49]:7.1f}   p95 {quantiles[94]:7.1f}   max {max(latencies):7.1f}   (target: p95 <= 1000)")


if __name__ == "__main__":
    main()
