"""Modal submissions -> validated input for the core, or field errors keyed by the input's block_id.

Every verdict comes from kpi_core.rules (the CSV import applies the same ones); this module reads the values
the way Slack sends them and words each problem in the user's language (``errors.<code>`` in strings.yaml).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any

from kpi_core import rules
from kpi_core.access import Access
from kpi_core.config import Config, Form, Team
from kpi_core.errors import PeriodError
from kpi_core.imports import max_chars
from kpi_core.models import CustomerCase, Milestone
from kpi_core.periods import Period
from kpi_core.rules import Bounds, Problem

#: (error key in strings.yaml, format parameters) -> the message in the user's language
Localize = Callable[..., str]
Errors = dict[str, str]

TEAM = "team"
PERIOD = "period"
MEASURE_PREFIX = "measure:"
PERSON = "person"


class State:
    """The values of a submitted view, read the way Slack sends each element type."""

    def __init__(self, view: dict[str, Any]) -> None:
        self.values: dict[str, dict[str, Any]] = view.get("state", {}).get("values", {})
        try:
            metadata = json.loads(view.get("private_metadata") or "{}")
        except ValueError:  # metadata comes back from the client: it may have been tampered with
            metadata = {}
        self.metadata: dict[str, Any] = metadata if isinstance(metadata, dict) else {}
        #: block ids whose value no date or time picker sends
        self.unreadable: set[str] = set()

    def _element(self, block_id: str) -> dict[str, Any]:
        return self.values.get(block_id, {}).get("value") or {}

    def text(self, block_id: str) -> str | None:
        value = self._element(block_id).get("value")
        return value.strip() or None if isinstance(value, str) else None

    def selected(self, block_id: str) -> str | None:
        option = self._element(block_id).get("selected_option")
        return option.get("value") if option else None

    def user(self, block_id: str) -> str | None:
        user = self._element(block_id).get("selected_user")
        return user if isinstance(user, str) and user else None

    def date(self, block_id: str) -> date | None:
        selected = self._element(block_id).get("selected_date")
        try:
            return date.fromisoformat(selected) if selected else None
        except (TypeError, ValueError):  # a forged request: 2026-02-30, or not text at all
            self.unreadable.add(block_id)
            return None

    def instant(self, block_id: str) -> datetime | None:
        selected = self._element(block_id).get("selected_date_time")
        try:
            return datetime.fromtimestamp(int(selected), tz=UTC) if selected is not None else None
        except (TypeError, ValueError, OverflowError, OSError):  # a forged request: "abc", or 30 digits
            self.unreadable.add(block_id)
            return None


@dataclass(frozen=True)
class MeasuresInput:
    team: str
    period: Period
    values: dict[str, float]
    #: the person the values are recorded for; None: the team's own figures
    person: str | None = None


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
    person: str | None = None


@dataclass(frozen=True)
class MilestoneInput:
    team: str
    project: str
    name: str
    due_on: date
    completed_on: date | None
    budget: float | None
    actual_cost: float | None
    person: str | None = None


class _Checker:
    """Collects field errors while reading a view, so one submission reports every bad field at once. The
    verdicts come from kpi_core.rules; this class only reads the view and words the problems."""

    def __init__(self, state: State, localize: Localize, config: Config | None = None) -> None:
        self.state = state
        self.localize = localize
        self.config = config
        self.errors: Errors = {}

    def fail(self, block_id: str, key: str, **params: Any) -> None:
        if block_id in self.state.unreadable:
            key, params = "unreadable", {}
        self.errors.setdefault(block_id, self.localize(f"errors.{key}", **params))

    def report(self, block_id: str, problem: Problem | None) -> None:
        if problem is None:
            return
        params = dict(problem.params)
        if problem.code == "above_total" and self.config is not None:
            params["other"] = self.config.measure_by_key[params["other"]].name.en
        self.fail(block_id, problem.code, **params)

    def team(self, config: Config, access: Access, key: str | None) -> Team | None:
        if key is None:
            self.fail(TEAM, "required")
            return None
        if key not in config.team_by_key or not access.may_submit(key):
            self.fail(TEAM, "not_yours")
            return None
        return config.team(key)

    def person(self, config: Config, team: Team | None, user: str | None) -> str | None:
        """The optional person a record belongs to (``user``, as the view or its metadata names them): a
        configured person of the chosen team."""
        if user is not None and team is not None:
            self.report(PERSON, rules.check_person(config, team=team.key, user=user))
        return user

    def number(self, block_id: str, bounds: Bounds, *, required: bool = True) -> float | None:
        text = self.state.text(block_id)
        if text is None:
            if required:
                self.fail(block_id, "required")
            return None
        value = rules.number(text, bounds)
        if isinstance(value, Problem):
            self.report(block_id, value)
            return None
        return value

    def required_text(self, block_id: str, *, maximum: int) -> str:
        """``maximum`` characters: the database column's length (PostgreSQL refuses longer text)."""
        text = self.state.text(block_id)
        if text is None:
            self.fail(block_id, "required")
        else:
            self.report(block_id, rules.check_text(text, maximum=maximum))
        return text or ""

    def past_date(self, block_id: str, *, today: date, data_since: date, required: bool) -> date | None:
        value = self.state.date(block_id)
        if value is None and (required or block_id in self.state.unreadable):
            self.fail(block_id, "required")
        if value is not None:
            self.report(block_id, rules.check_date(value, data_since=data_since, today=today))
        return value

    def past_instant(
        self, block_id: str, *, now: datetime, data_since: date, zone: tzinfo, required: bool
    ) -> datetime | None:
        value = self.state.instant(block_id)
        if value is None and (required or block_id in self.state.unreadable):
            self.fail(block_id, "required")
        if value is not None:
            self.report(block_id, rules.check_instant(value, data_since=data_since, zone=zone, now=now))
        return value

    def case_order(
        self, raised_at: datetime | None, first_response_at: datetime | None, resolved_at: datetime | None
    ) -> None:
        for block_id, problem in rules.case_order(raised_at, first_response_at, resolved_at).items():
            self.report(block_id, problem)

    def period(self, label: str | None, *, config: Config, team: Team | None, now: datetime) -> Period | None:
        """A period that has started, in the team's zone, and does not start before the data window."""
        if label is None:
            self.fail(PERIOD, "required")
            return None
        try:
            period = Period.parse(label)
        except PeriodError:
            self.fail(PERIOD, "required")
            return None
        if team is not None:
            today = now.astimezone(team.tz).date()
            self.report(PERIOD, rules.check_date(period.start, data_since=config.data_since, today=today))
        return period

    def measures(self, config: Config, form: Form, read: Callable[[str, Bounds], float | None]) -> dict[str, float]:
        """The form's measures read one by one, then ``at_most`` across them."""
        values: dict[str, float] = {}
        for key in form.measures:
            value = read(key, rules.measure_bounds(config.measure_by_key[key]))
            if value is not None:
                values[key] = value
        for key, problem in rules.at_most(values, config.measure_by_key).items():
            self.report(MEASURE_PREFIX + key, problem)
        return values


def parse_measures(
    view: dict[str, Any], *, config: Config, access: Access, now: datetime, localize: Localize
) -> tuple[MeasuresInput | None, Errors]:
    state = State(view)
    check = _Checker(state, localize, config)
    form = config.form_by_key.get(str(state.metadata.get("form")))
    if form is None or form.kind != "measures":
        check.fail(TEAM, "gone")
        return None, check.errors
    team = check.team(config, access, state.selected(TEAM))
    period = check.period(state.selected(PERIOD), config=config, team=team, now=now)
    person = check.person(config, team, state.selected(PERSON))

    def read(key: str, bounds: Bounds) -> float | None:
        # the team's own figures are the whole form; a person's may be only those recorded for them
        return check.number(MEASURE_PREFIX + key, bounds, required=person is None)

    values = check.measures(config, form, read)
    if person is not None and not values and not check.errors:
        check.errors[MEASURE_PREFIX + form.measures[0]] = localize("measures_person.no_values")
    if check.errors or team is None or period is None:
        return None, check.errors
    return MeasuresInput(team=team.key, period=period, values=values, person=person), {}


REPLACE = "replace"


def parse_confirm_replace(
    view: dict[str, Any], *, config: Config, access: Access, now: datetime, localize: Localize
) -> tuple[tuple[str, MeasuresInput] | None, Errors]:
    """The form key and values a replace confirmation carries, checked again by every rule: its metadata
    travelled through the client and may have been edited. Any problem refuses the whole confirmation."""
    state = State(view)
    check = _Checker(state, localize, config)
    metadata = state.metadata
    form = config.form_by_key.get(str(metadata.get("form")))
    team = check.team(config, access, str(metadata.get("team")))
    period = check.period(str(metadata.get("period")), config=config, team=team, now=now)
    chosen = metadata.get("person")  # None: the team's own figures; anything but a user id is forged
    forged_person = chosen is not None and not (isinstance(chosen, str) and chosen)
    person = check.person(config, team, None if forged_person else chosen)
    given = metadata.get("values")
    values: dict[str, float] = {}
    if (
        form is None
        or form.kind != "measures"
        or not isinstance(given, dict)
        or not set(given) <= set(form.measures)
        or forged_person
    ):
        check.fail(REPLACE, "gone")
    else:

        def read(key: str, bounds: Bounds) -> float | None:
            value = rules.stored_number(given[key], bounds) if key in given else None
            if isinstance(value, Problem):
                check.report(MEASURE_PREFIX + key, value)
                return None
            return value

        values = check.measures(config, form, read)
    if check.errors or team is None or period is None or form is None:
        # the confirmation has no input blocks of its own: every problem is shown on its one section
        return None, {REPLACE: next(iter(check.errors.values()))} if check.errors else {}
    return (form.key, MeasuresInput(team=team.key, period=period, values=values, person=person)), {}


_SCORE_SEPARATORS = re.compile(r"[\s,;，、]+")


def parse_survey(
    view: dict[str, Any], *, config: Config, access: Access, now: datetime, localize: Localize
) -> tuple[SurveyInput | None, Errors]:
    state = State(view)
    check = _Checker(state, localize, config)
    team = check.team(config, access, state.selected(TEAM))
    today = now.astimezone(team.tz).date() if team else now.date()
    survey_date = check.past_date("survey_date", today=today, data_since=config.data_since, required=True)
    scores: list[int] = []
    text = state.text("scores")
    if text is None:
        check.fail("scores", "no_scores")
    else:
        for word in filter(None, _SCORE_SEPARATORS.split(text)):
            score = rules.parse_score(word)
            if isinstance(score, Problem):
                check.report("scores", score)
                break
            scores.append(score)
    if check.errors or team is None or survey_date is None:
        return None, check.errors
    # Answers of an earlier day are dated at its local noon: safely inside that day's periods.
    submitted_at = now if survey_date == today else datetime.combine(survey_date, time(12), team.tz).astimezone(UTC)
    return SurveyInput(team=team.key, submitted_at=submitted_at, scores=scores), {}


def parse_case(
    view: dict[str, Any], *, config: Config, access: Access, now: datetime, localize: Localize
) -> tuple[CaseInput | None, Errors]:
    state = State(view)
    check = _Checker(state, localize, config)
    team = check.team(config, access, state.selected(TEAM))
    kind = state.selected("case_kind")
    check.report("case_kind", rules.check_case_kind(kind))
    zone = team.tz if team else UTC

    def instant(block_id: str, *, required: bool) -> datetime | None:
        return check.past_instant(block_id, now=now, data_since=config.data_since, zone=zone, required=required)

    raised_at = instant("raised_at", required=True)
    first_response_at = instant("first_response_at", required=False)
    resolved_at = instant("resolved_at", required=False)
    check.case_order(raised_at, first_response_at, resolved_at)
    person = check.person(config, team, state.user(PERSON))
    if check.errors or team is None or raised_at is None or kind is None:
        return None, check.errors
    return CaseInput(team.key, kind, raised_at, first_response_at, resolved_at, person), {}


def parse_milestone(
    view: dict[str, Any], *, config: Config, access: Access, now: datetime, localize: Localize
) -> tuple[MilestoneInput | None, Errors]:
    state = State(view)
    check = _Checker(state, localize, config)
    team = check.team(config, access, state.selected(TEAM))
    today = now.astimezone(team.tz).date() if team else now.date()
    project = check.required_text("project", maximum=max_chars(Milestone, "project"))
    name = check.required_text("milestone_name", maximum=max_chars(Milestone, "name"))
    due_on = state.date("due_on")
    if due_on is None:
        check.fail("due_on", "required")
    else:
        check.report("due_on", rules.check_due_date(due_on, data_since=config.data_since, today=today))
    completed_on = check.past_date("completed_on", today=today, data_since=config.data_since, required=False)
    budget = check.number("budget", rules.MONEY, required=False)
    actual_cost = check.number("actual_cost", rules.MONEY, required=False)
    person = check.person(config, team, state.user(PERSON))
    if check.errors or team is None or due_on is None:
        return None, check.errors
    return MilestoneInput(team.key, project, name, due_on, completed_on, budget, actual_cost, person), {}


def parse_case_update(
    view: dict[str, Any], *, case: CustomerCase | None, config: Config, now: datetime, localize: Localize
) -> tuple[tuple[datetime | None, datetime | None] | None, Errors]:
    """The first response and/or resolution of an open case (``case`` None: the case is gone), checked
    together with the times the case already has."""
    state = State(view)
    check = _Checker(state, localize, config)
    if case is None:
        check.fail("case", "gone")
    team = config.team_by_key.get(case.team) if case else None
    zone = team.tz if team else UTC

    def instant(block_id: str) -> datetime | None:
        return check.past_instant(block_id, now=now, data_since=config.data_since, zone=zone, required=False)

    first_response_at = instant("first_response_at")
    resolved_at = instant("resolved_at")
    if first_response_at is None and resolved_at is None:
        check.fail("first_response_at", "nothing_to_record")
    if case is not None:
        problems = rules.case_order(
            case.raised_at, first_response_at or case.first_response_at, resolved_at or case.resolved_at
        )
        for block_id, problem in problems.items():
            # a stored time at fault is blamed on the time given now that contradicts it
            given = {"first_response_at": first_response_at, "resolved_at": resolved_at}
            check.report(block_id if given[block_id] is not None else "first_response_at", problem)
    if check.errors:
        return None, check.errors
    return (first_response_at, resolved_at), {}


def parse_milestone_completion(
    view: dict[str, Any], *, exists: bool, today: date, config: Config, localize: Localize
) -> tuple[tuple[date, float | None] | None, Errors]:
    state = State(view)
    check = _Checker(state, localize, config)
    if not exists:
        check.fail("milestone", "gone")
    completed_on = check.past_date("completed_on", today=today, data_since=config.data_since, required=True)
    actual_cost = check.number("actual_cost", rules.MONEY, required=False)
    if check.errors or completed_on is None:
        return None, check.errors
    return (completed_on, actual_cost), {}


#: Row ids are 64-bit integers from 1: a larger number would not even bind as a query parameter.
_MAX_ID = 2**63 - 1


def as_id(value: object) -> int:
    """A row id a client sent back as text (a button's value); 0 (no row has it) when it cannot be one."""
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or int(value) > _MAX_ID:
        return 0
    return int(value)
