"""Modal submissions -> validated input for the core, or field errors keyed by the input's block_id.

Every rule comes from the config (a measure's minimum, maximum, whole numbers, ``at_most``) or from the
meaning of the field (scores 1-5, no dates in the future, no response before the case was raised).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from kpi_core.access import Access
from kpi_core.config import Config, Team
from kpi_core.errors import PeriodError
from kpi_core.imports import max_chars
from kpi_core.models import Milestone
from kpi_core.periods import Period

#: (error key in strings.yaml, format parameters) -> the message in the user's language
Localize = Callable[..., str]
Errors = dict[str, str]

TEAM = "team"
PERIOD = "period"
MEASURE_PREFIX = "measure:"


class State:
    """The values of a submitted view, read the way Slack sends each element type."""

    def __init__(self, view: dict[str, Any]) -> None:
        self.values: dict[str, dict[str, Any]] = view.get("state", {}).get("values", {})
        self.metadata: dict[str, Any] = json.loads(view.get("private_metadata") or "{}")

    def _element(self, block_id: str) -> dict[str, Any]:
        return self.values.get(block_id, {}).get("value") or {}

    def text(self, block_id: str) -> str | None:
        value = self._element(block_id).get("value")
        return value.strip() or None if isinstance(value, str) else None

    def selected(self, block_id: str) -> str | None:
        option = self._element(block_id).get("selected_option")
        return option.get("value") if option else None

    def date(self, block_id: str) -> date | None:
        selected = self._element(block_id).get("selected_date")
        return date.fromisoformat(selected) if selected else None

    def instant(self, block_id: str) -> datetime | None:
        selected = self._element(block_id).get("selected_date_time")
        return datetime.fromtimestamp(int(selected), tz=UTC) if selected is not None else None


@dataclass(frozen=True)
class MeasuresInput:
    team: str
    period: Period
    values: dict[str, float]


@dataclass(frozen=True)
class SurveyInput:
    team: str
    submitted_at: datetime
    scores: list[int]


@dataclass(frozen=True)
class CaseInput:
    team: str
    kind: str
    raised_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None


@dataclass(frozen=True)
class MilestoneInput:
    team: str
    project: str
    name: str
    due_on: date
    completed_on: date | None
    budget: float | None
    actual_cost: float | None


class _Checker:
    """Collects field errors while reading a view, so one submission reports every bad field at once."""

    def __init__(self, state: State, localize: Localize) -> None:
        self.state = state
        self.localize = localize
        self.errors: Errors = {}

    def fail(self, block_id: str, key: str, **params: Any) -> None:
        self.errors.setdefault(block_id, self.localize(f"errors.{key}", **params))

    def team(self, config: Config, access: Access) -> Team | None:
        key = self.state.selected(TEAM)
        if key is None:
            self.fail(TEAM, "required")
            return None
        if key not in config.team_by_key or not access.may_submit(key):
            self.fail(TEAM, "not_yours")
            return None
        return config.team(key)

    def number(
        self,
        block_id: str,
        *,
        required: bool = True,
        minimum: float | None = 0,
        maximum: float | None = None,
        integer: bool = False,
    ) -> float | None:
        text = self.state.text(block_id)
        if text is None:
            if required:
                self.fail(block_id, "required")
            return None
        try:
            value = float(text.replace(",", ""))
        except ValueError:
            self.fail(block_id, "not_a_number")
            return None
        if value != value or value in (float("inf"), float("-inf")):
            self.fail(block_id, "not_a_number")
        elif integer and not value.is_integer():
            self.fail(block_id, "not_whole")
        elif minimum is not None and value < minimum:
            self.fail(block_id, "below_minimum", minimum=f"{minimum:g}")
        elif maximum is not None and value > maximum:
            self.fail(block_id, "above_maximum", maximum=f"{maximum:g}")
        else:
            return value
        return None

    def required_text(self, block_id: str, *, maximum: int) -> str:
        """``maximum`` characters: the database column's length (PostgreSQL refuses longer text)."""
        text = self.state.text(block_id)
        if text is None:
            self.fail(block_id, "required")
        elif len(text) > maximum:
            self.fail(block_id, "too_long", maximum=maximum)
        return text or ""

    def past_date(self, block_id: str, *, today: date, required: bool) -> date | None:
        value = self.state.date(block_id)
        if value is None and required:
            self.fail(block_id, "required")
        if value is not None and value > today:
            self.fail(block_id, "in_future")
        return value

    def past_instant(self, block_id: str, *, now: datetime, required: bool) -> datetime | None:
        value = self.state.instant(block_id)
        if value is None and required:
            self.fail(block_id, "required")
        if value is not None and value > now:
            self.fail(block_id, "in_future")
        return value

    def not_before(self, block_id: str, value: datetime | None, *, raised_at: datetime | None) -> None:
        if value is not None and raised_at is not None and value < raised_at:
            self.fail(block_id, "before_raised")


def parse_measures(
    view: dict[str, Any], *, config: Config, access: Access, now: datetime, localize: Localize
) -> tuple[MeasuresInput | None, Errors]:
    state = State(view)
    check = _Checker(state, localize)
    form = config.form_by_key[state.metadata["form"]]
    team = check.team(config, access)
    period = None
    period_label = state.selected(PERIOD)
    if period_label is None:
        check.fail(PERIOD, "required")
    else:
        try:
            period = Period.parse(period_label)
        except PeriodError:
            check.fail(PERIOD, "required")
        else:
            if team is not None and period.start > now.astimezone(team.tz).date():
                check.fail(PERIOD, "in_future")
    values: dict[str, float] = {}
    for key in form.measures:
        measure = config.measure_by_key[key]
        value = check.number(
            MEASURE_PREFIX + key, minimum=measure.minimum, maximum=measure.maximum, integer=measure.integer
        )
        if value is not None:
            values[key] = value
    for key, value in values.items():
        total_key = config.measure_by_key[key].at_most
        if total_key in values and value > values[total_key]:
            other = config.measure_by_key[total_key].name.en
            check.fail(MEASURE_PREFIX + key, "above_total", other=other, total=f"{values[total_key]:g}")
    if check.errors or team is None or period is None:
        return None, check.errors
    return MeasuresInput(team=team.key, period=period, values=values), {}


_SCORE_SEPARATORS = re.compile(r"[\s,;，、]+")


def parse_survey(
    view: dict[str, Any], *, config: Config, access: Access, now: datetime, localize: Localize
) -> tuple[SurveyInput | None, Errors]:
    state = State(view)
    check = _Checker(state, localize)
    team = check.team(config, access)
    today = now.astimezone(team.tz).date() if team else now.date()
    survey_date = check.past_date("survey_date", today=today, required=True)
    scores: list[int] = []
    text = state.text("scores")
    if text is None:
        check.fail("scores", "no_scores")
    else:
        for word in filter(None, _SCORE_SEPARATORS.split(text)):
            if word not in {"1", "2", "3", "4", "5"}:
                check.fail("scores", "bad_score", value=word)
                break
            scores.append(int(word))
    if check.errors or team is None or survey_date is None:
        return None, check.errors
    # Answers of an earlier day are dated at its local noon: safely inside that day's periods.
    submitted_at = now if survey_date == today else datetime.combine(survey_date, time(12), team.tz).astimezone(UTC)
    return SurveyInput(team=team.key, submitted_at=submitted_at, scores=scores), {}


def parse_case(
    view: dict[str, Any], *, config: Config, access: Access, now: datetime, localize: Localize
) -> tuple[CaseInput | None, Errors]:
    state = State(view)
    check = _Checker(state, localize)
    team = check.team(config, access)
    kind = state.selected("case_kind")
    if kind not in ("after_sales", "feedback"):
        check.fail("case_kind", "required")
    raised_at = check.past_instant("raised_at", now=now, required=True)
    first_response_at = check.past_instant("first_response_at", now=now, required=False)
    resolved_at = check.past_instant("resolved_at", now=now, required=False)
    check.not_before("first_response_at", first_response_at, raised_at=raised_at)
    check.not_before("resolved_at", resolved_at, raised_at=raised_at)
    if check.errors or team is None or raised_at is None or kind is None:
        return None, check.errors
    return CaseInput(team.key, kind, raised_at, first_response_at, resolved_at), {}


def parse_milestone(
    view: dict[str, Any], *, config: Config, access: Access, now: datetime, localize: Localize
) -> tuple[MilestoneInput | None, Errors]:
    state = State(view)
    check = _Checker(state, localize)
    team = check.team(config, access)
    today = now.astimezone(team.tz).date() if team else now.date()
    project = check.required_text("project", maximum=max_chars(Milestone, "project"))
    name = check.required_text("milestone_name", maximum=max_chars(Milestone, "name"))
    due_on = state.date("due_on")
    if due_on is None:
        check.fail("due_on", "required")
    completed_on = check.past_date("completed_on", today=today, required=False)
    budget = check.number("budget", required=False)
    actual_cost = check.number("actual_cost", required=False)
    if check.errors or team is None or due_on is None:
        return None, check.errors
    return MilestoneInput(team.key, project, name, due_on, completed_on, budget, actual_cost), {}


def parse_case_update(
    view: dict[str, Any], *, raised_at: datetime | None, now: datetime, localize: Localize
) -> tuple[tuple[datetime | None, datetime | None] | None, Errors]:
    """The first response and/or resolution of an open case (``raised_at`` None: the case is gone)."""
    state = State(view)
    check = _Checker(state, localize)
    if raised_at is None:
        check.fail("case", "gone")
    first_response_at = check.past_instant("first_response_at", now=now, required=False)
    resolved_at = check.past_instant("resolved_at", now=now, required=False)
    check.not_before("first_response_at", first_response_at, raised_at=raised_at)
    check.not_before("resolved_at", resolved_at, raised_at=raised_at)
    if first_response_at is None and resolved_at is None:
        check.fail("first_response_at", "nothing_to_record")
    if check.errors:
        return None, check.errors
    return (first_response_at, resolved_at), {}


def parse_milestone_completion(
    view: dict[str, Any], *, exists: bool, today: date, localize: Localize
) -> tuple[tuple[date, float | None] | None, Errors]:
    state = State(view)
    check = _Checker(state, localize)
    if not exists:
        check.fail("milestone", "gone")
    completed_on = check.past_date("completed_on", today=today, required=True)
    actual_cost = check.number("actual_cost", required=False)
    if check.errors or completed_on is None:
        return None, check.errors
    return (completed_on, actual_cost), {}
