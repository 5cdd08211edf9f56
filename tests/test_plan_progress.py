"""Loading a team's year to date (kpi_core/plan_progress.py) on both backends: months cut in each team's
time zone, last year's months read for the seasonal method, the plan taken from kpi_core.annual_plan."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from kpi_core.annual_plan import plan_target
from kpi_core.config import Config, parse_config
from kpi_core.db import transaction
from kpi_core.errors import ConfigError
from kpi_core.kpis import compute_reports
from kpi_core.periods import Period
from kpi_core.plan_progress import scorecard_items, year_to_date
from tests import factories
from tests.factories import at


def _items(engine: sa.Engine, config: Config, teams: list[str], as_of: str) -> dict[str, dict]:
    with transaction(engine) as session:
        progress = year_to_date(session, config=config, teams=teams, as_of=Period.parse(as_of))
    return {team: {item.kpi: item for item in found.items} for team, found in progress.items()}


def test_months_are_cut_in_each_teams_time_zone(engine: sa.Engine, example_config: Config) -> None:
    # 2026-08-31 17:00 UTC is already September 1st in Shanghai, still August 31st in Berlin
    late = at("2026-08-31 17:00")
    factories.add(
        engine,
        *factories.surveys("shanghai_ops", at("2026-08-10 04:00"), 5),
        *factories.surveys("shanghai_ops", late, 1),
        *factories.surveys("berlin_ops", at("2026-08-10 10:00"), 5),
        *factories.surveys("berlin_ops", late, 1),
    )
    items = _items(engine, example_config, ["shanghai_ops", "berlin_ops"], "2026-08")
    assert items["shanghai_ops"]["csat"].ytd == 5.0
    assert items["berlin_ops"]["csat"].ytd == 3.0
    assert items["berlin_ops"]["csat"].months_with_data == 1


def test_the_plan_comes_from_the_annual_plan(engine: sa.Engine, example_config: Config) -> None:
    factories.add(engine, *factories.measures("shanghai_ops", date(2026, 8, 3), sales=700_000))
    sales = _items(engine, example_config, ["shanghai_ops"], "2026-08")["shanghai_ops"]["sales"]
    with transaction(engine) as session:
        expected = [
            plan_target(session, example_config, kpi="sales", period=Period.parse(label), team="shanghai_ops")
            for label in ("2026-08", "2026-Q3", "2026")
        ]
    assert expected[2] == 12_000_000  # bot/config/example.yaml plans
    assert [sales.ytd_plan, sales.quarter.plan, sales.year.plan] == expected
    assert sales.ytd == 700_000 and sales.months_with_data == 1


def test_without_a_plan_the_kpis_own_targets_are_the_plan(engine: sa.Engine, example_config: Config) -> None:
    factories.add(
        engine,
        *factories.measures("berlin_ops", date(2026, 8, 3), sales=700_000),
        *factories.surveys("berlin_ops", at("2026-08-10 10:00"), 4),
    )
    items = _items(engine, example_config, ["berlin_ops"], "2026-08")["berlin_ops"]
    sales, csat = items["sales"], items["csat"]
    # Berlin's sales: 780,000 a month, 2,300,000 a quarter; its year is the four quarters
    assert (sales.ytd_plan, sales.quarter.plan, sales.year.plan) == (780_000, 2_300_000, 9_200_000)
    # a rate's target holds for any period
    assert (csat.ytd_plan, csat.quarter.plan, csat.year.plan) == (4.2, 4.2, 4.2)


def test_last_years_twelve_months_make_the_projection_seasonal(engine: sa.Engine, example_config: Config) -> None:
    history = [
        row for month in range(1, 13) for row in factories.measures("berlin_ops", date(2025, month, 5), sales=100_000)
    ]
    factories.add(engine, *history, *factories.measures("berlin_ops", date(2026, 2, 5), sales=150_000))
    sales = _items(engine, example_config, ["berlin_ops"], "2026-02")["berlin_ops"]["sales"]
    # one month with data at 1.5 times last February: the other eleven of last year's months likewise
    assert sales.method == "seasonal"
    assert sales.year.projected == pytest.approx(150_000 * 12)


def test_every_scorecard_item_once_in_scheme_order(example_config: Config) -> None:
    keys = [kpi.key for kpi, _ in scorecard_items(example_config)]
    assert keys == ["sales", "csat", "response_time", "budget_variance", "milestone_on_time", "complaint_rate"]


def test_a_year_to_date_runs_to_a_month(engine: sa.Engine, example_config: Config) -> None:
    with transaction(engine) as session, pytest.raises(ValueError, match="end of a month"):
        year_to_date(session, config=example_config, teams=["berlin_ops"], as_of=Period.parse("2026-Q3"))


def test_the_at_risk_tolerance_is_configurable_and_checked(example_config: Config) -> None:
    raw = example_config.model_dump(mode="json", exclude_defaults=True)
    assert parse_config({**raw, "projection": {"at_risk_within_pct": 10}}).projection.at_risk_within_pct == 10
    with pytest.raises(ConfigError, match="projection.at_risk_within_pct"):
        parse_config({**raw, "projection": {"at_risk_within_pct": -1}})


def test_compute_reports_computes_only_the_kpis_asked_for(engine: sa.Engine, example_config: Config) -> None:
    factories.add(engine, *factories.measures("berlin_ops", date(2026, 8, 3), sales=700_000, orders=10))
    with transaction(engine) as session:
        reports = compute_reports(
            session, config=example_config, period=Period.parse("2026-08"), teams=["berlin_ops"], kpis={"sales", "csat"}
        )
    assert list(reports["berlin_ops"].results) == ["csat", "sales"]  # config order
    assert reports["berlin_ops"].results["sales"].value == 700_000
