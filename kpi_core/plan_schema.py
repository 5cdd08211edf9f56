"""The ``plans`` config section's shape (issue 12): each KPI's default yearly target per team (and per person), and
how a year is decomposed into quarters and months; its checks are
kpi_core.config_plans.

What decomposing means depends on whether the KPI is additive (``is_additive``):
- additive amounts and counts (sales): the year's total is split over the months so that they add up to
  it: ``even`` (a twelfth each), ``weights`` (12 monthly or 4 quarterly shares in %, summing to 100; a
  quarter's share is split evenly over its months) or ``last_year`` (each month's share of last year's
  actual total; split evenly, and said so, when last year lacks a month). A quarter's target is the sum of
  its months.
- everything else (rates, ratios, means, medians, survey scores, growth): the same target holds every
  month and quarter, unless ``months`` gives 12 monthly targets; a quarter's target is then the mean of
  its months, and the year's is ``year`` (or the mean of the months when ``year`` is left out).
A ``band`` KPI has no single target and cannot be planned.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kpi_core.errors import ExpressionSyntaxError
from kpi_core.expressions import names_in

if TYPE_CHECKING:  # config_schema imports this module for the section's models
    from kpi_core.config_schema import Kpi, Measure

__all__ = ["MONTHS", "KpiPlan", "PlanTarget", "Split", "is_additive"]

Split = Literal["even", "weights", "last_year"]
_Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
_UserId = Annotated[str, Field(pattern=r"^[UW][A-Z0-9]{2,}$")]
#: an expression that only adds and subtracts (names, numbers, + - and parentheses)
_ADDITIVE = re.compile(r"^[\sA-Za-z0-9_.+\-()]*$")
MONTHS = 12


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlanTarget(_Model):
    """One team's (or person's) yearly target of a KPI: ``year`` (a number is short for ``{year: N}``),
    and, to override the KPI plan's, ``split`` and ``weights``; ``months``: 12 monthly targets of a KPI
    that is not additive."""

    year: float | None = None
    split: Split | None = None
    weights: list[float] | None = None
    months: list[float] | None = None

    @model_validator(mode="before")
    @classmethod
    def _a_number_is_the_year(cls, data: Any) -> Any:
        if isinstance(data, int | float) and not isinstance(data, bool):
            return {"year": data}
        return data


class KpiPlan(_Model):
    """A KPI's plan: its default split (``even``), ``weights`` for ``split: weights``, and the yearly
    targets of ``teams`` and of ``people`` (Slack user ids of configured people)."""

    split: Split = "even"
    weights: list[float] | None = None
    teams: dict[_Key, PlanTarget] = {}
    people: dict[_UserId, PlanTarget] = {}


def is_additive(kpi: Kpi, measures: Mapping[str, Measure]) -> bool:
    """Whether ``kpi``'s periods add up: an ``expression`` that only adds and subtracts measures summed
    over the period (sales). Rates, ratios, means, durations, surveys, milestones and growth do not."""
    formula = kpi.formula
    if formula.kind != "expression" or not _ADDITIVE.match(formula.expression):
        return False
    try:
        used = names_in(formula.expression)
    except ExpressionSyntaxError:
        return False
    return bool(used) and all(name in measures and measures[name].aggregate == "sum" for name in used)
