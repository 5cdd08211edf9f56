"""Computes every configured KPI for teams and a period, from the SQL aggregates of ``aggregates``."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cache
from math import isfinite
from typing import Literal

from sqlmodel import Session

from kpi_core.aggregates import CaseQuery, TeamAggregates, load_aggregates
from kpi_core.business_durations import business_case_stats, case_key
from kpi_core.config import (
    CaseDurationFormula,
    Config,
    ExpressionFormula,
    GrowthFormula,
    Kpi,
    MilestoneFormula,
    RatioFormula,
    SurveyFormula,
    Team,
)
from kpi_core.config_schema import Person
from kpi_core.expressions import evaluate, names_in
from kpi_core.isolation import ComputeFailure, NotFinite, check_finite, per_team
from kpi_core.measure_totals import Totals, measure_aggregates
from kpi_core.periods import Period
from kpi_core.targets import team_targets

Status = Literal["no_data", "met", "missed", "breach", "info"]
Detail = float | int | None


@dataclass(frozen=True)
class KpiResult:
    """One KPI for one team and period. ``value`` is None when there is no data (never 0 for 'nothing')."""

    key: str
    value: float | None
    n: int  # how many records the value rests on
    target: float | None
    threshold: float | None
    status: Status
    details: dict[str, Detail] = field(default_factory=dict)


@dataclass(frozen=True)
class TeamReport:
    """A team's KPIs for a period; when its data could not be computed, ``failure`` says why and
    ``results`` is empty."""

    team: str
    period: Period
    results: dict[str, KpiResult]
    failure: ComputeFailure | None = None


@dataclass(frozen=True)
class _Outcome:
    value: float | None
    n: int
    details: dict[str, Detail] = field(default_factory=dict)


def compute_reports(
    session: Session,
    *,
    config: Config,
    period: Period,
    teams: list[str] | None = None,
    kpis: Collection[str] | None = None,
) -> dict[str, TeamReport]:
    """Every KPI of ``config`` (only those in ``kpis`` when given) for ``teams`` (default: all) in ``period``,
    keyed by team, in config order. All teams are computed together; a team whose data cannot be computed
    (an overflowing sum, a stored infinity) gets a report carrying its failure, and the other teams'
    reports stand."""
    selected = {team.key: team for team in ([config.team(key) for key in teams] if teams is not None else config.teams)}
    targets = team_targets(session, config=config, period=period, teams=selected)  # plans, else the KPIs' own
    computed, failures = per_team(
        session,
        teams=list(selected),
        period=period,
        run=lambda keys: _compute(session, config, [selected[key] for key in keys], period, targets, kpis),
    )
    return {key: computed.get(key) or TeamReport(key, period, {}, failures[key]) for key in selected}


def _compute(
    session: Session,
    config: Config,
    selected: list[Team],
    period: Period,
    targets: dict[str, dict[str, float | None]],
    only: Collection[str] | None = None,
) -> dict[str, TeamReport]:
    wanted = [kpi for kpi in config.kpis if only is None or kpi.key in only]
    current, comparisons = _load_compared(session, config, selected, period, wanted)

    reports = {}
    for team in selected:
        results = {}
        for kpi in wanted:
            outcome = _evaluate(kpi, current[team.key], comparisons, team.key)
            details = outcome.details  # each outcome's own dict
            for versus in kpi.report_growth:
                earlier = _evaluate(kpi, comparisons[versus][team.key], comparisons, team.key).value
                details[f"growth_vs_{versus}_pct"] = _growth(outcome.value, earlier)
            _check_finite(kpi.key, outcome.value, details)
            results[kpi.key] = _result(kpi, outcome, details, team.key, targets[team.key][kpi.key])
        reports[team.key] = TeamReport(team=team.key, period=period, results=results)
    return reports


def _check_finite(key: str, value: float | None, details: dict[str, Detail]) -> None:
    """check_finite of a KPI's value and each detail (about 15,000 numbers in a report of 200 teams: the
    name of the one at fault is only spelled out when there is one)."""
    check_finite(key, value)
    for name, detail in details.items():
        if detail is not None and not isfinite(detail):
            raise NotFinite(what=f"{key}.{name}")


def status_of(kpi: Kpi, value: float | None, *, target: float | None, threshold: float | None) -> Status:
    """Where ``value`` stands against the target and the alert threshold, honouring the KPI's direction."""
    if value is None:
        return "no_data"
    lower_is_better = kpi.better != "higher"
    if threshold is not None and (value > threshold if lower_is_better else value < threshold):
        return "breach"
    if kpi.better == "band" and kpi.band is not None:
        return "met" if kpi.band.low <= value <= kpi.band.high else "missed"
    if target is None:
        return "info"
    return "met" if (value <= target if lower_is_better else value >= target) else "missed"


def _result(kpi: Kpi, outcome: _Outcome, details: dict[str, Detail], team: str, target: float | None) -> KpiResult:
    threshold = kpi.alert_threshold_for(team)
    return KpiResult(
        key=kpi.key,
        value=outcome.value,
        n=outcome.n,
        target=target,
        threshold=threshold,
        status=status_of(kpi, outcome.value, target=target, threshold=threshold),
        details=details,
    )


def _comparisons(kpi: Kpi) -> set[str]:
    needed: set[str] = set(kpi.report_growth)
    if isinstance(kpi.formula, GrowthFormula):
        needed.add(kpi.formula.versus)
    return needed


def _shift(period: Period, versus: str) -> Period:
    return period.previous() if versus == "previous" else period.year_ago()


def _load_compared(
    session: Session, config: Config, teams: list[Team], period: Period, kpis: list[Kpi], person: str | None = None
) -> tuple[dict[str, TeamAggregates], dict[str, dict[str, TeamAggregates]]]:
    """The aggregates ``kpis`` use in ``period``, and in each period they compare with ("previous",
    "year_ago") those of the KPIs that compare with it; every period's measures in one statement."""
    needs: dict[Period, dict[str, Kpi]] = {period: {kpi.key: kpi for kpi in kpis}}
    compared: dict[str, Period] = {}
    for versus in ("previous", "year_ago"):
        comparing = {kpi.key: kpi for kpi in kpis if versus in _comparisons(kpi)}
        if comparing:
            compared[versus] = _shift(period, versus)
            needs.setdefault(compared[versus], {}).update(comparing)  # a year's previous is its year ago
    totals = measure_aggregates(
        session,
        config=config,
        teams=[team.key for team in teams],
        wanted={shifted: _measures(list(needed.values())) for shifted, needed in needs.items()},
        person=person,
    )
    loaded = {
        shifted: _load(session, config, teams, shifted, list(needed.values()), totals[shifted], person)
        for shifted, needed in needs.items()
    }
    return loaded[period], {versus: loaded[shifted] for versus, shifted in compared.items()}


def _measures(kpis: list[Kpi]) -> set[str]:
    measures: set[str] = set()
    for kpi in kpis:
        for expression in _expressions(kpi.formula):
            measures |= names_in(expression)
    return measures


def _load(
    session: Session,
    config: Config,
    teams: list[Team],
    period: Period,
    kpis: list[Kpi],
    measures: Totals,
    person: str | None = None,
) -> dict[str, TeamAggregates]:
    """Loads only the kinds of aggregate that ``kpis`` use besides ``measures`` (of ``person``'s rows
    alone, when given)."""
    formulas = [kpi.formula for kpi in kpis]
    thresholds: dict[tuple[str, str], set[float]] = {}
    business: dict[tuple[str, str], set[float]] = {}  # clock: business, counted in Python
    for formula in formulas:
        if isinstance(formula, CaseDurationFormula):
            clock = business if formula.clock == "business" else thresholds
            limits = clock.setdefault((formula.case_kind, formula.until), set())
            if formula.within_hours:
                limits.add(formula.within_hours)
    aggregates = load_aggregates(
        session,
        config=config,
        teams=teams,
        period=period,
        case_queries=[CaseQuery(kind, until, frozenset(limits)) for (kind, until), limits in thresholds.items()],
        survey=any(isinstance(formula, SurveyFormula) for formula in formulas),
        milestones=any(isinstance(formula, MilestoneFormula) for formula in formulas),
        measures=measures,
        person=person,
    )
    if business:
        queries = [CaseQuery(kind, until, frozenset(limits)) for (kind, until), limits in business.items()]
        for team_key, stats in business_case_stats(
            session, teams=teams, period=period, queries=queries, person=person
        ).items():
            aggregates[team_key].cases = {**(aggregates[team_key].cases or {}), **stats}
    return aggregates


def _expressions(formula: object) -> list[str]:
    if isinstance(formula, RatioFormula):
        return [formula.numerator, formula.denominator]
    if isinstance(formula, ExpressionFormula):
        return [formula.expression]
    if isinstance(formula, GrowthFormula):
        return [formula.of]
    return []


def _evaluate(kpi: Kpi, data: TeamAggregates, comparisons: dict[str, dict[str, TeamAggregates]], team: str) -> _Outcome:
    formula = kpi.formula
    if isinstance(formula, RatioFormula):
        return _ratio(formula, data)
    if isinstance(formula, ExpressionFormula):
        return _expression(formula.expression, data)
    if isinstance(formula, GrowthFormula):
        now = _expression(formula.of, data)
        before = _expression(formula.of, comparisons[formula.versus][team])
        return _Outcome(_growth(now.value, before.value), now.n, {"current": now.value, formula.versus: before.value})
    if isinstance(formula, SurveyFormula):
        return _survey(formula, data)
    if isinstance(formula, CaseDurationFormula):
        return _case_duration(formula, data)
    return _milestones(formula, data)


def _measure_values(expression: str, data: TeamAggregates) -> tuple[dict[str, float], int]:
    values = {}
    rows = 0
    for name in names_in(expression):
        aggregate = data.measures.get(name)
        if aggregate is not None:
            values[name] = aggregate.value
            rows += aggregate.rows
    return values, rows


def _expression(expression: str, data: TeamAggregates) -> _Outcome:
    values, rows = _measure_values(expression, data)
    return _Outcome(evaluate(expression, values), rows)


def _ratio(formula: RatioFormula, data: TeamAggregates) -> _Outcome:
    numerator = _expression(formula.numerator, data)
    denominator = _expression(formula.denominator, data)
    value = None
    if numerator.value is not None and denominator.value:
        value = numerator.value / denominator.value * formula.scale
    shared = _shared_names(formula.numerator, formula.denominator)
    rows = numerator.n + denominator.n
    if shared:
        rows -= sum(data.measures[name].rows for name in shared if name in data.measures)
    return _Outcome(value, rows, {"numerator": numerator.value, "denominator": denominator.value})


@cache
def _shared_names(numerator: str, denominator: str) -> frozenset[str]:
    return names_in(numerator) & names_in(denominator)


def _growth(now: float | None, before: float | None) -> float | None:
    if now is None or not before:
        return None
    return (now - before) / abs(before) * 100


def _survey(formula: SurveyFormula, data: TeamAggregates) -> _Outcome:
    stats = data.survey
    if stats is None or stats.responses == 0:
        return _Outcome(None, 0, {"responses": 0, "mean_score": None, "share_top_pct": None})
    share_top = stats.top_answers / stats.responses * 100
    value = stats.mean_score if formula.statistic == "mean" else share_top
    return _Outcome(
        value,
        stats.responses,
        {"responses": stats.responses, "mean_score": stats.mean_score, "share_top_pct": share_top},
    )


def _case_duration(formula: CaseDurationFormula, data: TeamAggregates) -> _Outcome:
    stats = (data.cases or {}).get(case_key(formula))
    if stats is None or stats.cases == 0:
        return _Outcome(None, 0, {"cases": 0, "open_cases": 0})
    details: dict[str, Detail] = {
        "cases": stats.cases,
        "open_cases": stats.open_cases,
        "median_hours": stats.median_hours,
        "p90_hours": stats.p90_hours,
        "mean_hours": stats.mean_hours,
    }
    if formula.within_hours:
        # An open case has not (yet) ended within the target: it counts in the denominator.
        details["within_hours"] = formula.within_hours
        details["share_within_pct"] = stats.within[formula.within_hours] / stats.cases * 100
    value_key = {"median": "median_hours", "p90": "p90_hours", "mean": "mean_hours"}.get(
        formula.statistic, "share_within_pct"
    )
    value = details[value_key]
    return _Outcome(None if value is None else float(value), stats.cases, details)


def _milestones(formula: MilestoneFormula, data: TeamAggregates) -> _Outcome:
    stats = data.milestones
    if stats is None or stats.due == 0:
        return _Outcome(None, 0, {"due": 0})
    details: dict[str, Detail] = {"due": stats.due, "completed": stats.completed, "on_time": stats.on_time}
    if formula.statistic == "on_time_share":
        return _Outcome(stats.on_time / stats.due * 100, stats.due, details)
    if formula.statistic == "mean_slip_days":
        value = stats.slip_days_total / stats.completed if stats.completed else None
        return _Outcome(value, stats.completed, details)
    value = None
    if stats.costed and stats.budget_total:
        value = (stats.actual_cost_total - stats.budget_total) / stats.budget_total * 100
    details |= {"budget": stats.budget_total, "actual_cost": stats.actual_cost_total}
    return _Outcome(value, stats.costed, details)


def compute_person(
    session: Session, *, config: Config, person: Person, period: Period, kpis: list[str], targets: dict[str, float]
) -> dict[str, KpiResult]:
    """``kpis`` of one person in ``period``: the same formulas over the rows of the person's team that name
    them (a case handled by, a value recorded for, a milestone owned by), cut in the team's time zone, each
    against the person's agreed target in ``targets`` (none: no target). A KPI whose value is infinite or
    NaN raises NotFinite, as for a team."""
    team = config.team(person.team)
    selected = [config.kpi_by_key[key] for key in kpis]
    current, comparisons = _load_compared(session, config, [team], period, selected, person.user)
    results = {}
    for kpi in selected:
        outcome = _evaluate(kpi, current[team.key], comparisons, team.key)
        check_finite(kpi.key, outcome.value)
        target = targets.get(kpi.key)
        status = status_of(kpi, outcome.value, target=target, threshold=None)
        results[kpi.key] = KpiResult(kpi.key, outcome.value, outcome.n, target, None, status, dict(outcome.details))
    return results
