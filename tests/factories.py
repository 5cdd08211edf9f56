"""Small builders of stored rows for tests: aware UTC times in, one transaction per call."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from kpi_core.db import transaction
from kpi_core.models import CustomerCase, MeasureValue, Milestone, SurveyResponse

#: One week's answers to the weekly form, as typed.
WEEKLY_ANSWERS = {
    "orders": "120",
    "on_time_orders": "114",
    "complaints": "2",
    "output": "180000",
    "headcount": "36",
    "actual_capacity": "880",
    "design_capacity": "1000",
    "sales": "240000",
}

#: The KPI keys of ../shared/KPI_CATALOGUE.md, in its order.
CATALOGUE_KPIS = (
    "on_time_delivery",
    "csat",
    "complaint_rate",
    "response_time",
    "feedback_handling",
    "production_cost_rate",
    "labor_cost_rate",
    "inventory_turnover",
    "opex_share",
    "budget_variance",
    "output_per_head",
    "productivity_growth",
    "resource_utilization",
    "milestone_on_time",
    "schedule_slip",
    "project_cost_variance",
    "roi",
    "debt_to_asset",
    "sales",
)


def at(text: str, zone: str = "UTC") -> datetime:
    """``at("2026-09-30 23:30", "Europe/Berlin")`` -> an aware datetime in UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def add(engine: sa.Engine, *rows: Any) -> None:
    with transaction(engine) as session:
        session.add_all(rows)


def measures(team: str, on: date, **values: float) -> list[MeasureValue]:
    return [MeasureValue(team=team, measure=key, on_date=on, value=value) for key, value in values.items()]


def surveys(team: str, when: datetime, *scores: int) -> list[SurveyResponse]:
    return [SurveyResponse(team=team, submitted_at=when, score=score) for score in scores]


def case(
    team: str,
    raised_at: datetime,
    *,
    response_hours: float | None = None,
    resolve_hours: float | None = None,
    kind: str = "after_sales",
) -> CustomerCase:
    return CustomerCase(
        team=team,
        kind=kind,
        raised_at=raised_at,
        first_response_at=None if response_hours is None else raised_at + timedelta(hours=response_hours),
        resolved_at=None if resolve_hours is None else raised_at + timedelta(hours=resolve_hours),
    )


def milestone(
    team: str,
    due_on: date,
    completed_on: date | None = None,
    *,
    budget: float | None = None,
    actual_cost: float | None = None,
    project: str = "Rollout",
    name: str = "Phase 1",
) -> Milestone:
    return Milestone(
        team=team,
        project=project,
        name=name,
        due_on=due_on,
        completed_on=completed_on,
        budget=budget,
        actual_cost=actual_cost,
    )


class Clock:
    """The services' clock: it only moves when a test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, text: str, zone: str = "UTC") -> None:
        self.now = at(text, zone)

    def advance(self, delta: timedelta) -> None:
        self.now += delta
