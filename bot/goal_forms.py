"""Personal targets' modals and buttons -> validated input, or field errors keyed by block_id (issue 11).
Every number goes through kpi_core.rules like any other form's; what travelled through the client (the
modal's metadata, a button's value) is checked again, since it may have been edited."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.forms import Errors, Localize, State, _Checker
from kpi_core.config_schema import Config, Person
from kpi_core.errors import PeriodError
from kpi_core.goals import MAX_REASON_CHARS, position_kpis, target_bounds
from kpi_core.people import person_of
from kpi_core.periods import Period

GOAL_PREFIX = "goal:"
REASON = "reason"
_EXAMPLES = {"week": "2027-W02", "month": "2027-01", "quarter": "2027-Q1", "year": "2027"}


@dataclass(frozen=True)
class GoalsInput:
    period: Period
    values: dict[str, float]


@dataclass(frozen=True)
class AdjustInput:
    person: Person
    period: Period
    stamp: str
    values: dict[str, float]
    reason: str


def goal_period(
    config: Config, person: Person, label: str | None, *, now: datetime
) -> Period | tuple[str, dict[str, str]]:
    """The period a target is for: of the personal scorecard's kind, and not over yet in the person's team's
    time zone; else the string key and parameters of the reason why not."""
    kind = config.person_scorecard.period
    try:
        period = Period.parse(label or "")
    except PeriodError:
        period = None
    if period is None or period.kind != kind:
        return "people.bad_period_kind", {"kind": str(kind), "example": _EXAMPLES[str(kind)]}
    current = Period.current(kind, now=now, tz=config.team(person.team).tz)
    if period.start < current.start:
        return "people.past_period", {"period": period.label}
    return period


def _values(check: _Checker, config: Config, person: Person) -> dict[str, float]:
    values = {}
    for key in position_kpis(config, person.user):
        value = check.number(GOAL_PREFIX + key, target_bounds(config.kpi_by_key[key]))
        if value is not None:
            values[key] = value
    return values


def _first_block(config: Config, person: Person) -> str:
    keys = position_kpis(config, person.user)
    return GOAL_PREFIX + keys[0] if keys else REASON


def parse_goals(
    view: dict[str, Any], *, config: Config, person: Person, now: datetime, localize: Localize
) -> tuple[GoalsInput | None, Errors]:
    state = State(view)
    check = _Checker(state, localize, config)
    period = goal_period(config, person, str(state.metadata.get("period")), now=now)
    if not isinstance(period, Period):
        key, params = period
        check.errors[_first_block(config, person)] = localize(key, **params)
    values = _values(check, config, person)
    if check.errors or not isinstance(period, Period):
        return None, check.errors
    return GoalsInput(period, values), {}


def parse_adjustment(
    view: dict[str, Any], *, config: Config, now: datetime, localize: Localize
) -> tuple[AdjustInput | None, Errors]:
    """The superior's adjusted values and reason, for the person and proposal the metadata names."""
    state = State(view)
    check = _Checker(state, localize, config)
    person = person_of(config, str(state.metadata.get("person")))
    stamp = state.metadata.get("stamp")
    if person is None or not isinstance(stamp, str):
        check.fail(REASON, "gone")
        return None, check.errors
    period = goal_period(config, person, str(state.metadata.get("period")), now=now)
    if not isinstance(period, Period):
        key, params = period
        check.errors[REASON] = localize(key, **params)
    values = _values(check, config, person)
    reason = check.required_text(REASON, maximum=MAX_REASON_CHARS)
    if check.errors or not isinstance(period, Period):
        return None, check.errors
    return AdjustInput(person, period, stamp, values, reason), {}


def decision_of(config: Config, value: object) -> tuple[Person, Period, str] | None:
    """The person, period and proposal stamp an Approve / Adjust button carries; None for a value that is
    not one (forged, or a person since removed from the config)."""
    try:
        data = json.loads(value) if isinstance(value, str) else None
    except ValueError:
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(key), str) for key in ("person", "period", "stamp")):
        return None
    person = person_of(config, data["person"])
    try:
        period = Period.parse(data["period"])
    except PeriodError:
        return None
    return (person, period, data["stamp"]) if person is not None else None
