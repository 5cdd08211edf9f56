"""Annual plans: a year's target decomposed into quarters and months (even, weights, last year's shares,
the same target for a KPI that does not add up), the approved plan over the config's, on both backends."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from sqlmodel import Session

from bot.resources import EXAMPLE_CONFIG
from kpi_core.annual_plan import plan_target, year_plan
from kpi_core.config import Config, parse_config
from kpi_core.models import MeasureValue
from kpi_core.periods import Period
from kpi_core.plan_models import AnnualPlan
from tests.factories import add, at

TEAM = "shanghai_ops"
AGENT = "U0OPSSH1"


def planned(plans: dict[str, Any]) -> Config:
    raw = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    raw["plans"] = plans
    return parse_config(raw)


def target(engine: sa.Engine, config: Config, label: str, kpi: str = "sales", **where: Any) -> float | None:
    with Session(engine) as session:
        return plan_target(
            session,
            config,
            kpi=kpi,
            period=Period.parse(label),
            team=where.get("team", TEAM),
            **{key: value for key, value in where.items() if key != "team"},
        )


def monthly_sales(team: str, year: int, amounts: dict[int, float], person: str | None = None) -> list[MeasureValue]:
    """One sales value on the 15th of each month given (the amount), for ``person`` if named."""
    return [
        MeasureValue(team=team, measure="sales", on_date=date(year, month, 15), value=value, person=person)
        for month, value in amounts.items()
    ]


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        pytest.param("2027", 12_000_000, id="year"),
        pytest.param("2027-Q2", 3_000_000, id="quarter-sums-its-months"),
        pytest.param("2027-05", 1_000_000, id="month"),
        pytest.param("2027-W20", None, id="weeks-are-not-planned"),
        pytest.param("2028-05", 1_000_000, id="the-config-plans-every-year"),
    ],
)
def test_an_even_split_shares_the_year_out_in_twelfths(engine: sa.Engine, label: str, expected: float | None) -> None:
    config = planned({"sales": {"teams": {TEAM: 12_000_000}}})
    assert target(engine, config, label) == expected


def test_monthly_weights_split_the_year_and_the_months_add_up(engine: sa.Engine) -> None:
    weights = [5, 5, 10, 10, 10, 10, 5, 5, 10, 10, 10, 10]
    config = planned({"sales": {"split": "weights", "weights": weights, "teams": {TEAM: 1_000_000}}})
    with Session(engine) as session:
        plan = year_plan(session, config, kpi="sales", year=2027, team=TEAM)
    assert plan is not None and plan.method == "weights" and plan.source == "config"
    assert plan.months == (50_000, 50_000, 100_000, 100_000, 100_000, 100_000, 50_000, 50_000) + (100_000,) * 4
    assert plan.quarters() == (200_000, 300_000, 200_000, 300_000)
    assert sum(plan.months) == plan.total == 1_000_000


def test_quarterly_weights_split_each_quarter_evenly_over_its_months(engine: sa.Engine) -> None:
    config = planned({"sales": {"teams": {TEAM: {"year": 1_200_000, "split": "weights", "weights": [10, 20, 30, 40]}}}})
    assert target(engine, config, "2027-Q3") == 360_000
    assert target(engine, config, "2027-07") == 120_000
    assert target(engine, config, "2027-02") == 40_000


def test_last_years_share_follows_last_years_months_and_adds_up_to_the_cent(engine: sa.Engine) -> None:
    last_year = {month: 100_000.0 * month for month in range(1, 13)}  # 7.8 M in all, growing each month
    add(engine, *monthly_sales(TEAM, 2026, last_year), *monthly_sales("berlin_ops", 2026, {1: 9e9}))
    config = planned({"sales": {"split": "last_year", "teams": {TEAM: 1_000_000}}})
    with Session(engine) as session:
        plan = year_plan(session, config, kpi="sales", year=2027, team=TEAM)
    assert plan is not None and plan.method == "last_year" and plan.note is None
    assert plan.months[0] == round(1_000_000 * 1 / 78, 2) == 12_820.51
    assert plan.months[11] == pytest.approx(1_000_000 * 12 / 78, abs=0.01)
    assert round(sum(plan.months), 6) == 1_000_000  # the rounding is left in December


def test_last_years_share_is_cut_by_the_teams_local_dates(engine: sa.Engine) -> None:
    """A value dated 1 January (local) counts for January although it was still 31 December in UTC."""
    amounts = dict.fromkeys(range(1, 13), 1_000.0)
    add(engine, *monthly_sales(TEAM, 2026, amounts))
    add(engine, MeasureValue(team=TEAM, measure="sales", on_date=date(2026, 1, 1), value=10_000))
    config = planned({"sales": {"split": "last_year", "teams": {TEAM: 220_000}}})
    assert at("2026-01-01 00:30", "Asia/Shanghai").date() == date(2025, 12, 31)
    assert target(engine, config, "2027-01") == 110_000  # 11,000 of 22,000


def test_last_year_without_a_full_year_of_data_falls_back_to_even_and_says_so(engine: sa.Engine) -> None:
    add(engine, *monthly_sales(TEAM, 2026, {month: 500.0 for month in range(4, 10)}))  # as in the demo: Apr-Sep
    config = planned({"sales": {"split": "last_year", "teams": {TEAM: 12_000_000}}})
    with Session(engine) as session:
        plan = year_plan(session, config, kpi="sales", year=2027, team=TEAM)
    assert plan is not None and plan.method == "even"
    assert plan.note == "split evenly: 2026 has data for 6 of 12 months"
    assert plan.months == (1_000_000,) * 12


def test_a_persons_last_year_share_reads_only_their_rows(engine: sa.Engine) -> None:
    theirs = dict.fromkeys(range(1, 13), 100.0) | {12: 1_300.0}  # 2,400 in all, December 1,300
    add(engine, *monthly_sales(TEAM, 2026, theirs, person=AGENT), *monthly_sales(TEAM, 2026, {12: 1e6}))
    config = planned({"sales": {"split": "last_year", "people": {AGENT: 2_400_000}}})
    assert target(engine, config, "2027-12", person=AGENT) == 1_300_000
    assert target(engine, config, "2027-12") is None  # the team has no plan


@pytest.mark.parametrize(
    ("plan", "label", "expected"),
    [
        pytest.param({TEAM: 4.3}, "2027-02", 4.3, id="the-same-target-every-month"),
        pytest.param({TEAM: 4.3}, "2027-Q3", 4.3, id="and-every-quarter"),
        pytest.param({TEAM: 4.3}, "2027", 4.3, id="and-the-year"),
        pytest.param({TEAM: {"months": [4.0] * 6 + [4.6] * 6}}, "2027-Q2", 4.0, id="explicit-months"),
        pytest.param({TEAM: {"months": [4.0, 4.1, 4.2] + [4.5] * 9}}, "2027-Q1", pytest.approx(4.1), id="quarter-mean"),
        pytest.param({TEAM: {"months": [4.0] * 6 + [4.6] * 6}}, "2027", pytest.approx(4.3), id="year-mean-of-months"),
        pytest.param({TEAM: {"year": 4.4, "months": [4.0] * 12}}, "2027", 4.4, id="year-given"),
    ],
)
def test_a_kpi_that_does_not_add_up_keeps_its_target_in_every_period(
    engine: sa.Engine, plan: dict[str, Any], label: str, expected: float
) -> None:
    config = planned({"csat": {"teams": plan}})
    assert target(engine, config, label, kpi="csat") == expected


def test_the_approved_plan_replaces_the_configs_and_a_proposal_does_not(engine: sa.Engine) -> None:
    config = planned({"sales": {"teams": {TEAM: 12_000_000}}})
    row: dict[str, Any] = {"year": 2027, "team": TEAM, "kpi": "sales", "proposed_by": "U0MANAGER"}
    row["proposed_at"] = at("2026-11-02 09:00")
    months = [2_000_000.0] * 6 + [1_000_000.0] * 6
    add(engine, AnnualPlan(**row, total=18e6, months=months, state="proposed"))
    assert target(engine, config, "2027-01") == 1_000_000
    add(engine, AnnualPlan(**row, total=18e6, months=months, state="approved", decided_by="U0ADMIN"))
    assert target(engine, config, "2027-01") == 2_000_000
    assert target(engine, config, "2027-Q3") == 3_000_000
    assert target(engine, config, "2027") == 18_000_000
    assert target(engine, config, "2028") == 12_000_000  # another year: the config's
    assert target(engine, config, "2027", team="berlin_ops") is None


def test_without_any_plan_there_is_no_plan_target(engine: sa.Engine, example_config: Config) -> None:
    assert target(engine, example_config, "2027-Q1", kpi="roi") is None
