"""Case durations on the business clock (``clock: business``): response and handling times counted in the
team's working time only (kpi_core.business_time).

SQL cannot know a country's holidays or its make-up working days, so these KPIs load the period's cases of
the kind (two instants each) and count in Python; KPIs on the wall clock keep the SQL aggregation of
kpi_core.aggregates. The statistics are the same: median and p90 interpolate linearly between the closest
ranks (numpy's default), open cases are counted apart and in ``share_within``'s denominator.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from kpi_core.aggregates import CaseKey, CaseQuery, CaseStats
from kpi_core.business_time import calendar_for
from kpi_core.config_schema import CaseDurationFormula, Team
from kpi_core.models import CustomerCase
from kpi_core.periods import Period

BUSINESS = "@business"


def case_key(formula: CaseDurationFormula) -> CaseKey:
    """Where a formula's statistics are kept: wall-clock and business-clock ones apart."""
    return (formula.case_kind, formula.until + (BUSINESS if formula.clock == "business" else ""))


def business_case_stats(
    session: Session, *, teams: list[Team], period: Period, queries: Iterable[CaseQuery], person: str | None = None
) -> dict[str, dict[CaseKey, CaseStats]]:
    """Per team, the statistics of each query's cases raised in ``period``, in working hours (only the
    cases ``person`` handled, when given)."""
    result: dict[str, dict[CaseKey, CaseStats]] = defaultdict(dict)
    table = CustomerCase.__table__.c  # type: ignore[attr-defined]
    for query in queries:
        end_column = table.first_response_at if query.until == "first_response" else table.resolved_at
        hours_by_team: dict[str, list[float | None]] = defaultdict(list)
        by_zone: dict[str, list[Team]] = defaultdict(list)
        for team in teams:
            by_zone[team.timezone].append(team)
        for zone_teams in by_zone.values():  # teams sharing a zone share the period's bounds: one query
            start, end = period.utc_bounds(zone_teams[0].tz)
            by_key = {team.key: team for team in zone_teams}
            rows = session.execute(
                sa.select(table.team, table.raised_at, end_column).where(
                    table.team.in_(by_key),
                    table.kind == query.kind,
                    table.raised_at >= start,
                    table.raised_at < end,
                    *(() if person is None else (table.person == person,)),
                )
            )
            for team_key, raised_at, ended_at in rows:
                calendar = calendar_for(by_key[team_key])
                hours_by_team[team_key].append(
                    None if ended_at is None else calendar.working_hours_between(raised_at, ended_at)
                )
        for team_key, hours in hours_by_team.items():
            result[team_key][(query.kind, query.until + BUSINESS)] = case_stats(hours, query.within_hours)
    return result


def case_stats(hours: list[float | None], within_hours: Iterable[float]) -> CaseStats:
    """The statistics of one team's cases: ``None`` is a case without its end event yet."""
    ended = sorted(value for value in hours if value is not None)
    return CaseStats(
        cases=len(hours),
        open_cases=len(hours) - len(ended),
        mean_hours=math.fsum(ended) / len(ended) if ended else None,
        median_hours=percentile(ended, 0.5),
        p90_hours=percentile(ended, 0.9),
        within={limit: sum(1 for value in ended if value <= limit) for limit in within_hours},
    )


def percentile(ordered: list[float], fraction: float) -> float | None:
    """Linear interpolation between the closest ranks (numpy's default, PostgreSQL's percentile_cont)."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * fraction
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def business_hours_of_case(team: Team, raised_at: datetime, ended_at: datetime) -> float:
    """One case's duration in the team's working hours (an alert's recovery value)."""
    return calendar_for(team).working_hours_between(raised_at, ended_at)
