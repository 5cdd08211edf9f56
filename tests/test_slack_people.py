"""The people side through the real app and the fake Slack: /kpi goals, the superior's Approve / Adjust, who
may see whose /kpi me, the person on a case, and hostile input in every new modal."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from kpi_core.config import Config
from kpi_core.models import AuditEntry, CustomerCase, PersonalTarget
from tests.bot_harness import ADMIN, LEAD_BEIJING, LEAD_SHANGHAI_AND_BERLIN, MANAGER, STRANGER, Bot, running_bot
from tests.dm_buttons import buttons_in, clicked
from tests.dm_buttons import click as click_button
from tests.slack_requests import app_home_opened_body, datetimepicker_value, static_select_value, text_value

AGENT = "U0OPSSH1"  # Shanghai speaks both languages: every message has its English half
PEER = "U0OPSSH2"
SUPERIOR = LEAD_SHANGHAI_AND_BERLIN
HR = "U0HR"
OTD = "goal:on_time_delivery"
GOALS = {"sales": "1500000", "on_time_delivery": "96.5", "complaint_rate": "2"}


def user_value(user: str | None) -> dict[str, Any]:
    return {"type": "users_select", "selected_user": user}


def goal_answers(**overrides: str) -> dict[str, dict[str, Any]]:
    return {f"goal:{key}": text_value(value) for key, value in (GOALS | overrides).items()}


def open_goals(bot: Bot, user: str = AGENT, text: str = "goals") -> dict[str, Any]:
    bot.fake.reset()
    status, body = bot.command(text, user_id=user)
    assert (status, body) == (200, "")
    return bot.opened_view()


def propose(bot: Bot, **overrides: str) -> dict[str, Any]:
    """The agent proposes; returns the DM their superior got."""
    view = open_goals(bot)
    status, body = bot.submit(view, goal_answers(**overrides), user_id=AGENT)
    assert (status, body) == (200, "")
    posts = bot.fake.wait_for("chat.postMessage", count=2)
    [to_superior] = [call.params for call in posts if call.params["channel"] == SUPERIOR]
    [to_agent] = [call.params for call in posts if call.params["channel"] == AGENT]
    assert "2026-Q4" in to_agent["text"]
    return to_superior


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return buttons_in(message, "goals_decision")


def click(bot: Bot, button: dict[str, Any], *, user: str, value: str | None = None) -> None:
    click_button(bot, button, user=user, block_id="goals_decision", value=value)


def targets(bot: Bot, person: str = AGENT) -> dict[str, tuple[float, float | None, bool]]:
    with Session(bot.engine) as session:
        rows = session.exec(select(PersonalTarget).where(PersonalTarget.person == person)).all()
    return {row.kpi: (row.proposed, row.agreed, row.pending) for row in rows}


def test_the_superior_approves_a_proposal_and_the_person_is_told(bot: Bot) -> None:
    view = open_goals(bot)
    assert view["callback_id"] == "submit_goals"
    assert {block.get("block_id") for block in view["blocks"]} >= {f"goal:{key}" for key in GOALS}
    dm = propose(bot)
    assert "96.5 %" in json.dumps(dm["blocks"], ensure_ascii=False)
    assert targets(bot)["on_time_delivery"] == (96.5, None, True)

    click(bot, buttons(dm)["approve_goals"], user=SUPERIOR)
    response = clicked(bot)
    assert response["replace_original"] is True and "Approved" in response["text"]
    told = bot.fake.wait_for("chat.postMessage")
    assert told[0].params["channel"] == AGENT and "approved your targets for 2026-Q4" in told[0].params["text"]
    assert targets(bot) == {
        "sales": (1_500_000, 1_500_000, False),
        "on_time_delivery": (96.5, 96.5, False),
        "complaint_rate": (2, 2, False),
    }

    click(bot, buttons(dm)["approve_goals"], user=SUPERIOR)  # the same button again
    assert "decided already" in clicked(bot)["text"]


@pytest.mark.parametrize("intruder", [PEER, MANAGER, ADMIN, HR, AGENT, LEAD_BEIJING])
def test_nobody_but_the_direct_superior_may_approve_or_adjust(bot: Bot, intruder: str) -> None:
    dm = propose(bot)
    for action in ("approve_goals", "adjust_goals"):
        click(bot, buttons(dm)[action], user=intruder)
        response = clicked(bot)
        assert response["replace_original"] is False
        assert "<@U0OPSSH1>" in response["text"] and "<@U0LEADSH>" in response["text"]  # in the clicker's language
        bot.fake.assert_no_call("views.open")
    assert targets(bot)["on_time_delivery"] == (96.5, None, True)


def test_the_superior_adjusts_with_a_required_reason(bot: Bot) -> None:
    dm = propose(bot)
    click(bot, buttons(dm)["adjust_goals"], user=SUPERIOR)
    modal = bot.opened_view()
    assert modal["callback_id"] == "adjust_goals"
    answers = goal_answers(on_time_delivery="97")
    status, body = bot.submit(modal, answers, user_id=SUPERIOR)
    assert status == 200 and list(body["errors"]) == ["reason"] and "Please fill this in." in body["errors"]["reason"]
    assert targets(bot)["on_time_delivery"] == (96.5, None, True)

    bot.fake.reset()
    status, body = bot.submit(modal, answers | {"reason": text_value("the <!channel> promise")}, user_id=SUPERIOR)
    assert (status, body) == (200, "")
    assert targets(bot)["on_time_delivery"] == (96.5, 97.0, False)
    told = {call.params["channel"]: call.params["text"] for call in bot.fake.wait_for("chat.postMessage", count=2)}
    assert "adjusted your targets for 2026-Q4" in told[AGENT] and "&lt;!channel&gt;" in told[AGENT]
    with Session(bot.engine) as session:
        [entry] = session.exec(
            select(AuditEntry).where(AuditEntry.action == "adjust", col(AuditEntry.entity_id).is_not(None)).limit(1)
        ).all()
    assert entry.user == SUPERIOR and entry.new is not None and entry.new["reason"] == "the <!channel> promise"


def test_someone_else_cannot_submit_an_adjustment_modal(bot: Bot) -> None:
    dm = propose(bot)
    click(bot, buttons(dm)["adjust_goals"], user=SUPERIOR)
    modal = bot.opened_view()
    status, body = bot.submit(modal, goal_answers() | {"reason": text_value("mine now")}, user_id=PEER)
    assert status == 200 and "Only the direct superior" in body["errors"]["reason"]
    assert targets(bot)["on_time_delivery"] == (96.5, None, True)


def test_the_superior_is_told_when_the_team_targets_do_not_add_up(bot: Bot) -> None:
    # Shanghai's quarterly sales target is 3,000,000 and sales add up: 1,500,000 from one person falls short
    dm = propose(bot)
    click(bot, buttons(dm)["approve_goals"], user=SUPERIOR)
    posts = bot.fake.wait_for("chat.postMessage", count=2)
    [note] = [call.params["text"] for call in posts if call.params["channel"] == SUPERIOR]
    assert "do not add up" in note and "1,500,000 CNY" in note and "3,000,000 CNY" in note


@pytest.mark.parametrize(
    ("answers", "block", "message"),
    [
        pytest.param(goal_answers(on_time_delivery="abc"), OTD, "Enter a number", id="not-a-number"),
        pytest.param(goal_answers(on_time_delivery="1e5"), "goal:on_time_delivery", "Enter a number", id="exponent"),
        pytest.param(goal_answers(on_time_delivery="１２"), "goal:on_time_delivery", "Enter a number", id="fullwidth"),
        pytest.param(goal_answers(on_time_delivery="-3"), "goal:on_time_delivery", "Must be at least 0", id="negative"),
        pytest.param(goal_answers(on_time_delivery="9" * 30), "goal:on_time_delivery", "Must be at most", id="huge"),
        pytest.param(goal_answers(on_time_delivery=""), "goal:on_time_delivery", "Please fill this in", id="empty"),
        pytest.param(goal_answers(on_time_delivery="1.1234567"), OTD, "decimal places", id="precise"),
    ],
)
def test_hostile_goals(bot: Bot, answers: dict[str, Any], block: str, message: str) -> None:
    view = open_goals(bot)
    status, body = bot.submit(view, answers, user_id=AGENT)
    assert status == 200 and body["response_action"] == "errors"
    assert message in body["errors"][block]
    assert targets(bot) == {}


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        pytest.param({"period": "2026-Q2"}, "2026-Q2 has ended", id="past-period"),
        pytest.param({"period": "2026-10"}, "agreed per quarter", id="other-kind"),
        pytest.param({"period": "DROP TABLE"}, "agreed per quarter", id="garbage"),
        pytest.param({}, "agreed per quarter", id="missing"),
    ],
)
def test_a_tampered_goals_period_is_refused(bot: Bot, metadata: dict[str, Any], message: str) -> None:
    view = open_goals(bot) | {"private_metadata": json.dumps(metadata)}
    status, body = bot.submit(view, goal_answers(), user_id=AGENT)
    assert status == 200 and message in body["errors"]["goal:sales"]  # on the first input: the period has none
    assert targets(bot) == {}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        pytest.param({"reason": text_value("a\x00b")}, "reason", "control characters", id="nul-in-reason"),
        pytest.param({"reason": text_value("x" * 501)}, "reason", "at most 500", id="long-reason"),
        pytest.param({"goal:on_time_delivery": text_value("NaN")}, "goal:on_time_delivery", "Enter a number", id="nan"),
    ],
)
def test_hostile_adjustments(bot: Bot, change: dict[str, Any], field: str, message: str) -> None:
    dm = propose(bot)
    click(bot, buttons(dm)["adjust_goals"], user=SUPERIOR)
    modal = bot.opened_view()
    status, body = bot.submit(modal, goal_answers() | {"reason": text_value("ok")} | change, user_id=SUPERIOR)
    assert status == 200 and message in body["errors"][field]
    assert targets(bot)["on_time_delivery"] == (96.5, None, True)


def test_a_tampered_adjustment_names_nobody_it_can_change(bot: Bot) -> None:
    dm = propose(bot)
    click(bot, buttons(dm)["adjust_goals"], user=SUPERIOR)
    modal = bot.opened_view()
    metadata = json.loads(modal["private_metadata"])
    for forged in ({**metadata, "person": PEER}, {**metadata, "person": "U0GHOST"}, {**metadata, "stamp": 7}):
        status, body = bot.submit(
            modal | {"private_metadata": json.dumps(forged)},
            goal_answers() | {"reason": text_value("x")},
            user_id=SUPERIOR,
        )
        assert status == 200 and body["response_action"] == "errors", forged
    assert targets(bot)["on_time_delivery"] == (96.5, None, True) and targets(bot, PEER) == {}


@pytest.mark.parametrize(
    "value", ["", "not json", "[]", '{"person": "U0AGENTBJ1"}', '{"person": 1, "period": 2, "stamp": 3}']
)
def test_a_forged_button_value_changes_nothing(bot: Bot, value: str) -> None:
    dm = propose(bot)
    click(bot, buttons(dm)["approve_goals"], user=SUPERIOR, value=value)
    assert "decided already" in clicked(bot)["text"]
    assert targets(bot)["on_time_delivery"] == (96.5, None, True)


@pytest.mark.parametrize(
    ("user", "text", "message"),
    [
        pytest.param(STRANGER, "goals", "no KPI Bot role", id="not-configured-at-all"),
        pytest.param("U0LEADBE", "goals", "not in the config's people", id="a-lead-not-in-people"),
        pytest.param(PEER, "goals 2026-W40", "agreed per quarter", id="wrong-kind"),
        pytest.param(AGENT, "goals 2026-Q1", "2026-Q1 has ended", id="past"),
    ],
)
def test_goals_refusals_are_ephemeral(bot: Bot, user: str, text: str, message: str) -> None:
    status, body = bot.command(text, user_id=user)
    assert status == 200 and isinstance(body, dict)
    assert body["response_type"] == "ephemeral" and message in body["text"]


@pytest.mark.parametrize(
    ("viewer", "text", "allowed"),
    [
        pytest.param(AGENT, "me", True, id="the-person"),
        pytest.param(SUPERIOR, f"me <@{AGENT}|zhang>", True, id="direct-superior"),
        pytest.param(MANAGER, f"me {AGENT} 2026-Q3", True, id="superior-of-superior"),
        pytest.param(HR, f"me <@{AGENT}>", True, id="hr-without-a-team"),
        pytest.param(ADMIN, f"me <@{AGENT}>", True, id="admin"),
        pytest.param(PEER, f"me <@{AGENT}>", False, id="a-peer"),
        pytest.param(LEAD_BEIJING, f"me <@{AGENT}>", False, id="another-lead"),
        pytest.param(STRANGER, f"me <@{AGENT}>", False, id="a-stranger"),
    ],
)
def test_who_sees_a_personal_scorecard(bot: Bot, viewer: str, text: str, allowed: bool) -> None:
    bot.fake.reset()
    status, body = bot.command(text, user_id=viewer, name="me")
    assert status == 200
    if not allowed:
        assert isinstance(body, dict) and body["response_type"] == "ephemeral"
        refusals = ("only the person, their superiors, HR and admins", "只有本人、其上级、人力资源和管理员")
        assert any(refusal in body["text"] for refusal in refusals)
        bot.fake.assert_no_call("response")
        return
    assert body == ""
    [answer] = bot.fake.wait_for("response")
    assert answer.path == "/response/me" and answer.params["response_type"] == "ephemeral"
    text_shown = json.dumps(answer.params["blocks"], ensure_ascii=False)
    assert "Zhang Min" in text_shown and "Composite score" in text_shown
    bot.fake.assert_no_call("chat.postMessage")  # never posted in a channel


def test_someone_not_configured_asking_for_their_own_card_is_told_why(bot: Bot) -> None:
    status, body = bot.command("me", user_id="U0LEADBE")
    assert isinstance(body, dict) and "not in the config's people" in body["text"]


def test_a_case_names_the_agent_who_handled_it(bot: Bot) -> None:
    bot.fake.reset()
    bot.command("submit case", user_id=SUPERIOR)
    view = bot.opened_view()
    [person_block] = [block for block in view["blocks"] if block.get("block_id") == "person"]
    assert person_block["optional"] is True and person_block["element"]["type"] == "users_select"
    answers = {
        "team": static_select_value("shanghai_ops"),
        "case_kind": static_select_value("after_sales"),
        "raised_at": datetimepicker_value(1759190400),  # 2026-09-30 00:00 UTC
    }
    for hostile, message in (
        ("U0OPSSH9", "not in the config's people"),
        ("U0AGENTBJ1", "belongs to team beijing_service"),
    ):
        status, body = bot.submit(view, answers | {"person": user_value(hostile)}, user_id=SUPERIOR)
        assert status == 200 and message in body["errors"]["person"]
    assert bot.count(CustomerCase) == 0
    status, body = bot.submit(view, answers | {"person": user_value(AGENT)}, user_id=SUPERIOR)
    assert (status, body) == (200, "")
    with Session(bot.engine) as session:
        assert session.exec(select(CustomerCase.person)).all() == [AGENT]


def test_the_app_home_shows_the_persons_own_scorecard_to_them(bot: Bot) -> None:
    bot.fake.reset()
    reply = bot.slack.event(app_home_opened_body(user_id=AGENT))
    assert (reply.status, reply.body) == (200, "")
    [call] = bot.fake.wait_for("views.publish")
    assert call.params["user_id"] == AGENT
    blocks = call.params["view"]["blocks"]
    headers = [block["text"]["text"] for block in blocks if block["type"] == "header"]
    assert headers[-1] == "Your personal scorecard / 您的个人绩效"
    assert "Personal scorecard: Zhang Min / 个人绩效：Zhang Min · 2026-Q3" in json.dumps(blocks, ensure_ascii=False)


def test_a_lead_without_people_config_sees_no_personal_section(bot: Bot) -> None:
    bot.fake.reset()
    bot.slack.event(app_home_opened_body(user_id=MANAGER))
    [call] = bot.fake.wait_for("views.publish")
    assert [block["text"]["text"] for block in call.params["view"]["blocks"] if block["type"] == "header"] == [
        "Your teams this week / 您的团队本周概况"
    ]


def test_a_person_removed_from_the_config_since_the_modal_opened_stores_nothing(
    bot: Bot, example_config: Config, sqlite_template: Path, tmp_path: Path
) -> None:
    view = open_goals(bot)
    people = [person for person in example_config.people if person.user != AGENT]
    config = Config.model_validate(example_config.model_dump() | {"people": [p.model_dump() for p in people]})
    path = tmp_path / "later.db"
    shutil.copyfile(sqlite_template, path)
    with running_bot(config=config, database_url=f"sqlite:///{path}", fake=bot.fake) as later:
        status, body = later.submit(view, goal_answers(), user_id=AGENT)
        assert status == 200 and body["response_action"] == "update"
        assert "not in the config's people" in json.dumps(body["view"])
        assert later.count(PersonalTarget) == 0
