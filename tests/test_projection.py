"""Year to date against plan and the quarter and year-end projections (kpi_core/projection.py), checked
by hand on small cases: run rate, seasonal, rates, direction, bands, no data, a zero plan."""

from __future__ import annotations

import pytest

from kpi_core.config import Config
from kpi_core.kpis import KpiResult
from kpi_core.periods import Period
from kpi_core.projection import ItemProjection, PlanOf, current_quarter, months_of, project_item, track


def _month(label: str) -> Period:
    return Period.parse(label)


def _results(kpi: str, year: int, values: dict[int, float], *, n: int = 1, **details: dict[int, float]) -> dict:
    """One result per month number in ``values`` (details keyed by month number too)."""
    return {
        _month(f"{year}-{number:02d}"): KpiResult(
            kpi, value, n, None, None, "info", {name: by_month[number] for name, by_month in details.items()}
        )
        for number, value in values.items()
    }


def _monthly(value: float) -> PlanOf:
    """A plan of ``value`` a month (x3 a quarter, x12 a year)."""
    per_kind = {"month": 1, "quarter": 3, "year": 12}
    return lambda period: value * per_kind[period.kind.value]


def _project(
    config: Config, kpi: str, as_of: str, actual: dict, plan: PlanOf, last_year: dict | None = None
) -> ItemProjection:
    item = next((item for scheme in config.scorecards.values() for item in scheme.items if item.kpi == kpi), None)
    return project_item(
        config,
        config.kpi_by_key[kpi],
        item,
        as_of=_month(as_of),
        actual=actual,
        last_year=last_year or {},
        plan=plan,
        tolerance_pct=config.projection.at_risk_within_pct,
    )


def test_additive_run_rate_extrapolates_the_daily_rate(example_config: Config) -> None:
    # Jan-Mar: 300 in 90 days; Q2 has 91 days, the rest of the year 275
    projection = _project(
        example_config, "sales", "2026-03", _results("sales", 2026, {1: 100, 2: 90, 3: 110}), _monthly(100)
    )
    assert projection.additive and projection.months_with_data == 3
    assert projection.ytd == 300 and projection.ytd_plan == 300
    assert projection.quarter.period == Period.parse("2026-Q2")
    assert projection.quarter.projected == pytest.approx(300 / 90 * 91)
    assert projection.quarter.method == "run_rate" and projection.quarter.status == "on_track"
    assert projection.year.projected == pytest.approx(300 + 300 / 90 * 275)
    assert projection.year.plan == 1200 and projection.status == "on_track" and projection.method == "run_rate"


def test_a_month_without_data_is_estimated_not_counted_as_zero(example_config: Config) -> None:
    projection = _project(example_config, "sales", "2026-03", _results("sales", 2026, {1: 100, 3: 110}), _monthly(100))
    assert projection.ytd == 210 and projection.ytd_plan == 200  # the plan of the months with data
    # 210 in the 62 days of January and March; February and April to December (303 days) at that rate
    assert projection.months_with_data == 2
    assert projection.year.projected == pytest.approx(210 + 210 / 62 * 303)


def test_seasonal_follows_last_years_monthly_shape(example_config: Config) -> None:
    last_year = _results("sales", 2025, {number: 50.0 for number in range(1, 12)} | {12: 450.0})  # 1,000
    projection = _project(
        example_config, "sales", "2026-03", _results("sales", 2026, {1: 100, 2: 90, 3: 110}), _monthly(100), last_year
    )
    # this year's Jan-Mar are twice last year's (150): the other 850 of last year, doubled
    assert projection.method == "seasonal"
    assert projection.year.projected == pytest.approx(300 + 300 * 850 / 150)
    assert projection.quarter.projected == pytest.approx(300 * 150 / 150)
    assert projection.status == "on_track"


def test_without_a_full_year_of_history_the_run_rate_is_used(example_config: Config) -> None:
    last_year = _results("sales", 2025, {number: 50.0 for number in range(2, 13)})  # January 2025 missing
    projection = _project(
        example_config, "sales", "2026-03", _results("sales", 2026, {1: 100, 2: 90, 3: 110}), _monthly(100), last_year
    )
    assert projection.method == "run_rate"


def test_falling_short_of_the_plan_by_more_than_the_tolerance_is_off_track(example_config: Config) -> None:
    # 276 in the 90 days of Jan-Mar run to 276 / 90 x 365 = 1,119.3 in the year
    actual = _results("sales", 2026, {1: 92, 2: 92, 3: 92})
    at_risk = _project(example_config, "sales", "2026-03", actual, _monthly(97))  # 3.8 % short of 1,164
    off = _project(example_config, "sales", "2026-03", actual, _monthly(100))  # 6.7 % short of 1,200
    assert at_risk.year.projected == pytest.approx(276 / 90 * 365)
    assert (at_risk.status, off.status) == ("at_risk", "off_track")


def test_rates_run_at_their_year_to_date_rate(example_config: Config) -> None:
    # survey means combine weighted by their responses: (4.0 x 10 + 4.5 x 30) / 40
    actual = _results("csat", 2026, {1: 4.0}, n=10) | _results("csat", 2026, {2: 4.5}, n=30)
    projection = _project(example_config, "csat", "2026-02", actual, lambda period: 4.2)
    assert not projection.additive
    assert projection.ytd == pytest.approx(4.375) and projection.ytd_plan == 4.2
    assert projection.quarter.period == Period.parse("2026-Q1")
    assert projection.quarter.projected == pytest.approx(4.375)
    assert projection.year.projected == pytest.approx(4.375) and projection.status == "on_track"


def test_a_ratio_combines_its_numerators_and_denominators(example_config: Config) -> None:
    actual = _results(
        "on_time_delivery", 2026, {1: 90.0, 2: 100.0}, numerator={1: 90, 2: 300}, denominator={1: 100, 2: 300}
    )
    projection = _project(example_config, "on_time_delivery", "2026-02", actual, lambda period: 95)
    assert projection.ytd == pytest.approx(390 / 400 * 100)


def test_seasonal_rates_shift_by_last_years_difference(example_config: Config) -> None:
    # last year: 4.0 from January to June, 4.4 from July to December
    last_year = _results("csat", 2025, {number: 4.0 if number <= 6 else 4.4 for number in range(1, 13)})
    actual = _results("csat", 2026, {number: 4.1 for number in range(1, 7)})
    projection = _project(example_config, "csat", "2026-06", actual, lambda period: 4.2, last_year)
    assert projection.method == "seasonal"
    assert projection.quarter.projected == pytest.approx(4.5)  # Q3: 4.1 + (4.4 - 4.0)
    assert projection.year.projected == pytest.approx((6 * 4.1 + 6 * 4.5) / 12)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(3.9, "on_track", id="faster-than-planned"),
        pytest.param(4.1, "at_risk", id="2.5-pct-slower"),
        pytest.param(4.5, "off_track", id="12.5-pct-slower"),
    ],
)
def test_lower_is_better_reverses_the_direction(example_config: Config, value: float, expected: str) -> None:
    actual = _results("response_time", 2026, {1: value, 2: value, 3: value}, n=20)
    assert _project(example_config, "response_time", "2026-03", actual, lambda period: 4).status == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(-2.0, "on_track", id="under-budget"),
        pytest.param(0.4, "at_risk", id="within-5-pct-of-the-band"),
        pytest.param(1.0, "off_track", id="over"),
    ],
)
def test_a_zero_plan_measures_the_tolerance_on_the_items_band(
    example_config: Config, value: float, expected: str
) -> None:
    # budget_variance: plan 0 %, scored from full_at 0 to zero_at 10: 5 % of that band is 0.5 points
    kpi = example_config.kpi_by_key["budget_variance"]
    item = next(item for item in example_config.scorecards["quarterly"].items if item.kpi == "budget_variance")
    assert track(kpi, item, value, 0.0, 5) == expected


def test_a_zero_plan_without_a_band_must_be_met(example_config: Config) -> None:
    kpi = example_config.kpi_by_key["sales"]
    assert (track(kpi, None, 0.0, 0.0, 5), track(kpi, None, -1.0, 0.0, 5)) == ("on_track", "off_track")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(45.0, "on_track", id="inside"),
        pytest.param(61.0, "at_risk", id="1-point-above-of-30"),
        pytest.param(65.0, "off_track", id="far-above"),
    ],
)
def test_a_band_kpi_is_on_track_inside_its_band(example_config: Config, value: float, expected: str) -> None:
    assert track(example_config.kpi_by_key["debt_to_asset"], None, value, None, 5) == expected


def test_no_data_projects_nothing(example_config: Config) -> None:
    projection = _project(example_config, "sales", "2026-03", {}, _monthly(100))
    assert projection.ytd is None and projection.ytd_plan is None
    assert (projection.status, projection.method, projection.quarter.status) == ("no_data", None, "no_data")


def test_no_plan_shows_the_projection_without_a_status(example_config: Config) -> None:
    projection = _project(example_config, "sales", "2026-03", _results("sales", 2026, {1: 100}), lambda period: None)
    assert projection.year.projected is not None and projection.status == "no_plan"


def test_a_complete_year_is_its_actual_value(example_config: Config) -> None:
    actual = _results("sales", 2026, {number: 100.0 for number in range(1, 13)})
    projection = _project(example_config, "sales", "2026-12", actual, _monthly(100))
    assert projection.year.projected == 1200 and projection.method == "actual"
    assert projection.quarter.period == Period.parse("2026-Q4") and projection.quarter.method == "actual"


@pytest.mark.parametrize(
    ("as_of", "quarter"),
    [
        pytest.param("2026-08", "2026-Q3", id="mid-quarter"),
        pytest.param("2026-09", "2026-Q4", id="quarter-end-looks-at-the-next"),
        pytest.param("2026-12", "2026-Q4", id="year-end-keeps-the-last"),
    ],
)
def test_the_current_quarter_is_the_one_still_to_come(as_of: str, quarter: str) -> None:
    assert current_quarter(Period.parse(as_of)) == Period.parse(quarter)


def test_months_of_a_year() -> None:
    assert [month.label for month in months_of(Period.parse("2026-Q2"))] == ["2026-04", "2026-05", "2026-06"]
    assert len(months_of(Period.parse("2026"))) == 12
