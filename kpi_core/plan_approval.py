"""Editing a year plan (issue 12): one of management (or an admin) proposes a team's plan of a KPI for a
year, another of them approves it (it then replaces the plan in force) or rejects it with a reason. Every
step is in the audit trail (``propose``, ``approve``, ``reject`` on ``annual_plan``: who, when, the plan
in force before and the new one). One transaction each, like kpi_core.use_cases."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlmodel import Session, col, select

from kpi_core.annual_plan import YearPlan, config_plan, even_months, from_row, year_plan
from kpi_core.config_schema import Config
from kpi_core.data_changes import bump_data_version
from kpi_core.db import transaction
from kpi_core.models import AuditEntry
from kpi_core.periods import PeriodKind
from kpi_core.plan_models import AnnualPlan
from kpi_core.plan_schema import MONTHS, is_additive
from kpi_core.store import write_once

__all__ = [
    "PlanLine",
    "PlanRefused",
    "approvers",
    "decide_plan",
    "draft_plan",
    "may_plan",
    "pending_plan",
    "propose_plan",
    "year_plans",
]

Refusal = Literal["not_planner", "own_proposal", "decided"]


class PlanRefused(Exception):
    """A plan step someone may not take: not management or an admin, their own proposal, or a proposal
    decided (or replaced) already."""

    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason)
        self.reason: Refusal = reason


def may_plan(config: Config, user: str) -> bool:
    """Management and admins propose and approve year plans."""
    return user in config.roles.management or user in config.roles.admins


def approvers(config: Config, proposer: str) -> list[str]:
    """Who is asked to approve ``proposer``'s plan: management and admins but the proposer, each once."""
    return [user for user in dict.fromkeys([*config.roles.management, *config.roles.admins]) if user != proposer]


@dataclass(frozen=True)
class Draft:
    """What the plan modal starts from: the plan in force, else one derived from the KPI's own target."""

    total: float | None
    months: tuple[float, ...] | None
    plan: YearPlan | None


def draft_plan(engine: sa.Engine, *, config: Config, kpi: str, year: int, team: str) -> Draft:
    with transaction(engine) as session:
        plan = year_plan(session, config, kpi=kpi, year=year, team=team)
    if plan is not None:
        return Draft(plan.total, plan.months, plan)
    definition = config.kpi_by_key[kpi]
    if not is_additive(definition, config.measure_by_key):
        same = definition.target_for(team, PeriodKind.YEAR) or definition.target_for(team, PeriodKind.MONTH)
        return Draft(same, (same,) * MONTHS if same is not None else None, None)
    total = definition.target_for(team, PeriodKind.YEAR)
    if total is None and (monthly := definition.target_for(team, PeriodKind.MONTH)) is not None:
        total = monthly * MONTHS
    return Draft(total, even_months(total) if total is not None else None, None)


def propose_plan(
    engine: sa.Engine,
    *,
    config: Config,
    user: str,
    team: str,
    kpi: str,
    year: int,
    total: float,
    months: Sequence[float],
    request_key: str,
    now: datetime,
) -> tuple[AnnualPlan, YearPlan | None] | None:
    """Stores the proposal (a waiting one for the same team, KPI and year is ``replaced``) and returns it
    with the plan in force; None when this request was handled already (a retry, a double click).
    PlanRefused for anyone but a planner."""
    if not may_plan(config, user):
        raise PlanRefused("not_planner")

    def write(session: Session) -> tuple[AnnualPlan, YearPlan | None]:
        # its row lock orders this against a decision on the proposal it replaces
        bump_data_version(session, team=team, days=(date(year, 1, 1), date(year, 12, 31)))
        for waiting in _rows(session, year=year, team=team, kpi=kpi, state="proposed"):
            waiting.state, waiting.decided_at = "replaced", now
            session.add(waiting)
        row = AnnualPlan(
            year=year,
            team=team,
            kpi=kpi,
            total=float(total),
            months=[float(value) for value in months],
            state="proposed",
            proposed_by=user,
            proposed_at=now,
        )
        session.add(row)
        session.flush()
        in_force = year_plan(session, config, kpi=kpi, year=year, team=team)
        _audit(session, row=row, user=user, action="propose", at=now, old=_values_of(in_force))
        return row, in_force

    return write_once(engine, request_key=request_key, now=now, write=write)


def pending_plan(engine: sa.Engine, *, plan_id: int) -> AnnualPlan | None:
    with transaction(engine) as session:
        return session.get(AnnualPlan, plan_id)


def decide_plan(
    engine: sa.Engine,
    *,
    config: Config,
    plan_id: int,
    user: str,
    approve: bool,
    reason: str | None,
    now: datetime,
) -> tuple[AnnualPlan, YearPlan | None]:
    """Approves (it replaces the plan in force, which is returned) or rejects (with ``reason``) the
    proposal ``plan_id``. PlanRefused: not a planner, the proposer themselves, or decided already."""
    if not may_plan(config, user):
        raise PlanRefused("not_planner")
    with transaction(engine) as session:
        row = session.get(AnnualPlan, plan_id)
        if row is None:
            raise PlanRefused("decided")
        if row.proposed_by == user:
            raise PlanRefused("own_proposal")
        # the version's row lock orders two decisions on one proposal (a double click, two approvers)
        bump_data_version(session, team=row.team, days=(date(row.year, 1, 1), date(row.year, 12, 31)))
        session.refresh(row)
        if row.state != "proposed":
            raise PlanRefused("decided")
        before = year_plan(session, config, kpi=row.kpi, year=row.year, team=row.team)
        if approve:
            for replaced in _rows(session, year=row.year, team=row.team, kpi=row.kpi, state="approved"):
                replaced.state = "superseded"
                session.add(replaced)
        row.state = "approved" if approve else "rejected"
        row.decided_by, row.decided_at, row.reason = user, now, reason
        session.add(row)
        session.flush()
        _audit(session, row=row, user=user, action="approve" if approve else "reject", at=now, old=_values_of(before))
        return row, before


def _rows(session: Session, *, year: int, team: str, kpi: str, state: str) -> list[AnnualPlan]:
    query = select(AnnualPlan).where(
        AnnualPlan.year == year, AnnualPlan.team == team, AnnualPlan.kpi == kpi, AnnualPlan.state == state
    )
    return list(session.exec(query.order_by(col(AnnualPlan.id))))


def _values_of(plan: YearPlan | None) -> dict[str, Any] | None:
    """The plan in force as the audit trail keeps it (None: there was none)."""
    if plan is None:
        return None
    return {"source": plan.source, "method": plan.method, "total": plan.total, "months": list(plan.months)}


def _audit(
    session: Session, *, row: AnnualPlan, user: str, action: str, at: datetime, old: dict[str, Any] | None
) -> None:
    new = {"year": row.year, "kpi": row.kpi, "state": row.state, "total": row.total, "months": list(row.months)}
    new |= {"proposed_by": row.proposed_by, "reason": row.reason}
    session.add(
        AuditEntry(
            at=at, user=user, team=row.team, action=action, entity="annual_plan", entity_id=row.id, old=old, new=new
        )
    )


@dataclass(frozen=True)
class PlanLine:
    """One team's KPI in ``kpi-bot plan show``: the approved plan (if any) beside the config's default."""

    team: str
    kpi: str
    approved: YearPlan | None
    default: YearPlan | None

    @property
    def in_force(self) -> YearPlan | None:
        return self.approved or self.default


def year_plans(engine: sa.Engine, *, config: Config, year: int, teams: Sequence[str]) -> list[PlanLine]:
    """Every planned KPI of ``teams`` in ``year`` (approved, or by the config), in config order."""
    with transaction(engine) as session:
        query = select(AnnualPlan).where(
            AnnualPlan.year == year, col(AnnualPlan.team).in_(teams), AnnualPlan.state == "approved"
        )
        approved = {
            (row.team, row.kpi): from_row(config, row) for row in session.exec(query.order_by(col(AnnualPlan.id)))
        }
        lines = []
        for team in teams:
            for kpi in config.kpis:
                default = config_plan(session, config, kpi=kpi.key, year=year, team=team)
                if default is not None or (team, kpi.key) in approved:
                    lines.append(PlanLine(team, kpi.key, approved.get((team, kpi.key)), default))
        return lines
