"""Alert follow-up in the weekly digest and the management summary: the median time to acknowledge and to
resolve the week's alerts and the open and overdue corrective actions, and *Open action* buttons on the
digest's KPIs off target, which open the corrective action modal for that KPI."""

from __future__ import annotations

import json
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from kpi_core.actions import ActionInput, open_action
from tests.alert_ops import WEDNESDAY, alert_id_of
from tests.bot_harness import LEAD_BEIJING, LEAD_SHANGHAI_AND_BERLIN, MANAGER
from tests.slack_calls import key_of, posts

MONDAY_MORNING = "2026-10-05 10:00"  # Shanghai: the digests and the summary of 2026-W40 are due


def acknowledged_alert(ops) -> int:
    """Shanghai's on-time delivery at 85 % in 2026-W40, acknowledged 30 minutes after it opened."""
    alert_id = alert_id_of(ops.breach())
    ops.clock.advance(timedelta(minutes=30))
    ops.click("alert_ack", user=MANAGER, alert_id=alert_id)
    ops.fake.wait_for("chat.update")
    return alert_id


def digest_of(ops, team: str = "shanghai_ops"):
    [digest] = [call for call in posts(ops.fake) if key_of(call).startswith(f"weekly_digest:{team}:")]
    return digest


def click_open_action(ops, user: str) -> None:
    """Clicks the digest's Open action button of Shanghai's on-time delivery rate as ``user``."""
    ops.fake.reset()
    ops.bot.slack.action(
        action_id="kpi_open_action:on_time_delivery",
        value="shanghai_ops:on_time_delivery",
        user_id=user,
        block_id="kpi_open_action",
        response_url=ops.fake.response_url("click"),
        channel_id="C0SHANGHAI",
    )


def test_the_digest_shows_the_weeks_response_times_and_buttons_for_its_kpis_off_target(ops):
    acknowledged_alert(ops)
    ops.clock.set(MONDAY_MORNING, "Asia/Shanghai")
    ops.bot.process.jobs.weekly_digest("shanghai_ops")

    blocks = digest_of(ops).params["blocks"]
    [followup] = [block for block in blocks if block["type"] == "context" and "time to acknowledge" in str(block)]
    assert followup["elements"][0]["text"] == (
        "Alerts opened: 1 · time to acknowledge 30 min · time to resolve – (medians) · corrective actions: 0 open, "
        "0 overdue / 新增告警：1 · 确认用时 30 min · 解决用时 –（中位数）· 整改措施：0 项未关闭，0 项逾期"
    )
    assert blocks[-1]["type"] == "context"  # the legend stays last
    [buttons] = [block for block in blocks if block["type"] == "actions"]
    assert [(button["action_id"], button["value"]) for button in buttons["elements"]][0] == (
        "kpi_open_action:on_time_delivery",
        "shanghai_ops:on_time_delivery",
    )

    click_open_action(ops, LEAD_SHANGHAI_AND_BERLIN)
    [opened] = ops.fake.wait_for("views.open")
    assert json.loads(opened.params["view"]["private_metadata"]) == {"team": "shanghai_ops", "kpi": "on_time_delivery"}

    click_open_action(ops, LEAD_BEIJING)
    [refusal] = ops.fake.wait_for("response")
    assert refusal.params["text"] == "抱歉，只有 shanghai_ops 的负责人、管理层和管理员可以处理其告警和整改措施。"
    assert ops.fake.calls("views.open") == []


def test_a_digest_of_a_week_without_alerts_or_actions_has_no_follow_up_line(ops):
    ops.clock.set(MONDAY_MORNING, "Asia/Shanghai")
    ops.bot.process.jobs.weekly_digest("berlin_ops")
    blocks = digest_of(ops, "berlin_ops").params["blocks"]
    assert "time to acknowledge" not in json.dumps(blocks)


def test_the_management_summary_lists_response_times_and_open_and_overdue_actions(ops):
    alert_id = acknowledged_alert(ops)
    ops.clock.now = WEDNESDAY + timedelta(hours=2)
    ops.week("shanghai_ops", orders=100, on_time_orders=96)  # resolved two hours after it opened
    ops.check()
    for due in ("2026-10-01", "2026-10-30"):  # one overdue by Monday, one not
        open_action(
            ops.bot.engine,
            request_key=f"test:{due}",
            data=ActionInput(
                "shanghai_ops", "on_time_delivery", alert_id, "cause", "fix", "U0LEADBE", date.fromisoformat(due)
            ),
            user=MANAGER,
            now=ops.clock(),
        )
    ops.clock.set(MONDAY_MORNING, "Asia/Shanghai")
    ops.bot.process.jobs.management_summary("C0MANAGEMENT", ZoneInfo("Asia/Shanghai"))

    [summary] = [call for call in posts(ops.fake, "C0MANAGEMENT") if key_of(call).startswith("management_summary")]
    text = "\n".join(block["text"]["text"] for block in summary.params["blocks"] if block["type"] == "section")
    assert "*Alert response and corrective actions / 告警响应与整改措施 · 2026-W40*" in text
    assert (
        "Shanghai Operations: 1 alerts · time to acknowledge 30 min (1) · time to resolve 2 h 0 min (1) · "
        "corrective actions: 2 open, 1 overdue"
    ) in text
    assert "Berlin Operations:" not in text  # no alert and no action: not listed
