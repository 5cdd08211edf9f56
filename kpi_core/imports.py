"""CSV import of surveys, measures, cases and milestones: streamed in batches, all-or-nothing per file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from kpi_core import import_guard, rules
from kpi_core.close_guard import date_of, ensure_open
from kpi_core.config import Config, Measure, Team
from kpi_core.csv_rows import read_rows, undecodable
from kpi_core.data_changes import Touched, bump_data_version
from kpi_core.errors import ImportFileError, RowProblem
from kpi_core.models import CustomerCase, MeasureValue, Milestone, Submission, SurveyResponse
from kpi_core.periods import Period
from kpi_core.rules import Bounds, Problem
from kpi_core.sql import bulk_inserter

BATCH_ROWS = 5000
#: columns a file may leave out: the person a row belongs to (a file of team figures has none)
OPTIONAL_COLUMNS = ("person",)
MAX_REPORTED_PROBLEMS = 20


class Cells:
    """One CSV row being read. Each parse step notes the problem of the cell it reads instead of raising, so
    a bad row reports every bad cell at once; a cell keeps its first problem (a later one only follows from
    it, e.g. ``unknown team ''`` after ``a value is required``)."""

    def __init__(self, row: dict[str, str]) -> None:
        self.row = row
        self.problems: dict[str, str] = {}

    def __getitem__(self, column: str) -> str:
        return self.row[column]

    def fail(self, column: str, message: str) -> None:
        self.problems.setdefault(column, message)


@dataclass(frozen=True)
class ImportKind:
    columns: tuple[str, ...]
    required: tuple[str, ...]
    table: Any
    #: the record of a row; only stored if it noted no problem in its Cells
    parse: Callable[[Cells, Config, datetime], dict[str, Any]]


@dataclass(frozen=True)
class ImportSummary:
    kind: str
    rows: int
    submission_id: int


@cache
def max_chars(model: type[SQLModel], field: str) -> int:
    """The length of a text column: longer text must be refused before it reaches the database, where
    PostgreSQL rejects it with an error the user cannot act on (SQLite would store it)."""
    # sqlmodel's AutoString wraps a String: its length is read through the wrapper
    length = getattr(sa.inspect(model).columns[field].type, "length", None)
    if not isinstance(length, int):
        raise TypeError(f"{model.__name__}.{field} is not a text column of limited length")
    return length


#: The CSV edge's words for kpi_core.rules' problems; ``text`` is the cell, ``quoted`` its repr.
_MESSAGES = {
    "not_a_number": "{quoted} is not a number (write the digits 0-9 with an optional minus sign and decimal point, "
    "e.g. 120, -3 or 3.5; no thousands separators, no exponents)",
    "too_precise": "{text} has more than {decimals} decimal places",
    "below_minimum": "{text} is below the minimum {minimum}",
    "above_maximum": "{text} is above the maximum {maximum}",
    "not_whole": "{text} is not a whole number",
    "above_total": "{text} is more than {other} ({total})",
    "bad_score": "{quoted} is not a score from 1 to 5",
    "in_future": "{text} is in the future",
    "before_data_since": "{text} is before {since}, the earliest date data may have (data_since)",
    "too_far_ahead": "{text} is after {latest}",
    "unknown_case_kind": "{quoted} is not {kinds}",
    "too_long": "too long: {length} characters, at most {maximum}",
    "control_character": "contains a control character (a NUL, tab or line break)",
    "not_a_person": "{quoted} is not a person in the config (people)",
    "person_of_other_team": "{quoted} is a person of team {team}, not of this row's team",
}
#: a case's times say which time is at fault
_CASE_MESSAGES = {
    ("before_raised", "first_response_at"): "the first response is before the case was raised",
    ("before_raised", "resolved_at"): "the case is resolved before it was raised",
    ("before_response", "resolved_at"): "the case is resolved before its first response",
}
#: why a number is refused, when the rule knows the measure
_MEASURE_SUFFIX = {"above_maximum": " for {measure}", "not_whole": " ({measure} is a count)"}


def words(problem: Problem, text: str) -> str:
    params = dict(problem.params)
    message = _MESSAGES[problem.code]
    if params.get("measure") and problem.code in _MEASURE_SUFFIX:
        message += _MEASURE_SUFFIX[problem.code]
    return message.format(text=text, quoted=repr(text), **params)


def _team(cells: Cells, config: Config) -> Team | None:
    """The row's team; a record names it by the cell's text, which is its key once this lookup found it."""
    team = config.team_by_key.get(cells["team"])
    if team is None:
        cells.fail("team", f"unknown team {cells['team']!r}")
    return team


def _report(cells: Cells, column: str, problem: Problem | None) -> None:
    if problem is not None:
        cells.fail(column, words(problem, cells[column]))


def _text(cells: Cells, column: str, *, maximum: int) -> str:
    _report(cells, column, rules.check_text(cells[column], maximum=maximum))
    return cells[column]


def _instant(cells: Cells, column: str, team: Team | None, config: Config, now: datetime) -> datetime | None:
    text = cells[column]
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        cells.fail(column, f"{text!r} is not an ISO 8601 time such as 2026-09-30T23:30:00+02:00")
        return None
    # naive means the team's local time; without a known team the row is rejected, UTC only lets it read on
    zone = team.tz if team else UTC
    value = rules.to_utc(parsed, zone=zone, data_since=config.data_since)
    if isinstance(value, Problem):
        _report(cells, column, value)
        return None
    _report(cells, column, rules.check_instant(value, data_since=config.data_since, zone=zone, now=now))
    return value


def _date(cells: Cells, column: str, problem: Callable[[date], Problem | None]) -> date | None:
    text = cells[column]
    if not text:
        return None
    try:
        value = date.fromisoformat(text)
    except ValueError:
        cells.fail(column, f"{text!r} is not a date such as 2026-09-30")
        return None
    _report(cells, column, problem(value))
    return value


def _past_date(cells: Cells, column: str, team: Team | None, config: Config, now: datetime) -> date | None:
    today = now.astimezone(team.tz if team else UTC).date()
    return _date(cells, column, lambda value: rules.check_date(value, data_since=config.data_since, today=today))


def _number(cells: Cells, column: str, bounds: Bounds | None) -> float | None:
    """The cell's number checked against ``bounds`` (None: an unknown measure, only the syntax is checked)."""
    text = cells[column]
    if not text:
        return None
    value = rules.number(text, bounds) if bounds else rules.parse_number(text)
    if isinstance(value, Problem):
        _report(cells, column, value)
        return None
    return value


def _person(cells: Cells, config: Config, team: Team | None) -> str | None:
    """The optional ``person`` cell: a configured person of the row's team (checked once the team is known)."""
    user = cells["person"]
    if not user:
        return None
    if team is not None:
        _report(cells, "person", rules.check_person(config, team=team.key, user=user))
    return user


def _parse_survey(cells: Cells, config: Config, now: datetime) -> dict[str, Any]:
    team = _team(cells, config)
    score = rules.parse_score(cells["score"])
    if isinstance(score, Problem):
        _report(cells, "score", score)
    return {
        "team": cells["team"],
        "submitted_at": _instant(cells, "submitted_at", team, config, now),
        "score": None if isinstance(score, Problem) else score,
    }


def _parse_measure(cells: Cells, config: Config, now: datetime) -> dict[str, Any]:
    team = _team(cells, config)
    measure = config.measure_by_key.get(cells["measure"])
    if measure is None:
        cells.fail("measure", f"unknown measure {cells['measure']!r}")
    return {
        "team": cells["team"],
        "measure": cells["measure"],
        "on_date": _past_date(cells, "date", team, config, now),
        "value": _number(cells, "value", rules.measure_bounds(measure) if measure else None),
        "person": _person(cells, config, team),
    }


def _parse_case(cells: Cells, config: Config, now: datetime) -> dict[str, Any]:
    team = _team(cells, config)
    _report(cells, "kind", rules.check_case_kind(cells["kind"]))
    raised_at = _instant(cells, "raised_at", team, config, now)
    first_response_at = _instant(cells, "first_response_at", team, config, now)
    resolved_at = _instant(cells, "resolved_at", team, config, now)
    for column, problem in rules.case_order(raised_at, first_response_at, resolved_at).items():
        cells.fail(column, _CASE_MESSAGES[problem.code, column])
    return {
        "team": cells["team"],
        "kind": cells["kind"],
        "raised_at": raised_at,
        "first_response_at": first_response_at,
        "resolved_at": resolved_at,
        "person": _person(cells, config, team),
    }


def _parse_milestone(cells: Cells, config: Config, now: datetime) -> dict[str, Any]:
    team = _team(cells, config)
    today = now.astimezone(team.tz if team else UTC).date()
    return {
        "team": cells["team"],
        "project": _text(cells, "project", maximum=max_chars(Milestone, "project")),
        "name": _text(cells, "milestone", maximum=max_chars(Milestone, "name")),
        "due_on": _date(
            cells, "due_on", lambda value: rules.check_due_date(value, data_since=config.data_since, today=today)
        ),
        "completed_on": _past_date(cells, "completed_on", team, config, now),
        "budget": _number(cells, "budget", rules.MONEY),
        "actual_cost": _number(cells, "actual_cost", rules.MONEY),
        "person": _person(cells, config, team),
    }


KINDS: dict[str, ImportKind] = {
    "surveys": ImportKind(
        ("team", "submitted_at", "score"), ("team", "submitted_at", "score"), SurveyResponse, _parse_survey
    ),
    "measures": ImportKind(
        ("team", "measure", "date", "value", "person"),
        ("team", "measure", "date", "value"),
        MeasureValue,
        _parse_measure,
    ),
    "cases": ImportKind(
        ("team", "kind", "raised_at", "first_response_at", "resolved_at", "person"),
        ("team", "kind", "raised_at"),
        CustomerCase,
        _parse_case,
    ),
    "milestones": ImportKind(
        ("team", "project", "milestone", "due_on", "completed_on", "budget", "actual_cost", "person"),
        ("team", "project", "milestone", "due_on"),
        Milestone,
        _parse_milestone,
    ),
}


def import_csv(
    session: Session,
    *,
    config: Config,
    kind: str,
    path: Path,
    submitted_by: str,
    now: datetime,
    replace: bool = False,
) -> ImportSummary:
    """Stores every row of ``path`` in the caller's transaction, or raises ImportFileError listing the bad
    cells by line and column (or AlreadyImported); the caller's rollback then leaves nothing of the file
    behind. ``replace`` replaces what an earlier import of the same content or period holds (import_guard)."""
    spec = KINDS[kind]
    file = str(path)
    submission = Submission(kind=kind, source=f"csv:{path.name}", submitted_by=submitted_by, submitted_at=now)
    session.add(submission)
    # first: its row lock makes a concurrent import of the same file wait, and then see this one
    change = bump_data_version(session)
    session.flush()
    table = spec.table.__table__
    problems: list[RowProblem] = []
    problem_count = 0
    batch: list[dict[str, Any]] = []
    totals = _PeriodTotals(config)
    rows = 0
    touched = Touched()
    instants = spec.table in (CustomerCase, SurveyResponse)  # dated by an instant: date_of gives its UTC date
    dated: tuple[date, date] | None = None  # the first and last date of the file's rows (closed periods)

    def note(row_problems: list[RowProblem]) -> None:
        nonlocal problem_count, problems
        problem_count += len(row_problems)  # counts bad cells: "and N more" are cells too
        problems += row_problems[: MAX_REPORTED_PROBLEMS - len(problems)]

    try:
        with path.open("rb") as raw:
            submission.content_hash = import_guard.content_hash(iter(lambda: raw.read(1 << 16), b""))
        import_guard.replace_identical(session, submission=submission, file=file, replace=replace)
        # surrogateescape: bytes that are not UTF-8 become a problem of their cell, on their line
        with (
            path.open(newline="", encoding="utf-8-sig", errors="surrogateescape") as handle,
            bulk_inserter(session, table) as insert,  # the database stores a batch while the next is read
        ):
            for line, row in read_rows(handle, spec.columns, file, optional=OPTIONAL_COLUMNS):
                record, row_problems = _parse_row(line, row, spec, config, now)
                if record is None:
                    note(row_problems)
                    continue
                rows += 1
                day = date_of(record)
                touched.add_date(record["team"], day, instant=instants)
                dated = (min(dated[0], day), max(dated[1], day)) if dated else (day, day)
                if kind == "measures":
                    totals.add(record, line)
                if problems:
                    continue  # the file is rejected already; keep reading only to report more problems
                record["submission_id"] = submission.id
                batch.append(record)
                if len(batch) >= BATCH_ROWS:
                    insert(batch)
                    batch.clear()
            if batch and not problems:
                insert(batch)
    except OSError as error:
        raise ImportFileError(file=file, problems=[RowProblem(0, None, f"cannot read: {error.strerror}")]) from None
    note(totals.problems())  # a file with problems is rolled back whole by the caller, rows stored or not
    if not problems:
        note(
            import_guard.overlapping_measures(session, submission=submission, periods=totals.periods(), replace=replace)
        )
    for team, period, _ in totals.periods():  # the values it replaced may be dated anywhere in their period
        touched.add(team, (period.start, period.end - timedelta(days=1)))
    if problems:
        raise ImportFileError(file=file, problems=problems, more=problem_count - len(problems))
    if dated is not None:  # a file reaching into a closed period is refused whole
        ensure_open(session, first=dated[0], last=dated[1])
    submission.row_count = rows
    touched.record(session, change=change)  # shared reports and the alert sweep look at these teams and dates
    # a file of one team's data is that team's submission: its leads see it in /kpi history
    teams = touched.teams()
    submission.team = teams[0] if len(teams) == 1 else None
    return ImportSummary(kind=kind, rows=rows, submission_id=submission.id or 0)


def _parse_row(
    line: int, row: dict[str, str] | RowProblem, spec: ImportKind, config: Config, now: datetime
) -> tuple[dict[str, Any] | None, list[RowProblem]]:
    """The record of a good row, or None and one problem for each bad cell (in the kind's column order)."""
    if isinstance(row, RowProblem):
        return None, [row]
    cells = Cells(row)
    text = "".join(row.values())  # one search of the whole row finds the rare bad cell's row
    suspect = undecodable(text) or rules.has_control_character(text)
    for column in spec.columns:
        if suspect and undecodable(row[column]):
            cells.fail(column, "not UTF-8 text")
        elif suspect and rules.has_control_character(row[column]):
            cells.fail(column, words(rules.problem("control_character"), ""))
        elif column in spec.required and not row[column]:
            cells.fail(column, "a value is required")
    record = spec.parse(cells, config, now)
    if not cells.problems:
        return record, []
    return None, [
        RowProblem(line, column, cells.problems[column]) for column in spec.columns if column in cells.problems
    ]


@dataclass
class _Total:
    """One measure's rows of one team and period, read the way the KPIs aggregate them."""

    line: int = 0
    total: float = 0
    count: int = 0
    latest: tuple[date, int, float] | None = None

    def add(self, on_date: date, value: float, line: int) -> None:
        self.line, self.total, self.count = line, self.total + value, self.count + 1
        self.latest = max(self.latest or (on_date, line, value), (on_date, line, value))

    def value(self, measure: Measure) -> float:
        if measure.aggregate == "sum":
            return self.total
        if measure.aggregate == "mean":
            return self.total / self.count
        assert self.latest is not None  # added to before it is read
        return self.latest[2]


#: the rows of a measures file that replace each other: one team's (one person's, or its own) in a period
Group = tuple[str, Period, str | None]


class _PeriodTotals:
    """``at_most`` across the rows of one period: the file's on_time_orders of a week cannot exceed its
    orders. Keeps one small total per team, period, person and measure, not the rows: a person's figures
    are checked (and replace earlier ones) apart from the team's own, as in the weekly form."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.groups: dict[Group, dict[str, _Total]] = {}

    def add(self, record: dict[str, Any], line: int) -> None:
        key = record["measure"]
        period = Period.containing(rules.measure_period(self.config, key), record["on_date"])
        totals = self.groups.setdefault((record["team"], period, record["person"]), {})
        totals.setdefault(key, _Total()).add(record["on_date"], record["value"], line)

    def periods(self) -> dict[Group, dict[str, tuple[int, float]]]:
        """Each team, period and person's measures: the last line of each and its value in the period."""
        measures = self.config.measure_by_key
        return {
            group: {key: (total.line, total.value(measures[key])) for key, total in totals.items()}
            for group, totals in self.groups.items()
        }

    def problems(self) -> list[RowProblem]:
        measures = self.config.measure_by_key
        found = []
        for (team, period, person), totals in self.groups.items():
            values = {key: total.value(measures[key]) for key, total in totals.items()}
            for key, problem in rules.at_most(values, measures).items():
                whose = import_guard.whose(team, person)
                text = f"{key} {rules.format_number(values[key])} for {whose} in {period.label}"
                found.append(RowProblem(totals[key].line, "value", words(problem, text)))
        return sorted(found, key=lambda found_problem: found_problem.line)
