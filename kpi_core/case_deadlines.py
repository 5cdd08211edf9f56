"""When a case reaches its target time: ``raised_at + within_hours`` on the wall clock, or after
``within_hours`` of the team's working time for a KPI with ``clock: business`` (so a case raised on Friday
evening is not overdue over the weekend, and the timer fires in working time)."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from kpi_core.business_time import calendar_for
from kpi_core.config_schema import CaseDurationFormula, Config
from kpi_core.models import CustomerCase

#: Cases older than this are history, not news: a first start over an old backlog alerts nothing.
CASE_LOOKBACK = timedelta(days=7)
#: On the business clock a target time can lie far behind its case (China's National Day week), so cases
#: are watched longer.
BUSINESS_CASE_LOOKBACK = timedelta(days=31)


def lookback(formula: CaseDurationFormula) -> timedelta:
    return BUSINESS_CASE_LOOKBACK if formula.clock == "business" else CASE_LOOKBACK


def case_deadline(config: Config, formula: CaseDurationFormula, *, team: str, raised_at: datetime) -> datetime:
    within = timedelta(hours=formula.within_hours or 0)
    if formula.clock == "business" and team in config.team_by_key:
        return calendar_for(config.team(team)).add_working_time(raised_at, within)
    return raised_at + within


def case_hours(config: Config, formula: CaseDurationFormula, *, team: str, start: datetime, end: datetime) -> float:
    """A case's duration as the formula counts it (an alert's recovery value)."""
    if formula.clock == "business" and team in config.team_by_key:
        return calendar_for(config.team(team)).working_hours_between(start, end)
    return (end - start).total_seconds() / 3600


def next_business_deadline(
    session: Session,
    *,
    config: Config,
    formula: CaseDurationFormula,
    end_column: sa.ColumnElement[datetime],
    now: datetime,
) -> datetime | None:
    """The next target time after ``now`` of the open cases of a business-clock formula."""
    cases = session.exec(
        select(CustomerCase.team, CustomerCase.raised_at).where(
            CustomerCase.kind == formula.case_kind,
            end_column.is_(None),
            col(CustomerCase.raised_at) >= now - BUSINESS_CASE_LOOKBACK,
        )
    ).all()
    deadlines = (case_deadline(config, formula, team=team, raised_at=raised_at) for team, raised_at in cases)
    return min((deadline for deadline in deadlines if deadline > now), default=None)
