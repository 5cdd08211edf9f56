"""The CSV import applies the form's rules (kpi_core.rules) and names the real line and column of every
problem, including bytes and syntax the csv module itself chokes on."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, func, select

from kpi_core.config import Config
from kpi_core.errors import ImportFileError, RowProblem
from kpi_core.imports import import_csv
from kpi_core.models import MeasureValue, Submission

NOW = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)  # Thursday 16:00 in Shanghai, 10:00 in Berlin
HEADERS = {
    "surveys": "team,submitted_at,score",
    "measures": "team,measure,date,value",
    "cases": "team,kind,raised_at,first_response_at,resolved_at",
    "milestones": "team,project,milestone,due_on,completed_on,budget,actual_cost",
}


def rejected(engine: sa.Engine, config: Config, tmp_path: Path, kind: str, content: str | bytes) -> list[RowProblem]:
    """The problems of a file that must be refused as a whole, leaving nothing stored."""
    path = tmp_path / f"{kind}.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with Session(engine) as session:
        with pytest.raises(ImportFileError) as caught:
            import_csv(session, config=config, kind=kind, path=path, submitted_by="test", now=NOW)
        session.rollback()
        assert session.exec(select(func.count()).select_from(Submission)).one() == 0
    return caught.value.problems


def lines(kind: str, *rows: str) -> str:
    return "\n".join([HEADERS[kind], *rows]) + "\n"


@pytest.mark.parametrize(
    ("kind", "row", "column", "message"),
    [
        pytest.param(
            "measures",
            "berlin_ops,orders,2026-10-02,10",
            "date",
            "2026-10-02 is in the future",
            id="measure-dated-tomorrow",
        ),
        pytest.param(
            "measures",
            "berlin_ops,orders,1999-12-31,10",
            "date",
            "1999-12-31 is before 2000-01-01, the earliest date data may have (data_since)",
            id="measure-before-data-since",
        ),
        pytest.param(
            "measures",
            "berlin_ops,sales,2026-09-28,1e308",
            "value",
            "'1e308' is not a number (write the digits 0-9 with an optional minus sign and decimal point, "
            "e.g. 120, -3 or 3.5; no thousands separators, no exponents)",
            id="exponent",
        ),
        pytest.param(
            "measures",
            "berlin_ops,sales,2026-09-28,10000000000000",
            "value",
            "10000000000000 is above the maximum 1000000000000 for sales",
            id="above-the-ceiling",
        ),
        pytest.param(
            "surveys",
            "shanghai_ops,2026-10-02T00:30:00+08:00,4",
            "submitted_at",
            "2026-10-02T00:30:00+08:00 is in the future",
            id="survey-tomorrow-in-shanghai",
        ),
        pytest.param(
            "cases",
            "berlin_ops,after_sales,0001-01-01T00:00:00+05:00,,",
            "raised_at",
            "0001-01-01T00:00:00+05:00 is before 2000-01-01, the earliest date data may have (data_since)",
            id="raised-in-year-1-overflows-utc",
        ),
        pytest.param(
            "cases",
            "berlin_ops,after_sales,9999-12-31T23:00:00-05:00,,",
            "raised_at",
            "9999-12-31T23:00:00-05:00 is in the future",
            id="raised-in-year-9999-overflows-utc",
        ),
        pytest.param(
            "cases",
            "berlin_ops,after_sales,2026-09-01T10:00:00,2026-09-01T12:00:00,2026-09-01T11:00:00",
            "resolved_at",
            "the case is resolved before its first response",
            id="resolved-before-first-response",
        ),
        pytest.param(
            "milestones",
            "berlin_ops,Rollout,Phase\x001,2026-09-10,,1000,",
            "milestone",
            "contains a control character (a NUL, tab or line break)",
            id="nul-byte",
        ),
        pytest.param(
            "milestones",
            'berlin_ops,Rollout,Phase 1,2026-09-10,,"1,000",',
            "budget",
            "'1,000' is not a number (write the digits 0-9 with an optional minus sign and decimal point, "
            "e.g. 120, -3 or 3.5; no thousands separators, no exponents)",
            id="thousands-separator",
        ),
    ],
)
def test_the_forms_rules_apply_to_every_row(
    engine: sa.Engine, example_config: Config, tmp_path: Path, kind: str, row: str, column: str, message: str
) -> None:
    problems = rejected(engine, example_config, tmp_path, kind, lines(kind, row))
    assert problems == [RowProblem(2, column, message)]


def test_a_part_cannot_exceed_its_whole_across_the_rows_of_one_week(
    engine: sa.Engine, example_config: Config, tmp_path: Path
) -> None:
    content = lines(
        "measures",
        "berlin_ops,orders,2026-09-21,50",  # 2026-W39: 50 orders, 50 on time
        "berlin_ops,on_time_orders,2026-09-22,50",
        "berlin_ops,orders,2026-09-28,60",  # 2026-W40: 60 + 40 orders, 70 + 40 on time
        "berlin_ops,orders,2026-09-29,40",
        "berlin_ops,on_time_orders,2026-09-28,70",
        "berlin_ops,on_time_orders,2026-09-30,40",
        "shanghai_ops,on_time_orders,2026-09-28,500",  # another team's week has no orders in this file
    )
    problems = rejected(engine, example_config, tmp_path, "measures", content)
    assert [str(problem) for problem in problems] == [
        "line 7, column value: on_time_orders 110 for berlin_ops in 2026-W40 is more than orders (100)"
    ]


def test_a_week_whose_parts_fit_is_stored(engine: sa.Engine, example_config: Config, tmp_path: Path) -> None:
    path = tmp_path / "measures.csv"
    path.write_text(
        lines(
            "measures",
            "berlin_ops,orders,2026-09-28,60",
            "berlin_ops,orders,2026-09-29,40",
            "berlin_ops,on_time_orders,2026-09-28,70",
            "berlin_ops,on_time_orders,2026-09-30,30",
        )
    )
    with Session(engine) as session:
        summary = import_csv(session, config=example_config, kind="measures", path=path, submitted_by="t", now=NOW)
        assert summary.rows == 4
        assert session.exec(select(func.sum(MeasureValue.value))).one() == 200
        session.rollback()


def test_bytes_that_are_not_utf8_are_named_by_line_and_column(
    engine: sa.Engine, example_config: Config, tmp_path: Path
) -> None:
    content = lines("milestones", "berlin_ops,Rollout,Phase 1,2026-09-10,,1000,").encode()
    content += "berlin_ops,Einführung,Phase 2,2026-09-10,,1000,\n".encode("latin-1")
    problems = rejected(engine, example_config, tmp_path, "milestones", content)
    assert problems == [RowProblem(3, "project", "not UTF-8 text")]


def test_a_header_that_is_not_utf8_is_named(engine: sa.Engine, example_config: Config, tmp_path: Path) -> None:
    content = "team,measure,d\xe4te,value\n".encode("latin-1")
    assert rejected(engine, example_config, tmp_path, "measures", content) == [RowProblem(1, None, "not UTF-8 text")]


def test_an_unterminated_quote_is_blamed_on_the_line_that_opens_it(
    engine: sa.Engine, example_config: Config, tmp_path: Path
) -> None:
    content = lines(
        "milestones",
        "berlin_ops,Rollout,Phase 1,2026-09-10,,1000,",
        'berlin_ops,"Rollout,Phase 2,2026-09-10,,1000,',
        "berlin_ops,Rollout,Phase 3,2026-09-10,,1000,",
        "berlin_ops,Rollout,Phase 4,2026-09-10,,1000,",
    )
    problems = rejected(engine, example_config, tmp_path, "milestones", content)
    assert [str(problem) for problem in problems] == [
        "line 3, column project: a quoted cell opened on this line is not closed before line 5 "
        "(wrong number of cells (the header has 7))"
    ]


@pytest.mark.parametrize(
    ("row", "column"),
    [
        pytest.param(f"berlin_ops,Rollout,{'x' * 200_000},2026-09-10,,,", "milestone", id="plain"),
        pytest.param(f'berlin_ops,"{"y," * 100_000}",Phase 1,2026-09-10,,,', "project", id="quoted-with-commas"),
    ],
)
def test_a_cell_of_200k_characters_is_named_by_line_and_column(
    engine: sa.Engine, example_config: Config, tmp_path: Path, row: str, column: str
) -> None:
    content = lines("milestones", "berlin_ops,Rollout,Phase 1,2026-09-10,,1000,", row)
    problems = rejected(engine, example_config, tmp_path, "milestones", content)
    assert problems == [RowProblem(3, column, "too long: a cell of more than 100000 characters")]


def test_a_later_data_since_in_the_config_moves_the_window(
    engine: sa.Engine, example_config: Config, tmp_path: Path
) -> None:
    config = example_config.model_copy(update={"data_since": datetime(2026, 1, 1).date()})
    problems = rejected(engine, config, tmp_path, "measures", lines("measures", "berlin_ops,orders,2025-12-31,10"))
    assert problems == [
        RowProblem(2, "date", "2025-12-31 is before 2026-01-01, the earliest date data may have (data_since)")
    ]
