"""The checks of the ``plans`` section (kpi_core/plan_schema.py, where the decomposition rules are
described): unknown KPIs, teams and people, weights that do not add up, a split that does not fit the KPI.
kpi_core.config runs them with the rest."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from kpi_core.config_problems import did_you_mean
from kpi_core.config_schema import Config, Kpi
from kpi_core.errors import ConfigProblem, ExpressionSyntaxError
from kpi_core.expressions import names_in
from kpi_core.plan_schema import MONTHS, PlanTarget, Split, is_additive

__all__ = ["check_plans"]

#: how far weights may be from 100 % (a rounding of twelve shares typed by hand)
WEIGHT_TOLERANCE = 1e-6


def check_plans(config: Config, declared: Mapping[str, Collection[str]]) -> list[ConfigProblem]:
    """Every problem of the ``plans`` section: unknown KPIs, teams and people, a KPI a person has no
    target for, weights that are not 12 or 4 shares summing to 100 %, a split that does not fit the KPI."""
    problems: list[ConfigProblem] = []
    for kpi_key, plan in config.plans.items():
        where = f"plans.{kpi_key}"
        kpi = config.kpi_by_key.get(kpi_key)
        if kpi is None:
            if kpi_key not in declared["kpis"]:  # else the KPI failed the schema, which says why
                message = f"unknown KPI {kpi_key!r}{did_you_mean(kpi_key, declared['kpis'])}"
                problems.append(ConfigProblem(where, message))
            continue
        if kpi.better == "band":
            problems.append(ConfigProblem(where, f"{kpi_key} is a band KPI: it has no single target to plan"))
            continue
        additive = _additivity(config, kpi)
        if additive is None:  # the KPI's formula is broken: its own checks say how
            continue
        problems += _check_split(where, kpi, additive, plan.split, plan.weights)
        for team, target in plan.teams.items():
            if team not in declared["teams"]:
                message = f"unknown team {team!r}{did_you_mean(team, declared['teams'])}"
                problems.append(ConfigProblem(f"{where}.teams.{team}", message))
            problems += _check_target(f"{where}.teams.{team}", kpi, additive, target)
        for user, target in plan.people.items():
            person = config.person_by_user.get(user)
            if person is None:
                message = f"unknown person {user!r}{did_you_mean(user, declared['people'])}"
                problems.append(ConfigProblem(f"{where}.people.{user}", message))
            else:
                position = config.position_by_key.get(person.position)
                if position is not None and kpi_key not in position.kpis:
                    message = f"{kpi_key} is not a KPI of {user}'s position {person.position!r}: no personal target"
                    problems.append(ConfigProblem(f"{where}.people.{user}", message))
            problems += _check_target(f"{where}.people.{user}", kpi, additive, target)
    return problems


def _additivity(config: Config, kpi: Kpi) -> bool | None:
    """``is_additive``, or None when a broken formula (a syntax error, an unknown or invalid measure)
    leaves it open."""
    for _, expression in kpi.formula.expressions():
        try:
            used = names_in(expression)
        except ExpressionSyntaxError:
            return None
        if any(name not in config.measure_by_key for name in used):
            return None
    return is_additive(kpi, config.measure_by_key)


def _check_split(
    where: str, kpi: Kpi, additive: bool, split: Split | None, weights: list[float] | None
) -> list[ConfigProblem]:
    if not additive:
        if split in ("weights", "last_year") or weights is not None:
            message = (
                f"{kpi.key} is not additive (a rate, mean, duration or score): each month keeps the year's target;"
                " give months: [12 monthly targets] to vary it"
            )
            return [ConfigProblem(f"{where}.split" if weights is None else f"{where}.weights", message)]
        return []
    if weights is None:
        if split == "weights":
            return [ConfigProblem(f"{where}.weights", "split: weights needs weights (12 monthly or 4 quarterly, in %)")]
        return []
    if split is not None and split != "weights":
        return [ConfigProblem(f"{where}.weights", f"weights are used with split: weights, not split: {split}")]
    if len(weights) not in (4, MONTHS):
        return [ConfigProblem(f"{where}.weights", f"give 12 monthly or 4 quarterly weights, not {len(weights)}")]
    if any(weight < 0 for weight in weights):
        return [ConfigProblem(f"{where}.weights", "weights must not be negative")]
    total = sum(weights)
    if abs(total - 100) > WEIGHT_TOLERANCE:
        return [ConfigProblem(f"{where}.weights", f"weights sum to {total:g} %, they must sum to 100 %")]
    return []


def _check_target(where: str, kpi: Kpi, additive: bool, target: PlanTarget) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    if target.split is not None or target.weights is not None:
        split = target.split or ("weights" if target.weights is not None else None)
        problems += _check_split(where, kpi, additive, split, target.weights)
    if additive and target.months is not None:
        message = f"{kpi.key} is additive: split its year with split and weights (12 monthly or 4 quarterly %)"
        problems.append(ConfigProblem(f"{where}.months", message))
    elif target.months is not None and len(target.months) != MONTHS:
        problems.append(ConfigProblem(f"{where}.months", f"give 12 monthly targets, not {len(target.months)}"))
    if target.year is None and target.months is None:
        problems.append(ConfigProblem(f"{where}.year", "give the year's target"))
    values = [value for value in [target.year, *(target.months or [])] if value is not None]
    if not kpi.signed and any(value < 0 for value in values):
        problems.append(ConfigProblem(where, f"target must not be negative: {kpi.key} is never below 0"))
    return problems
