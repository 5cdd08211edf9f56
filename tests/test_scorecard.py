"""Scorecards: item scores by attainment or linear band, weighted team totals, ranking with shared ranks."""

from datetime import date

import pytest

from kpi_core.config import ScorecardItem
from kpi_core.db import transaction
from kpi_core.kpis import KpiResult, TeamReport, compute_reports
from kpi_core.periods import Period, PeriodKind
from kpi_core.scorecard import item_score, score_teams
from tests.factories import add, at, case, measures, milestone, surveys

Q3 = Period.parse("2026-Q3")


def quarterly_item(config, key: str) -> ScorecardItem:
    return next(item for item in config.scorecards["quarterly"].items if item.kpi == key)


@pytest.mark.parametrize(
    ("key", "value", "target", "score"),
    [
        # higher is better: min(value / target, 1) * 100
        pytest.param("sales", 2_700_000, 3_000_000, 90.0, id="higher-below-target"),  # 2.7 / 3.0
        pytest.param("sales", 3_000_000, 3_000_000, 100.0, id="higher-on-target"),
        pytest.param("sales", 3_600_000, 3_000_000, 100.0, id="higher-above-target-is-capped"),  # 1.2 -> 1
        pytest.param("sales", 0, 3_000_000, 0.0, id="higher-zero"),
        pytest.param("csat", 3.78, 4.2, 90.0, id="higher-csat"),  # 3.78 / 4.2 = 0.9
        pytest.param("milestone_on_time", 45, 90, 50.0, id="higher-milestones"),  # 45 / 90
        # lower is better: min(target / value, 1) * 100
        pytest.param("response_time", 5, 4, 80.0, id="lower-above-target"),  # 4 / 5
        pytest.param("response_time", 16, 4, 25.0, id="lower-far-above-target"),  # 4 / 16
        pytest.param("response_time", 4, 4, 100.0, id="lower-on-target"),
        pytest.param("response_time", 2, 4, 100.0, id="lower-below-target-is-capped"),  # 4 / 2 = 2 -> 1
        pytest.param("response_time", 0, 4, 100.0, id="lower-zero-scores-full"),
    ],
)
def test_item_score_by_attainment(example_config, key, value, target, score):
    kpi = example_config.kpi_by_key[key]
    item = quarterly_item(example_config, key)
    assert item_score(kpi, item, value=value, target=target) == pytest.approx(score)


@pytest.mark.parametrize(
    ("value", "score"),
    [
        # budget_variance in the quarterly scheme: 100 points at 0 %, 0 points at 10 %, linear in between:
        # (value - zero_at) / (full_at - zero_at) * 100 = (value - 10) / (0 - 10) * 100
        pytest.param(0, 100.0, id="on-budget"),
        pytest.param(-4, 100.0, id="under-budget-is-capped"),  # (-4 - 10) / -10 = 1.4 -> 1
        pytest.param(2.5, 75.0, id="2.5-over"),  # (2.5 - 10) / -10 = 0.75
        pytest.param(5, 50.0, id="5-over"),  # (5 - 10) / -10 = 0.5
        pytest.param(10, 0.0, id="at-zero_at"),
        pytest.param(12, 0.0, id="past-zero_at-is-floored"),  # (12 - 10) / -10 = -0.2 -> 0
    ],
)
def test_item_score_linear_band(example_config, value, score):
    kpi = example_config.kpi_by_key["budget_variance"]
    item = quarterly_item(example_config, "budget_variance")
    assert (item.full_at, item.zero_at) == (0, 10)
    # the band, not the target (0, which no attainment could divide by), decides
    assert item_score(kpi, item, value=value, target=0) == pytest.approx(score)
    assert item_score(kpi, item, value=value, target=None) == pytest.approx(score)


@pytest.mark.parametrize(
    ("value", "score"),
    [
        pytest.param(-10, 0.0, id="at-zero_at"),
        pytest.param(0, 50.0, id="middle"),  # (0 - -10) / (10 - -10) = 0.5
        pytest.param(5, 75.0, id="three-quarters"),  # (5 + 10) / 20 = 0.75
        pytest.param(10, 100.0, id="at-full_at"),
        pytest.param(25, 100.0, id="past-full_at"),
    ],
)
def test_item_score_rising_band(example_config, value, score):
    kpi = example_config.kpi_by_key["productivity_growth"]
    item = ScorecardItem(kpi="productivity_growth", weight=10, full_at=10, zero_at=-10)
    assert item_score(kpi, item, value=value, target=2) == pytest.approx(score)


@pytest.mark.parametrize("key", ["sales", "csat", "response_time", "budget_variance", "milestone_on_time"])
def test_item_score_without_data_is_zero(example_config, key):
    kpi = example_config.kpi_by_key[key]
    item = quarterly_item(example_config, key)
    assert item_score(kpi, item, value=None, target=kpi.target_for("shanghai_ops", PeriodKind.QUARTER)) == 0.0


def test_item_score_without_target_is_zero(example_config):
    kpi = example_config.kpi_by_key["sales"]
    assert item_score(kpi, quarterly_item(example_config, "sales"), value=1_000_000, target=None) == 0.0


def _report(config, team: str, **values: float | None) -> TeamReport:
    """A quarterly report with the given KPI values (None for the others) and the teams' real targets."""
    results = {}
    for kpi in config.kpis:
        value = values.get(kpi.key)
        results[kpi.key] = KpiResult(
            key=kpi.key,
            value=value,
            n=0 if value is None else 1,
            target=kpi.target_for(team, PeriodKind.QUARTER),
            threshold=None,
            status="no_data" if value is None else "info",
        )
    return TeamReport(team=team, period=Q3, results=results)


def test_score_teams_weights_ranks_and_ties(example_config):
    reports = {
        report.team: report
        for report in (
            # sales 3.3M / 3M -> 100 * 40 % = 40; csat 3.78 / 4.2 -> 90 * 20 % = 18;
            # response 4 / 5 -> 80 * 15 % = 12; budget 2.5 % -> 75 * 15 % = 11.25;
            # milestones 45 / 90 -> 50 * 10 % = 5;  40 + 18 + 12 + 11.25 + 5 = 86.25
            _report(
                example_config,
                "shanghai_ops",
                sales=3_300_000,
                csat=3.78,
                response_time=5,
                budget_variance=2.5,
                milestone_on_time=45,
            ),
            # sales 2.7M / 3M -> 90 * 40 % = 36; csat 4.2 -> 20; response 4 h -> 15;
            # budget 5 % -> 50 * 15 % = 7.5; milestones 69.75 / 90 -> 77.5 * 10 % = 7.75;
            # 36 + 20 + 15 + 7.5 + 7.75 = 86.25: a tie
            _report(
                example_config,
                "beijing_service",
                sales=2_700_000,
                csat=4.2,
                response_time=4,
                budget_variance=5,
                milestone_on_time=69.75,
            ),
            # sales 1.5M / 3M -> 50 * 40 % = 20; csat 4.5 -> 20; response: no data -> 0;
            # budget -1 % -> 15; milestones 95 -> 10;  20 + 20 + 0 + 15 + 10 = 65
            _report(
                example_config,
                "newyork_delivery",
                sales=1_500_000,
                csat=4.5,
                budget_variance=-1,
                milestone_on_time=95,
            ),
            _report(example_config, "berlin_ops"),  # no data at all: 0
        )
    }
    ranking = score_teams(example_config, "quarterly", reports)
    assert [(row.team, row.score, row.rank) for row in ranking] == [
        ("beijing_service", pytest.approx(86.25), 1),  # tied teams in alphabetical order
        ("shanghai_ops", pytest.approx(86.25), 1),
        ("newyork_delivery", pytest.approx(65.0), 3),  # 1, 1, 3
        ("berlin_ops", 0.0, 4),
    ]
    newyork = ranking[2]
    assert [(item.kpi, item.weight) for item in newyork.items] == [
        ("sales", 40),
        ("csat", 20),
        ("response_time", 15),
        ("budget_variance", 15),
        ("milestone_on_time", 10),
    ]
    response = newyork.items[2]
    assert (response.value, response.target, response.score, response.points) == (None, 4, 0.0, 0.0)
    assert not response.has_data
    sales = newyork.items[0]
    assert (sales.value, sales.target) == (1_500_000, 3_000_000)
    assert sales.score == pytest.approx(50.0)
    assert sales.points == pytest.approx(20.0)
    assert sales.has_data
    assert all(not item.has_data and item.points == 0 for item in ranking[3].items)


def test_equal_scores_tie_despite_float_noise(example_config):
    reports = {
        # sales 1920000 / 3000000 -> 64 * 40 % = 25.6; csat 2.898 / 4.2 -> 69 * 20 % = 13.8;
        # response 4 / 8 -> 50 * 15 % = 7.5; budget (2.7 - 10) / -10 -> 73 * 15 % = 10.95;
        # milestones 57.6 / 90 -> 64 * 10 % = 6.4;  25.6 + 13.8 + 7.5 + 10.95 + 6.4 = 64.25
        "shanghai_ops": _report(
            example_config,
            "shanghai_ops",
            sales=1_920_000,
            csat=2.898,
            response_time=8,
            budget_variance=2.7,
            milestone_on_time=57.6,
        ),
        # sales 1290000 / 3000000 -> 43 * 40 % = 17.2; csat 2.646 / 4.2 -> 63 * 20 % = 12.6;
        # response 4 / 4 -> 15; budget (2.9 - 10) / -10 -> 71 * 15 % = 10.65;
        # milestones 79.2 / 90 -> 88 * 10 % = 8.8;  17.2 + 12.6 + 15 + 10.65 + 8.8 = 64.25
        "beijing_service": _report(
            example_config,
            "beijing_service",
            sales=1_290_000,
            csat=2.646,
            response_time=4,
            budget_variance=2.9,
            milestone_on_time=79.2,
        ),
    }
    ranking = score_teams(example_config, "quarterly", reports)
    # in floating point the two sums differ in the last bit; they must still tie
    assert [(row.team, row.rank) for row in ranking] == [("beijing_service", 1), ("shanghai_ops", 1)]
    assert ranking[0].score == ranking[1].score == pytest.approx(64.25)


def test_score_teams_three_way_tie_and_after(example_config):
    reports = {
        team: _report(example_config, team, csat=4.2, response_time=4, complaint_rate=1)
        for team in ("shanghai_ops", "beijing_service", "newyork_delivery")
    }
    # complaint_rate 3 % vs target 2 %: 2 / 3 -> 66.67 * 30 % = 20; csat 40 + response 30 -> 90
    reports["berlin_ops"] = _report(example_config, "berlin_ops", csat=4.2, response_time=4, complaint_rate=3)
    ranking = score_teams(example_config, "service_monthly", reports)
    # csat 4.2 / 4.2 -> 100 * 40 % = 40; response 4 / 4 -> 30; complaints 1 % <= 2 % -> 30: 100
    assert [(row.team, row.score, row.rank) for row in ranking] == [
        ("beijing_service", 100.0, 1),
        ("newyork_delivery", 100.0, 1),
        ("shanghai_ops", 100.0, 1),
        ("berlin_ops", pytest.approx(90.0), 4),
    ]


def test_score_teams_with_no_teams(example_config):
    assert score_teams(example_config, "quarterly", {}) == []


def test_quarterly_scorecard_end_to_end(engine, example_config):
    add(
        engine,
        # berlin_ops (Europe/Berlin), quarterly sales target 2300000
        *measures("berlin_ops", date(2026, 7, 15), sales=1_000_000, operating_cost=50_000, operating_budget=50_000),
        *measures("berlin_ops", date(2026, 9, 15), sales=1_070_000, operating_cost=53_000, operating_budget=50_000),
        *surveys("berlin_ops", at("2026-08-10 10:00", "Europe/Berlin"), 5, 4, 4, 3),
        *[case("berlin_ops", at("2026-08-03 09:00", "Europe/Berlin"), response_hours=hours) for hours in (4, 5, 6)],
        milestone("berlin_ops", date(2026, 7, 10), date(2026, 7, 10), name="A"),
        milestone("berlin_ops", date(2026, 8, 10), date(2026, 8, 1), name="B"),
        milestone("berlin_ops", date(2026, 9, 10), date(2026, 9, 9), name="C"),
        milestone("berlin_ops", date(2026, 9, 20), date(2026, 9, 25), name="D"),
        # shanghai_ops (Asia/Shanghai), default quarterly sales target 3000000; no survey answers
        *measures("shanghai_ops", date(2026, 8, 1), sales=3_300_000, operating_cost=95_000, operating_budget=100_000),
        case("shanghai_ops", at("2026-08-03 09:00", "Asia/Shanghai"), response_hours=2),
        milestone("shanghai_ops", date(2026, 8, 10), date(2026, 8, 20), name="A"),
        # outside the quarter: must not count
        *measures("shanghai_ops", date(2026, 10, 1), sales=-3_000_000),
        *surveys("shanghai_ops", at("2026-10-01 00:30", "Asia/Shanghai"), 5),
    )
    with transaction(engine) as session:
        reports = compute_reports(session, config=example_config, period=Q3)
    ranking = score_teams(example_config, "quarterly", reports)

    # berlin_ops:
    #   sales (1000000 + 1070000) / 2300000 = 0.9              -> 90      * 40 % = 36
    #   csat (5 + 4 + 4 + 3) / 4 = 4.0; 4.0 / 4.2               -> 95.238  * 20 % = 19.048 (400 / 21)
    #   response median of 4 5 6 = 5 h; 4 / 5                  -> 80      * 15 % = 12
    #   budget (103000 - 100000) / 100000 = 3 %; (3 - 10) / -10 -> 70      * 15 % = 10.5
    #   milestones on time A B C of 4 = 75 %; 75 / 90           -> 83.333  * 10 % = 8.333 (25 / 3)
    #   36 + 400 / 21 + 12 + 10.5 + 25 / 3 = 85.881
    # shanghai_ops:
    #   sales 3300000 / 3000000 -> 100 * 40 % = 40; csat: no data -> 0; response 2 h <= 4 h -> 15;
    #   budget (95000 - 100000) / 100000 = -5 % -> 15; milestones 0 of 1 on time: 0 % -> 0
    #   40 + 0 + 15 + 15 + 0 = 70
    # beijing_service and newyork_delivery: no data -> 0, sharing rank 3
    assert [(row.team, row.score, row.rank) for row in ranking] == [
        ("berlin_ops", pytest.approx(36 + 400 / 21 + 12 + 10.5 + 25 / 3), 1),
        ("shanghai_ops", pytest.approx(70.0), 2),
        ("beijing_service", 0.0, 3),
        ("newyork_delivery", 0.0, 3),
    ]
    berlin = {item.kpi: item for item in ranking[0].items}
    assert berlin["sales"].target == 2_300_000
    assert berlin["sales"].score == pytest.approx(90.0)
    assert berlin["csat"].score == pytest.approx(4.0 / 4.2 * 100)
    assert berlin["response_time"].value == pytest.approx(5.0)
    assert berlin["budget_variance"].score == pytest.approx(70.0)
    assert berlin["milestone_on_time"].value == pytest.approx(75.0)
    shanghai = {item.kpi: item for item in ranking[1].items}
    assert shanghai["sales"].value == pytest.approx(3_300_000)
    assert shanghai["csat"].value is None
    assert shanghai["csat"].points == 0.0
    assert shanghai["milestone_on_time"].value == 0.0
    assert shanghai["milestone_on_time"].has_data
