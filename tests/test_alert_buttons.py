"""The buttons on an alert (Acknowledge, Assign, Snooze, Open action), clicked through the real app over
signed requests by people allowed to act on the team's alerts (its leads, management, admins) and by
people who are not; the alert message is redrawn with chat.update, every action stored and audited.

From bot/config/example.yaml: Shanghai Operations (both languages) is led by U0LEADSH; U0LEADBJ leads only
Beijing; U0MANAGER is management, U0ADMIN an admin; U0NOBODY has no role. The alert: Shanghai's on-time
delivery rate at 85 %, below its 90 % threshold, on Wednesday 2026-09-30 16:00 Shanghai time.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.alert_ops import WEDNESDAY, alert_id_of
from tests.bot_harness import ADMIN, LEAD_BEIJING, LEAD_SHANGHAI_AND_BERLIN, MANAGER, STRANGER
from tests.factories import at

ALLOWED = [
    pytest.param(LEAD_SHANGHAI_AND_BERLIN, id="the-teams-lead"),
    pytest.param(MANAGER, id="management"),
    pytest.param(ADMIN, id="admin"),
]
NOT_ALLOWED = [
    pytest.param(LEAD_BEIJING, id="another-teams-lead"),
    pytest.param(STRANGER, id="no-role"),
]
#: every element of the alert message, as Slack sends a click on it
CLICKS = [
    pytest.param("alert_ack", None, id="acknowledge"),
    pytest.param("alert_assign", {"type": "users_select", "selected_user": "U0LEADBE"}, id="assign"),
    pytest.param(
        "alert_snooze",
        {"type": "static_select", "selected_option": {"text": {"type": "plain_text", "text": "1 h"}, "value": "1h"}},
        id="snooze",
    ),
    pytest.param("alert_open_action", None, id="open-action"),
]


def snooze(choice: str) -> dict:
    return {
        "type": "static_select",
        "selected_option": {"text": {"type": "plain_text", "text": choice}, "value": choice},
    }


def answer(ops) -> dict:
    """The one ephemeral answer to the click (through its response_url)."""
    [call] = ops.fake.wait_for("response")
    assert call.params["response_type"] == "ephemeral" and call.params["replace_original"] is False
    return call.params


def redrawn(ops, count: int = 1) -> dict:
    """The alert message as chat.update redrew it last."""
    updates = ops.fake.wait_for("chat.update", count=count)
    return updates[-1].params


def context_text(blocks: list[dict]) -> str:
    return " ".join(element["text"] for block in blocks if block["type"] == "context" for element in block["elements"])


def action_ids(blocks: list[dict]) -> list[str]:
    return [element["action_id"] for block in blocks if block["type"] == "actions" for element in block["elements"]]


def test_an_alert_carries_the_buttons_that_handle_it(ops):
    alert = ops.breach()
    blocks = alert.params["blocks"]
    assert blocks[0]["text"]["text"] == alert.params["text"]
    assert action_ids(blocks) == ["alert_ack", "alert_assign", "alert_snooze", "alert_open_action"]
    [menu] = [e for b in blocks if b["type"] == "actions" for e in b["elements"] if e["action_id"] == "alert_snooze"]
    assert [option["value"] for option in menu["options"]] == ["1h", "4h", "morning"]
    assert [option["text"]["text"] for option in menu["options"]] == [
        "1 hour / 1 小时",
        "4 hours / 4 小时",
        "Until the next working morning / 直到下一个工作日早上",
    ]
    assert alert_id_of(alert) == ops.alerts()[0].id


@pytest.mark.parametrize("user", ALLOWED)
def test_acknowledge_by_someone_allowed_is_stored_audited_and_shown(ops, user):
    alert_id = alert_id_of(ops.breach())
    assert ops.click("alert_ack", user=user, alert_id=alert_id) == 200

    update = redrawn(ops)
    assert (update["channel"], update["ts"]) == ops.bot.process.sender.sent_ts("alert", "shanghai_ops", str(alert_id))
    assert context_text(update["blocks"]) == (
        f"Acknowledged by <@{user}> / <@{user}> 已确认 · owner <@{user}> / 负责人 <@{user}>"
    )
    assert "alert_ack" not in action_ids(update["blocks"])  # acknowledged: the button is gone
    [assign] = [
        e for b in update["blocks"] if b["type"] == "actions" for e in b["elements"] if e["type"] == "users_select"
    ]
    assert assign["initial_user"] == user
    handling = ops.handling(alert_id)
    assert (handling.acknowledged_by, handling.acknowledged_at, handling.owner) == (user, WEDNESDAY, user)
    [entry] = ops.audit()
    assert (entry.user, entry.at, entry.action, entry.entity, entry.entity_id) == (
        user,
        WEDNESDAY,
        "alert_acknowledge",
        "alert",
        alert_id,
    )
    assert entry.old["acknowledged_by"] is None and entry.new["acknowledged_by"] == user
    ops.fake.assert_no_call("response")  # the redrawn message says it all


@pytest.mark.parametrize(("action_id", "element"), CLICKS)
@pytest.mark.parametrize("user", NOT_ALLOWED)
def test_every_button_by_someone_not_allowed_is_refused_with_a_reason_and_changes_nothing(
    ops, user, action_id, element
):
    alert_id = alert_id_of(ops.breach())
    assert ops.click(action_id, user=user, alert_id=alert_id, element=element) == 200

    chinese = "抱歉，只有 shanghai_ops 的负责人、管理层和管理员可以处理其告警和整改措施。"
    english = (
        "Sorry, only the leads of shanghai_ops, management and admins may act on its alerts and corrective actions."
    )
    # each in their own language: Beijing's lead reads Chinese, someone of no team both
    assert answer(ops)["text"] == (chinese if user == LEAD_BEIJING else f"{english} / {chinese}")
    assert ops.handling(alert_id) is None and ops.audit() == []
    assert ops.fake.calls("chat.update") == [] and ops.fake.calls("views.open") == []


@pytest.mark.parametrize("user", ALLOWED)
def test_assign_by_someone_allowed_sets_the_owner_and_acknowledges(ops, user):
    alert_id = alert_id_of(ops.breach())
    ops.click(
        "alert_assign", user=user, alert_id=alert_id, element={"type": "users_select", "selected_user": "U0LEADBE"}
    )

    update = redrawn(ops)
    assert "owner <@U0LEADBE>" in context_text(update["blocks"])
    assert f"Acknowledged by <@{user}>" in context_text(update["blocks"])
    handling = ops.handling(alert_id)
    assert (handling.owner, handling.acknowledged_by) == ("U0LEADBE", user)
    [entry] = ops.audit()
    assert (entry.action, entry.user, entry.new["owner"]) == ("alert_assign", user, "U0LEADBE")

    # assigning again to the same person changes nothing and says so
    ops.click(
        "alert_assign", user=user, alert_id=alert_id, element={"type": "users_select", "selected_user": "U0LEADBE"}
    )
    assert answer(ops)["text"] == "<@U0LEADBE> owns this alert already. / <@U0LEADBE> 已是该告警的负责人。"
    assert len(ops.audit()) == 1


@pytest.mark.parametrize("user", ALLOWED)
@pytest.mark.parametrize(
    ("choice", "until"),
    [
        pytest.param("1h", at("2026-09-30 09:00"), id="one-hour"),
        pytest.param("4h", at("2026-09-30 12:00"), id="four-hours"),
        # Wednesday 16:00 in Shanghai: the next working morning is Thursday 09:00 there
        pytest.param("morning", at("2026-10-01 09:00", "Asia/Shanghai"), id="next-working-morning"),
    ],
)
def test_snooze_by_someone_allowed_is_stored_and_shown_in_the_teams_time(ops, user, choice, until):
    alert_id = alert_id_of(ops.breach())
    ops.click("alert_snooze", user=user, alert_id=alert_id, element=snooze(choice))

    update = redrawn(ops)
    local = until.astimezone(ops.config.team("shanghai_ops").tz).strftime("%Y-%m-%d %H:%M CST")
    assert f"snoozed until {local}" in context_text(update["blocks"])
    handling = ops.handling(alert_id)
    assert (handling.snoozed_until, handling.snoozed_by, handling.acknowledged_at) == (until, user, None)
    assert "alert_ack" in action_ids(update["blocks"])  # snoozing is not acknowledging
    [entry] = ops.audit()
    assert (entry.action, entry.new["snoozed_until"]) == ("alert_snooze", until.isoformat())


@pytest.mark.parametrize(
    ("now", "morning"),
    [
        pytest.param("2026-10-02 18:00", "2026-10-05 09:00", id="friday-evening-to-monday"),
        pytest.param("2026-10-05 07:30", "2026-10-05 09:00", id="monday-before-work-to-the-same-morning"),
        pytest.param("2026-10-05 09:00", "2026-10-06 09:00", id="at-nine-to-the-next-day"),
        pytest.param("2026-10-03 11:00", "2026-10-05 09:00", id="saturday-to-monday"),
    ],
)
def test_the_next_working_morning_is_nine_on_the_next_weekday_in_the_teams_zone(ops, now, morning):
    ops.clock.set(now, "Asia/Shanghai")
    alert_id = alert_id_of(ops.breach())
    ops.click("alert_snooze", user=MANAGER, alert_id=alert_id, element=snooze("morning"))
    redrawn(ops)
    assert ops.handling(alert_id).snoozed_until == at(morning, "Asia/Shanghai")


def test_a_second_acknowledgement_keeps_the_first_and_says_who(ops):
    alert_id = alert_id_of(ops.breach())
    ops.click("alert_ack", user=LEAD_SHANGHAI_AND_BERLIN, alert_id=alert_id)
    redrawn(ops)
    ops.clock.advance(timedelta(minutes=5))
    ops.click("alert_ack", user=MANAGER, alert_id=alert_id)
    assert answer(ops)["text"] == (
        f"Already acknowledged by <@{LEAD_SHANGHAI_AND_BERLIN}>. / <@{LEAD_SHANGHAI_AND_BERLIN}> 已确认过该告警。"
    )
    assert ops.handling(alert_id).acknowledged_by == LEAD_SHANGHAI_AND_BERLIN
    assert len(ops.audit()) == 1 and len(ops.fake.calls("chat.update")) == 1


@pytest.mark.parametrize(
    ("block_alert", "element", "expected"),
    [
        pytest.param("999", None, "gone", id="unknown-alert"),
        pytest.param("1; DROP TABLE alert", None, "gone", id="not-a-number"),
        pytest.param("99999999999999999999999", None, "gone", id="huge-number"),
        pytest.param("1", snooze("forever"), "gone", id="snooze-choice-not-offered"),
        pytest.param(
            "1", {"type": "users_select", "selected_user": "<!channel>"}, "not_a_user", id="assign-to-a-broadcast"
        ),
    ],
)
def test_forged_clicks_are_answered_and_change_nothing(ops, block_alert, element, expected):
    ops.breach()
    action_id = {None: "alert_ack", "static_select": "alert_snooze", "users_select": "alert_assign"}[
        element and element["type"]
    ]
    ops.click(action_id, user=MANAGER, alert_id=block_alert, element=element)
    text = answer(ops)["text"]
    assert (
        text
        == {
            "gone": "This alert is resolved or no longer exists. / 该告警已解决或不存在。",
            "not_a_user": "Choose a person. / 请选择一个人。",
        }[expected]
    )
    assert ops.handling(1) is None and ops.audit() == []


def test_a_resolved_alert_can_no_longer_be_acknowledged(ops):
    alert_id = alert_id_of(ops.breach())
    ops.week("shanghai_ops", orders=100, on_time_orders=96)
    ops.check()
    ops.fake.wait_for("chat.update")  # the recovery marks it resolved
    ops.click("alert_ack", user=MANAGER, alert_id=alert_id)
    assert answer(ops)["text"] == "This alert is resolved or no longer exists. / 该告警已解决或不存在。"
    assert ops.handling(alert_id) is None


def test_the_status_line_of_a_hostile_owner_name_cannot_mention_or_link(ops):
    """An owner id is a Slack user id or nothing: the picker's value is checked, so no text reaches mrkdwn."""
    alert_id = alert_id_of(ops.breach())
    ops.click(
        "alert_assign", user=MANAGER, alert_id=alert_id, element={"type": "users_select", "selected_user": "U1 <!here>"}
    )
    assert answer(ops)["text"] == "Choose a person. / 请选择一个人。"
    assert ops.handling(alert_id) is None
