"""Corrective actions (持续改进) through the real app: the Open action button on an alert opens the modal,
its submission is validated (hostile input gets field errors and stores nothing) and stored once;
``/kpi actions`` lists them with a Close button; an action closes only when its KPI has been met for two
periods in a row since it was opened, otherwise it stays open with a note; an overdue action reminds its
owner once a day through the delivery ledger.

The alert: Shanghai's on-time delivery rate at 85 % in 2026-W40 (target 95 %, threshold 90 %).
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlmodel import Session, select

from kpi_core.models import AuditEntry, CorrectiveAction
from tests.alert_ops import Ops, alert_id_of
from tests.bot_harness import LEAD_BEIJING, LEAD_SHANGHAI_AND_BERLIN, MANAGER
from tests.mrkdwn import HOSTILE, as_slack_shows, mrkdwn_problems
from tests.slack_calls import key_of, posts, wait_for_posts
from tests.slack_requests import datepicker_value, text_value


def users_value(user: str | None) -> dict:
    return {"type": "users_select", "selected_user": user}


def good_answers(**overrides: dict) -> dict:
    return {
        "root_cause": text_value("Carrier missed two pick-ups"),
        "action": text_value("Second carrier on standby for Mondays"),
        "owner": users_value("U0LEADBE"),
        "due_on": datepicker_value("2026-10-07"),
    } | overrides


def open_modal(ops: Ops, user: str = LEAD_SHANGHAI_AND_BERLIN) -> dict:
    alert_id = alert_id_of(ops.breach())
    ops.click("alert_open_action", user=user, alert_id=alert_id)
    [call] = ops.fake.wait_for("views.open")
    view: dict = call.params["view"]
    return view


def actions(ops: Ops) -> list[CorrectiveAction]:
    with Session(ops.bot.engine) as session:
        return list(session.exec(select(CorrectiveAction).order_by(CorrectiveAction.id)))


def action_audit(ops: Ops) -> list[AuditEntry]:
    with Session(ops.bot.engine) as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.entity == "corrective_action")))


def test_open_action_opens_the_modal_for_the_alerts_team_and_kpi(ops):
    view = open_modal(ops)
    assert view["callback_id"] == "corrective_action"
    assert json.loads(view["private_metadata"]) == {"alert": 1}
    assert [block.get("block_id") for block in view["blocks"][1:]] == ["root_cause", "action", "owner", "due_on"]
    assert (
        view["blocks"][0]["text"]["text"] == "*Shanghai Operations / 上海运营中心* · On-time delivery rate / 准时交付率"
    )
    owner = view["blocks"][3]["element"]
    assert (owner["type"], owner["initial_user"]) == ("users_select", LEAD_SHANGHAI_AND_BERLIN)
    assert view["blocks"][4]["element"]["initial_date"] == "2026-10-07"  # a week ahead, proposed


def test_a_valid_action_is_stored_once_audited_and_confirmed(ops):
    view = open_modal(ops)
    status, body = ops.bot.submit(view, good_answers(), user_id=LEAD_SHANGHAI_AND_BERLIN)
    assert (status, body) == (200, "")
    [confirmation] = wait_for_posts(ops.fake, LEAD_SHANGHAI_AND_BERLIN)
    assert confirmation.params["text"] == (
        "Corrective action #1 opened for Shanghai Operations · On-time delivery rate, owner <@U0LEADBE>, "
        "due 2026-10-07. / 已为 上海运营中心 · 准时交付率 创建整改措施 #1，负责人 <@U0LEADBE>，截止 2026-10-07。"
    )
    # the same submission again (a double click): stored once
    assert ops.bot.submit(view, good_answers(), user_id=LEAD_SHANGHAI_AND_BERLIN) == (200, "")
    [action] = actions(ops)
    assert (action.team, action.kpi, action.alert_id, action.owner, action.due_on, action.status) == (
        "shanghai_ops",
        "on_time_delivery",
        1,
        "U0LEADBE",
        date(2026, 10, 7),
        "open",
    )
    assert (action.root_cause, action.action, action.opened_by) == (
        "Carrier missed two pick-ups",
        "Second carrier on standby for Mondays",
        LEAD_SHANGHAI_AND_BERLIN,
    )
    [entry] = action_audit(ops)
    assert (entry.action, entry.user, entry.entity_id) == ("action_open", LEAD_SHANGHAI_AND_BERLIN, 1)


@pytest.mark.parametrize(
    ("answers", "errors"),
    [
        pytest.param({"root_cause": text_value(None)}, {"root_cause": "Please fill this in."}, id="empty"),
        pytest.param(
            {"action": text_value("x" * 1001)}, {"action": "Too long: at most 1000 characters."}, id="over-1000-chars"
        ),
        pytest.param(
            {"root_cause": text_value("late\x00driver")},
            {"root_cause": "Remove the control characters (line breaks, tabs, NUL)."},
            id="nul-character",
        ),
        pytest.param(
            {"due_on": datepicker_value("2026-09-29")},
            {"due_on": "The due date cannot be before today."},
            id="due-yesterday",
        ),
        pytest.param(
            {"due_on": datepicker_value("2026-02-30")}, {"due_on": "Please choose this again."}, id="no-such-day"
        ),
        pytest.param(
            {"due_on": datepicker_value("2100-01-01")}, {"due_on": "Cannot be after 2046-12-31."}, id="too-far-ahead"
        ),
        pytest.param({"due_on": datepicker_value(None)}, {"due_on": "Please fill this in."}, id="no-due-date"),
        pytest.param({"owner": users_value("<!channel>")}, {"owner": "Choose a person."}, id="broadcast-as-owner"),
        pytest.param({"owner": users_value(None)}, {"owner": "Choose a person."}, id="no-owner"),
        pytest.param(
            {"root_cause": text_value(None), "owner": users_value("x"), "due_on": datepicker_value("1999-01-01")},
            {
                "root_cause": "Please fill this in.",
                "owner": "Choose a person.",
                "due_on": "The due date cannot be before today.",
            },
            id="every-bad-field-at-once",
        ),
    ],
)
def test_hostile_input_gets_field_errors_on_its_fields_and_stores_nothing(ops, answers, errors):
    view = open_modal(ops, MANAGER)  # management reads English only when in no team: both languages
    status, body = ops.bot.submit(view, good_answers(**answers), user_id=LEAD_SHANGHAI_AND_BERLIN)
    assert status == 200
    assert body["response_action"] == "errors"
    assert {key: text.split(" / ")[0] for key, text in body["errors"].items()} == errors
    assert actions(ops) == [] and action_audit(ops) == []


@pytest.mark.parametrize(
    ("metadata", "user", "error"),
    [
        pytest.param(
            json.dumps({"alert": 1}), LEAD_BEIJING, "抱歉，只有 shanghai_ops 的负责人", id="another-teams-lead"
        ),
        pytest.param(json.dumps({"alert": 999}), MANAGER, "This item no longer exists", id="unknown-alert"),
        pytest.param(json.dumps({"alert": "1"}), MANAGER, "This item no longer exists", id="alert-as-text"),
        pytest.param(json.dumps({"alert": True}), MANAGER, "This item no longer exists", id="alert-as-boolean"),
        pytest.param("{not json", MANAGER, "This item no longer exists", id="not-json"),
        pytest.param(json.dumps({"alert": 2**70}), MANAGER, "This item no longer exists", id="huge-id"),
        pytest.param(json.dumps({"team": "shanghai_ops", "kpi": "nope"}), MANAGER, "This item", id="unknown-kpi"),
        pytest.param(json.dumps({"team": ["x"], "kpi": "csat"}), MANAGER, "This item", id="team-as-list"),
        pytest.param(
            json.dumps({"team": "beijing_service", "kpi": "csat"}),
            LEAD_SHANGHAI_AND_BERLIN,
            "Sorry, only the leads of beijing_service",
            id="kpi-of-a-team-not-led",
        ),
    ],
)
def test_a_forged_modal_is_refused_on_its_first_field(ops, metadata, user, error):
    view = open_modal(ops) | {"private_metadata": metadata}
    status, body = ops.bot.submit(view, good_answers(), user_id=user)
    assert status == 200 and body["response_action"] == "errors"
    assert list(body["errors"]) == ["root_cause"] and body["errors"]["root_cause"].startswith(error)
    assert actions(ops) == []


def store_action(ops: Ops, due: str = "2026-10-07") -> None:
    view = open_modal(ops)
    assert ops.bot.submit(view, good_answers(due_on=datepicker_value(due)), user_id=LEAD_SHANGHAI_AND_BERLIN) == (
        200,
        "",
    )
    wait_for_posts(ops.fake, LEAD_SHANGHAI_AND_BERLIN)


def close(ops: Ops, user: str, action_id: int = 1) -> str:
    ops.fake.reset()
    ops.bot.slack.action(
        action_id="close_action", value=str(action_id), user_id=user, response_url=ops.fake.response_url("close")
    )
    [call] = ops.fake.wait_for("response")
    assert call.params["response_type"] == "ephemeral"
    text: str = call.params["text"]
    return text


def test_an_action_closes_only_after_its_kpi_was_met_two_periods_in_a_row(ops):
    store_action(ops)  # opened on Wednesday of 2026-W40, with 85 % that week

    # in 2026-W40 itself no period has ended since it was opened
    assert (
        close(ops, MANAGER)
        == "Reopened: not two whole periods since it was opened yet / 已重新打开：自创建以来尚未满两个完整周期"
    )
    ops.clock.set("2026-10-07 08:00")  # 2026-W41: only W40 has ended since
    assert close(ops, MANAGER) == (
        "Corrective action #1 stays open: On-time delivery rate has not been met two periods in a row yet "
        "(2026-W40 breach). / 整改措施 #1 保持打开：准时交付率 尚未连续两期达标（2026-W40 breach）。"
    )
    assert actions(ops)[0].status == "open"

    ops.week("shanghai_ops", orders=100, on_time_orders=96)  # 2026-W41 met
    ops.clock.set("2026-10-14 08:00")
    assert close(ops, MANAGER) == (
        "Corrective action #1 stays open: On-time delivery rate has not been met two periods in a row yet "
        "(2026-W40 breach; 2026-W41 met). / 整改措施 #1 保持打开：准时交付率 尚未连续两期达标"
        "（2026-W40 breach; 2026-W41 met）。"
    )
    [action] = actions(ops)
    assert (action.status, action.note) == ("open", "2026-W40 breach; 2026-W41 met")

    ops.week("shanghai_ops", orders=100, on_time_orders=97)  # 2026-W42 met
    ops.clock.set("2026-10-21 08:00")
    assert close(ops, LEAD_SHANGHAI_AND_BERLIN) == (
        "Corrective action #1 closed: On-time delivery rate was met in 2026-W41, 2026-W42. / "
        "整改措施 #1 已关闭：准时交付率 在 2026-W41, 2026-W42 均达标。"
    )
    [action] = actions(ops)
    assert (action.status, action.closed_at) == ("closed", ops.clock())
    assert [entry.action for entry in action_audit(ops)] == ["action_open", *["action_reopen"] * 3, "action_close"]
    assert (
        close(ops, MANAGER)
        == "This corrective action is closed already or no longer exists. / 该整改措施已关闭或不存在。"
    )


def test_an_action_of_another_team_cannot_be_closed(ops):
    store_action(ops)
    assert close(ops, LEAD_BEIJING) == "抱歉，只有 shanghai_ops 的负责人、管理层和管理员可以处理其告警和整改措施。"
    assert [entry.action for entry in action_audit(ops)] == ["action_open"]


def test_kpi_actions_lists_open_actions_with_owner_due_date_and_a_close_button(ops):
    store_action(ops)
    ops.clock.set("2026-10-08 08:00")  # past the due date: overdue
    ops.fake.reset()
    status, _ = ops.bot.command("actions", user_id=LEAD_SHANGHAI_AND_BERLIN)
    assert status == 200
    [answer] = ops.fake.wait_for("response")
    blocks = answer.params["blocks"]
    assert blocks[0]["text"]["text"] == (
        "*Corrective actions of Shanghai Operations, Berlin Operations / 上海运营中心, 柏林运营部 的整改措施*"
    )
    [item] = blocks[1:]
    assert item["text"]["text"].startswith(
        "⚠️ overdue #1 Shanghai Operations · On-time delivery rate · owner <@U0LEADBE> · due 2026-10-07"
    )
    assert (
        "Root cause: Carrier missed two pick-ups\nAction: Second carrier on standby for Mondays" in item["text"]["text"]
    )
    assert item["accessory"]["action_id"] == "close_action" and item["accessory"]["value"] == "1"

    # Beijing's lead sees no action of Shanghai, and may not ask for them
    ops.fake.reset()
    status, body = ops.bot.command("actions shanghai_ops", user_id=LEAD_BEIJING)
    assert body["text"].startswith("抱歉")


def test_an_overdue_action_reminds_its_owner_once_a_day_from_the_working_morning(ops):
    store_action(ops, due="2026-10-07")
    ops.clock.set("2026-10-07 20:00", "Asia/Shanghai")  # the due day itself: not overdue yet
    ops.follow_up()
    assert posts(ops.fake, "U0LEADBE") == []

    ops.clock.set("2026-10-08 08:59", "Asia/Shanghai")
    ops.follow_up()
    assert posts(ops.fake, "U0LEADBE") == []
    ops.clock.set("2026-10-08 09:00", "Asia/Shanghai")
    ops.follow_up()
    ops.clock.set("2026-10-08 17:00", "Asia/Shanghai")
    ops.follow_up()
    [reminder] = posts(ops.fake, "U0LEADBE")
    assert key_of(reminder) == "action_overdue:shanghai_ops:1:2026-10-08"
    assert reminder.params["text"].startswith(
        "⏰ Corrective action #1 of Shanghai Operations (On-time delivery rate) was due on 2026-10-07: Second carrier"
    )
    ops.clock.set("2026-10-09 09:30", "Asia/Shanghai")
    ops.follow_up()
    assert [key_of(call) for call in posts(ops.fake, "U0LEADBE")][-1] == "action_overdue:shanghai_ops:1:2026-10-09"
    assert len(posts(ops.fake, "U0LEADBE")) == 2


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_text_in_an_action_reaches_slack_escaped_in_the_list_and_the_reminder(ops, hostile):
    view = open_modal(ops)
    answers = good_answers(root_cause=text_value(hostile), action=text_value(hostile))
    assert ops.bot.submit(view, answers, user_id=LEAD_SHANGHAI_AND_BERLIN) == (200, "")
    wait_for_posts(ops.fake, LEAD_SHANGHAI_AND_BERLIN)
    ops.clock.set("2026-10-08 10:00", "Asia/Shanghai")
    ops.follow_up()
    [reminder] = posts(ops.fake, "U0LEADBE")
    ops.fake.reset()
    ops.bot.command("actions", user_id=MANAGER)
    [answer] = ops.fake.wait_for("response")
    [item] = answer.params["blocks"][1:]
    for text in (item["text"]["text"], reminder.params["text"]):
        assert mrkdwn_problems(text) == []
        assert hostile in as_slack_shows(text)
