"""CSV import of surveys, measures, cases and milestones: streamed in batches, all-or-nothing per file."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from kpi_core.config import Config, Measure, Team
from kpi_core.errors import ImportFileError, RowProblem
from kpi_core.models import CustomerCase, MeasureValue, Milestone, Submission, SurveyResponse
from kpi_core.sql import bulk_insert
from kpi_core.store import bump_data_version

BATCH_ROWS = 5000
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
    parse: Callable[[Cells, Config], dict[str, Any]]


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


def _team(cells: Cells, config: Config) -> Team | None:
    """The row's team; a record names it by the cell's text, which is its key once this lookup found it."""
    team = config.team_by_key.get(cells["team"])
    if team is None:
        cells.fail("team", f"unknown team {cells['team']!r}")
    return team


def _text(cells: Cells, column: str, *, maximum: int) -> str:
    text = cells[column]
    if len(text) > maximum:
        cells.fail(column, f"too long: {len(text)} characters, at most {maximum}")
    return text


def _instant(cells: Cells, column: str, team: Team | None) -> datetime | None:
    text = cells[column]
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        cells.fail(column, f"{text!r} is not an ISO 8601 time such as 2026-09-30T23:30:00+02:00")
        return None
    if value.tzinfo is None:
        # naive means the team's local time; without a known team the row is rejected, UTC only lets it read on
        value = value.replace(tzinfo=team.tz if team else UTC)
    return value.astimezone(UTC)


def _date(cells: Cells, column: str) -> date | None:
    text = cells[column]
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        cells.fail(column, f"{text!r} is not a date such as 2026-09-30")
        return None


def _number(cells: Cells, column: str, *, minimum: float | None = 0) -> float | None:
    text = cells[column]
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        cells.fail(column, f"{text!r} is not a number")
        return None
    if value != value or value in (float("inf"), float("-inf")):
        cells.fail(column, f"{text!r} is not a finite number")
    elif minimum is not None and value < minimum:
        cells.fail(column, f"{text} is below the minimum {minimum:g}")
    else:
        return value
    return None


def _measure_value(cells: Cells, measure: Measure | None) -> float | None:
    """The value checked against its measure's bounds (an unknown measure has none: only a number is checked)."""
    value = _number(cells, "value", minimum=measure.minimum if measure else None)
    if value is None or measure is None:
        return value
    if measure.maximum is not None and value > measure.maximum:
        cells.fail("value", f"{cells['value']} is above the maximum {measure.maximum:g} for {measure.key}")
    elif measure.integer and not value.is_integer():
        cells.fail("value", f"{cells['value']} is not a whole number ({measure.key} is a count)")
    return value


_SCORES = {"1", "2", "3", "4", "5"}


def _parse_survey(cells: Cells, config: Config) -> dict[str, Any]:
    team = _team(cells, config)
    score = cells["score"]
    if score not in _SCORES:
        cells.fail("score", f"{score!r} is not a score from 1 to 5")
    return {
        "team": cells["team"],
        "submitted_at": _instant(cells, "submitted_at", team),
        "score": int(score) if score in _SCORES else None,
    }


def _parse_measure(cells: Cells, config: Config) -> dict[str, Any]:
    _team(cells, config)
    measure = config.measure_by_key.get(cells["measure"])
    if measure is None:
        cells.fail("measure", f"unknown measure {cells['measure']!r}")
    return {
        "team": cells["team"],
        "measure": cells["measure"],
        "on_date": _date(cells, "date"),
        "value": _measure_value(cells, measure),
    }


def _parse_case(cells: Cells, config: Config) -> dict[str, Any]:
    team = _team(cells, config)
    if cells["kind"] not in ("after_sales", "feedback"):
        cells.fail("kind", f"{cells['kind']!r} is not after_sales or feedback")
    raised_at = _instant(cells, "raised_at", team)
    first_response_at = _instant(cells, "first_response_at", team)
    resolved_at = _instant(cells, "resolved_at", team)
    # without raised_at (reported already: required, or not a time) there is nothing to compare with
    if raised_at is not None and first_response_at is not None and first_response_at < raised_at:
        cells.fail("first_response_at", "the first response is before the case was raised")
    if raised_at is not None and resolved_at is not None and resolved_at < raised_at:
        cells.fail("resolved_at", "the case is resolved before it was raised")
    return {
        "team": cells["team"],
        "kind": cells["kind"],
        "raised_at": raised_at,
        "first_response_at": first_response_at,
        "resolved_at": resolved_at,
    }


def _parse_milestone(cells: Cells, config: Config) -> dict[str, Any]:
    _team(cells, config)
    return {
        "team": cells["team"],
        "project": _text(cells, "project", maximum=max_chars(Milestone, "project")),
        "name": _text(cells, "milestone", maximum=max_chars(Milestone, "name")),
        "due_on": _date(cells, "due_on"),
        "completed_on": _date(cells, "completed_on"),
        "budget": _number(cells, "budget"),
        "actual_cost": _number(cells, "actual_cost"),
    }


KINDS: dict[str, ImportKind] = {
    "surveys": ImportKind(
        ("team", "submitted_at", "score"), ("team", "submitted_at", "score"), SurveyResponse, _parse_survey
    ),
    "measures": ImportKind(
        ("team", "measure", "date", "value"),
        ("team", "measure", "date", "value"),
        MeasureValue,
        _parse_measure,
    ),
    "cases": ImportKind(
        ("team", "kind", "raised_at", "first_response_at", "resolved_at"),
        ("team", "kind", "raised_at"),
        CustomerCase,
        _parse_case,
    ),
    "milestones": ImportKind(
        ("team", "project", "milestone", "due_on", "completed_on", "budget", "actual_cost"),
        ("team", "project", "milestone", "due_on"),
        Milestone,
        _parse_milestone,
    ),
}


def import_csv(
    session: Session, *, config: Config, kind: str, path: Path, submitted_by: str, now: datetime
) -> ImportSummary:
    """Stores every row of ``path`` in the caller's transaction, or raises ImportFileError listing the bad
    cells by line and column; the caller's rollback then leaves nothing of the file behind."""
    spec = KINDS[kind]
    file = str(path)
    submission = Submission(kind=kind, source=f"csv:{path.name}", submitted_by=submitted_by, submitted_at=now)
    session.add(submission)
    bump_data_version(session)
    session.flush()
    table = spec.table.__table__
    problems: list[RowProblem] = []
    problem_count = 0
    batch: list[dict[str, Any]] = []
    rows = 0
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            for line, row in _rows(handle, spec, file):
                record, row_problems = _parse_row(line, row, spec, config)
                if record is None:
                    problem_count += len(row_problems)  # counts bad cells: "and N more" are cells too
                    problems += row_problems[: MAX_REPORTED_PROBLEMS - len(problems)]
                    continue
                rows += 1
                if problems:
                    continue  # the file is rejected already; keep reading only to report more problems
                record["submission_id"] = submission.id
                batch.append(record)
                if len(batch) >= BATCH_ROWS:
                    bulk_insert(session, table, batch)
                    batch.clear()
    except OSError as error:
        raise ImportFileError(file=file, problems=[RowProblem(0, None, f"cannot read: {error.strerror}")]) from None
    except UnicodeDecodeError:
        raise ImportFileError(file=file, problems=[RowProblem(0, None, "not UTF-8 text")]) from None
    if problems:
        raise ImportFileError(file=file, problems=problems, more=problem_count - len(problems))
    if batch:
        bulk_insert(session, table, batch)
    submission.row_count = rows
    return ImportSummary(kind=kind, rows=rows, submission_id=submission.id or 0)


def _rows(handle: Any, spec: ImportKind, file: str) -> Iterator[tuple[int, dict[str, str] | None]]:
    reader = csv.reader(handle)
    header = next(reader, None)
    if header is None:
        raise ImportFileError(file=file, problems=[RowProblem(1, None, "the file is empty; a header row is required")])
    header = [name.strip() for name in header]
    missing = [column for column in spec.columns if column not in header]
    unknown = [column for column in header if column not in spec.columns]
    twice = [column for column in spec.columns if header.count(column) > 1]
    if missing or unknown or twice:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s) {', '.join(unknown)}")
        if twice:
            parts.append(f"column(s) {', '.join(twice)} given twice")
        raise ImportFileError(
            file=file,
            problems=[RowProblem(1, None, f"{'; '.join(parts)} (expected {','.join(spec.columns)})")],
        )
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            yield line, None
            continue
        yield line, {name: cell.strip() for name, cell in zip(header, cells, strict=True)}


def _parse_row(
    line: int, row: dict[str, str] | None, spec: ImportKind, config: Config
) -> tuple[dict[str, Any] | None, list[RowProblem]]:
    """The record of a good row, or None and one problem for each bad cell (in the kind's column order)."""
    if row is None:
        return None, [RowProblem(line, None, f"wrong number of cells (the header has {len(spec.columns)})")]
    cells = Cells(row)
    for column in spec.required:
        if not row[column]:
            cells.fail(column, "a value is required")
    record = spec.parse(cells, config)
    if not cells.problems:
        return record, []
    return None, [
        RowProblem(line, column, cells.problems[column]) for column in spec.columns if column in cells.problems
    ]
