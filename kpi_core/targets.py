"""The one place a KPI's target for a team or a person in a period is resolved (reports, scorecards, the
personal scorecard and the goals' hints all read it here).

- A team: its plan for a year, quarter or month (the plan approved in Slack, else the config's ``plans``
  default, decomposed: kpi_core/annual_plan.py), else the KPI's own ``target`` / ``team_targets`` for that
  period kind. Weeks are never planned: a week's target is always the KPI's own.
- A person: the personal target agreed with their superior for that very period (``/kpi goals``,
  kpi_core/goals.py), else their plan in the config's ``plans.<kpi>.people``, else none (the KPI scores 0
  on the personal scorecard, as before plans existed).
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlmodel import Session, col, select

from kpi_core.annual_plan import YearPlan, config_plan, from_row
from kpi_core.config_schema import Config
from kpi_core.db import transaction
from kpi_core.models import PersonalTarget
from kpi_core.periods import Period, PeriodKind
from kpi_core.plan_models import AnnualPlan

__all__ = ["agreed_targets", "person_targets", "targets_of_team", "team_target", "team_targets"]


def team_targets(
    session: Session, *, config: Config, period: Period, teams: Iterable[str]
) -> dict[str, dict[str, float | None]]:
    """Every KPI's target of each of ``teams`` in ``period``, keyed by team and KPI (one query for the
    approved plans of all of them)."""
    teams = list(teams)
    plans = _plans(session, config, period=period, teams=teams)
    targets: dict[str, dict[str, float | None]] = {}
    for team in teams:
        targets[team] = {}
        for kpi in config.kpis:
            plan = plans.get((team, kpi.key))
            planned = plan.target(period) if plan is not None else None
            targets[team][kpi.key] = planned if planned is not None else kpi.target_for(team, period.kind)
    return targets


def targets_of_team(engine: sa.Engine, *, config: Config, period: Period, team: str) -> dict[str, float | None]:
    """``team_targets`` of one team in a transaction of its own (for what Slack shows, e.g. the goals' hints)."""
    with transaction(engine) as session:
        return team_targets(session, config=config, period=period, teams=[team])[team]


def team_target(session: Session, *, config: Config, kpi: str, period: Period, team: str) -> float | None:
    return team_targets(session, config=config, period=period, teams=[team])[team][kpi]


def _plans(session: Session, config: Config, *, period: Period, teams: list[str]) -> dict[tuple[str, str], YearPlan]:
    """The plans in force for ``period``'s year: approved ones, else the config's (none for a week)."""
    if period.kind is PeriodKind.WEEK or not teams:
        return {}
    year = period.start.year
    query = (
        select(AnnualPlan)
        .where(AnnualPlan.year == year, col(AnnualPlan.team).in_(teams), AnnualPlan.state == "approved")
        .order_by(col(AnnualPlan.id))
    )
    plans = {(row.team, row.kpi): from_row(config, row) for row in session.exec(query)}  # the latest wins
    for kpi, plan in config.plans.items():
        for team in plan.teams:
            if team in teams and (team, kpi) not in plans:
                found = config_plan(session, config, kpi=kpi, year=year, team=team)
                if found is not None:
                    plans[(team, kpi)] = found
    return plans


def agreed_targets(session: Session, *, person: str, period: Period) -> dict[str, float]:
    """The person's personal targets agreed for ``period`` (kpi_core/goals.py), by KPI."""
    query = select(PersonalTarget).where(
        PersonalTarget.person == person,
        PersonalTarget.period == period.label,
        col(PersonalTarget.agreed).is_not(None),
    )
    return {row.kpi: float(row.agreed) for row in session.exec(query) if row.agreed is not None}


def person_targets(
    session: Session, *, config: Config, person: str, team: str, period: Period, kpis: Iterable[str]
) -> dict[str, float]:
    """The targets of ``person`` (of ``team``) for ``kpis`` in ``period``: agreed, else planned; a KPI with
    neither is left out."""
    targets = agreed_targets(session, person=person, period=period)
    if period.kind is PeriodKind.WEEK:
        return targets
    for kpi in kpis:
        if kpi in targets or person not in (config.plans[kpi].people if kpi in config.plans else {}):
            continue
        plan = config_plan(session, config, kpi=kpi, year=period.start.year, team=team, person=person)
        planned = plan.target(period) if plan is not None else None
        if planned is not None:
            targets[kpi] = planned
    return targets
