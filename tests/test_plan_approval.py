"""Proposing and deciding year plans in the core, on both backends: who may, the states, the audit trail, and
the approved plan becoming the target that reports, scorecards and cached reports use; personal targets:
agreed before planned."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from sqlmodel import Session, col, select

from bot.resources import EXAMPLE_CONFIG
from kpi_core import plan_approval
from kpi_core.config import Config, parse_config
from kpi_core.goals import agreed_row
from kpi_core.kpis import compute_reports
from kpi_core.models import AuditEntry
from kpi_core.periods import Period
from kpi_core.person_scorecard import person_card
from kpi_core.plan_approval import PlanRefused
from kpi_core.shared_reports import SharedReports
from kpi_core.targets import team_target
from tests.factories import add, at, measures

NOW = at("2026-11-02 09:00")
TEAM = "shanghai_ops"
MANAGER, ADMIN, LEAD = "U0MANAGER", "U0ADMIN", "U0LEADSH"
SEASONAL = [1_500_000.0] * 6 + [500_000.0] * 6


def propose(engine: sa.Engine, config: Config, *, user: str = MANAGER, key: str = "r1", **changes: Any) -> int:
    fields: dict[str, Any] = {"team": TEAM, "kpi": "sales", "year": 2027, "total": 12e6, "months": SEASONAL}
    proposed = plan_approval.propose_plan(
        engine, config=config, user=user, request_key=key, now=NOW, **(fields | changes)
    )
    assert proposed is not None
    row, _ = proposed
    assert row.id is not None
    return row.id


def decide(engine: sa.Engine, config: Config, plan_id: int, *, user: str = ADMIN, approve: bool = True) -> Any:
    reason = None if approve else "too optimistic"
    return plan_approval.decide_plan(
        engine, config=config, plan_id=plan_id, user=user, approve=approve, reason=reason, now=NOW
    )


def trail(engine: sa.Engine) -> list[AuditEntry]:
    with Session(engine) as session:
        query = select(AuditEntry).where(AuditEntry.entity == "annual_plan").order_by(col(AuditEntry.id))
        return list(session.exec(query))


def target(engine: sa.Engine, config: Config, label: str, team: str = TEAM) -> float | None:
    with Session(engine) as session:
        return team_target(session, config=config, kpi="sales", period=Period.parse(label), team=team)


def test_an_approved_plan_becomes_the_teams_target_and_every_step_is_audited(
    engine: sa.Engine, example_config: Config
) -> None:
    plan_id = propose(engine, example_config)
    assert target(engine, example_config, "2027-01") == 1_000_000  # the config's default still
    row, before = decide(engine, example_config, plan_id)
    assert (row.state, row.decided_by) == ("approved", ADMIN)
    assert before is not None and before.source == "config"
    assert target(engine, example_config, "2027-01") == 1_500_000
    assert target(engine, example_config, "2027-Q3") == 1_500_000
    assert target(engine, example_config, "2027-W01") == 230_000  # weeks keep the KPI's own target
    assert target(engine, example_config, "2027-01", team="berlin_ops") == 780_000  # no plan: the KPI's own
    entries = trail(engine)
    assert [(entry.action, entry.user, entry.team) for entry in entries] == [
        ("propose", MANAGER, TEAM),
        ("approve", ADMIN, TEAM),
    ]
    assert entries[1].old == {"source": "config", "method": "even", "total": 12e6, "months": [1e6] * 12}
    assert entries[1].new is not None and entries[1].new["months"] == SEASONAL


@pytest.mark.parametrize(
    ("proposer", "decider", "reason"),
    [
        pytest.param(MANAGER, MANAGER, "own_proposal", id="the-proposer"),
        pytest.param(MANAGER, LEAD, "not_planner", id="a-lead"),
        pytest.param(MANAGER, "U0HR", "not_planner", id="hr"),
    ],
)
def test_only_someone_else_of_management_or_the_admins_decides(
    engine: sa.Engine, example_config: Config, proposer: str, decider: str, reason: str
) -> None:
    plan_id = propose(engine, example_config, user=proposer)
    with pytest.raises(PlanRefused) as refused:
        decide(engine, example_config, plan_id, user=decider)
    assert refused.value.reason == reason
    assert [entry.action for entry in trail(engine)] == ["propose"]


def test_a_lead_cannot_propose(engine: sa.Engine, example_config: Config) -> None:
    with pytest.raises(PlanRefused, match="not_planner"):
        propose(engine, example_config, user=LEAD)
    assert trail(engine) == []


def test_a_retried_proposal_is_stored_once(engine: sa.Engine, example_config: Config) -> None:
    propose(engine, example_config, key="same")
    again = plan_approval.propose_plan(
        engine,
        config=example_config,
        user=MANAGER,
        team=TEAM,
        kpi="sales",
        year=2027,
        total=12e6,
        months=SEASONAL,
        request_key="same",
        now=NOW,
    )
    assert again is None
    assert len(trail(engine)) == 1


def test_a_rejection_keeps_the_plan_in_force_and_a_decided_plan_stays_decided(
    engine: sa.Engine, example_config: Config
) -> None:
    plan_id = propose(engine, example_config)
    row, _ = decide(engine, example_config, plan_id, approve=False)
    assert (row.state, row.reason) == ("rejected", "too optimistic")
    assert target(engine, example_config, "2027-01") == 1_000_000
    with pytest.raises(PlanRefused, match="decided"):
        decide(engine, example_config, plan_id)
    assert trail(engine)[-1].new is not None and trail(engine)[-1].new["reason"] == "too optimistic"


def test_a_newer_proposal_replaces_the_waiting_one_and_a_newer_approval_the_plan(
    engine: sa.Engine, example_config: Config
) -> None:
    first = propose(engine, example_config, key="r1")
    second = propose(engine, example_config, key="r2", total=6e6, months=[5e5] * 12)
    with pytest.raises(PlanRefused, match="decided"):
        decide(engine, example_config, first)
    decide(engine, example_config, second)
    third = propose(engine, example_config, key="r3", user=ADMIN, total=24e6, months=[2e6] * 12)
    _, before = decide(engine, example_config, third, user=MANAGER)
    assert before is not None and before.source == "approved" and before.total == 6e6
    assert target(engine, example_config, "2027") == 24e6
    with Session(engine) as session:
        states = [
            row.state
            for row in session.exec(select(plan_approval.AnnualPlan).order_by(col(plan_approval.AnnualPlan.id)))
        ]
    assert states == ["replaced", "superseded", "approved"]


def test_reports_and_cached_reports_score_against_the_approved_plan(engine: sa.Engine, example_config: Config) -> None:
    add(engine, *measures(TEAM, date(2027, 1, 15), sales=1_200_000))
    january = Period.parse("2027-01")
    cache = SharedReports()
    with Session(engine) as session:
        report = compute_reports(session, config=example_config, period=january, teams=[TEAM])[TEAM]
        cached = cache.build(session, config=example_config, period=january, teams=[TEAM])
    assert (report.results["sales"].target, report.results["sales"].status) == (1_000_000, "met")
    assert cached[0].kpis["sales"].target == 1_000_000

    decide(engine, example_config, propose(engine, example_config))
    with Session(engine) as session:
        report = compute_reports(session, config=example_config, period=january, teams=[TEAM])[TEAM]
        cached = cache.build(session, config=example_config, period=january, teams=[TEAM])
    assert (report.results["sales"].target, report.results["sales"].status) == (1_500_000, "missed")
    assert cached[0].kpis["sales"].target == 1_500_000  # the approval made the cached report stale


def planned_people() -> Config:
    raw = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    raw["plans"] = {"sales": {"people": {"U0OPSSH1": 6_000_000}}}
    return parse_config(raw)


def test_a_persons_agreed_target_comes_before_their_plan(engine: sa.Engine) -> None:
    config = planned_people()
    person = config.person_by_user["U0OPSSH1"]
    quarter = Period.parse("2027-Q1")
    with Session(engine) as session:
        card = person_card(session, config=config, person=person, period=quarter)
    [sales] = [item for item in card.items if item.kpi == "sales"]
    assert sales.result.target == 1_500_000  # a quarter of the person's yearly plan
    add(engine, agreed_row(person, period=quarter, kpi="sales", value=2_000_000, decided_by="U0LEADSH", now=NOW))
    with Session(engine) as session:
        card = person_card(session, config=config, person=person, period=quarter)
    [sales] = [item for item in card.items if item.kpi == "sales"]
    assert sales.result.target == 2_000_000
