"""``kpi-bot plan show``: the plan in force per team and KPI, the config's default beside an approved plan,
and clear errors for a bad year or team, on both backends."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from kpi_core import plan_approval
from kpi_core.config import Config
from tests.conftest import EXAMPLE_CONFIG
from tests.factories import at
from tests.test_cli import Env, failed, invoke, succeeded

NOW = at("2026-11-02 09:00")


@pytest.fixture
def cli_env(database_url: str) -> Env:
    return {"KPI_DATABASE_URL": database_url, "KPI_CONFIG": str(EXAMPLE_CONFIG)}


def approve_seasonal_sales(engine: sa.Engine, config: Config) -> None:
    proposed = plan_approval.propose_plan(
        engine,
        config=config,
        user="U0MANAGER",
        team="shanghai_ops",
        kpi="sales",
        year=2027,
        total=12e6,
        months=[1.5e6] * 6 + [0.5e6] * 6,
        request_key="cli",
        now=NOW,
    )
    assert proposed is not None
    plan_approval.decide_plan(
        engine, config=config, plan_id=proposed[0].id or 0, user="U0ADMIN", approve=True, reason=None, now=NOW
    )


def test_the_config_default_is_shown_for_every_planned_team(cli_env: Env) -> None:
    output = succeeded(invoke(cli_env, "plan", "show", "2027"))
    assert output.startswith("Annual plan 2027\n")
    assert "*Shanghai Operations*" in output and "*New York Delivery*" in output
    assert "Berlin" not in output  # no plan: its targets stay the KPIs' own
    assert "• Sales: the config's default (split evenly: 2026 has data for 0 of 12 months)" in output
    assert "• Sales: the config's default (split by the config's weights)" in output  # New York
    assert "  Year 12,000,000 CNY · Q1 3,000,000 CNY · Q2 3,000,000 CNY" in output
    assert "Config default" not in output


def test_an_approved_plan_is_shown_beside_the_default_it_replaces(
    cli_env: Env, engine: sa.Engine, example_config: Config
) -> None:
    approve_seasonal_sales(engine, example_config)
    output = succeeded(invoke(cli_env, "plan", "show", "2027", "--team", "shanghai_ops"))
    assert "• Sales: the plan approved by <@U0ADMIN> on 2026-11-02" in output
    assert "Q1 4,500,000 CNY · Q2 4,500,000 CNY · Q3 1,500,000 CNY" in output
    assert (
        "  Config default: the config's default (split evenly: 2026 has data for 0 of 12 months) · 12,000,000 CNY"
        in output
    )
    assert "New York" not in output


def test_a_team_without_plans_says_so(cli_env: Env) -> None:
    output = succeeded(invoke(cli_env, "plan", "show", "2027", "--team", "berlin_ops"))
    assert "No team has a plan for this year" in output


def test_bad_arguments_get_a_clear_message(cli_env: Env) -> None:
    assert "'2027-Q1' is not a year" in failed(invoke(cli_env, "plan", "show", "2027-Q1"), code=2)
    assert "bad period '27'" in failed(invoke(cli_env, "plan", "show", "27"))
    assert "unknown team 'paris'" in failed(invoke(cli_env, "plan", "show", "2027", "--team", "paris")).lower()
