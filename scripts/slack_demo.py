"""The scheduler and alerts end to end, without a Slack workspace: `kpi-bot serve` on the demo data with
its clock started at Monday 2026-10-05 16:00 Shanghai, talking to the fake Slack server of the tests.

    .venv/bin/python scripts/slack_demo.py

It shows the start-up catch-up posting the weekly digests (with trend charts), the management summary,
the Q3 scorecard, and Q3's final scorecard with grades and HR's results file (`kpi-bot demo` ends by
closing 2026-Q3, and the bot sends a closed period's messages once); a lead recording an overdue case
in the modal, which is alerted at once; the same lead recording the first response, which posts the
recovery in the alert's thread and marks the alert resolved; the same lead appealing Q3's sales (the
Confirm / Appeal DM every assessed lead and person got after the close), management taking the appeal up
and HR upholding it, which posts the corrected revision's final scorecard in the thread of the first and
HR's revised results file; and a restart of the server that posts nothing again. Every message is listed
with its delivery key and how often it arrived.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bot.resources import EXAMPLE_CONFIG  # noqa: E402
from tests.fake_slack import FakeSlack  # noqa: E402
from tests.slack_requests import (  # noqa: E402
    SlackClient,
    datetimepicker_value,
    static_select_value,
    text_value,
)

SECRET = "demo-signing-secret"
CLOCK_START = "2026-10-05T08:00:00+00:00"  # Monday: 16:00 Shanghai, 10:00 Berlin, 04:00 New York
LEAD = "U0LEADBJ"
QUARTER = "2026-Q3"
MANAGER, HR = "U0MANAGER", "U0HR"


STARTUP_JOBS = ("startup_catch_up", "startup_alert_check", "startup_missing_data")


def serve(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """Starts `kpi-bot serve` and waits until its start-up jobs have run (their log says so)."""
    command = [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", "0"]
    process = subprocess.Popen(command, env=env, cwd=REPO_ROOT, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    finished: set[str] = set()
    url = None
    # Waiting for the log, not for Slack to fall quiet: the catch-up computes for seconds between posts
    # (the monthly digest's six months and four quarters, the charts' worker processes starting), and on
    # a loaded machine a quiet spell used to end the wait early, so later steps ran beside the catch-up
    # and the process was stopped with posts still to come.
    for line in process.stderr:
        if match := re.search(r"listening on (http://\S+)", line):
            url = match.group(1)
        if match := re.search(r"scheduled job (\w+) (done|failed)", line):
            finished.add(match.group(1))
        if url is not None and finished.issuperset(STARTUP_JOBS):
            threading.Thread(target=process.stderr.read, daemon=True).start()
            return process, url
    raise SystemExit("kpi-bot serve stopped before its start-up jobs had run")


def settle(fake: FakeSlack, seconds: float = 1.5) -> None:
    """Waits until the fake has heard nothing new for ``seconds``."""
    seen = -1
    while len(fake.calls()) != seen:
        seen = len(fake.calls())
        time.sleep(seconds)


def posts(fake: FakeSlack) -> list[tuple[str, str, str]]:
    found = []
    for call in fake.calls():
        if call.failed or call.method not in ("chat.postMessage", "chat.update", "files.completeUploadExternal"):
            continue
        key = (call.params.get("metadata") or {}).get("event_payload", {}).get("key", "")
        text = str(call.params.get("text") or call.params.get("files") or "").splitlines()[0][:70]
        channel = call.params.get("channel") or call.params.get("channel_id") or ""
        found.append((call.method, f"{channel} {key}".strip(), text))
    return found


def button_value(fake: FakeSlack, user: str, action_id: str) -> str:
    """The value of the ``action_id`` button in the DMs ``user`` got."""
    for call in fake.calls("chat.postMessage"):
        if call.params.get("channel") != user:
            continue
        for block in call.params.get("blocks") or []:
            for element in block.get("elements", []):
                if element.get("action_id") == action_id:
                    return str(element["value"])
    raise SystemExit(f"{user} got no {action_id} button")


def appeal(
    slack: SlackClient, fake: FakeSlack, user: str, action_id: str, value: str, view_id: str, values: dict[str, Any]
) -> None:
    """Clicks an appeal button in ``user``'s DM and submits the modal it opens with ``values``."""
    opened = len(fake.calls("views.open"))
    slack.action(action_id=action_id, value=value, user_id=user, block_id="review_actions", channel_id=user,
                 response_url=fake.response_url(action_id), trigger_id="1.2.3")  # fmt: skip
    view = fake.wait_for("views.open", count=opened + 1, timeout=30)[-1].params["view"]
    slack.submit_view(callback_id=view["callback_id"], values=values, user_id=user, view_id=view_id,
                      private_metadata=view["private_metadata"])  # fmt: skip
    settle(fake)


def main() -> None:
    with (
        FakeSlack(first_ts=int(datetime.fromisoformat(CLOCK_START).timestamp())) as fake,
        tempfile.TemporaryDirectory() as folder,
    ):
        env = os.environ | {
            "KPI_DATABASE_URL": f"sqlite:///{folder}/demo.db",
            "KPI_CONFIG": str(EXAMPLE_CONFIG),
            "KPI_CLOCK_START": CLOCK_START,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_BOT_TOKEN": "xoxb-demo",
            "SLACK_API_URL": fake.base_url,
        }
        subprocess.run(
            [sys.executable, "-m", "bot.cli", "demo"], env=env, cwd=REPO_ROOT, check=True, capture_output=True
        )

        print(f"1. kpi-bot serve starts with its clock at {CLOCK_START}; the start-up catch-up posts what is due,")
        print("   with the final scorecard of the closed 2026-Q3 and the results file (CSV) in HR's channel")
        process, url = serve(env)
        slack = SlackClient(url, SECRET)
        settle(fake)

        print("2. a Beijing lead records a case raised 5 hours ago, still without a first response")
        raised = int(datetime.fromisoformat(CLOCK_START).timestamp()) - 5 * 3600
        values = {
            "team": {"value": static_select_value("beijing_service")},
            "case_kind": {"value": static_select_value("after_sales")},
            "raised_at": {"value": datetimepicker_value(raised)},
        }
        slack.submit_view(callback_id="submit_case", values=values, user_id=LEAD, view_id="VDEMOCASE")
        settle(fake)

        print("3. the lead records the first response with /kpi case")
        slack.command("case", user_id=LEAD, response_url=fake.response_url("case"))
        view = fake.wait_for("views.open")[-1].params["view"]
        newest_case = view["blocks"][0]["element"]["options"][-1]["value"]
        answered = {
            "case": {"value": static_select_value(newest_case)},
            "first_response_at": {"value": datetimepicker_value(raised + 5 * 3600 - 60)},
        }
        slack.submit_view(callback_id="update_case", values=answered, user_id=LEAD, view_id="VDEMOANSWER")
        settle(fake)

        print("4. the lead appeals Q3's sales from the Confirm / Appeal DM the close sent (申诉)")
        appeal(slack, fake, LEAD, "appeal_open", f"{QUARTER}|team|beijing_service", "VDEMOAPPEAL", {
            "item": {"value": static_select_value("sales")},
            "reason": {"value": text_value("402,000 CNY of September sales were booked in October.")},
            "evidence": {"value": text_value("https://example.com/q3-bookings.xlsx")},
        })  # fmt: skip
        print("5. management takes the appeal up, HR upholds it with the corrected sales (a reason each):")
        print("   Q3 is re-scored as revision 2, posted in the thread of the final scorecard")
        appeal_id = button_value(fake, MANAGER, "appeal_take_up")
        taken = {"reason": {"value": text_value("Checking the October bookings.")}}
        appeal(slack, fake, MANAGER, "appeal_take_up", appeal_id, "VDEMOTAKEUP", taken)
        upheld = {
            "corrected_value": {"value": text_value("3044619.82")},
            "reason": {"value": text_value("The bookings confirm it: September's sales were 3,044,619.82 CNY.")},
        }
        appeal(slack, fake, HR, "appeal_uphold", appeal_id, "VDEMOUPHOLD", upheld)
        # the revision's scorecard and HR's file go out after the answer: stopping before would leave them
        # claimed by a process that is gone, for the restart to find pending
        revised = f"{QUARTER} r2"
        fake.wait_until(lambda calls: any(revised in str(call.params.get("files")) for call in calls), timeout=120)
        settle(fake)
        process.terminate()
        process.wait(timeout=30)

        before_restart = len(posts(fake))
        print("6. kpi-bot serve restarts: everything is in the delivery ledger already")
        process, url = serve(env)
        settle(fake)
        process.terminate()
        process.wait(timeout=30)

        delivered = posts(fake)
        print(f"\n{len(delivered)} messages, uploads and edits reached the fake Slack:")
        for (method, where, text), count in Counter(delivered).items():
            print(f"  {count}× {method:28} {where:58} {text}")
        # DMs that thank the lead are replies to a request, not ledger deliveries: they carry no key
        keys = Counter(where for method, where, _ in delivered if method == "chat.postMessage" and ":" in where)
        twice = [where for where, count in keys.items() if count > 1]
        print(f"\nposted twice: {twice or 'nothing'}; new after the restart: {len(delivered) - before_restart}")


if __name__ == "__main__":
    main()
