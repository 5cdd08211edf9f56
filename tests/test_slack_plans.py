"""The annual plan through the real app and the fake Slack (issue 12): /kpi plan's modal, its field errors and
hostile input, who may open it, approval by someone else only (Approve / Reject in a DM through the delivery
ledger), and the audit trail of every step."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from sqlmodel import Session, col, select

from kpi_core.annual_plan import plan_target
from kpi_core.models import AuditEntry, Delivery
from kpi_core.periods import Period
from kpi_core.plan_models import AnnualPlan
from tests.bot_harness import ADMIN, LEAD_BEIJING, LEAD_SHANGHAI_AND_BERLIN, MANAGER, STRANGER, Bot
from tests.dm_buttons import buttons_in, clicked
from tests.dm_buttons import click as click_button
from tests.mrkdwn import as_slack_shows, mrkdwn_problems
from tests.slack_calls import wait_for_posts
from tests.slack_requests import text_value

HR = "U0HR"
AGENT = "U0OPSSH1"  # a configured person with no role
TEAM = "shanghai_ops"
VIEW_IDS = itertools.count(1)
HOSTILE = "R&D <!channel> <https://evil.example|click here>"
#: a seasonal 2027 plan of 12 M: 1.5 M a month in the first half, 0.5 M in the second
SEASONAL = {"total": "12000000"} | {
    f"month:{number:02d}": "1500000" if number <= 6 else "500000" for number in range(1, 13)
}


def answers(**values: str) -> dict[str, dict[str, Any]]:
    return {block: text_value(value) for block, value in (SEASONAL | values).items()}


def month(number: int) -> str:
    return f"month:{number:02d}"


def open_plan(bot: Bot, user: str = MANAGER, text: str = f"plan 2027 {TEAM} sales") -> dict[str, Any]:
    """The modal ``user`` opened, with an id of its own (Slack gives every opened view one)."""
    bot.fake.reset()
    status, body = bot.command(text, user_id=user)
    assert (status, body) == (200, "")
    return bot.opened_view() | {"id": f"V0PLAN{next(VIEW_IDS)}"}


def propose(bot: Bot, user: str = MANAGER, **values: str) -> dict[str, Any]:
    """``user`` proposes the seasonal plan; returns the approval DM the other planner got."""
    view = open_plan(bot, user)
    status, body = bot.submit(view, answers(**values), user_id=user)
    assert (status, body) == (200, "")
    other = ADMIN if user == MANAGER else MANAGER
    wait_for_posts(bot.fake, user)  # the receipt, sent after the request

    def requests(calls: list[Any]) -> list[dict[str, Any]]:
        return [
            call.params
            for call in calls
            if call.method == "chat.postMessage"
            and call.params.get("channel") == other
            and "plan_decision" in json.dumps(call.params.get("blocks"))
        ]

    [request] = bot.fake.wait_until(requests)
    return request


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return buttons_in(message, "plan_decision")


def click(bot: Bot, button: dict[str, Any], *, user: str, value: str | None = None) -> None:
    click_button(bot, button, user=user, block_id="plan_decision", value=value)


def rows(bot: Bot) -> list[tuple[str, float, str | None]]:
    with Session(bot.engine) as session:
        found = session.exec(select(AnnualPlan).order_by(col(AnnualPlan.id))).all()
    return [(row.state, row.total, row.decided_by) for row in found]


def january(bot: Bot, example_config: Any) -> float | None:
    with Session(bot.engine) as session:
        return plan_target(session, example_config, kpi="sales", period=Period.parse("2027-01"), team=TEAM)


def audit(bot: Bot) -> list[AuditEntry]:
    with Session(bot.engine) as session:
        query = select(AuditEntry).where(AuditEntry.entity == "annual_plan").order_by(col(AuditEntry.id))
        return list(session.exec(query).all())


def test_the_modal_is_prefilled_with_the_plan_in_force(bot: Bot) -> None:
    view = open_plan(bot)
    assert view["callback_id"] == "submit_plan"
    inputs = {block["block_id"]: block for block in view["blocks"] if block["type"] == "input"}
    assert list(inputs) == ["total", *(month(number) for number in range(1, 13))]
    assert inputs["total"]["element"]["initial_value"] == "12000000"
    assert {inputs[month(number)]["element"]["initial_value"] for number in range(1, 13)} == {"1000000"}
    intro = view["blocks"][0]["text"]["text"]
    # the config splits by last year's shares; the test database has no 2026 data, and the modal says so
    assert "the config's default (split evenly: 2026 has data for 0 of 12 months)" in intro


def test_management_proposes_another_approves_and_the_plan_is_in_force(bot: Bot, example_config: Any) -> None:
    request = propose(bot)
    assert "Q1 4,500,000 CNY" in request["blocks"][0]["text"]["text"]
    assert rows(bot) == [("proposed", 12_000_000, None)]
    assert january(bot, example_config) == 1_000_000  # a proposal is not a plan yet

    click(bot, buttons(request)["approve_plan"], user=ADMIN)
    assert "Approved by <@U0ADMIN>" in clicked(bot)["text"]
    [told] = wait_for_posts(bot.fake, MANAGER)
    assert "approved your 2027 plan of Sales" in told.params["text"]
    [edited] = bot.fake.wait_for("chat.update")  # the approval request loses its buttons
    assert edited.params["channel"] == ADMIN and "plan_decision" not in json.dumps(edited.params)
    assert rows(bot) == [("approved", 12_000_000, ADMIN)]
    assert january(bot, example_config) == 1_500_000

    trail = audit(bot)
    assert [(entry.action, entry.user) for entry in trail] == [("propose", MANAGER), ("approve", ADMIN)]
    approve = trail[1]
    assert approve.old is not None and approve.old["source"] == "config" and approve.old["months"][0] == 1_000_000
    assert approve.new is not None and approve.new["months"][0] == 1_500_000 and approve.new["state"] == "approved"
    with Session(bot.engine) as session:
        kinds = {row.kind for row in session.exec(select(Delivery)).all()}
    assert {"plan_approval", "plan_proposed", "plan_decision"} <= kinds  # every message through the ledger


def test_a_newer_approval_replaces_the_plan_and_the_trail_keeps_both(bot: Bot) -> None:
    click(bot, buttons(propose(bot))["approve_plan"], user=ADMIN)
    clicked(bot)
    second = propose(bot, ADMIN, **{month(1): "2500000", month(11): "0", month(12): "0"})  # the manager is asked
    click(bot, buttons(second)["approve_plan"], user=MANAGER)
    clicked(bot)
    assert [state for state, _, _ in rows(bot)] == ["superseded", "approved"]
    last = audit(bot)[-1]
    assert last.action == "approve" and last.old is not None and last.old["source"] == "approved"
    assert last.old["months"][0] == 1_500_000 and last.new is not None and last.new["months"][0] == 2_500_000


@pytest.mark.parametrize("intruder", [MANAGER, LEAD_SHANGHAI_AND_BERLIN, HR, STRANGER, AGENT])
def test_only_someone_else_of_management_or_the_admins_decides(bot: Bot, intruder: str) -> None:
    request = propose(bot)
    for action in ("approve_plan", "reject_plan"):
        click(bot, buttons(request)[action], user=intruder)
        response = clicked(bot)
        assert response["replace_original"] is False
        expected = "You proposed this plan" if intruder == MANAGER else "Only management and admins may approve"
        assert expected in response["text"]
        bot.fake.assert_no_call("views.open")
    assert rows(bot) == [("proposed", 12_000_000, None)]
    assert [entry.action for entry in audit(bot)] == ["propose"]


def test_a_decided_or_replaced_proposal_changes_nothing(bot: Bot) -> None:
    first = propose(bot)
    second = propose(bot, **{month(1): "1000000", month(7): "1000000"})
    assert [state for state, _, _ in rows(bot)] == ["replaced", "proposed"]
    click(bot, buttons(first)["approve_plan"], user=ADMIN)
    assert "decided already or replaced" in clicked(bot)["text"]
    click(bot, buttons(second)["approve_plan"], user=ADMIN)
    clicked(bot)
    click(bot, buttons(second)["approve_plan"], user=ADMIN)  # a double click
    assert "decided already" in clicked(bot)["text"]
    assert [state for state, _, _ in rows(bot)] == ["replaced", "approved"]


def test_a_rejection_needs_a_reason_and_tells_the_proposer(bot: Bot, example_config: Any) -> None:
    request = propose(bot)
    click(bot, buttons(request)["reject_plan"], user=ADMIN)
    modal = bot.opened_view()
    assert modal["callback_id"] == "reject_plan"
    status, body = bot.submit(modal, {}, user_id=ADMIN)
    assert status == 200 and list(body["errors"]) == ["reason"]
    assert body["errors"]["reason"].startswith("Please fill this in.")
    assert rows(bot) == [("proposed", 12_000_000, None)]

    bot.fake.reset()
    status, body = bot.submit(modal, {"reason": text_value(HOSTILE)}, user_id=ADMIN)
    assert (status, body) == (200, "")
    assert rows(bot) == [("rejected", 12_000_000, ADMIN)]
    assert january(bot, example_config) == 1_000_000  # the config's default stays in force
    [told] = wait_for_posts(bot.fake, MANAGER)
    assert mrkdwn_problems(told.params["text"]) == [] and HOSTILE in as_slack_shows(told.params["text"])
    reject = audit(bot)[-1]
    assert (reject.action, reject.user) == ("reject", ADMIN) and reject.new is not None
    assert reject.new["reason"] == HOSTILE


@pytest.mark.parametrize(
    ("user", "text", "message"),
    [
        pytest.param(LEAD_SHANGHAI_AND_BERLIN, "plan 2027", "only management and admins edit", id="lead"),
        pytest.param(LEAD_BEIJING, "plan 2027 beijing_service", "只有管理层和管理员", id="lead-in-chinese"),
        pytest.param(HR, "plan 2027", "only management and admins edit", id="hr"),
        pytest.param(AGENT, "plan 2027", "only management and admins edit", id="a-person"),
        pytest.param(STRANGER, "plan 2027", "only management and admins edit", id="nobody"),
        pytest.param(MANAGER, "plan", "Use `/kpi plan 2027 [team] [kpi]`", id="no-year"),
        pytest.param(MANAGER, "plan 2027-Q1", "`2027-Q1` is not a year", id="a-quarter"),
        pytest.param(MANAGER, "plan 2025", "2025 has ended", id="past-year"),
        pytest.param(ADMIN, "plan 2027 paris", "`paris` is neither a team nor a KPI", id="unknown-team"),
        pytest.param(ADMIN, "plan 2027 debt_to_asset", "debt_to_asset is a band KPI", id="band-kpi"),
    ],
)
def test_plan_refusals_are_ephemeral(bot: Bot, user: str, text: str, message: str) -> None:
    status, body = bot.command(text, user_id=user)
    assert status == 200 and isinstance(body, dict)
    assert body["response_type"] == "ephemeral" and message in body["text"], body["text"]
    bot.fake.assert_no_call("views.open")


@pytest.mark.parametrize(
    ("user", "text", "metadata"),
    [
        pytest.param(MANAGER, "plan 2027 berlin_ops csat", {"team": "berlin_ops", "kpi": "csat"}, id="management"),
        pytest.param(ADMIN, "plan csat berlin_ops 2027", {"team": "berlin_ops", "kpi": "csat"}, id="any-order"),
        pytest.param(ADMIN, "plan 2027", {"team": "shanghai_ops", "kpi": "sales"}, id="defaults"),
    ],
)
def test_management_and_admins_open_the_modal(bot: Bot, user: str, text: str, metadata: dict[str, str]) -> None:
    view = open_plan(bot, user, text)
    assert view["callback_id"] == "submit_plan"
    assert json.loads(view["private_metadata"]) == metadata | {"year": 2027}


def test_a_kpi_that_does_not_add_up_takes_months_that_differ_from_the_year(bot: Bot) -> None:
    view = open_plan(bot, text="plan 2027 berlin_ops csat")
    assert "does not add up over months" in view["blocks"][0]["text"]["text"]
    status, body = bot.submit(
        view, {"total": text_value("4.3")} | {month(n): text_value("4.2") for n in range(1, 13)}, user_id=MANAGER
    )
    assert (status, body) == (200, "")
    assert rows(bot) == [("proposed", 4.3, None)]


@pytest.mark.parametrize(
    ("changes", "block", "message"),
    [
        pytest.param(
            {month(12): "400000"},
            "total",
            "The months add up to 11,900,000, 100,000 less than the year's 12,000,000.",
            id="months-short",
        ),
        pytest.param(
            {"total": "11000000"},
            "total",
            "The months add up to 12,000,000, 1,000,000 more than the year's 11,000,000.",
            id="year-short",
        ),
        pytest.param({"total": "12 M"}, "total", "Enter a number", id="words"),
        pytest.param({month(3): "1e6"}, month(3), "Enter a number", id="exponent"),
        pytest.param({month(4): "-5"}, month(4), "Must be at least 0.", id="negative"),
        pytest.param({month(5): HOSTILE}, month(5), "Enter a number", id="hostile"),
        pytest.param({month(6): "9" * 13}, month(6), "Must be at most", id="huge"),
        pytest.param({month(6): "9" * 400}, month(6), "Enter a number", id="very-long"),
        pytest.param({month(7): ""}, month(7), "Please fill this in.", id="empty"),
    ],
)
def test_bad_plans_get_field_errors_and_store_nothing(
    bot: Bot, changes: dict[str, str], block: str, message: str
) -> None:
    view = open_plan(bot)
    status, body = bot.submit(view, answers(**changes), user_id=MANAGER)
    assert status == 200 and isinstance(body, dict) and body["response_action"] == "errors"
    assert list(body["errors"]) == [block] and body["errors"][block].startswith(message), body["errors"]
    assert rows(bot) == [] and audit(bot) == []
    bot.fake.assert_no_call("chat.postMessage")


@pytest.mark.parametrize(
    "metadata",
    [
        pytest.param({"team": "paris_ops", "kpi": "sales", "year": 2027}, id="unknown-team"),
        pytest.param({"team": TEAM, "kpi": "debt_to_asset", "year": 2027}, id="band-kpi"),
        pytest.param({"team": TEAM, "kpi": "sales", "year": 2025}, id="past-year"),
        pytest.param({"team": TEAM, "kpi": "sales", "year": "2027"}, id="year-as-text"),
        pytest.param({"team": TEAM, "kpi": "sales"}, id="no-year"),
        pytest.param([TEAM], id="not-a-mapping"),
    ],
)
def test_a_tampered_plan_modal_is_refused(bot: Bot, metadata: Any) -> None:
    view = open_plan(bot) | {"private_metadata": json.dumps(metadata)}
    status, body = bot.submit(view, answers(), user_id=MANAGER)
    gone = "This plan's team, KPI or year is no longer in the config, or the year has ended."
    assert status == 200 and list(body["errors"]) == ["total"] and body["errors"]["total"].startswith(gone)
    assert rows(bot) == []


def test_a_lead_cannot_submit_a_plan_modal(bot: Bot) -> None:
    view = open_plan(bot)
    status, body = bot.submit(view, answers(), user_id=LEAD_SHANGHAI_AND_BERLIN)
    assert status == 200 and list(body["errors"]) == ["total"]
    assert body["errors"]["total"].startswith("Only management and admins may propose a plan.")
    assert rows(bot) == []


def test_a_plan_submitted_twice_is_stored_once(bot: Bot) -> None:
    view = open_plan(bot)
    for _ in range(2):
        assert bot.submit(view, answers(), user_id=MANAGER) == (200, "")
    wait_for_posts(bot.fake, ADMIN)
    assert rows(bot) == [("proposed", 12_000_000, None)]
    assert len(wait_for_posts(bot.fake, ADMIN)) == 1


@pytest.mark.parametrize("value", ["", "abc", "-1", "0", "99999999", "١٢", "1" * 40])
def test_a_forged_button_value_changes_nothing(bot: Bot, value: str) -> None:
    request = propose(bot)
    for action in ("approve_plan", "reject_plan"):
        click(bot, buttons(request)[action], user=ADMIN, value=value)
        assert "decided already" in clicked(bot)["text"]
    assert rows(bot) == [("proposed", 12_000_000, None)]
