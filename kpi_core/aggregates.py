"""Per-team aggregates of one period, computed in SQL: survey scores, case durations, milestones (measures:
kpi_core.measure_totals).

Instants (survey answers, cases) are cut by the period's UTC bounds in each team's time zone: on
PostgreSQL every team in one statement with its own bounds joined in, on SQLite the teams that share a
time zone together. Calendar dates (measures, milestones) are local already.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session

from kpi_core.config import Config, Team
from kpi_core.measure_totals import MeasureAggregate, Totals
from kpi_core.models import CustomerCase, Milestone, SurveyResponse
from kpi_core.periods import Period
from kpi_core.sql import days_between, hours_between, interpolated_percentile

CaseKey = tuple[str, str]  # (case kind, "first_response" | "resolved")
PERCENTILES = {"median_hours": 0.5, "p90_hours": 0.9}


@dataclass(frozen=True)
class SurveyStats:
    responses: int
    mean_score: float
    top_answers: int  # scores of 4 or 5


@dataclass(frozen=True)
class CaseStats:
    cases: int
    open_cases: int  # raised in the period and still without the end event
    mean_hours: float | None
    median_hours: float | None
    p90_hours: float | None
    within: dict[float, int]  # within_hours -> cases that ended within that many hours


@dataclass(frozen=True)
class MilestoneStats:
    due: int
    completed: int
    on_time: int
    slip_days_total: float
    costed: int
    budget_total: float
    actual_cost_total: float


@dataclass
class TeamAggregates:
    measures: dict[str, MeasureAggregate]
    survey: SurveyStats | None = None
    cases: dict[CaseKey, CaseStats] | None = None
    milestones: MilestoneStats | None = None


@dataclass(frozen=True)
class CaseQuery:
    kind: str
    until: str
    within_hours: frozenset[float]


def load_aggregates(
    session: Session,
    *,
    config: Config,
    teams: list[Team],
    period: Period,
    case_queries: Iterable[CaseQuery] = (),
    survey: bool = True,
    milestones: bool = True,
    measures: Totals | None = None,
    person: str | None = None,
) -> dict[str, TeamAggregates]:
    """Every aggregate the KPIs need for ``teams`` in ``period``, keyed by team, with the ``measures``
    read already (kpi_core.measure_totals, which reads several periods' in one statement); with
    ``person``, only the rows that name that person (survey answers name nobody: a person has none)."""
    keys = [team.key for team in teams]
    result = {key: TeamAggregates(measures=(measures or {}).get(key, {})) for key in keys}
    survey = survey and person is None
    case_queries = list(case_queries)
    if session.get_bind().dialect.name == "postgresql" and person is None:
        # One statement per kind of data for every team at once (see _team_bounds); SQLite, which has
        # no percentile_cont, and one person's figures keep one statement per time zone below.
        bounds = _team_bounds(teams, period)
        if survey:
            for team_key, survey_stats in _survey_stats_all(session, bounds=bounds).items():
                result[team_key].survey = survey_stats
        if case_queries:
            for key in keys:
                result[key].cases = {}
            for team_key, cases in _case_stats_all(session, queries=case_queries, bounds=bounds).items():
                result[team_key].cases = cases
        case_queries = []
        survey = False
    for zone_teams in _by_timezone(teams).values():
        start, end = period.utc_bounds(zone_teams[0].tz)
        zone_keys = [team.key for team in zone_teams]
        if survey:
            for team_key, survey_stats in _survey_stats(session, teams=zone_keys, start=start, end=end).items():
                result[team_key].survey = survey_stats
        for query in case_queries:
            stats_by_team = _case_stats(session, query=query, teams=zone_keys, start=start, end=end, person=person)
            for team_key in zone_keys:
                cases = result[team_key].cases = result[team_key].cases or {}
                if team_key in stats_by_team:
                    cases[(query.kind, query.until)] = stats_by_team[team_key]
    if milestones:
        for team_key, milestone_stats in _milestone_stats(session, teams=keys, period=period, person=person).items():
            result[team_key].milestones = milestone_stats
    return result


def _by_timezone(teams: list[Team]) -> dict[str, list[Team]]:
    groups: dict[str, list[Team]] = defaultdict(list)
    for team in teams:
        groups[team.timezone].append(team)
    return groups


@dataclass(frozen=True)
class _Bounds:
    """Each team's period as UTC instants, joined into a statement as rows of ``unnest`` over three array
    parameters (so the statement's compiled form is cached whatever the teams), grouped by the row's
    integer ``position`` (cheaper than grouping by the team's text key); the join keeps only these teams'
    rows. ``start`` and ``end`` span them all, a pre-filter on the time column for a single scan."""

    teams: list[str]
    rows: Any
    start: datetime
    end: datetime


def _team_bounds(teams: list[Team], period: Period) -> _Bounds:
    by_zone = {zone: period.utc_bounds(zone_teams[0].tz) for zone, zone_teams in _by_timezone(teams).items()}
    keys = [team.key for team in teams]
    starts = [by_zone[team.timezone][0] for team in teams]
    ends = [by_zone[team.timezone][1] for team in teams]
    instants = ARRAY(sa.DateTime(timezone=True))
    rows = (
        sa.func.unnest(
            sa.bindparam("bound_teams", keys, type_=ARRAY(sa.String)),
            sa.bindparam("bound_starts", starts, type_=instants),
            sa.bindparam("bound_ends", ends, type_=instants),
        )
        .table_valued("team", "start", "end", with_ordinality="position")
        .render_derived(name="bounds")
    )
    return _Bounds(keys, rows, min(starts), max(ends))


def _of_person(column: Any, person: str | None) -> tuple[Any, ...]:
    """The condition on a table's ``person`` column: none (a team's every row), or only ``person``'s rows."""
    return () if person is None else (column == person,)


def _survey_stats(session: Session, *, teams: list[str], start: Any, end: Any) -> dict[str, SurveyStats]:
    table = SurveyResponse.__table__.c  # type: ignore[attr-defined]
    query = (
        sa.select(
            table.team,
            sa.func.count(),
            sa.func.avg(sa.cast(table.score, sa.Float)),
            sa.func.sum(sa.case((table.score >= 4, 1), else_=0)),
        )
        .where(table.team.in_(teams), table.submitted_at >= start, table.submitted_at < end)
        .group_by(table.team)
    )
    return {
        team: SurveyStats(responses=count, mean_score=float(mean), top_answers=int(top))
        for team, count, mean, top in session.execute(query)
    }


def _survey_stats_all(session: Session, *, bounds: _Bounds) -> dict[str, SurveyStats]:
    survey_table: sa.Table = SurveyResponse.__table__  # type: ignore[attr-defined]
    table = survey_table.c
    team_bounds = bounds.rows
    query = (
        sa.select(
            team_bounds.c.position,
            sa.func.count(),
            sa.func.avg(sa.cast(table.score, sa.Float)),
            sa.func.count().filter(table.score >= 4),
        )
        .select_from(survey_table.join(team_bounds, team_bounds.c.team == table.team))
        .where(
            table.submitted_at >= bounds.start,
            table.submitted_at < bounds.end,
            table.submitted_at >= team_bounds.c.start,
            table.submitted_at < team_bounds.c.end,
        )
        .group_by(team_bounds.c.position)
    )
    return {
        bounds.teams[position - 1]: SurveyStats(responses=count, mean_score=float(mean), top_answers=int(top))
        for position, count, mean, top in session.execute(query)
    }


def _case_stats_all(
    session: Session, *, queries: list[CaseQuery], bounds: _Bounds
) -> dict[str, dict[CaseKey, CaseStats]]:
    """PostgreSQL: every team's case statistics in one scan per round of queries (a round asks each case
    kind once, so the config's usual one duration per kind is a single statement)."""
    result: dict[str, dict[CaseKey, CaseStats]] = defaultdict(dict)
    remaining = list(queries)
    while remaining:
        round_: dict[str, CaseQuery] = {}
        for query in remaining:
            round_.setdefault(query.kind, query)
        remaining = [query for query in remaining if round_[query.kind] is not query]
        for team, key, stats in _case_round(session, list(round_.values()), bounds):
            result[team][key] = stats
    return result


def _case_round(session: Session, queries: list[CaseQuery], bounds: _Bounds) -> list[tuple[str, CaseKey, CaseStats]]:
    table = CustomerCase.__table__.c  # type: ignore[attr-defined]
    team_bounds = bounds.rows
    # The duration is computed once per row in a subquery (PostgreSQL does not share repeated
    # expressions between aggregates), tagged with the integer index of its query.
    end_column = sa.case(*((table.kind == query.kind, _end_column(table, query.until)) for query in queries))
    index = sa.case(*((table.kind == query.kind, number) for number, query in enumerate(queries)))
    cases = (
        sa.select(
            table.team,
            table.raised_at,
            index.label("query"),
            hours_between(table.raised_at, end_column).label("hours"),
        )
        .where(
            table.kind.in_([query.kind for query in queries]),
            table.raised_at >= bounds.start,
            table.raised_at < bounds.end,
        )
        .subquery("cases")
    )
    hours = cases.c.hours
    limits = [(number, limit) for number, query in enumerate(queries) for limit in sorted(query.within_hours)]
    percentiles = sa.func.percentile_cont(sa.literal_column("ARRAY[0.5, 0.9]")).within_group(hours)
    statement = (
        sa.select(
            team_bounds.c.position,
            cases.c.query,
            sa.func.count(),
            sa.func.count(hours),
            sa.func.avg(hours),
            sa.type_coerce(percentiles, ARRAY(sa.Float)),
            *(sa.func.count().filter(hours <= limit) for _, limit in limits),
        )
        .select_from(cases.join(team_bounds, team_bounds.c.team == cases.c.team))
        .where(cases.c.raised_at >= team_bounds.c.start, cases.c.raised_at < team_bounds.c.end)
        .group_by(team_bounds.c.position, cases.c.query)
    )
    found = []
    for position, number, count, ended, mean, percentile_values, *within in session.execute(statement):
        query = queries[number]
        median, p90 = percentile_values or (None, None)  # NULL when no case of the group has ended
        found.append(
            (
                bounds.teams[position - 1],
                (query.kind, query.until),
                CaseStats(
                    cases=count,
                    open_cases=count - ended,
                    mean_hours=_float(mean) if ended else None,
                    median_hours=_float(median) if ended else None,
                    p90_hours=_float(p90) if ended else None,
                    within={limit: int(n) for (owner, limit), n in zip(limits, within, strict=True) if owner == number},
                ),
            )
        )
    return found


def _end_column(table: Any, until: str) -> Any:
    return table.first_response_at if until == "first_response" else table.resolved_at


def _case_stats(
    session: Session, *, query: CaseQuery, teams: list[str], start: Any, end: Any, person: str | None = None
) -> dict[str, CaseStats]:
    table = CustomerCase.__table__.c  # type: ignore[attr-defined]
    end_column = _end_column(table, query.until)
    where = (
        table.team.in_(teams),
        table.kind == query.kind,
        table.raised_at >= start,
        table.raised_at < end,
        *_of_person(table.person, person),
    )
    thresholds = sorted(query.within_hours)
    hours: sa.ColumnElement[Any]
    percentiles: list[sa.ColumnElement[Any]]
    if session.get_bind().dialect.name == "postgresql":
        hours = hours_between(table.raised_at, end_column)
        percentiles = [sa.func.percentile_cont(fraction).within_group(hours) for fraction in PERCENTILES.values()]
        source: Any = None
    else:
        ranked = (
            sa.select(
                table.team.label("team"),
                hours_between(table.raised_at, end_column).label("hours"),
            )
            .where(*where)
            .subquery()
        )
        windowed = sa.select(
            ranked.c.team,
            ranked.c.hours,
            sa.func.row_number()
            .over(partition_by=ranked.c.team, order_by=ranked.c.hours.asc().nulls_last())
            .label("rank"),
            sa.func.count(ranked.c.hours).over(partition_by=ranked.c.team).label("ranked"),
        ).subquery()
        source = windowed
        hours = windowed.c.hours
        percentiles = [
            interpolated_percentile(fraction, value=hours, rank=windowed.c.rank, count=windowed.c.ranked)
            for fraction in PERCENTILES.values()
        ]
    team_column = table.team if source is None else source.c.team
    columns = [
        team_column,
        sa.func.count(),
        sa.func.count(hours),
        sa.func.avg(hours),
        *percentiles,
        *(sa.func.sum(sa.case((hours <= limit, 1), else_=0)) for limit in thresholds),
    ]
    statement = sa.select(*columns).group_by(team_column)
    statement = statement.where(*where) if source is None else statement.select_from(source)
    stats = {}
    for team, cases, ended, mean, median, p90, *within in session.execute(statement):
        stats[team] = CaseStats(
            cases=cases,
            open_cases=cases - ended,
            mean_hours=_float(mean) if ended else None,
            median_hours=_float(median) if ended else None,
            p90_hours=_float(p90) if ended else None,
            within={limit: int(count) for limit, count in zip(thresholds, within, strict=True)},
        )
    return stats


def _milestone_stats(
    session: Session, *, teams: list[str], period: Period, person: str | None = None
) -> dict[str, MilestoneStats]:
    table = Milestone.__table__.c  # type: ignore[attr-defined]
    done = table.completed_on.is_not(None)
    costed = sa.and_(table.actual_cost.is_not(None), table.budget.is_not(None))
    late_days = days_between(table.due_on, table.completed_on)
    query = (
        sa.select(
            table.team,
            sa.func.count(),
            sa.func.count(table.completed_on),
            sa.func.sum(sa.case((sa.and_(done, table.completed_on <= table.due_on), 1), else_=0)),
            sa.func.sum(sa.case((sa.and_(done, table.completed_on > table.due_on), late_days), else_=0.0)),
            sa.func.sum(sa.case((costed, 1), else_=0)),
            sa.func.sum(sa.case((costed, table.budget), else_=0.0)),
            sa.func.sum(sa.case((costed, table.actual_cost), else_=0.0)),
        )
        .where(
            table.team.in_(teams),
            table.due_on >= period.start,
            table.due_on < period.end,
            *_of_person(table.person, person),
        )
        .group_by(table.team)
    )
    return {
        team: MilestoneStats(
            due=due,
            completed=completed,
            on_time=int(on_time),
            slip_days_total=float(slip),
            costed=int(costed_count),
            budget_total=float(budget),
            actual_cost_total=float(actual),
        )
        for team, due, completed, on_time, slip, costed_count, budget, actual in session.execute(query)
    }


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
