"""Annual plans (年度经营计划与目标的分解): a KPI's yearly target for a team (or a person), decomposed into
quarters and months, and ``plan_target``, the planned target of a year, quarter or month.

Where a plan comes from, first found first: the plan approved in Slack for the team, KPI and year (the
``annual_plan`` table; teams only), else the config's ``plans`` entry for the team or person, decomposed
as kpi_core/plan_schema.py describes (even, weights or last year's monthly shares), else none. How a
plan target combines with the KPI's own target and personal goals is kpi_core/targets.py's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from kpi_core.config_schema import Config, ExpressionFormula, Kpi
from kpi_core.expressions import evaluate, names_in
from kpi_core.models import MeasureValue
from kpi_core.periods import Period, PeriodKind
from kpi_core.plan_models import AnnualPlan
from kpi_core.plan_schema import MONTHS, KpiPlan, PlanTarget, Split, is_additive

__all__ = ["YearPlan", "approved_plan", "config_plan", "even_months", "plan_target", "year_plan"]

Source = Literal["approved", "config"]
#: how a plan's months came about: a split of the year (even, weights, last_year), months given in the
#: config, the same target every month (a KPI that is not additive), or a plan approved in Slack
Method = Literal["even", "weights", "last_year", "months", "same", "approved"]


@dataclass(frozen=True)
class YearPlan:
    """One team's (or person's) plan of one KPI for one year: its target and the 12 monthly targets."""

    kpi: str
    team: str
    person: str | None
    year: int
    additive: bool
    total: float
    months: tuple[float, ...]  # January first
    source: Source
    method: Method
    #: why the asked split was not used (last year lacked data), to be shown wherever the plan is
    note: str | None = None
    #: with that note: how many of last year's months had data (12: they did not make shares)
    months_with_data: int | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None

    def target(self, period: Period) -> float | None:
        """The planned target of ``period`` (the year, one of its quarters or months); None for a week or a
        period of another year. An additive KPI's quarter is the sum of its months, any other's their mean."""
        if period.start.year != self.year or period.kind is PeriodKind.WEEK:
            return None
        if period.kind is PeriodKind.YEAR:
            return self.total
        if period.kind is PeriodKind.MONTH:
            return self.months[period.start.month - 1]
        first = period.start.month - 1
        quarter = self.months[first : first + 3]
        return sum(quarter) if self.additive else sum(quarter) / len(quarter)

    def quarters(self) -> tuple[float, ...]:
        return tuple(
            value
            for number in range(1, 5)
            if (value := self.target(Period.parse(f"{self.year:04d}-Q{number}"))) is not None
        )


def plan_target(
    session: Session, config: Config, *, kpi: str, period: Period, team: str, person: str | None = None
) -> float | None:
    """The planned target of ``kpi`` for ``team`` (or ``person``) in ``period`` (a year, quarter or
    month): the approved plan if any, else the config's default decomposed; None without a plan, and for
    weeks, which plans do not cover."""
    if period.kind is PeriodKind.WEEK:
        return None
    plan = year_plan(session, config, kpi=kpi, year=period.start.year, team=team, person=person)
    return plan.target(period) if plan is not None else None


def year_plan(
    session: Session, config: Config, *, kpi: str, year: int, team: str, person: str | None = None
) -> YearPlan | None:
    """The plan in force: the approved one (teams only), else the config's; None without either."""
    if person is None:
        approved = approved_plan(session, kpi=kpi, year=year, team=team)
        if approved is not None:
            return from_row(config, approved)
    return config_plan(session, config, kpi=kpi, year=year, team=team, person=person)


def approved_plan(session: Session, *, kpi: str, year: int, team: str) -> AnnualPlan | None:
    query = select(AnnualPlan).where(
        AnnualPlan.year == year, AnnualPlan.team == team, AnnualPlan.kpi == kpi, AnnualPlan.state == "approved"
    )
    return session.exec(query.order_by(col(AnnualPlan.id).desc()).limit(1)).first()


def from_row(config: Config, row: AnnualPlan) -> YearPlan:
    kpi = config.kpi_by_key.get(row.kpi)
    return YearPlan(
        kpi=row.kpi,
        team=row.team,
        person=None,
        year=row.year,
        additive=kpi is not None and is_additive(kpi, config.measure_by_key),
        total=row.total,
        months=tuple(float(value) for value in row.months),
        source="approved",
        method="approved",
        decided_by=row.decided_by,
        decided_at=row.decided_at,
    )


def config_plan(
    session: Session, config: Config, *, kpi: str, year: int, team: str, person: str | None = None
) -> YearPlan | None:
    """The config's default plan of ``kpi`` for ``team`` (or ``person``, of that team) in ``year``,
    decomposed; None when the config plans nothing for them."""
    plan = config.plans.get(kpi)
    definition = config.kpi_by_key.get(kpi)
    if plan is None or definition is None:
        return None
    target = plan.people.get(person) if person is not None else plan.teams.get(team)
    if target is None:
        return None
    additive = is_additive(definition, config.measure_by_key)
    note, having = None, None
    if not additive and target.months is not None:
        months: tuple[float, ...] = tuple(target.months)
        total = target.year if target.year is not None else sum(months) / len(months)
        method: Method = "months"
    elif not additive:
        total = float(target.year or 0)
        months, method = (total,) * MONTHS, "same"
    else:
        total = float(target.year or 0)
        split, weights = _split_of(plan, target)
        shares, method, having = _shares(
            session, config, definition, split, weights, year=year, team=team, person=person
        )
        months = additive_months(total, shares)
        if having is not None:
            note = f"split evenly: {year - 1} has data for {having} of 12 months"
            if having == MONTHS:
                note = f"split evenly: {year - 1}'s monthly values are no shares of a positive total"
    return YearPlan(
        kpi=kpi,
        team=team,
        person=person,
        year=year,
        additive=additive,
        total=total,
        months=months,
        source="config",
        method=method,
        note=note,
        months_with_data=having,
    )


def _split_of(plan: KpiPlan, target: PlanTarget) -> tuple[Split, list[float] | None]:
    if target.split is not None or target.weights is not None:
        return target.split or "weights", target.weights
    return plan.split, plan.weights


def even_months(total: float) -> tuple[float, ...]:
    return additive_months(total, [1 / MONTHS] * MONTHS)


def additive_months(total: float, shares: list[float]) -> tuple[float, ...]:
    """``total`` shared out by ``shares`` (summing to 1), each month rounded to 0.01 and the rounding left
    in December, so that the months add up to the year exactly as they are shown and typed."""
    months = [round(total * share, 2) for share in shares[:-1]]
    return (*months, round(total - sum(months), 6))


def _shares(
    session: Session,
    config: Config,
    kpi: Kpi,
    split: Split,
    weights: list[float] | None,
    *,
    year: int,
    team: str,
    person: str | None,
) -> tuple[list[float], Method, int | None]:
    """The 12 monthly shares, the method used and, when last year's shares could not be used, how many of
    its months had data."""
    if split == "weights" and weights is not None:
        if len(weights) == MONTHS:
            return [weight / 100 for weight in weights], "weights", None
        return [weights[month // 3] / 100 / 3 for month in range(MONTHS)], "weights", None
    if split == "last_year":
        actual = last_year_months(session, config, kpi=kpi, year=year, team=team, person=person)
        having = [value for value in actual if value is not None]
        total = sum(having)
        if len(having) == MONTHS and total > 0 and min(having) >= 0:
            return [value / total for value in having], "last_year", None
        return [1 / MONTHS] * MONTHS, "even", len(having)
    return [1 / MONTHS] * MONTHS, "even", None


def last_year_months(
    session: Session, config: Config, *, kpi: Kpi, year: int, team: str, person: str | None
) -> list[float | None]:
    """The additive ``kpi``'s actual value in each month of the year before ``year`` (None: no data that
    month), summed in SQL per measure and month; a person's from the rows that name them."""
    formula = kpi.formula
    assert isinstance(formula, ExpressionFormula)  # only additive KPIs are split by last year
    names = sorted(names_in(formula.expression))
    month = sa.extract("month", col(MeasureValue.on_date))
    query = (
        select(MeasureValue.measure, month, func.sum(MeasureValue.value))
        .where(
            MeasureValue.team == team,
            col(MeasureValue.measure).in_(names),
            MeasureValue.on_date >= date(year - 1, 1, 1),
            MeasureValue.on_date < date(year, 1, 1),
        )
        .group_by(MeasureValue.measure, month)
    )
    if person is not None:
        query = query.where(MeasureValue.person == person)
    sums: dict[int, dict[str, float | None]] = {}
    for measure, number, total in session.exec(query):
        sums.setdefault(int(number), {})[measure] = float(total)
    values: list[float | None] = []
    for number in range(1, MONTHS + 1):
        found = sums.get(number)
        values.append(evaluate(formula.expression, {name: found.get(name, 0.0) for name in names}) if found else None)
    return values
