"""CSV import of surveys, measures, cases and milestones: streamed in batches, all-or-nothing per file."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from kpi_core.config import Config, Team
from kpi_core.errors import ImportFileError, RowProblem
from kpi_core.models import CustomerCase, MeasureValue, Milestone, Submission, SurveyResponse
from kpi_core.sql import bulk_insert

BATCH_ROWS = 5000
MAX_REPORTED_PROBLEMS = 20


class CellError(ValueError):
    """A bad cell; carries the column so the message can name it."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column


@dataclass(frozen=True)
class ImportKind:
    columns: tuple[str, ...]
    required: tuple[str, ...]
    table: Any
    parse: Callable[[dict[str, str], Config], dict[str, Any]]


@dataclass(frozen=True)
class ImportSummary:
    kind: str
    rows: int
    submission_id: int


def _team(row: dict[str, str], config: Config) -> Team:
    team = config.team_by_key.get(row["team"])
    if team is None:
        raise CellError("team", f"unknown team {row['team']!r}")
    return team


def _instant(row: dict[str, str], column: str, team: Team) -> datetime | None:
    text = row[column]
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise CellError(column, f"{text!r} is not an ISO 8601 time such as 2026-09-30T23:30:00+02:00") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=team.tz)  # naive means the team's local time
    return value.astimezone(UTC)


def _date(row: dict[str, str], column: str) -> date | None:
    text = row[column]
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CellError(column, f"{text!r} is not a date such as 2026-09-30") from None


def _number(row: dict[str, str], column: str, *, minimum: float | None = 0) -> float | None:
    text = row[column]
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise CellError(column, f"{text!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise CellError(column, f"{text!r} is not a finite number")
    if minimum is not None and value < minimum:
        raise CellError(column, f"{text} is below the minimum {minimum:g}")
    return value


def _parse_survey(row: dict[str, str], config: Config) -> dict[str, Any]:
    team = _team(row, config)
    score = row["score"]
    if score not in {"1", "2", "3", "4", "5"}:
        raise CellError("score", f"{score!r} is not a score from 1 to 5")
    return {"team": team.key, "submitted_at": _instant(row, "submitted_at", team), "score": int(score)}


def _parse_measure(row: dict[str, str], config: Config) -> dict[str, Any]:
    team = _team(row, config)
    measure = config.measure_by_key.get(row["measure"])
    if measure is None:
        raise CellError("measure", f"unknown measure {row['measure']!r}")
    value = _number(row, "value", minimum=measure.minimum)
    if measure.maximum is not None and value is not None and value > measure.maximum:
        raise CellError("value", f"{row['value']} is above the maximum {measure.maximum:g} for {measure.key}")
    if measure.integer and value is not None and not value.is_integer():
        raise CellError("value", f"{row['value']} is not a whole number ({measure.key} is a count)")
    return {"team": team.key, "measure": measure.key, "on_date": _date(row, "date"), "value": value}


def _parse_case(row: dict[str, str], config: Config) -> dict[str, Any]:
    team = _team(row, config)
    if row["kind"] not in ("after_sales", "feedback"):
        raise CellError("kind", f"{row['kind']!r} is not after_sales or feedback")
    raised_at = _instant(row, "raised_at", team)
    first_response_at = _instant(row, "first_response_at", team)
    resolved_at = _instant(row, "resolved_at", team)
    assert raised_at is not None  # required column
    if first_response_at is not None and first_response_at < raised_at:
        raise CellError("first_response_at", "the first response is before the case was raised")
    if resolved_at is not None and resolved_at < raised_at:
        raise CellError("resolved_at", "the case is resolved before it was raised")
    return {
        "team": team.key,
        "kind": row["kind"],
        "raised_at": raised_at,
        "first_response_at": first_response_at,
        "resolved_at": resolved_at,
    }


def _parse_milestone(row: dict[str, str], config: Config) -> dict[str, Any]:
    team = _team(row, config)
    return {
        "team": team.key,
        "project": row["project"],
        "name": row["milestone"],
        "due_on": _date(row, "due_on"),
        "completed_on": _date(row, "completed_on"),
        "budget": _number(row, "budget"),
        "actual_cost": _number(row, "actual_cost"),
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
    session.flush()
    table = spec.table.__table__
    problems: list[RowProblem] = []
    problem_count = 0
    batch: list[dict[str, Any]] = []
    rows = 0
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            for line, row in _rows(handle, spec, file):
                try:
                    record = _parse_row(row, spec, config)
                except CellError as error:
                    problem_count += 1
                    if len(problems) < MAX_REPORTED_PROBLEMS:
                        problems.append(RowProblem(line, error.column or None, str(error)))
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


def _parse_row(row: dict[str, str] | None, spec: ImportKind, config: Config) -> dict[str, Any]:
    if row is None:
        raise CellError("", f"wrong number of cells (the header has {len(spec.columns)})")
    for column in spec.required:
        if not row[column]:
            raise CellError(column, "a value is required")
    return spec.parse(row, config)
