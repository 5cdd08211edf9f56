"""CSV import: every row or nothing, bad cells named by line and column, naive times in the team's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, func, select

from kpi_core import imports
from kpi_core.config import Config
from kpi_core.db import transaction
from kpi_core.errors import ImportFileError, RowProblem
from kpi_core.imports import ImportSummary, import_csv
from kpi_core.kpis import compute_reports
from kpi_core.models import CustomerCase, MeasureValue, Milestone, Submission, SurveyResponse
from kpi_core.periods import Period

NOW = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
NUMBER_SYNTAX = (
    "(write the digits 0-9 with an optional minus sign and decimal point, e.g. 120, -3 or 3.5; "
    "no thousands separators, no exponents)"
)

MODELS: dict[str, Any] = {
    "surveys": SurveyResponse,
    "measures": MeasureValue,
    "cases": CustomerCase,
    "milestones": Milestone,
}
HEADERS = {
    "surveys": "team,submitted_at,score",
    "measures": "team,measure,date,value",
    "cases": "team,kind,raised_at,first_response_at,resolved_at",
    "milestones": "team,project,milestone,due_on,completed_on,budget,actual_cost",
}
GOOD_ROW = {
    "surveys": "berlin_ops,2026-09-01T10:00:00,4",
    "measures": "berlin_ops,orders,2026-09-04,10",
    "cases": "berlin_ops,after_sales,2026-09-01T10:00:00,2026-09-01T11:00:00,",
    "milestones": "berlin_ops,Rollout,Phase 1,2026-09-10,,1000,",
}
GOOD_FILES = {
    "surveys": """team,submitted_at,score
berlin_ops,2026-09-01T10:00:00+02:00,5
shanghai_ops,2026-09-01 09:30,4
newyork_delivery,2026-09-02T08:00:00Z,1
""",
    "measures": """team,measure,date,value
berlin_ops,orders,2026-09-04,120
berlin_ops,on_time_orders,2026-09-04,115
beijing_service,sales,2026-09-04,230000.50
berlin_ops,production_cost,2026-09-01,0
""",
    "cases": """team,kind,raised_at,first_response_at,resolved_at
berlin_ops,after_sales,2026-09-01T10:00:00,2026-09-01T12:30:00,2026-09-02T09:00:00
beijing_service,feedback,2026-09-01T10:00:00+08:00,,
newyork_delivery,after_sales,2026-09-01T10:00:00-04:00,2026-09-01T11:00:00-04:00,
""",
    "milestones": """team,project,milestone,due_on,completed_on,budget,actual_cost
berlin_ops,Rollout,Phase 1,2026-09-10,2026-09-12,50000,52000.5
berlin_ops,Rollout,"Phase 2, go-live",2026-09-30,,60000,
""",
}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run_import(engine: sa.Engine, config: Config, kind: str, path: Path) -> ImportSummary:
    with transaction(engine) as session:
        return import_csv(session, config=config, kind=kind, path=path, submitted_by="U0TEST", now=NOW)


def count(session: Session, model: Any) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def stored(engine: sa.Engine, model: Any) -> list[dict[str, Any]]:
    with transaction(engine) as session:
        return [row.model_dump() for row in session.exec(select(model).order_by(model.id)).all()]


@pytest.mark.parametrize("kind", sorted(GOOD_FILES))
def test_good_file_stores_every_row_and_one_submission(
    engine: sa.Engine, example_config: Config, tmp_path: Path, kind: str
) -> None:
    text = GOOD_FILES[kind]
    rows = len(text.strip().splitlines()) - 1
    summary = run_import(engine, example_config, kind, write(tmp_path, f"{kind}.csv", text))
    assert summary.kind == kind
    assert summary.rows == rows
    with transaction(engine) as session:
        assert count(session, MODELS[kind]) == rows
        [submission] = session.exec(select(Submission)).all()
        assert submission.id == summary.submission_id
        assert submission.row_count == rows
        assert submission.kind == kind
        assert submission.source == f"csv:{kind}.csv"
        assert submission.submitted_by == "U0TEST"
        assert submission.submitted_at == NOW
        model = MODELS[kind]
        assert {row.submission_id for row in session.exec(select(model)).all()} == {submission.id}


def test_imported_values_and_empty_cells(engine: sa.Engine, example_config: Config, tmp_path: Path) -> None:
    for kind, text in GOOD_FILES.items():
        run_import(engine, example_config, kind, write(tmp_path, f"{kind}.csv", text))
    measures = stored(engine, MeasureValue)
    assert [(row["team"], row["measure"], row["on_date"], row["value"]) for row in measures] == [
        ("berlin_ops", "orders", date(2026, 9, 4), 120.0),
        ("berlin_ops", "on_time_orders", date(2026, 9, 4), 115.0),
        ("beijing_service", "sales", date(2026, 9, 4), 230000.5),
        ("berlin_ops", "production_cost", date(2026, 9, 1), 0.0),
    ]
    cases = stored(engine, CustomerCase)
    assert cases[0]["first_response_at"] == datetime(2026, 9, 1, 10, 30, tzinfo=UTC)  # naive Berlin, CEST
    assert cases[1]["kind"] == "feedback"
    assert cases[1]["first_response_at"] is None and cases[1]["resolved_at"] is None  # empty = not yet
    assert cases[2]["raised_at"] == datetime(2026, 9, 1, 14, 0, tzinfo=UTC)
    assert cases[2]["resolved_at"] is None
    milestones = stored(engine, Milestone)
    assert milestones[0]["completed_on"] == date(2026, 9, 12)
    assert milestones[0]["actual_cost"] == 52000.5
    assert milestones[1]["name"] == "Phase 2, go-live"  # a quoted cell may hold a comma
    assert milestones[1]["completed_on"] is None and milestones[1]["actual_cost"] is None
    surveys = stored(engine, SurveyResponse)
    assert [row["submitted_at"] for row in surveys] == [
        datetime(2026, 9, 1, 8, 0, tzinfo=UTC),
        datetime(2026, 9, 1, 1, 30, tzinfo=UTC),  # naive Shanghai time
        datetime(2026, 9, 2, 8, 0, tzinfo=UTC),
    ]


def test_columns_in_any_order_with_byte_order_mark_and_blank_lines(
    engine: sa.Engine, example_config: Config, tmp_path: Path
) -> None:
    path = tmp_path / "excel.csv"
    path.write_text(
        "score, team ,submitted_at\r\n"
        "5,berlin_ops,2026-09-01T10:00:00\r\n"
        "\r\n"
        "3,beijing_service,2026-09-02T10:00:00\r\n",
        encoding="utf-8-sig",
    )
    assert run_import(engine, example_config, "surveys", path).rows == 2
    assert [(row["team"], row["score"]) for row in stored(engine, SurveyResponse)] == [
        ("berlin_ops", 5),
        ("beijing_service", 3),
    ]


def test_naive_time_is_the_teams_local_time_and_reads_back_aware(
    engine: sa.Engine, example_config: Config, tmp_path: Path
) -> None:
    text = """team,submitted_at,score
berlin_ops,2026-09-30T23:30:00,5
berlin_ops,2026-01-15T23:30:00,4
berlin_ops,2026-10-01T00:30:00,3
shanghai_ops,2026-09-30T23:30:00,2
berlin_ops,2026-09-30T23:30:00+08:00,1
"""
    run_import(engine, example_config, "surveys", write(tmp_path, "surveys.csv", text))
    rows = stored(engine, SurveyResponse)
    instants = [row["submitted_at"] for row in rows]
    assert instants == [
        datetime(2026, 9, 30, 21, 30, tzinfo=UTC),  # CEST, UTC+2
        datetime(2026, 1, 15, 22, 30, tzinfo=UTC),  # CET, UTC+1
        datetime(2026, 9, 30, 22, 30, tzinfo=UTC),
        datetime(2026, 9, 30, 15, 30, tzinfo=UTC),  # Asia/Shanghai, UTC+8
        datetime(2026, 9, 30, 15, 30, tzinfo=UTC),  # an explicit offset wins over the team's zone
    ]
    for instant in instants:
        assert instant.tzinfo is not None
        assert instant.utcoffset() == timedelta(0)

    # 00:30 on 1 October in Berlin belongs to Berlin's October, although it is still September in UTC.
    with transaction(engine) as session:
        october = compute_reports(session, config=example_config, period=Period.parse("2026-10"))
        september = compute_reports(session, config=example_config, period=Period.parse("2026-09"))
    assert october["berlin_ops"].results["csat"].n == 1
    assert october["berlin_ops"].results["csat"].value == 3
    assert september["berlin_ops"].results["csat"].n == 2
    assert september["shanghai_ops"].results["csat"].n == 1


def _bad_file_leaves_nothing(
    engine: sa.Engine,
    config: Config,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    content: str | bytes,
) -> tuple[ImportFileError, int]:
    """Imports a good file, then ``content``; checks the second import stored nothing and the first is
    untouched. Returns the error and how many rows the failed import had written before it was rolled back."""
    model = MODELS[kind]
    run_import(engine, config, kind, write(tmp_path, "earlier.csv", GOOD_FILES[kind]))
    before = stored(engine, model)
    submissions = stored(engine, Submission)

    monkeypatch.setattr(imports, "BATCH_ROWS", 2)
    path = tmp_path / "bad.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    pending = -1
    with pytest.raises(ImportFileError) as caught, transaction(engine) as session:
        try:
            import_csv(session, config=config, kind=kind, path=path, submitted_by="U0TEST", now=NOW)
        except ImportFileError:
            pending = count(session, model) - len(before)
            raise
    assert caught.value.file == str(path)
    assert str(caught.value).startswith(f"rejected {path}, nothing was stored:")
    assert stored(engine, model) == before
    assert stored(engine, Submission) == submissions
    return caught.value, pending


@pytest.mark.parametrize(
    ("kind", "bad_row", "column", "message"),
    [
        pytest.param(
            "surveys",
            "berlin_ops,2026-09-01T10:00:00,6",
            "score",
            "'6' is not a score from 1 to 5",
            id="bad-score",
        ),
        pytest.param(
            "surveys",
            "berlin_ops,2026-09-01T10:00:00,4.5",
            "score",
            "'4.5' is not a score from 1 to 5",
            id="fractional-score",
        ),
        pytest.param(
            "surveys",
            "paris_ops,2026-09-01T10:00:00,4",
            "team",
            "unknown team 'paris_ops'",
            id="unknown-team",
        ),
        pytest.param(
            "surveys",
            "berlin_ops,yesterday,4",
            "submitted_at",
            "'yesterday' is not an ISO 8601 time such as 2026-09-30T23:30:00+02:00",
            id="bad-time",
        ),
        pytest.param("surveys", "berlin_ops,2026-09-01T10:00:00,", "score", "a value is required", id="missing-score"),
        pytest.param(
            "measures",
            "berlin_ops,ordres,2026-09-04,10",
            "measure",
            "unknown measure 'ordres'",
            id="unknown-measure",
        ),
        pytest.param(
            "measures",
            "berlin_ops,orders,2026-09-31,10",
            "date",
            "'2026-09-31' is not a date such as 2026-09-30",
            id="bad-date",
        ),
        pytest.param(
            "measures",
            "berlin_ops,orders,04.09.2026,10",
            "date",
            "'04.09.2026' is not a date such as 2026-09-30",
            id="local-date-format",
        ),
        pytest.param(
            "measures",
            "berlin_ops,sales,2026-09-04,12k",
            "value",
            f"'12k' is not a number {NUMBER_SYNTAX}",
            id="bad-number",
        ),
        pytest.param(
            "measures", "berlin_ops,sales,2026-09-04,nan", "value", f"'nan' is not a number {NUMBER_SYNTAX}", id="nan"
        ),
        pytest.param(
            "measures",
            "berlin_ops,orders,2026-09-04,-3",
            "value",
            "-3 is below the minimum 0",
            id="negative-value",
        ),
        pytest.param(
            "measures",
            "berlin_ops,orders,2026-09-04,10.5",
            "value",
            "10.5 is not a whole number (orders is a count)",
            id="non-integer-count",
        ),
        pytest.param("measures", "berlin_ops,orders,,10", "date", "a value is required", id="missing-date"),
        pytest.param(
            "measures",
            "berlin_ops,orders,2026-09-04",
            None,
            "wrong number of cells (the header has 4)",
            id="too-few-cells",
        ),
        pytest.param(
            "measures",
            "berlin_ops,orders,2026-09-04,10,11",
            None,
            "wrong number of cells (the header has 4)",
            id="too-many-cells",
        ),
        pytest.param(
            "cases",
            "berlin_ops,after_sales,2026-09-01T10:00:00,2026-09-01T09:59:00,",
            "first_response_at",
            "the first response is before the case was raised",
            id="response-before-raised",
        ),
        pytest.param(
            "cases",
            "berlin_ops,after_sales,2026-09-01T10:00:00,2026-09-01T09:30:00+02:00,",
            "first_response_at",
            "the first response is before the case was raised",
            id="response-before-raised-across-offsets",
        ),
        pytest.param(
            "cases",
            "berlin_ops,feedback,2026-09-01T10:00:00,,2026-08-31T10:00:00",
            "resolved_at",
            "the case is resolved before it was raised",
            id="resolved-before-raised",
        ),
        pytest.param(
            "cases",
            "berlin_ops,complaint,2026-09-01T10:00:00,,",
            "kind",
            "'complaint' is not after_sales or feedback",
            id="unknown-case-kind",
        ),
        pytest.param("cases", "berlin_ops,after_sales,,,", "raised_at", "a value is required", id="missing-raised"),
        pytest.param(
            "milestones",
            "berlin_ops,Rollout,Phase 9,2026-09-10,,-1000,",
            "budget",
            "-1000 is below the minimum 0",
            id="negative-budget",
        ),
        pytest.param(
            "milestones",
            "berlin_ops,Rollout,Phase 9,2026-09-10,soon,1000,",
            "completed_on",
            "'soon' is not a date such as 2026-09-30",
            id="bad-completion-date",
        ),
        pytest.param(
            "milestones",
            "berlin_ops,Rollout,Phase 9,,,1000,",
            "due_on",
            "a value is required",
            id="missing-due-date",
        ),
        pytest.param(
            "milestones",
            "berlin_ops,Rollout,Phase 9,2026-09-10,2026-09-11,1000,lots",
            "actual_cost",
            f"'lots' is not a number {NUMBER_SYNTAX}",
            id="bad-cost",
        ),
    ],
)
def test_bad_row_rejects_the_whole_file(
    engine: sa.Engine,
    example_config: Config,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    bad_row: str,
    column: str | None,
    message: str,
) -> None:
    # Five good rows (two batches of two are written before the bad line), the bad row on line 7, then more.
    lines = [HEADERS[kind], *[GOOD_ROW[kind]] * 5, bad_row, *[GOOD_ROW[kind]] * 2]
    error, pending = _bad_file_leaves_nothing(
        engine, example_config, tmp_path, monkeypatch, kind, "\n".join(lines) + "\n"
    )
    assert error.problems == [RowProblem(7, column, message)]
    assert pending == 4  # written in the transaction before the bad line, then rolled back


@pytest.mark.parametrize(
    ("kind", "content", "message"),
    [
        pytest.param("surveys", "", "the file is empty; a header row is required", id="empty-file"),
        pytest.param(
            "surveys",
            "team,submitted_at\nberlin_ops,2026-09-01T10:00:00\n",
            "missing column(s) score (expected team,submitted_at,score)",
            id="missing-column",
        ),
        pytest.param(
            "surveys",
            "team,submitted_at,score,comment\nberlin_ops,2026-09-01T10:00:00,4,great\n",
            "unknown column(s) comment (expected team,submitted_at,score)",
            id="unknown-column",
        ),
        pytest.param(
            "measures",
            "team,measure,day,value\nberlin_ops,orders,2026-09-04,10\n",
            "missing column(s) date; unknown column(s) day (expected team,measure,date,value[,person])",
            id="misnamed-column",
        ),
        pytest.param(
            "surveys",
            "team,team,submitted_at,score\nberlin_ops,paris_ops,2026-09-01T10:00:00,4\n",
            "column(s) team given twice (expected team,submitted_at,score)",
            id="column-twice",
        ),
    ],
)
def test_bad_header_rejects_the_whole_file(
    engine: sa.Engine,
    example_config: Config,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    content: str,
    message: str,
) -> None:
    error, _ = _bad_file_leaves_nothing(engine, example_config, tmp_path, monkeypatch, kind, content)
    assert error.problems == [RowProblem(1, None, message)]


def test_file_that_is_not_utf8_stores_nothing(
    engine: sa.Engine, example_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = "\n".join([HEADERS["milestones"], *[GOOD_ROW["milestones"]] * 5]) + "\n"
    content = good.encode() + "berlin_ops,Einführung,Phase 1,2026-09-10,,1000,\n".encode("latin-1")
    error, _ = _bad_file_leaves_nothing(engine, example_config, tmp_path, monkeypatch, "milestones", content)
    assert [problem.message for problem in error.problems] == ["not UTF-8 text"]


def test_missing_file_is_reported(engine: sa.Engine, example_config: Config, tmp_path: Path) -> None:
    path = tmp_path / "nowhere.csv"
    with pytest.raises(ImportFileError) as caught:
        run_import(engine, example_config, "surveys", path)
    assert caught.value.file == str(path)
    assert [problem.message for problem in caught.value.problems] == ["cannot read: No such file or directory"]
    with transaction(engine) as session:
        assert count(session, Submission) == 0


def test_every_bad_row_is_reported_by_its_line(
    engine: sa.Engine, example_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = """team,measure,date,value
berlin_ops,orders,2026-09-04,10

berlin_ops,orders,2026-09-04,-1
berlin_ops,orders,2026-09-04,10
paris_ops,orders,2026-09-04,10
berlin_ops,headcount,2026-09-04,30.5
"""
    error, _ = _bad_file_leaves_nothing(engine, example_config, tmp_path, monkeypatch, "measures", text)
    assert [str(problem) for problem in error.problems] == [
        "line 4, column value: -1 is below the minimum 0",
        "line 6, column team: unknown team 'paris_ops'",
        "line 7, column value: 30.5 is not a whole number (headcount is a count)",
    ]


def test_many_bad_rows_are_summarised(
    engine: sa.Engine, example_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "MAX_REPORTED_PROBLEMS", 3)
    text = "\n".join([HEADERS["surveys"], *["berlin_ops,2026-09-01T10:00:00,9"] * 5]) + "\n"
    error, _ = _bad_file_leaves_nothing(engine, example_config, tmp_path, monkeypatch, "surveys", text)
    assert [problem.line for problem in error.problems] == [2, 3, 4]
    assert str(error).endswith("... and 2 more problem(s)")


def test_several_batches_of_a_good_file_are_all_stored(
    engine: sa.Engine, example_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "BATCH_ROWS", 3)
    text = "\n".join([HEADERS["surveys"], *[GOOD_ROW["surveys"]] * 10]) + "\n"
    summary = run_import(engine, example_config, "surveys", write(tmp_path, "surveys.csv", text))
    assert summary.rows == 10
    with transaction(engine) as session:
        assert count(session, SurveyResponse) == 10
        assert session.exec(select(Submission.row_count)).one() == 10


@pytest.mark.parametrize(
    ("kind", "bad_row", "problems"),
    [
        pytest.param(
            "measures",
            "paris_ops,orders,2026-09-31,-3",
            [
                ("team", "unknown team 'paris_ops'"),
                ("date", "'2026-09-31' is not a date such as 2026-09-30"),
                ("value", "-3 is below the minimum 0"),
            ],
            id="every-bad-cell",
        ),
        pytest.param(
            "measures",
            ",ordres,,12k",
            [
                ("team", "a value is required"),
                ("measure", "unknown measure 'ordres'"),
                ("date", "a value is required"),
                ("value", f"'12k' is not a number {NUMBER_SYNTAX}"),
            ],
            id="missing-cells-once-each",
        ),
        pytest.param(
            "surveys",
            "paris_ops,yesterday,6",
            [
                ("team", "unknown team 'paris_ops'"),
                ("submitted_at", "'yesterday' is not an ISO 8601 time such as 2026-09-30T23:30:00+02:00"),
                ("score", "'6' is not a score from 1 to 5"),
            ],
            id="survey",
        ),
        pytest.param(
            "cases",
            "berlin_ops,complaint,2026-09-01T10:00:00,2026-09-01T09:00:00,2026-08-31T10:00:00",
            [
                ("kind", "'complaint' is not after_sales or feedback"),
                ("first_response_at", "the first response is before the case was raised"),
                ("resolved_at", "the case is resolved before it was raised"),
            ],
            id="case",
        ),
        pytest.param(
            "cases",
            "paris_ops,feedback,soon,2026-09-01T09:00:00,",
            [
                ("team", "unknown team 'paris_ops'"),
                ("raised_at", "'soon' is not an ISO 8601 time such as 2026-09-30T23:30:00+02:00"),
            ],
            id="case-without-a-raised-time-compares-nothing",
        ),
        pytest.param(
            "milestones",
            f"berlin_ops,{'R' * 256},{'界' * 300},2026-09-10,soon,-1,lots",
            [
                ("project", "too long: 256 characters, at most 255"),
                ("milestone", "too long: 300 characters, at most 255"),
                ("completed_on", "'soon' is not a date such as 2026-09-30"),
                ("budget", "-1 is below the minimum 0"),
                ("actual_cost", f"'lots' is not a number {NUMBER_SYNTAX}"),
            ],
            id="milestone",
        ),
    ],
)
def test_every_bad_cell_of_a_row_is_reported(
    engine: sa.Engine,
    example_config: Config,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    bad_row: str,
    problems: list[tuple[str, str]],
) -> None:
    text = "\n".join([HEADERS[kind], GOOD_ROW[kind], bad_row]) + "\n"
    error, _ = _bad_file_leaves_nothing(engine, example_config, tmp_path, monkeypatch, kind, text)
    assert error.problems == [RowProblem(3, column, message) for column, message in problems]


@pytest.mark.parametrize(
    ("column", "row"),
    [
        pytest.param("project", f"berlin_ops,{'P' * 256},Phase 1,2026-09-10,,1000,", id="project"),
        pytest.param("milestone", f"berlin_ops,Rollout,{'名' * 256},2026-09-10,,1000,", id="milestone"),
    ],
)
def test_milestone_text_longer_than_its_column_is_a_cell_problem(
    engine: sa.Engine, example_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, column: str, row: str
) -> None:
    """PostgreSQL would refuse it mid-import (StringDataRightTruncation), SQLite would store it."""
    text = "\n".join([HEADERS["milestones"], row]) + "\n"
    error, _ = _bad_file_leaves_nothing(engine, example_config, tmp_path, monkeypatch, "milestones", text)
    assert error.problems == [RowProblem(2, column, "too long: 256 characters, at most 255")]


def test_text_of_exactly_the_column_length_is_stored(engine: sa.Engine, example_config: Config, tmp_path: Path) -> None:
    text = "\n".join([HEADERS["milestones"], f"berlin_ops,{'P' * 255},{'名' * 255},2026-09-10,,1000,"]) + "\n"
    run_import(engine, example_config, "milestones", write(tmp_path, "milestones.csv", text))
    [milestone] = stored(engine, Milestone)
    assert (len(milestone["project"]), len(milestone["name"])) == (255, 255)


def test_the_problem_cap_counts_bad_cells(
    engine: sa.Engine, example_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "MAX_REPORTED_PROBLEMS", 4)
    text = "\n".join([HEADERS["surveys"], *["paris_ops,yesterday,9"] * 3]) + "\n"  # three bad cells a row
    error, _ = _bad_file_leaves_nothing(engine, example_config, tmp_path, monkeypatch, "surveys", text)
    assert [(problem.line, problem.column) for problem in error.problems] == [
        (2, "team"),
        (2, "submitted_at"),
        (2, "score"),
        (3, "team"),
    ]
    assert str(error).endswith("... and 5 more problem(s)")
