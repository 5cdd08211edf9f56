"""The ``plans`` config section: what it accepts, and every problem named by its field path with a clear
message (unknown KPI, team or person, weights that do not add up, a split that does not fit the KPI)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from bot.resources import EXAMPLE_CONFIG
from kpi_core.config import Config, parse_config
from kpi_core.errors import ConfigError


def with_plans(plans: Any) -> Config:
    raw = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    raw["plans"] = plans
    return parse_config(raw, file="plans.yaml")


def test_a_plan_per_team_and_person_with_each_split_is_accepted() -> None:
    config = with_plans(
        {
            "sales": {
                "split": "last_year",
                "teams": {"shanghai_ops": 12e6, "berlin_ops": {"year": 9.2e6, "split": "weights", "weights": [25] * 4}},
                "people": {"U0OPSSH1": 6e6, "U0OPSSH2": {"year": 6e6, "split": "even"}},
            },
            "csat": {"teams": {"shanghai_ops": 4.3, "berlin_ops": {"months": [4.2] * 6 + [4.4] * 6}}},
            "budget_variance": {"teams": {"berlin_ops": -2}},  # a KPI that may be negative
        }
    )
    assert config.plans["sales"].teams["shanghai_ops"].year == 12e6
    assert config.plans["sales"].teams["berlin_ops"].weights == [25] * 4
    assert config.plans["csat"].teams["berlin_ops"].year is None


def test_the_shipped_example_plans_load(example_config: Config) -> None:
    assert example_config.plans, "the example config shows a plan"


@pytest.mark.parametrize(
    ("plans", "path", "message"),
    [
        pytest.param({"salse": {}}, "plans.salse", "unknown KPI 'salse' (did you mean 'sales'?)", id="unknown-kpi"),
        pytest.param(
            {"sales": {"teams": {"berlin_opz": 1e6}}},
            "plans.sales.teams.berlin_opz",
            "unknown team 'berlin_opz' (did you mean 'berlin_ops'?)",
            id="unknown-team",
        ),
        pytest.param(
            {"sales": {"people": {"U0OPSSH9": 1e6}}},
            "plans.sales.people.U0OPSSH9",
            "unknown person 'U0OPSSH9' (did you mean 'U0OPSSH2'?)",
            id="unknown-person",
        ),
        pytest.param(
            {"csat": {"people": {"U0OPSSH1": 4.5}}},
            "plans.csat.people.U0OPSSH1",
            "csat is not a KPI of U0OPSSH1's position 'ops_specialist': no personal target",
            id="not-the-persons-kpi",
        ),
        pytest.param(
            {"sales": {"split": "weights", "weights": [8] * 12, "teams": {"berlin_ops": 1e6}}},
            "plans.sales.weights",
            "weights sum to 96 %, they must sum to 100 %",
            id="weights-do-not-add-up",
        ),
        pytest.param(
            {"sales": {"split": "weights", "weights": [20] * 5, "teams": {"berlin_ops": 1e6}}},
            "plans.sales.weights",
            "give 12 monthly or 4 quarterly weights, not 5",
            id="five-weights",
        ),
        pytest.param(
            {"sales": {"split": "weights", "weights": [-10, 50, 30, 30], "teams": {"berlin_ops": 1e6}}},
            "plans.sales.weights",
            "weights must not be negative",
            id="negative-weight",
        ),
        pytest.param(
            {"sales": {"split": "weights", "teams": {"berlin_ops": 1e6}}},
            "plans.sales.weights",
            "split: weights needs weights",
            id="weights-missing",
        ),
        pytest.param(
            {"sales": {"split": "even", "weights": [25] * 4, "teams": {"berlin_ops": 1e6}}},
            "plans.sales.weights",
            "weights are used with split: weights, not split: even",
            id="weights-with-even",
        ),
        pytest.param(
            {"sales": {"teams": {"berlin_ops": {"year": 1e6, "weights": [30] * 4}}}},
            "plans.sales.teams.berlin_ops.weights",
            "weights sum to 120 %",
            id="a-teams-own-weights",
        ),
        pytest.param(
            {"csat": {"split": "last_year", "teams": {"berlin_ops": 4.3}}},
            "plans.csat.split",
            "csat is not additive (a rate, mean, duration or score): each month keeps the year's target;",
            id="last-year-of-a-mean",
        ),
        pytest.param(
            {"on_time_delivery": {"teams": {"berlin_ops": {"year": 95, "weights": [25] * 4}}}},
            "plans.on_time_delivery.teams.berlin_ops.weights",
            "on_time_delivery is not additive",
            id="weights-of-a-rate",
        ),
        pytest.param(
            {"sales": {"teams": {"berlin_ops": {"months": [1e6] * 12}}}},
            "plans.sales.teams.berlin_ops.months",
            "sales is additive: split its year with split and weights",
            id="months-of-an-amount",
        ),
        pytest.param(
            {"csat": {"teams": {"berlin_ops": {"months": [4.2] * 11}}}},
            "plans.csat.teams.berlin_ops.months",
            "give 12 monthly targets, not 11",
            id="eleven-months",
        ),
        pytest.param(
            {"sales": {"teams": {"berlin_ops": {"split": "even"}}}},
            "plans.sales.teams.berlin_ops.year",
            "give the year's target",
            id="no-year",
        ),
        pytest.param(
            {"sales": {"teams": {"berlin_ops": -5}}},
            "plans.sales.teams.berlin_ops",
            "target must not be negative: sales is never below 0",
            id="negative-target",
        ),
        pytest.param(
            {"debt_to_asset": {"teams": {"berlin_ops": 50}}},
            "plans.debt_to_asset",
            "debt_to_asset is a band KPI: it has no single target to plan",
            id="band",
        ),
        pytest.param(
            {"sales": {"teams": {"berlin_ops": {"year": 1e6, "splitt": "even"}}}},
            "plans.sales.teams.berlin_ops.splitt",
            "unknown field 'splitt' (did you mean 'split'?)",
            id="typo-in-a-field",
        ),
        pytest.param(
            {"sales": {"split": "seasonal", "teams": {"berlin_ops": 1e6}}},
            "plans.sales.split",
            "",
            id="unknown-split",
        ),
    ],
)
def test_a_bad_plan_is_rejected_with_its_path(plans: Any, path: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        with_plans(plans)
    [problem] = caught.value.problems
    assert problem.path == path
    assert problem.message.startswith(message), problem.message
    assert f"plans.yaml: {path}" in str(caught.value)
