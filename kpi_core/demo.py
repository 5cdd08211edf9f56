"""Deterministic demo data: six months of measures, surveys, cases and milestones for every team, the cases and
milestones shared out among the team's configured people (and part of the weekly figures their positions' KPIs
rest on recorded for them), and their agreed targets for the last quarter."""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session

from kpi_core.config import Config, Team
from kpi_core.data_changes import Touched, bump_data_version
from kpi_core.expressions import names_in
from kpi_core.goals import agreed_row, combination
from kpi_core.models import CustomerCase, MeasureValue, Milestone, PersonalTarget, Submission, SurveyResponse
from kpi_core.people import superior_of
from kpi_core.periods import Period, PeriodKind

DEMO_START = date(2026, 4, 1)
DEMO_END = date(2026, 10, 1)  # exclusive: the demo data covers 2026-Q2 and 2026-Q3
SEED = 20260401
Span = tuple[date, date]  # [start, end) of generated data
DEMO_SPAN: Span = (DEMO_START, DEMO_END)


def load_demo_data(session: Session, *, config: Config, now: datetime) -> int:
    """Adds the demo rows for every team in the caller's transaction; returns how many were added."""
    added = 0
    for index, team in enumerate(config.teams):
        rng = random.Random(f"{SEED}:{team.key}")
        added += len(_add_rows(session, config, team, rng, _skill(index), DEMO_SPAN, now))
        targets = _agreed_targets(config, team, now)
        session.add_all(targets)
        added += len(targets)
    return added


#: Sales through the year of the optional history, against a flat month: a Spring Festival dip and a year-end
#: peak; flat from April to September, so that the six demo months fit the pattern as they are.
SALES_SEASON = {1: 0.8, 2: 0.7, 3: 0.95, 10: 1.05, 11: 1.15, 12: 1.35}


def load_demo_history(session: Session, *, config: Config, now: datetime, since: date) -> int:
    """Adds history before the demo, from ``since`` to DEMO_START, generated like the demo (its own random
    draws; sales following SALES_SEASON): complete years for the projection back-test
    (bench/projection_backtest.py). ``kpi-bot demo`` leaves it out, so the demo's figures stay as they are."""
    added = 0
    for index, team in enumerate(config.teams):
        rng = random.Random(f"{SEED}:history:{team.key}")
        rows = _add_rows(session, config, team, rng, _skill(index), (since, DEMO_START), now)
        for row in rows:
            if isinstance(row, MeasureValue) and row.measure == "sales":
                row.value = round(row.value * SALES_SEASON.get(row.on_date.month, 1.0), 2)
        added += len(rows)
    return added


def _skill(index: int) -> float:
    """A stable per-team quality, so the ranking is not a coin toss."""
    return 0.85 + 0.05 * (index % 4)


def _add_rows(
    session: Session, config: Config, team: Team, rng: random.Random, skill: float, span: Span, now: datetime
) -> list[Any]:
    """One demo submission of ``team`` over ``span``: its rows, added to the session."""
    submission = Submission(team=team.key, kind="demo", source="demo", submitted_by="demo", submitted_at=now)
    session.add(submission)
    change = bump_data_version(session, team=team.key)
    session.flush()
    rows = [
        *_weekly_measures(team, rng, skill, span),
        *_monthly_measures(team, rng, skill, span),
        *_surveys(team, rng, skill, span),
        *_cases(team, rng, skill, span),
        *_milestones(team, rng, skill, span),
    ]
    for row in rows:
        row.submission_id = submission.id
    _name_people(config, team, rows)
    rows += _share_measures(config, team, rows)
    session.add_all(rows)
    submission.row_count = len(rows)
    touched = Touched()
    for row in rows:
        touched.add_row(row)
    touched.record(session, change=change)  # the dates of its rows, not every period of the team
    return rows


def _name_people(config: Config, team: Team, rows: list[Any]) -> None:
    """The team's configured people take turns at its cases and milestones, so that the demo shows
    personal scorecards (no random draws: the team figures stay the same with or without people)."""
    people = [person.user for person in config.people if person.team == team.key]
    if not people:
        return
    cases = [row for row in rows if isinstance(row, CustomerCase)]
    milestones = [row for row in rows if isinstance(row, Milestone)]
    for number, row in enumerate([*cases, *milestones]):
        row.person = people[number % len(people)]


def _share_measures(config: Config, team: Team, rows: list[Any]) -> list[MeasureValue]:
    """Each summed weekly or monthly figure a person's position KPIs rest on (sales, orders, ...): a share
    recorded for each such person, as the weekly form's *Recorded for* would, taken from the team's own row,
    so that the team figures stay the same and their personal scorecards show their own figures."""
    users: dict[str, list[str]] = {}  # measure -> the people whose position's KPIs use it
    for person in config.people:
        position = config.position_by_key.get(person.position)
        if person.team != team.key or position is None:
            continue
        for key in position.kpis:
            formula = config.kpi_by_key[key].formula
            expressions = [getattr(formula, name, None) for name in ("expression", "numerator", "denominator", "of")]
            for measure in set().union(*(names_in(text) for text in expressions if isinstance(text, str))):
                if config.measure_by_key[measure].aggregate == "sum" and person.user not in users.get(measure, []):
                    users.setdefault(measure, []).append(person.user)
    shares = []
    for row in rows:
        if not isinstance(row, MeasureValue) or row.measure not in users:
            continue
        fraction = 1 / (len(users[row.measure]) + 1)  # the team keeps a share too
        integer, whole = config.measure_by_key[row.measure].integer, row.value
        value = math.floor(whole * fraction) if integer else round(whole * fraction, 2)
        for user in users[row.measure]:
            shares.append(
                MeasureValue(
                    team=team.key,
                    measure=row.measure,
                    on_date=row.on_date,
                    value=value,
                    person=user,
                    submission_id=row.submission_id,
                )
            )
            row.value -= value
    return shares


def _agreed_targets(config: Config, team: Team, now: datetime) -> list[PersonalTarget]:
    """Each person's agreed targets for the demo's last quarter: the team's target, shared out for KPIs
    whose personal targets add up (kpi_core.goals), as it would be after /kpi goals and an approval."""
    people = [person for person in config.people if person.team == team.key]
    quarter = Period.containing(PeriodKind.QUARTER, DEMO_END - timedelta(days=1))
    rows = []
    for person in people:
        position = config.position_by_key.get(person.position)
        for key in position.kpis if position else []:
            kpi = config.kpi_by_key[key]
            target = kpi.target_for(team.key, PeriodKind.QUARTER)
            if target is None:
                continue
            value = target / len(people) if combination(config, kpi) == "sum" else target
            decided_by = superior_of(config, person.user) or "demo"
            rows.append(agreed_row(person, period=quarter, kpi=key, value=value, decided_by=decided_by, now=now))
    return rows


def _weeks(span: Span = DEMO_SPAN) -> list[Period]:
    week = Period.containing(PeriodKind.WEEK, span[0])
    weeks = []
    while week.start < span[1]:
        weeks.append(week)
        week = week.next()
    return weeks


def _months(span: Span = DEMO_SPAN) -> list[Period]:
    month = Period.containing(PeriodKind.MONTH, span[0])
    months = []
    while month.start < span[1]:
        months.append(month)
        month = month.next()
    return months


def _weekly_measures(team: Team, rng: random.Random, skill: float, span: Span = DEMO_SPAN) -> list[MeasureValue]:
    rows = []
    headcount = rng.randint(25, 45)
    for number, week in enumerate(_weeks(span)):
        day = max(week.start + timedelta(days=4), span[0])  # Friday, or the first demo day
        if day >= span[1]:
            continue
        orders = rng.randint(120, 220)
        on_time = min(orders, round(orders * rng.uniform(skill, min(1.0, skill + 0.13))))
        output = headcount * rng.uniform(4600, 5600) * (1 + number * 0.004)
        design = 1000.0
        values = {
            "orders": orders,
            "on_time_orders": on_time,
            "complaints": rng.randint(0, max(1, round(orders * (1.05 - skill) * 0.3))),
            "output": round(output, 2),
            "headcount": headcount + rng.randint(-1, 1),
            "actual_capacity": round(design * min(1.0, rng.uniform(skill - 0.1, skill + 0.05)), 1),
            "design_capacity": design,
            "sales": round(rng.uniform(200_000, 260_000) * skill, 2),
        }
        rows += [MeasureValue(team=team.key, measure=key, on_date=day, value=value) for key, value in values.items()]
    return rows


def _monthly_measures(team: Team, rng: random.Random, skill: float, span: Span = DEMO_SPAN) -> list[MeasureValue]:
    rows = []
    for month in _months(span):
        revenue = rng.uniform(900_000, 1_100_000)
        budget = rng.uniform(250_000, 300_000)
        operating = budget * rng.uniform(1.08 - skill * 0.1, 1.12 - skill * 0.1)
        values = {
            "production_value": revenue * 0.9,
            "production_cost": revenue * 0.9 * rng.uniform(0.6, 0.75),
            "labor_cost": revenue * rng.uniform(0.2, 0.28),
            "operating_revenue": revenue,
            "cogs": revenue * 0.6,
            "inventory": rng.uniform(600_000, 800_000),
            "operating_cost": operating,
            "total_cost": operating / rng.uniform(0.25, 0.33),
            "operating_budget": budget,
            "investment_return": rng.uniform(110_000, 140_000),
            "investment_cost": 100_000.0,
            "liabilities": rng.uniform(2_000_000, 3_200_000),
            "assets": 5_000_000.0,
        }
        rows += [
            MeasureValue(team=team.key, measure=key, on_date=month.start, value=round(value, 2))
            for key, value in values.items()
        ]
    return rows


def _local(team: Team, day: date, hours: float) -> datetime:
    return (datetime.combine(day, time(0), team.tz) + timedelta(hours=hours)).astimezone(UTC)


def _days(span: Span = DEMO_SPAN) -> list[date]:
    return [span[0] + timedelta(days=offset) for offset in range((span[1] - span[0]).days)]


def _surveys(team: Team, rng: random.Random, skill: float, span: Span = DEMO_SPAN) -> list[SurveyResponse]:
    weights = [0.04, 0.06, 0.2 - (skill - 0.85), 0.4, 0.3 + (skill - 0.85)]
    rows = []
    for day in _days(span):
        for _ in range(rng.randint(1, 4)):
            score = rng.choices([1, 2, 3, 4, 5], weights=weights)[0]
            rows.append(SurveyResponse(team=team.key, submitted_at=_local(team, day, rng.uniform(8, 20)), score=score))
    return rows


def _cases(team: Team, rng: random.Random, skill: float, span: Span = DEMO_SPAN) -> list[CustomerCase]:
    rows = []
    for day in _days(span):
        for _ in range(rng.randint(1, 4)):
            raised_at = _local(team, day, rng.uniform(7, 22))
            response_hours = rng.lognormvariate(1.2, 0.6) / skill
            resolve_hours = response_hours + rng.uniform(4, 90)
            answered = day < DEMO_END - timedelta(days=2) or rng.random() < 0.5
            rows.append(
                CustomerCase(
                    team=team.key,
                    kind="after_sales",
                    raised_at=raised_at,
                    first_response_at=raised_at + timedelta(hours=response_hours) if answered else None,
                    resolved_at=raised_at + timedelta(hours=resolve_hours) if answered else None,
                )
            )
        if rng.random() < 0.6:
            raised_at = _local(team, day, rng.uniform(8, 18))
            rows.append(
                CustomerCase(
                    team=team.key,
                    kind="feedback",
                    raised_at=raised_at,
                    first_response_at=raised_at + timedelta(hours=rng.uniform(1, 8)),
                    resolved_at=raised_at + timedelta(hours=rng.uniform(8, 60) / skill),
                )
            )
    return rows


def _milestones(team: Team, rng: random.Random, skill: float, span: Span = DEMO_SPAN) -> list[Milestone]:
    rows = []
    for month in _months(span):
        for number in range(rng.randint(2, 4)):
            due_on = month.start + timedelta(days=rng.randint(3, 27))
            late_days = 0 if rng.random() < skill else rng.randint(1, 9)
            early_days = rng.randint(0, 3) if late_days == 0 else 0
            completed_on = due_on + timedelta(days=late_days - early_days)
            budget = round(rng.uniform(40_000, 120_000), 2)
            rows.append(
                Milestone(
                    team=team.key,
                    project=f"{team.key.split('_')[0].title()} {month.start:%b} rollout",
                    name=f"Phase {number + 1}",
                    due_on=due_on,
                    completed_on=completed_on if completed_on < DEMO_END else None,
                    budget=budget,
                    actual_cost=round(budget * rng.uniform(0.92, 1.1), 2) if completed_on < DEMO_END else None,
                )
            )
    return rows
