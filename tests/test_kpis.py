"""Every KPI formula of bot/config/example.yaml against hand-computed values, on SQLite and PostgreSQL.

Expected values are worked out by hand in the comments; none is computed by calling kpi_core.
Unless a test says otherwise the team is berlin_ops (Europe/Berlin) and the period September 2026.
"""

import copy
from datetime import date

import pytest
import yaml

from kpi_core.config import Config, parse_config
from kpi_core.db import transaction
from kpi_core.kpis import KpiResult, compute_reports, status_of
from kpi_core.periods import Period
from tests.conftest import EXAMPLE_CONFIG
from tests.factories import CATALOGUE_KPIS, add, at, case, measures, milestone, surveys

BERLIN = "berlin_ops"
SEPTEMBER = "2026-09"

#: The KPI keys this file checks formula by formula; a KPI added to the example config must be added here.
COVERED = set(CATALOGUE_KPIS)


def compute(engine, config: Config, label: str = SEPTEMBER, team: str = BERLIN) -> dict[str, KpiResult]:
    with transaction(engine) as session:
        reports = compute_reports(session, config=config, period=Period.parse(label), teams=[team])
    return reports[team].results


def custom_config(change) -> Config:
    """The example config with ``change(raw)`` applied to its raw YAML data."""
    raw = copy.deepcopy(yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8")))
    change(raw)
    return parse_config(raw)


def kpi_entry(raw, key):
    return next(entry for entry in raw["kpis"] if entry["key"] == key)


def test_every_example_kpi_is_covered(example_config):
    assert len(example_config.kpis) == 19
    assert {kpi.key for kpi in example_config.kpis} == COVERED


# --- Service and delivery ------------------------------------------------------------------------


def test_on_time_delivery_is_the_ratio_of_sums_not_the_mean_of_ratios(engine, example_config):
    add(
        engine,
        *measures(BERLIN, date(2026, 9, 7), orders=100, on_time_orders=90),
        *measures(BERLIN, date(2026, 9, 14), orders=300, on_time_orders=294),
        *measures(BERLIN, date(2026, 8, 31), orders=1000, on_time_orders=0),  # August
        *measures(BERLIN, date(2026, 10, 1), orders=1000, on_time_orders=0),  # October
        *measures("shanghai_ops", date(2026, 9, 7), orders=1000, on_time_orders=0),  # another team
    )
    result = compute(engine, example_config)["on_time_delivery"]
    # (90 + 294) / (100 + 300) * 100 = 96.0  (the mean of the weekly rates, (90 + 98) / 2 = 94, is wrong)
    assert result.value == pytest.approx(96.0)
    assert result.details == {"numerator": pytest.approx(384), "denominator": pytest.approx(400)}
    assert result.n == 4  # 2 rows of on_time_orders + 2 rows of orders
    assert (result.target, result.threshold, result.status) == (95, 90, "met")


def test_on_time_delivery_team_target(engine, example_config):
    add(engine, *measures("newyork_delivery", date(2026, 9, 7), orders=200, on_time_orders=192))
    result = compute(engine, example_config, team="newyork_delivery")["on_time_delivery"]
    # 192 / 200 * 100 = 96: meets the default 95 but not New York's own target of 97
    assert result.value == pytest.approx(96.0)
    assert (result.target, result.status) == (97, "missed")


def test_zero_on_time_orders_is_zero_percent_not_no_data(engine, example_config):
    add(engine, *measures(BERLIN, date(2026, 9, 7), orders=50, on_time_orders=0))
    result = compute(engine, example_config)["on_time_delivery"]
    assert result.value == 0.0  # 0 / 50 * 100
    assert result.status == "breach"  # 0 < alert threshold 90


def test_csat_mean_response_count_and_top_share(engine, example_config):
    add(
        engine,
        *surveys(BERLIN, at("2026-09-01 00:00", "Europe/Berlin"), 5, 5),
        *surveys(BERLIN, at("2026-09-15 12:00", "Europe/Berlin"), 4, 3),
        *surveys(BERLIN, at("2026-09-30 23:59", "Europe/Berlin"), 4, 2),
        *surveys(BERLIN, at("2026-08-31 23:59", "Europe/Berlin"), 1, 1),  # August
        *surveys(BERLIN, at("2026-10-01 00:00", "Europe/Berlin"), 1),  # October
        *surveys("shanghai_ops", at("2026-09-15 12:00", "Asia/Shanghai"), 1),  # another team
    )
    result = compute(engine, example_config)["csat"]
    # (5 + 5 + 4 + 3 + 4 + 2) / 6 = 23 / 6 = 3.8333
    assert result.value == pytest.approx(23 / 6)
    assert result.n == 6
    assert result.details["responses"] == 6
    assert result.details["mean_score"] == pytest.approx(23 / 6)
    # answers of 4 or 5: 5, 5, 4, 4 -> 4 / 6 * 100 = 66.67 %
    assert result.details["share_top_pct"] == pytest.approx(400 / 6)
    assert result.status == "missed"  # below target 4.2, not below the alert threshold 3.8


@pytest.mark.parametrize(
    ("scores", "mean", "top_pct", "status"),
    [
        pytest.param((5, 5, 4, 3), 4.25, 75.0, "met", id="17/4-above-target"),  # 3 of 4 are 4-5
        pytest.param((3, 3, 4), 10 / 3, 100 / 3, "breach", id="10/3-below-threshold"),  # 1 of 3
        pytest.param((4,), 4.0, 100.0, "missed", id="single-answer"),
        pytest.param((1, 2, 3), 2.0, 0.0, "breach", id="no-top-answers"),  # (1 + 2 + 3) / 3
    ],
)
def test_csat_cases(engine, example_config, scores, mean, top_pct, status):
    add(engine, *surveys(BERLIN, at("2026-09-10 10:00", "Europe/Berlin"), *scores))
    result = compute(engine, example_config)["csat"]
    assert result.value == pytest.approx(mean)
    assert result.details["responses"] == len(scores)
    assert result.details["share_top_pct"] == pytest.approx(top_pct)
    assert result.status == status


def test_survey_share_top_statistic(engine):
    def change(raw):
        raw["kpis"].append(
            {
                "key": "csat_top",
                "name": {"en": "Top answers", "zh": "好评率"},
                "group": "service",
                "unit": "%",
                "better": "higher",
                "formula": {"kind": "survey", "statistic": "share_top"},
                "target": 80,
            }
        )

    config = custom_config(change)
    add(engine, *surveys(BERLIN, at("2026-09-10 10:00", "Europe/Berlin"), 5, 4, 4, 3, 1))
    result = compute(engine, config)["csat_top"]
    assert result.value == pytest.approx(60.0)  # 3 of 5 answers are 4 or 5: 3 / 5 * 100
    assert result.details["mean_score"] == pytest.approx(3.4)  # (5 + 4 + 4 + 3 + 1) / 5 = 17 / 5
    assert result.status == "missed"


@pytest.mark.parametrize(
    ("complaints", "orders", "rate", "status"),
    [
        # (3 + 5) / (200 + 300) * 100 = 1.6
        pytest.param((3, 5), (200, 300), 1.6, "met", id="1.6-below-target"),
        # (4 + 6) / (200 + 300) * 100 = 2.0: the target itself is met
        pytest.param((4, 6), (200, 300), 2.0, "met", id="2.0-on-target"),
        # (5 + 10) / (200 + 300) * 100 = 3.0
        pytest.param((5, 10), (200, 300), 3.0, "missed", id="3.0-above-target"),
        # (10 + 10) / (200 + 300) * 100 = 4.0: at the alert threshold, not past it
        pytest.param((10, 10), (200, 300), 4.0, "missed", id="4.0-at-threshold"),
        # (10 + 15) / (200 + 300) * 100 = 5.0
        pytest.param((10, 15), (200, 300), 5.0, "breach", id="5.0-past-threshold"),
        # (0 + 0) / (200 + 300) * 100 = 0
        pytest.param((0, 0), (200, 300), 0.0, "met", id="no-complaints"),
    ],
)
def test_complaint_rate(engine, example_config, complaints, orders, rate, status):
    add(
        engine,
        *measures(BERLIN, date(2026, 9, 7), complaints=complaints[0], orders=orders[0]),
        *measures(BERLIN, date(2026, 9, 14), complaints=complaints[1], orders=orders[1]),
    )
    result = compute(engine, example_config)["complaint_rate"]
    assert result.value == pytest.approx(rate)
    assert result.status == status


# --- Case durations -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "median", "p90"),
    [
        # sorted 1 2 3 10; median between ranks 2 and 3: (2 + 3) / 2 = 2.5;
        # p90 at 0-based position (4 - 1) * 0.9 = 2.7: 3 + 0.7 * (10 - 3) = 7.9
        pytest.param((1, 2, 3, 10), 2.5, 7.9, id="even-count"),
        # sorted 1 2 3 4 100; median = 3 (position 2); p90 at (5 - 1) * 0.9 = 3.6: 4 + 0.6 * (100 - 4) = 61.6
        pytest.param((4, 1, 100, 3, 2), 3.0, 61.6, id="odd-count-unsorted"),
        pytest.param((5,), 5.0, 5.0, id="single-case"),
        # sorted 2 2 2 8; median (2 + 2) / 2 = 2; p90 at 2.7: 2 + 0.7 * (8 - 2) = 6.2
        pytest.param((2, 2, 8, 2), 2.0, 6.2, id="ties"),
        pytest.param((3, 3), 3.0, 3.0, id="all-tied"),
        # median 0.5 + 0.5 * 0.75 = 0.875; p90 at 0.9: 0.5 + 0.9 * (1.25 - 0.5) = 1.175
        pytest.param((0.5, 1.25), 0.875, 1.175, id="fractional-hours"),
        # 1..10: median (5 + 6) / 2 = 5.5; p90 at 9 * 0.9 = 8.1: 9 + 0.1 * (10 - 9) = 9.1
        pytest.param(tuple(range(1, 11)), 5.5, 9.1, id="ten-cases"),
        # nine 1s, then 2 and 6: median = 1 (position 5); p90 at 10 * 0.9 = 9, exactly the 10th value: 2
        pytest.param((6, 2) + (1,) * 9, 1.0, 2.0, id="p90-on-a-rank"),
    ],
)
def test_response_time_percentiles_interpolate_linearly(engine, example_config, hours, median, p90):
    raised = at("2026-09-02 10:00", "Europe/Berlin")
    add(
        engine,
        *[case(BERLIN, raised, response_hours=value) for value in hours],
        case(BERLIN, raised),  # still open: counted apart, left out of the percentiles
    )
    result = compute(engine, example_config)["response_time"]
    assert result.value == pytest.approx(median)  # response_time reports the median
    assert result.details["median_hours"] == pytest.approx(median)
    assert result.details["p90_hours"] == pytest.approx(p90)
    assert result.details["mean_hours"] == pytest.approx(sum(hours) / len(hours))
    assert result.details["cases"] == len(hours) + 1
    assert result.details["open_cases"] == 1


def test_response_time_details_and_share_within(engine, example_config):
    add(
        engine,
        case(BERLIN, at("2026-09-01 09:00", "Europe/Berlin"), response_hours=1),
        case(BERLIN, at("2026-09-03 09:00", "Europe/Berlin"), response_hours=2),
        case(BERLIN, at("2026-09-05 09:00", "Europe/Berlin"), response_hours=4),  # exactly the 4 h target
        # raised in September, answered in October: it belongs to September (48 h)
        case(BERLIN, at("2026-09-30 12:00", "Europe/Berlin"), response_hours=48),
        case(BERLIN, at("2026-09-20 09:00", "Europe/Berlin")),  # open
        case(BERLIN, at("2026-09-21 09:00", "Europe/Berlin")),  # open
        # raised in August, answered in September: not September's
        case(BERLIN, at("2026-08-31 23:00", "Europe/Berlin"), response_hours=2),
        # resolution time is not response time: responded after 3 h, resolved after 100 h
        case(BERLIN, at("2026-09-10 09:00", "Europe/Berlin"), response_hours=3, resolve_hours=100),
        # feedback cases are feedback_handling's, not response_time's
        case(BERLIN, at("2026-09-10 09:00", "Europe/Berlin"), response_hours=90, kind="feedback"),
    )
    result = compute(engine, example_config)["response_time"]
    # answered: 1 2 3 4 48 -> median 3; p90 at (5 - 1) * 0.9 = 3.6: 4 + 0.6 * (48 - 4) = 30.4
    assert result.value == pytest.approx(3.0)
    assert result.details == {
        "cases": 7,
        "open_cases": 2,
        "median_hours": pytest.approx(3.0),
        "p90_hours": pytest.approx(30.4),
        "mean_hours": pytest.approx(58 / 5),  # (1 + 2 + 3 + 4 + 48) / 5
        "within_hours": 4,
        # within 4 h: 1, 2, 3 and 4 -> 4 of all 7 cases, the 2 open ones included: 4 / 7 * 100
        "share_within_pct": pytest.approx(400 / 7),
    }
    assert (result.target, result.threshold, result.status) == (4, 8, "met")


def test_response_time_minutes_are_fractions_of_an_hour(engine, example_config):
    add(
        engine,
        case(BERLIN, at("2026-09-02 10:00", "Europe/Berlin"), response_hours=1.5),  # 90 minutes
        case(BERLIN, at("2026-09-02 10:00", "Europe/Berlin"), response_hours=20 / 60),  # 20 minutes
    )
    result = compute(engine, example_config)["response_time"]
    assert result.value == pytest.approx((1.5 + 1 / 3) / 2)  # median of 1.5 h and 0.333 h = 0.9167 h


def test_response_time_with_only_open_cases_has_no_value(engine, example_config):
    add(
        engine,
        case(BERLIN, at("2026-09-02 10:00", "Europe/Berlin")),
        case(BERLIN, at("2026-09-03 10:00", "Europe/Berlin")),
    )
    result = compute(engine, example_config)["response_time"]
    assert result.value is None
    assert result.status == "no_data"
    assert result.details["cases"] == 2
    assert result.details["open_cases"] == 2
    assert result.details["median_hours"] is None
    assert result.details["p90_hours"] is None
    assert result.details["share_within_pct"] == 0.0  # 0 of 2 cases answered within 4 h


def test_response_time_team_alert_threshold(engine, example_config):
    for team in ("beijing_service", "shanghai_ops"):
        add(engine, case(team, at("2026-09-02 10:00", "Asia/Shanghai"), response_hours=7))
    beijing = compute(engine, example_config, team="beijing_service")["response_time"]
    shanghai = compute(engine, example_config, team="shanghai_ops")["response_time"]
    assert beijing.value == shanghai.value == pytest.approx(7.0)
    # 7 h is past Beijing's own threshold of 6 h, but not the default 8 h
    assert (beijing.threshold, beijing.status) == (6, "breach")
    assert (shanghai.threshold, shanghai.status) == (8, "missed")


def test_feedback_handling_runs_to_resolution(engine, example_config):
    add(
        engine,
        case(
            BERLIN,
            at("2026-09-01 09:00", "Europe/Berlin"),
            response_hours=1,
            resolve_hours=24,
            kind="feedback",
        ),
        case(
            BERLIN,
            at("2026-09-02 09:00", "Europe/Berlin"),
            response_hours=1,
            resolve_hours=48,
            kind="feedback",
        ),
        case(
            BERLIN,
            at("2026-09-03 09:00", "Europe/Berlin"),
            response_hours=2,
            resolve_hours=72,
            kind="feedback",
        ),
        case(BERLIN, at("2026-09-04 09:00", "Europe/Berlin"), resolve_hours=30, kind="feedback"),
        case(BERLIN, at("2026-09-05 09:00", "Europe/Berlin"), response_hours=1, kind="feedback"),  # unresolved
        # an after-sales case is response_time's, not feedback_handling's
        case(BERLIN, at("2026-09-05 09:00", "Europe/Berlin"), response_hours=1, resolve_hours=1),
    )
    result = compute(engine, example_config)["feedback_handling"]
    # resolved after 24 30 48 72 h: median (30 + 48) / 2 = 39; p90 at 3 * 0.9 = 2.7: 48 + 0.7 * 24 = 64.8
    assert result.value == pytest.approx(39.0)
    assert result.details["p90_hours"] == pytest.approx(64.8)
    assert result.details["cases"] == 5
    assert result.details["open_cases"] == 1  # responded to, but not resolved
    # within 48 h: 24, 30 and 48 -> 3 of 5: 3 / 5 * 100 = 60
    assert result.details["share_within_pct"] == pytest.approx(60.0)
    assert (result.target, result.status) == (48, "met")


def test_case_duration_statistics_mean_p90_and_share_within(engine):
    def change(raw):
        for key, statistic in (("rt_mean", "mean"), ("rt_p90", "p90"), ("rt_within", "share_within")):
            raw["kpis"].append(
                {
                    "key": key,
                    "name": {"en": key, "zh": key},
                    "group": "service",
                    "unit": "h",
                    "better": "higher" if statistic == "share_within" else "lower",
                    "formula": {
                        "kind": "case_duration",
                        "case_kind": "after_sales",
                        "until": "first_response",
                        "statistic": statistic,
                        "within_hours": 2,
                    },
                }
            )

    config = custom_config(change)
    raised = at("2026-09-02 10:00", "Europe/Berlin")
    add(engine, *[case(BERLIN, raised, response_hours=value) for value in (1, 3, 6)], case(BERLIN, raised))
    results = compute(engine, config)
    assert results["rt_mean"].value == pytest.approx(10 / 3)  # (1 + 3 + 6) / 3
    assert results["rt_p90"].value == pytest.approx(5.4)  # position 2 * 0.9 = 1.8: 3 + 0.8 * (6 - 3)
    assert results["rt_within"].value == pytest.approx(25.0)  # within 2 h: only 1 h, of 4 cases: 1 / 4 * 100
    # response_time (within 4 h) and rt_* (within 2 h) share one query; each keeps its own limit
    assert results["response_time"].details["share_within_pct"] == pytest.approx(50.0)  # 1 h, 3 h of 4
    assert results["rt_mean"].status == "info"  # no target


# --- Cost control ---------------------------------------------------------------------------------


def test_production_cost_rate(engine, example_config):
    add(
        engine,
        *measures(BERLIN, date(2026, 9, 1), production_cost=30000, production_value=40000),
        *measures(BERLIN, date(2026, 9, 30), production_cost=40000, production_value=60000),
    )
    result = compute(engine, example_config)["production_cost_rate"]
    assert result.value == pytest.approx(70.0)  # (30000 + 40000) / (40000 + 60000) * 100
    assert result.status == "met"  # lower is better, 70 <= target 70


def test_labor_cost_rate(engine, example_config):
    add(
        engine,
        *measures(BERLIN, date(2026, 9, 1), labor_cost=30000, operating_revenue=80000),
        *measures(BERLIN, date(2026, 9, 15), labor_cost=32000, operating_revenue=120000),
    )
    result = compute(engine, example_config)["labor_cost_rate"]
    assert result.value == pytest.approx(31.0)  # (30000 + 32000) / (80000 + 120000) * 100
    assert result.status == "breach"  # above the alert threshold 30


def test_inventory_turnover_divides_by_the_mean_inventory(engine, example_config):
    add(
        engine,
        *measures(BERLIN, date(2026, 9, 1), cogs=50000, inventory=70000),
        *measures(BERLIN, date(2026, 9, 15), cogs=30000, inventory=110000),
        *measures(BERLIN, date(2026, 9, 30), inventory=120000),
    )
    result = compute(engine, example_config)["inventory_turnover"]
    # (50000 + 30000) / ((70000 + 110000 + 120000) / 3) = 80000 / 100000 = 0.8
    assert result.value == pytest.approx(0.8)
    assert result.details["denominator"] == pytest.approx(100000)
    assert result.n == 5  # 2 cogs rows + 3 inventory rows
    assert (result.target, result.status) == (0.8, "met")  # the monthly target


@pytest.mark.parametrize(
    ("label", "target", "status"),
    [
        # the week 2026-W38 (14-20 September) holds one row: 30000 / 110000 = 0.2727
        pytest.param("2026-W38", 0.2, "met", id="week"),
        pytest.param("2026-09", 0.8, "met", id="month"),  # 0.8 as above
        pytest.param("2026-Q3", 2.5, "missed", id="quarter"),  # the same 0.8 over the quarter
    ],
)
def test_inventory_turnover_target_per_period_kind(engine, example_config, label, target, status):
    add(
        engine,
        *measures(BERLIN, date(2026, 9, 1), cogs=50000, inventory=70000),
        *measures(BERLIN, date(2026, 9, 15), cogs=30000, inventory=110000),
        *measures(BERLIN, date(2026, 9, 30), inventory=120000),
    )
    result = compute(engine, example_config, label)["inventory_turnover"]
    assert result.target == target
    assert result.status == status


def test_opex_share(engine, example_config):
    add(
        engine,
        *measures(BERLIN, date(2026, 9, 1), operating_cost=10000, total_cost=50000),
        *measures(BERLIN, date(2026, 9, 15), operating_cost=26000, total_cost=70000),
    )
    result = compute(engine, example_config)["opex_share"]
    assert result.value == pytest.approx(30.0)  # (10000 + 26000) / (50000 + 70000) * 100
    assert result.status == "met"  # 30 <= target 30


@pytest.mark.parametrize(
    ("costs", "budgets", "variance", "status"),
    [
        # (52000 + 53000 - (50000 + 50000)) / (50000 + 50000) * 100 = 5: at the threshold, not past it
        pytest.param((52000, 53000), (50000, 50000), 5.0, "missed", id="5-over-budget"),
        # (56000 + 50000 - 100000) / 100000 * 100 = 6
        pytest.param((56000, 50000), (50000, 50000), 6.0, "breach", id="6-over-budget"),
        # (45000 + 50000 - 100000) / 100000 * 100 = -5
        pytest.param((45000, 50000), (50000, 50000), -5.0, "met", id="under-budget-is-negative"),
        # (50000 + 50000 - 100000) / 100000 * 100 = 0
        pytest.param((50000, 50000), (50000, 50000), 0.0, "met", id="on-budget"),
    ],
)
def test_budget_variance(engine, example_config, costs, budgets, variance, status):
    add(
        engine,
        *measures(BERLIN, date(2026, 9, 1), operating_cost=costs[0], operating_budget=budgets[0]),
        *measures(BERLIN, date(2026, 9, 15), operating_cost=costs[1], operating_budget=budgets[1]),
    )
    result = compute(engine, example_config)["budget_variance"]
    assert result.value == pytest.approx(variance)
    assert result.status == status
    assert result.n == 4  # operating_budget appears on both sides but its 2 rows count once


# --- Efficiency -----------------------------------------------------------------------------------


def test_output_per_head_divides_by_mean_headcount(engine, example_config):
    add(
        engine,
        *measures(BERLIN, date(2026, 9, 7), output=25000, headcount=4),
        *measures(BERLIN, date(2026, 9, 14), output=25000, headcount=5),
        *measures(BERLIN, date(2026, 9, 21), output=20000, headcount=5),
        *measures(BERLIN, date(2026, 9, 28), output=30000, headcount=6),
    )
    result = compute(engine, example_config)["output_per_head"]
    # (25000 + 25000 + 20000 + 30000) / ((4 + 5 + 5 + 6) / 4) = 100000 / 5 = 20000
    assert result.value == pytest.approx(20000)
    assert (result.target, result.status) == (21000, "missed")  # the monthly target


def test_productivity_growth_vs_previous_period(engine, example_config):
    add(
        engine,
        *measures(BERLIN, date(2026, 8, 3), output=40000),
        *measures(BERLIN, date(2026, 8, 31), output=60000),
        *measures(BERLIN, date(2026, 9, 1), output=50000),
        *measures(BERLIN, date(2026, 9, 30), output=60000),
        *measures(BERLIN, date(2025, 9, 15), output=1),  # a year ago: irrelevant
    )
    result = compute(engine, example_config)["productivity_growth"]
    # August 40000 + 60000 = 100000, September 50000 + 60000 = 110000: (110000 - 100000) / 100000 * 100
    assert result.value == pytest.approx(10.0)
    assert result.details == {"current": pytest.approx(110000), "previous": pytest.approx(100000)}
    assert result.status == "met"  # target 2


def test_productivity_decline_is_negative(engine, example_config):
    add(
        engine,
        *measures(BERLIN, date(2026, 8, 10), output=80000),
        *measures(BERLIN, date(2026, 9, 10), output=60000),
    )
    result = compute(engine, example_config)["productivity_growth"]
    assert result.value == pytest.approx(-25.0)  # (60000 - 80000) / 80000 * 100
    assert result.status == "missed"


def test_productivity_growth_across_the_year_end_week(engine, example_config):
    add(
        engine,
        *measures(BERLIN, date(2025, 12, 28), output=20000),  # Sunday of 2025-W52
        *measures(BERLIN, date(2025, 12, 29), output=21000),  # Monday of 2026-W01
    )
    result = compute(engine, example_config, "2026-W01")["productivity_growth"]
    assert result.value == pytest.approx(5.0)  # (21000 - 20000) / 20000 * 100


def test_productivity_growth_without_a_previous_period_is_no_data(engine, example_config):
    add(engine, *measures(BERLIN, date(2026, 9, 10), output=60000))
    result = compute(engine, example_config)["productivity_growth"]
    assert result.value is None
    assert result.status == "no_data"
    assert result.details == {"current": pytest.approx(60000), "previous": None}


def test_resource_utilization(engine, example_config):
    add(
        engine,
        *measures(BERLIN, date(2026, 9, 7), actual_capacity=80, design_capacity=100),
        *measures(BERLIN, date(2026, 9, 14), actual_capacity=90, design_capacity=100),
        *measures(BERLIN, date(2026, 9, 21), actual_capacity=85, design_capacity=100),
        *measures(BERLIN, date(2026, 9, 28), actual_capacity=85, design_capacity=100),
    )
    result = compute(engine, example_config)["resource_utilization"]
    assert result.value == pytest.approx(85.0)  # (80 + 90 + 85 + 85) / (4 * 100) * 100 = 340 / 400 * 100
    assert result.status == "met"


def test_resource_utilization_below_alert_threshold(engine, example_config):
    add(engine, *measures(BERLIN, date(2026, 9, 7), actual_capacity=130, design_capacity=200))
    result = compute(engine, example_config)["resource_utilization"]
    assert result.value == pytest.approx(65.0)  # 130 / 200 * 100
    assert result.status == "breach"  # below 70


# --- Projects -------------------------------------------------------------------------------------


def _september_milestones():
    return [
        milestone(BERLIN, date(2026, 9, 10), date(2026, 9, 8), budget=100, actual_cost=90, name="A"),  # early
        milestone(BERLIN, date(2026, 9, 15), date(2026, 9, 15), budget=200, actual_cost=230, name="B"),  # on time
        milestone(BERLIN, date(2026, 9, 20), date(2026, 9, 23), budget=100, name="C"),  # 3 days late, no cost
        milestone(BERLIN, date(2026, 9, 25), name="D"),  # not completed
        milestone(BERLIN, date(2026, 9, 30), date(2026, 10, 7), actual_cost=50, name="E"),  # 7 late, no budget
        # due in October, done in September: October's
        milestone(BERLIN, date(2026, 10, 2), date(2026, 9, 30), budget=1000, actual_cost=5000, name="F"),
        # due in August, done in September: August's
        milestone(BERLIN, date(2026, 8, 31), date(2026, 9, 20), budget=10, actual_cost=1000, name="G"),
        milestone("shanghai_ops", date(2026, 9, 10), date(2026, 9, 30), budget=1, actual_cost=9, name="H"),
    ]


def test_milestone_on_time_counts_by_due_date(engine, example_config):
    add(engine, *_september_milestones())
    result = compute(engine, example_config)["milestone_on_time"]
    # due in September: A B C D E; completed on or before the due date: A B -> 2 / 5 * 100 = 40
    assert result.value == pytest.approx(40.0)
    assert result.n == 5
    assert result.details["due"] == 5
    assert result.details["completed"] == 4  # A B C E
    assert result.details["on_time"] == 2
    assert result.status == "breach"  # below 75


def test_schedule_slip_is_mean_days_late_of_completed_milestones(engine, example_config):
    add(engine, *_september_milestones())
    result = compute(engine, example_config)["schedule_slip"]
    # completed: A (early: 0), B (on time: 0), C (3 late), E (7 late); D is open -> (0 + 0 + 3 + 7) / 4
    assert result.value == pytest.approx(2.5)
    assert result.n == 4
    assert (result.target, result.status) == (2, "missed")


def test_project_cost_variance_over_milestones_with_costs(engine, example_config):
    add(engine, *_september_milestones())
    result = compute(engine, example_config)["project_cost_variance"]
    # with both a budget and an actual cost: A and B -> ((90 + 230) - (100 + 200)) / (100 + 200) * 100
    assert result.value == pytest.approx(20 / 3)
    assert result.n == 2
    assert result.details["budget"] == pytest.approx(300)
    assert result.details["actual_cost"] == pytest.approx(320)
    assert result.status == "missed"  # above target 0, below threshold 10


def test_october_milestones(engine, example_config):
    add(engine, *_september_milestones())
    results = compute(engine, example_config, "2026-10")
    # only F: due 2 October, done 30 September (early)
    assert results["milestone_on_time"].value == pytest.approx(100.0)  # 1 / 1 * 100
    assert results["schedule_slip"].value == 0.0
    assert results["project_cost_variance"].value == pytest.approx(400.0)  # (5000 - 1000) / 1000 * 100
    assert results["project_cost_variance"].status == "breach"


def test_milestones_without_completions(engine, example_config):
    add(
        engine,
        milestone(BERLIN, date(2026, 9, 10), budget=100, name="A"),
        milestone(BERLIN, date(2026, 9, 20), name="B"),
    )
    results = compute(engine, example_config)
    assert results["milestone_on_time"].value == 0.0  # 0 / 2: due and not done is not on time
    assert results["milestone_on_time"].status == "breach"
    assert results["schedule_slip"].value is None  # no completed milestone to average
    assert results["schedule_slip"].status == "no_data"
    assert results["project_cost_variance"].value is None  # no actual cost yet
    assert results["project_cost_variance"].status == "no_data"


def test_project_under_budget(engine, example_config):
    add(
        engine,
        milestone(BERLIN, date(2026, 9, 10), date(2026, 9, 12), budget=400, actual_cost=300, name="A"),
        milestone(BERLIN, date(2026, 9, 20), date(2026, 9, 21), budget=600, actual_cost=600, name="B"),
    )
    results = compute(engine, example_config)
    assert results["project_cost_variance"].value == pytest.approx(-10.0)  # (900 - 1000) / 1000 * 100
    assert results["project_cost_variance"].status == "met"
    assert results["schedule_slip"].value == pytest.approx(1.5)  # (2 + 1) / 2
    assert results["schedule_slip"].status == "met"


# --- Investment and finance -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("returns", "cost", "roi", "status"),
    [
        # (60000 + 55000 - 100000) / 100000 * 100 = 15
        pytest.param((60000, 55000), 100000, 15.0, "met", id="on-target"),
        # (40000 + 40000 - 100000) / 100000 * 100 = -20
        pytest.param((40000, 40000), 100000, -20.0, "missed", id="a-loss"),
    ],
)
def test_roi(engine, example_config, returns, cost, roi, status):
    add(
        engine,
        *measures(BERLIN, date(2026, 9, 1), investment_return=returns[0], investment_cost=cost),
        *measures(BERLIN, date(2026, 9, 30), investment_return=returns[1]),
    )
    result = compute(engine, example_config)["roi"]
    assert result.value == pytest.approx(roi)
    assert result.status == status


def test_debt_to_asset_uses_the_latest_dated_values(engine, example_config):
    add(  # stored newest first, so the insertion order cannot pass for the date order
        engine,
        *measures(BERLIN, date(2026, 9, 30), liabilities=450, assets=900),
        *measures(BERLIN, date(2026, 9, 1), liabilities=800, assets=1000),
        *measures(BERLIN, date(2026, 9, 15), liabilities=700, assets=1000),
        *measures(BERLIN, date(2026, 10, 1), liabilities=10, assets=1000),  # October
    )
    result = compute(engine, example_config)["debt_to_asset"]
    # last values of September: 450 / 900 * 100 = 50 (the mean would be 650 / 966.7 = 67.2)
    assert result.value == pytest.approx(50.0)
    assert result.details == {"numerator": pytest.approx(450), "denominator": pytest.approx(900)}
    assert result.n == 6
    assert (result.target, result.status) == (None, "met")  # inside the band 30-60


@pytest.mark.parametrize(
    ("liabilities", "assets", "ratio", "status"),
    [
        pytest.param(300, 1000, 30.0, "met", id="low-edge-of-band"),
        pytest.param(600, 1000, 60.0, "met", id="high-edge-of-band"),
        pytest.param(200, 1000, 20.0, "missed", id="below-band"),
        pytest.param(650, 1000, 65.0, "missed", id="above-band"),
        pytest.param(700, 1000, 70.0, "missed", id="at-alert-threshold"),
        pytest.param(750, 1000, 75.0, "breach", id="past-alert-threshold"),
    ],
)
def test_debt_to_asset_band(engine, example_config, liabilities, assets, ratio, status):
    add(engine, *measures(BERLIN, date(2026, 9, 30), liabilities=liabilities, assets=assets))
    result = compute(engine, example_config)["debt_to_asset"]
    assert result.value == pytest.approx(ratio)
    assert result.status == status


def _sales_history(team: str, q3_2026: tuple[float, float, float]):
    return [
        *measures(team, date(2025, 9, 30), sales=2_750_000),  # 2025-Q3
        *measures(team, date(2026, 6, 30), sales=3_000_000),  # 2026-Q2
        *measures(team, date(2026, 7, 15), sales=q3_2026[0]),
        *measures(team, date(2026, 8, 15), sales=q3_2026[1]),
        *measures(team, date(2026, 9, 15), sales=q3_2026[2]),
        *measures(team, date(2026, 10, 1), sales=5_000_000),  # 2026-Q4
    ]


def test_sales_sum_and_growth_vs_previous_and_year_ago(engine, example_config):
    add(engine, *_sales_history(BERLIN, (1_000_000, 1_100_000, 1_200_000)))
    result = compute(engine, example_config, "2026-Q3")["sales"]
    assert result.value == pytest.approx(3_300_000)  # 1000000 + 1100000 + 1200000
    assert result.n == 3
    # vs 2026-Q2: (3300000 - 3000000) / 3000000 * 100 = 10
    assert result.details["growth_vs_previous_pct"] == pytest.approx(10.0)
    # vs 2025-Q3: (3300000 - 2750000) / 2750000 * 100 = 20
    assert result.details["growth_vs_year_ago_pct"] == pytest.approx(20.0)
    assert (result.target, result.status) == (2_300_000, "met")  # Berlin's own quarterly target


def test_sales_default_target_applies_to_other_teams(engine, example_config):
    add(engine, *_sales_history("shanghai_ops", (900_000, 1_000_000, 1_000_000)))
    result = compute(engine, example_config, "2026-Q3", team="shanghai_ops")["sales"]
    assert result.value == pytest.approx(2_900_000)  # 900000 + 1000000 + 1000000
    # 2900000 would meet Berlin's 2300000, but Shanghai has the default 3000000
    assert (result.target, result.status) == (3_000_000, "missed")
    assert result.details["growth_vs_previous_pct"] == pytest.approx(-100 / 30)  # -100000 / 3000000 * 100


@pytest.mark.parametrize(
    ("team", "label", "target"),
    [
        pytest.param(BERLIN, "2026-W38", 180_000, id="berlin-week"),
        pytest.param(BERLIN, "2026-09", 780_000, id="berlin-month"),
        pytest.param(BERLIN, "2026-Q3", 2_300_000, id="berlin-quarter"),
        pytest.param("shanghai_ops", "2026-W38", 230_000, id="default-week"),
        pytest.param("shanghai_ops", "2026-09", 1_000_000, id="default-month"),
        pytest.param("shanghai_ops", "2026-Q3", 3_000_000, id="default-quarter"),
    ],
)
def test_sales_target_per_team_and_period_kind(engine, example_config, team, label, target):
    add(engine, *measures(team, date(2026, 9, 15), sales=200_000))  # Tuesday of 2026-W38
    result = compute(engine, example_config, label, team=team)["sales"]
    assert result.value == pytest.approx(200_000)
    assert result.target == target
    assert result.status == ("met" if target <= 200_000 else "missed")


def test_sales_growth_without_earlier_data_is_none(engine, example_config):
    add(engine, *measures(BERLIN, date(2026, 9, 15), sales=200_000))
    result = compute(engine, example_config, "2026-W38")["sales"]
    assert result.details["growth_vs_previous_pct"] is None
    assert result.details["growth_vs_year_ago_pct"] is None
    assert result.status == "met"  # growth is a detail: the KPI itself has data


def test_weekly_sales_growth_year_ago_of_week_53(engine, example_config):
    add(
        engine,
        *measures(BERLIN, date(2025, 12, 24), sales=100_000),  # 2025-W52 (the year before has no W53)
        *measures(BERLIN, date(2026, 12, 21), sales=200_000),  # 2026-W52
        *measures(BERLIN, date(2027, 1, 3), sales=150_000),  # Sunday of 2026-W53
    )
    result = compute(engine, example_config, "2026-W53")["sales"]
    assert result.value == pytest.approx(150_000)
    assert result.details["growth_vs_previous_pct"] == pytest.approx(-25.0)  # (150000 - 200000) / 200000
    assert result.details["growth_vs_year_ago_pct"] == pytest.approx(50.0)  # (150000 - 100000) / 100000


# --- No data, zero denominators, statuses --------------------------------------------------------


@pytest.mark.parametrize("label", ["2026-W40", SEPTEMBER, "2026-Q3"])
def test_no_data_is_none_and_no_data_for_every_kpi_and_team(engine, example_config, label):
    add(engine, *measures(BERLIN, date(2025, 1, 1), orders=10, on_time_orders=10, sales=5))  # long before
    with transaction(engine) as session:
        reports = compute_reports(session, config=example_config, period=Period.parse(label))
    assert set(reports) == {team.key for team in example_config.teams}
    for report in reports.values():
        assert list(report.results) == [kpi.key for kpi in example_config.kpis]  # config order
        for key, result in report.results.items():
            assert result.value is None, key
            assert result.status == "no_data", key
            assert result.n == 0, key
    sales = reports[BERLIN].results["sales"]
    assert sales.details["growth_vs_previous_pct"] is None
    assert sales.details["growth_vs_year_ago_pct"] is None


@pytest.mark.parametrize(
    ("key", "rows"),
    [
        pytest.param("on_time_delivery", {"orders": 0, "on_time_orders": 0}, id="on_time_delivery"),
        pytest.param("complaint_rate", {"orders": 0, "complaints": 0}, id="complaint_rate"),
        pytest.param("production_cost_rate", {"production_cost": 5, "production_value": 0}, id="production"),
        pytest.param("labor_cost_rate", {"labor_cost": 5, "operating_revenue": 0}, id="labor_cost_rate"),
        pytest.param("inventory_turnover", {"cogs": 5, "inventory": 0}, id="inventory_turnover"),
        pytest.param("opex_share", {"operating_cost": 0, "total_cost": 0}, id="opex_share"),
        pytest.param("budget_variance", {"operating_cost": 5, "operating_budget": 0}, id="budget_variance"),
        pytest.param("output_per_head", {"output": 5, "headcount": 0}, id="output_per_head"),
        pytest.param("resource_utilization", {"actual_capacity": 0, "design_capacity": 0}, id="utilization"),
        pytest.param("roi", {"investment_return": 5, "investment_cost": 0}, id="roi"),
        pytest.param("debt_to_asset", {"liabilities": 5, "assets": 0}, id="debt_to_asset"),
    ],
)
def test_zero_denominator_is_no_data(engine, example_config, key, rows):
    add(engine, *measures(BERLIN, date(2026, 9, 10), **rows))
    result = compute(engine, example_config)[key]
    assert result.value is None
    assert result.status == "no_data"


def test_growth_from_zero_is_no_data(engine, example_config):
    add(
        engine,
        *measures(BERLIN, date(2026, 8, 10), output=0, sales=0),
        *measures(BERLIN, date(2026, 9, 10), output=100, sales=100),
    )
    results = compute(engine, example_config)
    assert results["productivity_growth"].value is None
    assert results["productivity_growth"].status == "no_data"
    assert results["sales"].details["growth_vs_previous_pct"] is None


def test_project_cost_variance_with_zero_budget_is_no_data(engine, example_config):
    add(engine, milestone(BERLIN, date(2026, 9, 10), date(2026, 9, 10), budget=0, actual_cost=100))
    result = compute(engine, example_config)["project_cost_variance"]
    assert result.value is None
    assert result.status == "no_data"


def test_ratio_with_only_a_denominator_is_no_data(engine, example_config):
    add(engine, *measures(BERLIN, date(2026, 9, 10), orders=100))  # on_time_orders and complaints missing
    results = compute(engine, example_config)
    for key in ("on_time_delivery", "complaint_rate"):
        assert results[key].value is None
        assert results[key].status == "no_data"


def test_kpi_without_target_is_info(engine):
    def change(raw):
        del kpi_entry(raw, "opex_share")["target"]

    config = custom_config(change)
    add(engine, *measures(BERLIN, date(2026, 9, 10), operating_cost=25, total_cost=100))
    result = compute(engine, config)["opex_share"]
    assert result.value == pytest.approx(25.0)
    assert (result.target, result.status) == (None, "info")


@pytest.mark.parametrize(
    ("key", "value", "status"),
    [
        # higher is better: target 95, alert below 90
        pytest.param("on_time_delivery", 96, "met", id="higher-above-target"),
        pytest.param("on_time_delivery", 95, "met", id="higher-on-target"),
        pytest.param("on_time_delivery", 94.9, "missed", id="higher-below-target"),
        pytest.param("on_time_delivery", 90, "missed", id="higher-at-threshold"),
        pytest.param("on_time_delivery", 89.9, "breach", id="higher-past-threshold"),
        # lower is better: target 4 h, alert above 8 h
        pytest.param("response_time", 0, "met", id="lower-zero"),
        pytest.param("response_time", 4, "met", id="lower-on-target"),
        pytest.param("response_time", 4.1, "missed", id="lower-above-target"),
        pytest.param("response_time", 8, "missed", id="lower-at-threshold"),
        pytest.param("response_time", 8.1, "breach", id="lower-past-threshold"),
        # signed, lower is better: target 0, alert above 5
        pytest.param("budget_variance", -3, "met", id="signed-negative"),
        pytest.param("budget_variance", 0.5, "missed", id="signed-above-target"),
        pytest.param("budget_variance", 5.5, "breach", id="signed-past-threshold"),
        # band 30-60, alert above 70
        pytest.param("debt_to_asset", 29.9, "missed", id="band-below"),
        pytest.param("debt_to_asset", 45, "met", id="band-inside"),
        pytest.param("debt_to_asset", 60.1, "missed", id="band-above"),
        pytest.param("debt_to_asset", 70.1, "breach", id="band-past-threshold"),
        # opex_share has a target (30) but no alert threshold
        pytest.param("opex_share", 99, "missed", id="no-alert-never-breaches"),
    ],
)
def test_status_of(example_config, key, value, status):
    kpi = example_config.kpi_by_key[key]
    target = kpi.target_for(BERLIN, Period.parse(SEPTEMBER).kind)
    threshold = kpi.alert_threshold_for(BERLIN)
    assert status_of(kpi, value, target=target, threshold=threshold) == status


@pytest.mark.parametrize("key", sorted(COVERED))
def test_status_of_none_is_no_data(example_config, key):
    kpi = example_config.kpi_by_key[key]
    assert status_of(kpi, None, target=1, threshold=1) == "no_data"


def test_status_of_without_target_is_info(example_config):
    kpi = example_config.kpi_by_key["opex_share"]
    assert status_of(kpi, 25, target=None, threshold=None) == "info"
    # a breach still shows without a target
    kpi = example_config.kpi_by_key["response_time"]
    assert status_of(kpi, 9, target=None, threshold=8) == "breach"


def test_several_teams_in_one_call_keep_their_own_data(engine, example_config):
    add(
        engine,
        *measures(BERLIN, date(2026, 9, 10), orders=100, on_time_orders=99),
        *measures("shanghai_ops", date(2026, 9, 10), orders=100, on_time_orders=80),
        case(BERLIN, at("2026-09-10 10:00", "Europe/Berlin"), response_hours=2),
        case("shanghai_ops", at("2026-09-10 10:00", "Asia/Shanghai"), response_hours=10),
        case("beijing_service", at("2026-09-10 10:00", "Asia/Shanghai"), response_hours=5),
        *surveys("newyork_delivery", at("2026-09-10 10:00", "America/New_York"), 3),
        # "last" values are the latest per team, not the latest of all teams
        *measures(BERLIN, date(2026, 9, 20), liabilities=400, assets=1000),
        *measures("shanghai_ops", date(2026, 9, 10), liabilities=500, assets=1000),
        *measures("shanghai_ops", date(2026, 9, 5), liabilities=900, assets=1000),
    )
    with transaction(engine) as session:
        reports = compute_reports(session, config=example_config, period=Period.parse(SEPTEMBER))
    results = {team: report.results for team, report in reports.items()}
    assert results[BERLIN]["on_time_delivery"].value == pytest.approx(99.0)
    assert results["shanghai_ops"]["on_time_delivery"].value == pytest.approx(80.0)
    assert results["beijing_service"]["on_time_delivery"].value is None
    assert results[BERLIN]["response_time"].value == pytest.approx(2.0)
    assert results["shanghai_ops"]["response_time"].value == pytest.approx(10.0)
    assert results["beijing_service"]["response_time"].value == pytest.approx(5.0)
    assert results["newyork_delivery"]["response_time"].value is None
    assert results["newyork_delivery"]["csat"].value == pytest.approx(3.0)
    assert results[BERLIN]["csat"].value is None
    assert results[BERLIN]["debt_to_asset"].value == pytest.approx(40.0)  # 400 / 1000 * 100
    assert results["shanghai_ops"]["debt_to_asset"].value == pytest.approx(50.0)  # 500 / 1000 * 100, 10 Sep


def test_percentiles_per_team_within_one_time_zone(engine, example_config):
    # shanghai_ops and beijing_service share Asia/Shanghai, so one query ranks both teams' cases
    raised = at("2026-09-10 10:00", "Asia/Shanghai")
    add(
        engine,
        *[case("shanghai_ops", raised, response_hours=hours) for hours in (10, 1, 3, 2)],
        *[case("beijing_service", raised, response_hours=hours) for hours in (7, 5)],
        case("beijing_service", raised),  # open
    )
    with transaction(engine) as session:
        reports = compute_reports(
            session,
            config=example_config,
            period=Period.parse(SEPTEMBER),
            teams=["shanghai_ops", "beijing_service"],
        )
    shanghai = reports["shanghai_ops"].results["response_time"]
    beijing = reports["beijing_service"].results["response_time"]
    # shanghai 1 2 3 10: median (2 + 3) / 2 = 2.5; p90 at 2.7: 3 + 0.7 * (10 - 3) = 7.9
    assert shanghai.value == pytest.approx(2.5)
    assert shanghai.details["p90_hours"] == pytest.approx(7.9)
    assert shanghai.details["open_cases"] == 0
    # beijing 5 7: median (5 + 7) / 2 = 6; p90 at 0.9: 5 + 0.9 * (7 - 5) = 6.8
    assert beijing.value == pytest.approx(6.0)
    assert beijing.details["p90_hours"] == pytest.approx(6.8)
    assert beijing.details["open_cases"] == 1
    # within 4 h: shanghai 1 2 3 of 4 -> 75 %; beijing none of 3 -> 0 %
    assert shanghai.details["share_within_pct"] == pytest.approx(75.0)
    assert beijing.details["share_within_pct"] == 0.0
    # beijing: a median of 6 h is at its own 6 h threshold, not past it
    assert (beijing.threshold, beijing.status) == (6, "missed")
