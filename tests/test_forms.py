"""Form parsing on its own (views as Slack sends them, no HTTP, milliseconds per case), and one table of
values fed through a form and through a CSV import that must reach the same verdict."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from bot import forms
from kpi_core.access import Access, access_for
from kpi_core.config import Config
from kpi_core.errors import ImportFileError
from kpi_core.imports import import_csv
from kpi_core.models import MeasureValue
from tests.bot_harness import LEAD_BEIJING, LEAD_SHANGHAI_AND_BERLIN
from tests.factories import WEEKLY_ANSWERS
from tests.slack_requests import datepicker_value, datetimepicker_value, static_select_value, text_value

NOW = datetime(2026, 9, 30, 8, 0, tzinfo=UTC)  # a Wednesday in 2026-W40
WEEKLY = WEEKLY_ANSWERS


def localize(key: str, **params: Any) -> str:
    """Errors read as their code, so a test asserts the rule that fired, not its wording."""
    return key.removeprefix("errors.")


def view(values: dict[str, dict[str, Any]], metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "state": {"values": {block: {"value": state} for block, state in values.items()}},
        "private_metadata": json.dumps(metadata or {}),
    }


def weekly(period: str = "2026-W40", **overrides: str) -> dict[str, Any]:
    values = {"team": static_select_value("shanghai_ops"), "period": static_select_value(period)}
    values |= {f"measure:{key}": text_value(text) for key, text in (WEEKLY | overrides).items()}
    return view(values, {"form": "weekly"})


def lead(config: Config, user: str = LEAD_SHANGHAI_AND_BERLIN) -> Access:
    return access_for(config, user)


def parse_weekly(config: Config, **overrides: str) -> tuple[forms.MeasuresInput | None, dict[str, str]]:
    return forms.parse_measures(weekly(**overrides), config=config, access=lead(config), now=NOW, localize=localize)


def test_good_weekly_values(example_config: Config) -> None:
    parsed, errors = parse_weekly(example_config)
    assert errors == {} and parsed is not None
    assert parsed.values == {key: float(text) for key, text in WEEKLY.items()}


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        pytest.param({"on_time_orders": "121"}, {"measure:on_time_orders": "above_total"}, id="part-above-whole"),
        pytest.param({"orders": "1,5"}, {"measure:orders": "not_a_number"}, id="decimal-comma"),
        pytest.param({"sales": "1e308"}, {"measure:sales": "not_a_number"}, id="exponent"),
        pytest.param({"sales": "10000000000000"}, {"measure:sales": "above_maximum"}, id="above-the-ceiling"),
        pytest.param({"period": "2026-W41"}, {"period": "in_future"}, id="future-period"),
        pytest.param({"period": "2098-W01"}, {"period": "in_future"}, id="period-in-2098"),
        pytest.param({"period": "1999-W01"}, {"period": "before_data_since"}, id="period-before-data-since"),
    ],
)
def test_bad_weekly_values(example_config: Config, overrides: dict[str, str], errors: dict[str, str]) -> None:
    parsed, found = parse_weekly(example_config, **overrides)
    assert (parsed, found) == (None, errors)


def test_a_measure_form_without_its_form_key_is_refused_not_crashed(example_config: Config) -> None:
    parsed, errors = forms.parse_measures(
        view({}, {}), config=example_config, access=lead(example_config), now=NOW, localize=localize
    )
    assert (parsed, errors) == (None, {"team": "gone"})


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


@pytest.mark.parametrize(
    ("times", "errors"),
    [
        pytest.param({"raised_at": "2026-09-29T10:00:00+08:00"}, {}, id="good"),
        pytest.param(
            {
                "raised_at": "2026-09-29T10:00:00+08:00",
                "first_response_at": "2026-09-29T12:00:00+08:00",
                "resolved_at": "2026-09-29T11:00:00+08:00",
            },
            {"resolved_at": "before_response"},
            id="resolved-before-first-response",
        ),
        pytest.param({"raised_at": "1999-12-31T23:00:00+08:00"}, {"raised_at": "before_data_since"}, id="too-old"),
    ],
)
def test_case_times(example_config: Config, times: dict[str, str], errors: dict[str, str]) -> None:
    values = {"team": static_select_value("beijing_service"), "case_kind": static_select_value("after_sales")}
    values |= {block: datetimepicker_value(epoch(text)) for block, text in times.items()}
    _, found = forms.parse_case(
        view(values), config=example_config, access=lead(example_config, LEAD_BEIJING), now=NOW, localize=localize
    )
    assert found == errors


@pytest.mark.parametrize(
    ("block_id", "state"),
    [
        pytest.param("raised_at", datetimepicker_value("abc"), id="time-not-a-number"),
        pytest.param("first_response_at", datetimepicker_value(10**30), id="time-of-30-digits"),
        pytest.param("resolved_at", {"selected_date_time": []}, id="time-not-a-scalar"),
    ],
)
def test_a_forged_picker_value_is_a_field_error(example_config: Config, block_id: str, state: dict[str, Any]) -> None:
    values = {
        "team": static_select_value("beijing_service"),
        "case_kind": static_select_value("after_sales"),
        "raised_at": datetimepicker_value(epoch("2026-09-29T10:00:00+08:00")),
        block_id: state,
    }
    parsed, errors = forms.parse_case(
        view(values), config=example_config, access=lead(example_config, LEAD_BEIJING), now=NOW, localize=localize
    )
    assert (parsed, errors) == (None, {block_id: "unreadable"})


def test_a_date_that_does_not_exist_is_a_field_error(example_config: Config) -> None:
    values = {
        "team": static_select_value("beijing_service"),
        "project": text_value("CRM"),
        "milestone_name": text_value("Pilot"),
        "due_on": datepicker_value("2026-02-30"),
        "completed_on": datepicker_value("2026-13-01"),
    }
    _, errors = forms.parse_milestone(
        view(values), config=example_config, access=lead(example_config, LEAD_BEIJING), now=NOW, localize=localize
    )
    assert errors == {"due_on": "unreadable", "completed_on": "unreadable"}


@pytest.mark.parametrize(
    ("answers", "errors"),
    [
        pytest.param({}, {}, id="good"),
        pytest.param({"milestone_name": text_value("Pilot\x00")}, {"milestone_name": "control_character"}, id="nul"),
        pytest.param({"budget": text_value("1_000")}, {"budget": "not_a_number"}, id="underscore"),
        pytest.param({"due_on": datepicker_value("2099-01-01")}, {"due_on": "too_far_ahead"}, id="due-far-ahead"),
        pytest.param({"completed_on": datepicker_value("1999-01-01")}, {"completed_on": "before_data_since"}, id="old"),
    ],
)
def test_milestone_fields(example_config: Config, answers: dict[str, Any], errors: dict[str, str]) -> None:
    values = {
        "team": static_select_value("beijing_service"),
        "project": text_value("CRM"),
        "milestone_name": text_value("Pilot"),
        "due_on": datepicker_value("2026-10-15"),
    } | answers
    _, found = forms.parse_milestone(
        view(values), config=example_config, access=lead(example_config, LEAD_BEIJING), now=NOW, localize=localize
    )
    assert found == errors


def confirmation(**changes: Any) -> dict[str, Any]:
    metadata = {"form": "weekly", "team": "shanghai_ops", "period": "2026-W40", "values": {"orders": 130}}
    return view({}, metadata | changes)


@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        pytest.param({"values": {"orders": float("nan")}}, "not_a_number", id="nan"),
        pytest.param({"values": {"orders": 130, "on_time_orders": -500}}, "below_minimum", id="negative"),
        pytest.param({"values": {"complaints": 1e308}}, "above_maximum", id="huge"),
        pytest.param({"values": {"orders": 130, "on_time_orders": 131}}, "above_total", id="part-above-whole"),
        pytest.param({"values": {"orderz": 1}}, "gone", id="unknown-measure"),
        pytest.param({"values": {"orders": "130"}}, "not_a_number", id="text"),
        pytest.param({"values": [130]}, "gone", id="not-a-mapping"),
        pytest.param({"period": "2098-W01"}, "in_future", id="period-in-2098"),
        pytest.param({"form": "survey"}, "gone", id="not-a-measures-form"),
        pytest.param({"team": "beijing_service"}, "not_yours", id="another-team"),
    ],
)
def test_an_edited_replace_confirmation_is_refused(
    example_config: Config, metadata: dict[str, Any], error: str
) -> None:
    parsed, errors = forms.parse_confirm_replace(
        confirmation(**metadata), config=example_config, access=lead(example_config), now=NOW, localize=localize
    )
    assert (parsed, errors) == (None, {forms.REPLACE: error})


def test_a_replace_confirmation_as_the_bot_wrote_it(example_config: Config) -> None:
    parsed, errors = forms.parse_confirm_replace(
        confirmation(), config=example_config, access=lead(example_config), now=NOW, localize=localize
    )
    assert errors == {} and parsed is not None
    assert (parsed[0], parsed[1].team, parsed[1].period.label, parsed[1].values) == (
        "weekly",
        "shanghai_ops",
        "2026-W40",
        {"orders": 130.0},
    )


# One table, two entry points. ``None``: refused. The sales measure has no maximum of its own (its ceiling
# applies); headcount is a count.
SAME_VERDICT = [
    pytest.param("sales", "0", 0.0, id="zero"),
    pytest.param("sales", "120", 120.0, id="whole"),
    pytest.param("sales", "3.5", 3.5, id="decimal"),
    pytest.param("sales", "230000.50", 230000.5, id="cents"),
    pytest.param("sales", "007", 7.0, id="leading-zeros"),
    pytest.param("sales", "-0", 0.0, id="minus-zero"),
    pytest.param("sales", " 42 ", 42.0, id="surrounding-spaces"),
    pytest.param("sales", "0.000001", 0.000001, id="six-decimals"),
    pytest.param("sales", "1000000000000", 1e12, id="at-the-ceiling"),
    pytest.param("sales", "1000000000001", None, id="above-the-ceiling"),
    pytest.param("sales", "99999999999999999999", None, id="far-above-the-ceiling"),
    pytest.param("sales", "0.0000001", None, id="seven-decimals"),
    pytest.param("sales", "-5", None, id="negative"),
    pytest.param("sales", "-0.5", None, id="negative-fraction"),
    pytest.param("sales", "1,5", None, id="decimal-comma"),
    pytest.param("sales", "1,000", None, id="thousands-comma"),
    pytest.param("sales", "1.000,5", None, id="european"),
    pytest.param("sales", "1_000", None, id="underscore"),
    pytest.param("sales", "1 000", None, id="space-separator"),
    pytest.param("sales", "1\u00a0000", None, id="no-break-space"),
    pytest.param("sales", "1'000", None, id="apostrophe"),
    pytest.param("sales", "１２３", None, id="full-width"),
    pytest.param("sales", "١٢٣", None, id="arabic-indic"),
    pytest.param("sales", "۱۲۳", None, id="persian"),
    pytest.param("sales", "१२३", None, id="devanagari"),
    pytest.param("sales", "1e308", None, id="exponent-huge"),
    pytest.param("sales", "1e-320", None, id="exponent-subnormal"),
    pytest.param("sales", "1E3", None, id="exponent-capital"),
    pytest.param("sales", "nan", None, id="nan"),
    pytest.param("sales", "NaN", None, id="nan-capital"),
    pytest.param("sales", "inf", None, id="inf"),
    pytest.param("sales", "Infinity", None, id="infinity"),
    pytest.param("sales", "+5", None, id="plus"),
    pytest.param("sales", "−5", None, id="unicode-minus"),
    pytest.param("sales", ".5", None, id="no-integer-part"),
    pytest.param("sales", "5.", None, id="no-fraction"),
    pytest.param("sales", "0x10", None, id="hex"),
    pytest.param("sales", "12k", None, id="suffix"),
    pytest.param("sales", "1.2.3", None, id="two-points"),
    pytest.param("headcount", "36", 36.0, id="count"),
    pytest.param("headcount", "36.0", 36.0, id="count-with-point-zero"),
    pytest.param("headcount", "36.5", None, id="count-not-whole"),
]


def _through_the_form(config: Config, measure: str, text: str) -> float | None:
    parsed, errors = parse_weekly(config, **{measure: text})
    assert set(errors) <= {f"measure:{measure}"}  # only the value under test may be refused
    return parsed.values[measure] if parsed else None


def _through_a_csv_import(engine: sa.Engine, config: Config, tmp_path: Path, measure: str, text: str) -> float | None:
    path = tmp_path / "measures.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:  # quoted as a spreadsheet writes `1,5`
        csv.writer(handle).writerows(
            [["team", "measure", "date", "value"], ["shanghai_ops", measure, "2026-09-28", text]]
        )
    with Session(engine) as session:
        try:
            import_csv(session, config=config, kind="measures", path=path, submitted_by="test", now=NOW)
        except ImportFileError as error:
            assert [(problem.line, problem.column) for problem in error.problems] == [(2, "value")]
            return None
        stored = session.exec(select(MeasureValue.value)).one()
        session.rollback()
    return stored


@pytest.mark.parametrize(("measure", "text", "expected"), SAME_VERDICT)
def test_a_form_and_a_csv_import_reach_the_same_verdict(
    engine: sa.Engine, example_config: Config, tmp_path: Path, measure: str, text: str, expected: float | None
) -> None:
    assert _through_the_form(example_config, measure, text) == expected
    assert _through_a_csv_import(engine, example_config, tmp_path, measure, text) == expected


def test_the_table_covers_enough_values() -> None:
    assert len(SAME_VERDICT) >= 40
    assert date(2026, 9, 28).isocalendar()[:2] == (2026, 40)  # the CSV date lies in the form's period
