"""The data rules on their own: no database, no Slack, milliseconds per case."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from kpi_core import rules
from kpi_core.config import Config
from kpi_core.rules import Bounds, Problem

NOW = datetime(2026, 9, 30, 8, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
SINCE = date(2000, 1, 1)


def code(result: object) -> str | None:
    return result.code if isinstance(result, Problem) else None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("120", 120.0, id="whole"),
        pytest.param("3.5", 3.5, id="decimal"),
        pytest.param("-3", -3.0, id="negative"),
        pytest.param("007", 7.0, id="leading-zeros"),
        pytest.param("0.000001", 0.000001, id="six-decimals"),
        pytest.param("1,5", None, id="decimal-comma"),
        pytest.param("1,000", None, id="thousands-comma"),
        pytest.param("1_000", None, id="underscore"),
        pytest.param("１２３", None, id="full-width"),
        pytest.param("١٢٣", None, id="arabic-indic"),
        pytest.param("1e308", None, id="exponent"),
        pytest.param("1e-320", None, id="tiny-exponent"),
        pytest.param("nan", None, id="nan"),
        pytest.param("inf", None, id="inf"),
        pytest.param("+5", None, id="plus-sign"),
        pytest.param(".5", None, id="no-integer-part"),
        pytest.param("5.", None, id="no-fraction"),
        pytest.param("−5", None, id="unicode-minus"),
        pytest.param("1" * 41, None, id="too-many-characters"),
    ],
)
def test_one_number_syntax(text: str, expected: float | None) -> None:
    result = rules.parse_number(text)
    assert (code(result) or result) == (expected if expected is not None else "not_a_number")


def test_minus_zero_is_stored_as_zero() -> None:
    value = rules.parse_number("-0")
    assert value == 0 and str(value) == "0.0"  # not "-0.0"


def test_more_than_six_decimals_is_too_precise() -> None:
    assert rules.parse_number("0.0000001") == rules.problem("too_precise", decimals=6)


@pytest.mark.parametrize(
    ("value", "bounds", "expected"),
    [
        pytest.param(5.0, Bounds(), None, id="inside"),
        pytest.param(-1.0, Bounds(), rules.problem("below_minimum", minimum="0"), id="below-minimum"),
        pytest.param(11.0, Bounds(maximum=10), rules.problem("above_maximum", maximum="10", measure=""), id="above"),
        pytest.param(
            1e12 + 1, Bounds(), rules.problem("above_maximum", maximum="1000000000000", measure=""), id="ceiling"
        ),
        pytest.param(
            -1e13,
            Bounds(minimum=None),
            rules.problem("below_minimum", minimum="-1000000000000"),
            id="ceiling-below-zero",
        ),
        pytest.param(50.0, Bounds(ceiling=20), rules.problem("above_maximum", maximum="20", measure=""), id="own"),
        pytest.param(2.5, Bounds(integer=True, measure="orders"), rules.problem("not_whole", measure="orders"), id="x"),
        pytest.param(float("nan"), Bounds(minimum=None), rules.problem("not_a_number"), id="nan"),
        pytest.param(float("inf"), Bounds(minimum=None), rules.problem("not_a_number"), id="inf"),
    ],
)
def test_a_number_inside_its_bounds(value: float, bounds: Bounds, expected: Problem | None) -> None:
    assert rules.check_number(value, bounds) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(5, 5.0, id="int"),
        pytest.param(2.5, 2.5, id="float"),
        pytest.param(True, "not_a_number", id="bool"),
        pytest.param("5", "not_a_number", id="string"),
        pytest.param(None, "not_a_number", id="null"),
        pytest.param(float("nan"), "not_a_number", id="nan"),
        pytest.param(1e308, "above_maximum", id="huge"),
        pytest.param(-500, "below_minimum", id="negative"),
    ],
)
def test_a_number_that_travelled_as_json_gets_the_same_checks(value: object, expected: object) -> None:
    result = rules.stored_number(value, Bounds())
    assert (code(result) or result) == expected


def test_every_measure_has_a_ceiling_that_keeps_period_sums_finite(example_config: Config) -> None:
    for measure in example_config.measures:
        assert rules.measure_bounds(measure).highest <= rules.DEFAULT_CEILING
    # ten years of daily values at the ceiling for every team still sum far inside a double
    assert rules.DEFAULT_CEILING * 3650 * len(example_config.teams) < 1e300


def test_a_part_above_its_whole_in_one_period(example_config: Config) -> None:
    measures = example_config.measure_by_key
    assert rules.at_most({"orders": 10, "on_time_orders": 11}, measures) == {
        "on_time_orders": rules.problem("above_total", other="orders", total="10")
    }
    assert rules.at_most({"orders": 10, "on_time_orders": 10}, measures) == {}
    assert rules.at_most({"on_time_orders": 11}, measures) == {}  # the whole is not given: nothing to compare


@pytest.mark.parametrize(
    ("value", "today", "expected"),
    [
        pytest.param(date(2026, 9, 30), date(2026, 9, 30), None, id="today"),
        pytest.param(date(2026, 10, 1), date(2026, 9, 30), "in_future", id="tomorrow"),
        pytest.param(date(2000, 1, 1), date(2026, 9, 30), None, id="first-day"),
        pytest.param(date(1999, 12, 31), date(2026, 9, 30), "before_data_since", id="before-data-since"),
        pytest.param(date(2098, 1, 1), None, None, id="ahead-allowed"),
    ],
)
def test_dates_inside_the_data_window(value: date, today: date | None, expected: str | None) -> None:
    assert code(rules.check_date(value, data_since=SINCE, today=today)) == expected


def test_a_due_date_may_lie_ahead_but_not_beyond_any_plan() -> None:
    today = date(2026, 9, 30)
    assert rules.check_due_date(date(2046, 12, 31), data_since=SINCE, today=today) is None
    assert rules.check_due_date(date(2047, 1, 1), data_since=SINCE, today=today) == rules.problem(
        "too_far_ahead", latest="2046-12-31"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(NOW, None, id="now"),
        pytest.param(NOW + timedelta(seconds=1), "in_future", id="a-second-ahead"),
        pytest.param(datetime(2000, 1, 1, tzinfo=SHANGHAI), None, id="local-midnight-of-data-since"),
        pytest.param(datetime(1999, 12, 31, 23, 59, tzinfo=SHANGHAI), "before_data_since", id="a-minute-before"),
    ],
)
def test_instants_inside_the_data_window_in_the_teams_zone(value: datetime, expected: str | None) -> None:
    assert code(rules.check_instant(value, data_since=SINCE, zone=SHANGHAI, now=NOW)) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))), "before_data_since", id="year-1"),
        pytest.param(datetime(1, 1, 1), "before_data_since", id="naive-year-1-in-shanghai"),
        pytest.param(datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))), "in_future", id="year-9999"),
    ],
)
def test_instants_that_do_not_exist_in_utc_are_problems_not_overflows(value: datetime, expected: str) -> None:
    assert code(rules.to_utc(value, zone=SHANGHAI, data_since=SINCE)) == expected


def test_a_naive_instant_is_the_teams_local_time() -> None:
    assert rules.to_utc(datetime(2026, 9, 30, 8), zone=SHANGHAI, data_since=SINCE) == datetime(
        2026, 9, 30, 0, tzinfo=UTC
    )


RAISED = datetime(2026, 9, 29, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("first_response_at", "resolved_at", "expected"),
    [
        pytest.param(RAISED, RAISED, {}, id="all-at-once"),
        pytest.param(RAISED + timedelta(hours=1), RAISED + timedelta(hours=2), {}, id="in-order"),
        pytest.param(None, RAISED + timedelta(hours=2), {}, id="resolved-without-response"),
        pytest.param(RAISED - timedelta(hours=1), None, {"first_response_at": "before_raised"}, id="response-early"),
        pytest.param(None, RAISED - timedelta(hours=1), {"resolved_at": "before_raised"}, id="resolved-early"),
        pytest.param(
            RAISED + timedelta(hours=3),
            RAISED + timedelta(hours=2),
            {"resolved_at": "before_response"},
            id="resolved-before-first-response",
        ),
    ],
)
def test_case_times_in_order(
    first_response_at: datetime | None, resolved_at: datetime | None, expected: dict[str, str]
) -> None:
    problems = rules.case_order(RAISED, first_response_at, resolved_at)
    assert {field: problem.code for field, problem in problems.items()} == expected


def test_case_kinds_and_scores() -> None:
    assert rules.CASE_KINDS == ("after_sales", "feedback")
    assert rules.check_case_kind("feedback") is None
    assert code(rules.check_case_kind("complaint")) == "unknown_case_kind"
    assert code(rules.check_case_kind(None)) == "unknown_case_kind"
    assert [rules.parse_score(text) for text in ("1", "5")] == [1, 5]
    assert [code(rules.parse_score(text)) for text in ("0", "6", "4.5", "５", "")] == ["bad_score"] * 5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("R&D <!channel>", None, id="markup-is-text"),
        pytest.param("x" * 255, None, id="column-length"),
        pytest.param("x" * 256, "too_long", id="longer"),
        pytest.param("Phase\x001", "control_character", id="nul"),
        pytest.param("Phase\n1", "control_character", id="newline"),
        pytest.param("Phase\x7f1", "control_character", id="delete"),
        pytest.param("Phase\x851", "control_character", id="c1-next-line"),
        pytest.param("Phase\xa0\u2028é1", None, id="no-break-space-line-separator-letters"),
    ],
)
def test_text_fits_its_column_without_control_characters(text: str, expected: str | None) -> None:
    assert code(rules.check_text(text, maximum=255)) == expected


def test_control_characters_are_unicodes_category_cc() -> None:
    control = [chr(point) for point in range(0x3000) if unicodedata.category(chr(point)) == "Cc"]
    assert [char for char in map(chr, range(0x3000)) if rules.has_control_character(char)] == control
