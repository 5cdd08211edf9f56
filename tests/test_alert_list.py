"""``/kpi alerts [team]``: the open alerts with value against threshold, age, owner and snooze, as
ephemeral Block Kit answers; many alerts come in parts that each fit a message, at most five, and the last
says how many were left out."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kpi_core.models import Alert
from tests.alert_ops import WEDNESDAY, alert_id_of
from tests.bot_harness import LEAD_BEIJING, LEAD_SHANGHAI_AND_BERLIN, MANAGER
from tests.factories import add


def answers(ops, count: int = 1) -> list[dict]:
    return [call.params for call in ops.fake.wait_for("response", count=count)]


def test_open_alerts_show_value_against_threshold_age_owner_and_snooze(ops):
    shanghai = alert_id_of(ops.breach())
    ops.breach("berlin_ops", on_time_orders=80)
    ops.click(
        "alert_assign", user=MANAGER, alert_id=shanghai, element={"type": "users_select", "selected_user": "U0LEADBE"}
    )
    ops.fake.wait_for("chat.update")
    ops.click(
        "alert_snooze",
        user=MANAGER,
        alert_id=shanghai,
        element={
            "type": "static_select",
            "selected_option": {"text": {"type": "plain_text", "text": "4h"}, "value": "4h"},
        },
    )
    ops.fake.wait_for("chat.update", count=2)
    ops.clock.advance(timedelta(hours=2, minutes=5))
    ops.fake.reset()

    status, body = ops.bot.command("alerts", user_id=LEAD_SHANGHAI_AND_BERLIN)
    assert (status, body) == (200, "")
    [answer] = answers(ops)
    assert answer["response_type"] == "ephemeral"
    [title, first, second] = answer["blocks"]
    assert title["text"]["text"] == (
        "*Open alerts of Shanghai Operations, Berlin Operations / 上海运营中心, 柏林运营部 的未解决告警*"
    )
    assert first["text"]["text"] == (
        "🔴 Shanghai Operations · On-time delivery rate · 85.0 % vs threshold 90.0 % · open 2 h 5 min / "
        "🔴 上海运营中心 · 准时交付率 · 85.0 %（阈值 90.0 %）· 已持续 2 h 5 min\n"
        "owner <@U0LEADBE> / 负责人 <@U0LEADBE> · Acknowledged by <@U0MANAGER> / <@U0MANAGER> 已确认 · "
        "snoozed until 2026-09-30 20:00 CST / 暂停提醒至 2026-09-30 20:00 CST"
    )
    assert first["text"]["text"].count("\n") == 1
    assert "80.0 % vs threshold 90.0 %" in second["text"]["text"]
    assert "nobody owns it / 无人负责 · not acknowledged / 未确认" in second["text"]["text"]


def test_a_team_can_be_named_and_others_teams_are_refused(ops):
    ops.breach()
    ops.breach("berlin_ops")
    ops.fake.reset()
    ops.bot.command("alerts berlin_ops", user_id=MANAGER)
    [answer] = answers(ops)
    assert [block["text"]["text"].split(" · ")[0] for block in answer["blocks"][1:]] == ["🔴 Berlin Operations"]

    status, body = ops.bot.command("alerts shanghai_ops", user_id=LEAD_BEIJING)
    assert body["text"] == "抱歉，您无权查看 shanghai_ops 的 KPI。"
    status, body = ops.bot.command("alerts nowhere", user_id=MANAGER)
    assert body["text"].startswith("There is no team called `nowhere`.")


def test_no_open_alerts_says_so(ops):
    ops.bot.command("alerts", user_id=LEAD_BEIJING)
    [answer] = answers(ops)
    assert answer["blocks"][-1]["elements"][0]["text"] == "没有未解决的告警。🎉"


@pytest.mark.parametrize(
    ("alerts", "parts", "left_out"),
    [
        pytest.param(15, 1, 0, id="one-message"),
        pytest.param(40, 3, 0, id="three-parts"),
        pytest.param(80, 5, 5, id="more-than-five-parts-hold"),
    ],
)
def test_many_alerts_come_in_parts_that_fit_a_message(ops, alerts, parts, left_out):
    add(
        ops.bot.engine,
        *[
            Alert(team="beijing_service", kpi="response_time", case_id=number, threshold=4, opened_at=WEDNESDAY)
            for number in range(1, alerts + 1)
        ],
    )
    ops.bot.command("alerts", user_id=LEAD_BEIJING)
    found = answers(ops, parts)
    ops.fake.assert_no_call("response", within=0.2, already=parts)
    listed = [block for answer in found for block in answer["blocks"][1:] if block["type"] == "section"]
    assert len(listed) == alerts - left_out
    assert listed[0]["text"]["text"] == (
        "🔴 北京客户服务部 · 案例 #1（售后服务响应时间） · –（阈值 4.0 h）· 已持续 0 min\n无人负责 · 未确认"
    )
    if parts > 1:
        assert [answer["blocks"][0]["text"]["text"][-6:] for answer in found] == [
            f"({number}/{parts})*" for number in range(1, parts + 1)
        ]
    if left_out:
        assert found[-1]["blocks"][-1]["elements"][0]["text"] == (
            f"… 另有 {left_out} 条：请指定团队，`/kpi alerts [团队]`"
        )
