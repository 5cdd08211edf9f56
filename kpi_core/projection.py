"""Year to date against plan, and where a KPI will end the quarter and the year: pure arithmetic over a
team's monthly results (kpi_core/plan_progress.py loads them).

Method, per KPI:
- *additive* KPIs (a sum of summed measures, such as sales): the months with data are the year to date;
  each month without data is estimated. **Run rate**: the year to date per day times the month's days.
  **Seasonal** (when every month of last year has data): the year to date times the month's share of last
  year relative to last year's same months (a December that was 30 % of last year's total stays so).
- *rates* (ratios, means, medians, shares): the year-to-date rate is the months' combined rate. **Run
  rate**: the rest of the period runs at the year-to-date rate. **Seasonal**: at the year-to-date rate plus
  how much last year's rest differed from last year's same months. A period's projection weighs the months
  it has data for and the estimate by their number of months.
A period already complete shows its actual value (method ``actual``).

Status of a projection against its plan, by the KPI's direction: *on track* when it meets the plan, *at
risk* when it misses it by at most ``tolerance_pct`` of the plan (of the scorecard item's band width when
the plan is 0), *off track* otherwise; a ``band`` KPI is on track inside its band.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from kpi_core.config import Config, Kpi, MilestoneFormula, RatioFormula, ScorecardItem
from kpi_core.kpis import KpiResult
from kpi_core.periods import Period, PeriodKind
from kpi_core.plan_schema import is_additive

Method = Literal["actual", "run_rate", "seasonal"]
Track = Literal["on_track", "at_risk", "off_track", "no_plan", "no_data"]

#: The plan of one KPI for one team: its target for a month, a quarter or a year (None: no plan).
PlanOf = Callable[[Period], float | None]


@dataclass(frozen=True)
class Outlook:
    """A projection of one period's value against its plan."""

    period: Period
    projected: float | None
    plan: float | None
    status: Track
    method: Method | None  # None: no data to project from


@dataclass(frozen=True)
class ItemProjection:
    """One scorecard item of one team: the year to date and where the current quarter and year end."""

    kpi: str
    additive: bool
    as_of: Period  # the last month the year to date includes
    months_with_data: int
    ytd: float | None
    ytd_plan: float | None
    quarter: Outlook
    year: Outlook

    @property
    def status(self) -> Track:
        """The item's status: its year-end outlook."""
        return self.year.status

    @property
    def method(self) -> Method | None:
        return self.year.method


def months_of(period: Period) -> list[Period]:
    """The calendar months of ``period``, in order."""
    month = Period.containing(PeriodKind.MONTH, period.start)
    months = []
    while month.start < period.end:
        months.append(month)
        month = month.next()
    return months


def year_of(month: Period) -> Period:
    """The calendar year around ``month``."""
    return Period.containing(PeriodKind.YEAR, month.start)


def current_quarter(as_of: Period) -> Period:
    """The quarter still to come after ``as_of``: the one holding the next month, within the same year
    (after December, the fourth quarter, complete)."""
    following = as_of.next()
    day = following.start if following.start.year == as_of.start.year else as_of.start
    return Period.containing(PeriodKind.QUARTER, day)


def combine(kpi: Kpi, results: Sequence[KpiResult], *, additive: bool) -> float | None:
    """``kpi``'s value over several months from each month's result: the sum for an additive KPI; for a
    ratio, the ratio of the summed numerators and denominators (a project cost variance likewise from
    budgets and costs); otherwise the months' values weighted by how many records each rests on (exact
    for survey means and milestone shares, an approximation for median hours)."""
    found = [result for result in results if result.value is not None]
    if not found:
        return None
    if additive:
        return sum(result.value for result in found if result.value is not None)
    if isinstance(kpi.formula, RatioFormula):
        parts = [(result.details.get("numerator"), result.details.get("denominator")) for result in found]
        if all(isinstance(top, int | float) and isinstance(bottom, int | float) for top, bottom in parts):
            denominator = sum(float(bottom or 0) for _, bottom in parts)
            if denominator:
                return sum(float(top or 0) for top, _ in parts) / denominator * kpi.formula.scale
    if isinstance(kpi.formula, MilestoneFormula) and kpi.formula.statistic == "cost_variance":
        budget = sum(float(result.details.get("budget") or 0) for result in found)
        if budget:
            return (sum(float(result.details.get("actual_cost") or 0) for result in found) - budget) / budget * 100
    weights = [max(result.n, 0) for result in found]
    if sum(weights) == 0:
        weights = [1] * len(found)
    return sum(weight * (result.value or 0.0) for weight, result in zip(weights, found, strict=True)) / sum(weights)


def project_item(
    config: Config,
    kpi: Kpi,
    item: ScorecardItem | None,
    *,
    as_of: Period,
    actual: Mapping[Period, KpiResult],
    last_year: Mapping[Period, KpiResult],
    plan: PlanOf,
    tolerance_pct: float,
) -> ItemProjection:
    """``kpi`` for one team at the end of month ``as_of``: ``actual`` holds this year's monthly results up
    to ``as_of`` (a month left out has no data), ``last_year`` last year's; ``plan`` gives its targets."""
    additive = is_additive(kpi, config.measure_by_key)
    year = year_of(as_of)
    elapsed = [month for month in months_of(year) if month.start <= as_of.start]
    covered = [month for month in elapsed if _has_value(actual.get(month))]
    ytd = combine(kpi, [actual[month] for month in covered], additive=additive)
    if additive:
        month_plans = [plan(month) for month in covered]
        ytd_plan = sum(p for p in month_plans if p is not None) if covered and None not in month_plans else None
    else:
        ytd_plan = plan(year)
    estimate = _Estimator(config, kpi, additive, covered, actual, last_year, ytd)
    outlooks = [
        _outlook(kpi, item, period, estimate, plan(period), tolerance_pct, complete=period.end <= as_of.end)
        for period in (current_quarter(as_of), year)
    ]
    return ItemProjection(kpi.key, additive, as_of, len(covered), ytd, ytd_plan, outlooks[0], outlooks[1])


class _Estimator:
    """Projects a period from the months with data and an estimate of each month without."""

    def __init__(
        self,
        config: Config,
        kpi: Kpi,
        additive: bool,
        covered: list[Period],
        actual: Mapping[Period, KpiResult],
        last_year: Mapping[Period, KpiResult],
        ytd: float | None,
    ) -> None:
        self.kpi, self.additive, self.covered, self.actual, self.ytd = kpi, additive, covered, actual, ytd
        self.last_year = {month.start.month: result for month, result in last_year.items() if _has_value(result)}
        # a full year of history: every month of last year has a value
        self.seasonal = len(self.last_year) == 12 and self._last_year_of(covered) not in (None, 0.0)
        self.covered_days = sum((month.end - month.start).days for month in covered)

    def _last_year_of(self, months: Sequence[Period]) -> float | None:
        return combine(self.kpi, [self.last_year[month.start.month] for month in months], additive=self.additive)

    def project(self, period: Period) -> tuple[float | None, Method | None]:
        if self.ytd is None or not self.covered:
            return None, None
        months = months_of(period)
        known = [month for month in months if month in self.covered]
        unknown = [month for month in months if month not in self.covered]
        known_value = combine(self.kpi, [self.actual[month] for month in known], additive=self.additive)
        if not unknown:
            return known_value, "actual"
        method: Method = "seasonal" if self.seasonal else "run_rate"
        if self.additive:
            if method == "seasonal":
                rest = self.ytd * (self._last_year_of(unknown) or 0.0) / (self._last_year_of(self.covered) or 1.0)
            else:
                rest = self.ytd / self.covered_days * sum((month.end - month.start).days for month in unknown)
            return (known_value or 0.0) + rest, method
        rate = self.ytd
        if method == "seasonal":
            rate += (self._last_year_of(unknown) or 0.0) - (self._last_year_of(self.covered) or 0.0)
        if known_value is None:
            return rate, method
        return (known_value * len(known) + rate * len(unknown)) / len(months), method


def _outlook(
    kpi: Kpi,
    item: ScorecardItem | None,
    period: Period,
    estimate: _Estimator,
    plan: float | None,
    tolerance_pct: float,
    *,
    complete: bool,
) -> Outlook:
    projected, method = estimate.project(period)
    if complete and method is not None:
        method = "actual"
    return Outlook(period, projected, plan, track(kpi, item, projected, plan, tolerance_pct), method)


def track(
    kpi: Kpi, item: ScorecardItem | None, projected: float | None, plan: float | None, tolerance_pct: float
) -> Track:
    """On track, at risk or off track: ``projected`` against ``plan`` by the KPI's direction (see the
    module docstring for the rule)."""
    if projected is None:
        return "no_data"
    share = tolerance_pct / 100
    if kpi.better == "band" and kpi.band is not None:
        low, high = kpi.band.low, kpi.band.high
        if low <= projected <= high:
            return "on_track"
        margin = share * (high - low)
        return "at_risk" if low - margin <= projected <= high + margin else "off_track"
    if plan is None:
        return "no_plan"
    if plan:
        margin = share * abs(plan)
    elif item is not None and item.full_at is not None and item.zero_at is not None:
        margin = share * abs(item.zero_at - item.full_at)
    else:
        margin = 0.0
    shortfall = plan - projected if kpi.better == "higher" else projected - plan
    if shortfall <= 0:
        return "on_track"
    return "at_risk" if shortfall <= margin else "off_track"


def _has_value(result: KpiResult | None) -> bool:
    return result is not None and result.value is not None
