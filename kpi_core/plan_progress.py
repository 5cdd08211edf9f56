"""Each team's scorecard items against its annual plan at the end of a month: this year's and last year's
monthly results, computed for all the teams at once, projected by kpi_core.projection."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from sqlmodel import Session

from kpi_core.config import Config, Kpi, ScorecardItem
from kpi_core.kpis import KpiResult, TeamReport, compute_reports
from kpi_core.periods import Period, PeriodKind
from kpi_core.plan_schema import is_additive
from kpi_core.projection import ItemProjection, current_quarter, months_of, project_item, year_of
from kpi_core.shared_reports import SharedReports
from kpi_core.targets import team_targets


@dataclass(frozen=True)
class TeamProgress:
    """A team's scorecard items, year to date up to and including month ``as_of``."""

    team: str
    as_of: Period
    items: list[ItemProjection]


def scorecard_items(config: Config) -> list[tuple[Kpi, ScorecardItem]]:
    """Every KPI weighed in some scorecard scheme, once, in the order the schemes list them."""
    found: dict[str, tuple[Kpi, ScorecardItem]] = {}
    for scheme in config.scorecards.values():
        for item in scheme.items:
            found.setdefault(item.kpi, (config.kpi_by_key[item.kpi], item))
    return list(found.values())


def year_to_date(
    session: Session, *, config: Config, teams: list[str], as_of: Period, cache: SharedReports | None = None
) -> dict[str, TeamProgress]:
    """Each of ``teams``' scorecard items at the end of month ``as_of``, keyed by team. Months are cut in
    each team's time zone; a month a team's data could not be computed for counts as a month without data.
    With ``cache``, each month's results come from it: a month stays as it is until a write touches its
    data (or the previous month's, or the one a year before, which growth KPIs compare with), so a digest
    run computes only the months and teams that changed instead of up to 21 months of every team."""
    if as_of.kind is not PeriodKind.MONTH:
        raise ValueError(f"year to date runs to the end of a month, not of {as_of.label}")
    items = scorecard_items(config)
    year = year_of(as_of)
    this_year = [month for month in months_of(year) if month.start <= as_of.start]
    last_year = months_of(year.previous())
    keys = {kpi.key for kpi, _ in items}
    months = [*last_year, *this_year]
    # the scorecard's KPIs only: a year and a half of months for every team
    reports: dict[Period, dict[str, TeamReport]] = {}
    if items and cache is not None:
        reports = cache.results(session, config=config, periods=months, teams=teams, kpis=keys)
    elif items:
        reports = {
            month: compute_reports(session, config=config, period=month, teams=teams, kpis=keys) for month in months
        }
    results = {month: {team: report.results for team, report in found.items()} for month, found in reports.items()}
    targets = _targets(
        session, config, teams, [kpi.key for kpi, _ in items], [*this_year, current_quarter(as_of), year]
    )
    progress = {}
    for team in teams:
        projections = [
            project_item(
                config,
                kpi,
                item,
                as_of=as_of,
                actual=_of(results, this_year, team, kpi.key),
                last_year=_of(results, last_year, team, kpi.key),
                plan=partial(_lookup, targets, team, kpi.key),
                tolerance_pct=config.projection.at_risk_within_pct,
            )
            for kpi, item in items
        ]
        progress[team] = TeamProgress(team, as_of, projections)
    return progress


Targets = dict[tuple[str, str, Period], float | None]  # (team, KPI, period) -> target


def _targets(session: Session, config: Config, teams: list[str], kpis: list[str], periods: list[Period]) -> Targets:
    """Each team's target of each KPI in each period (kpi_core.targets: its plan, else the KPI's own target
    for that kind of period), else for an additive KPI the sum of its own quarter (or month) targets in the
    period (a sales target of 2,300,000 a quarter plans 9,200,000 a year)."""
    found: Targets = {}
    for period in periods:
        by_team = team_targets(session, config=config, period=period, teams=teams)
        for team in teams:
            for key in kpis:
                kpi = config.kpi_by_key[key]
                target = by_team[team][key]
                if target is None and is_additive(kpi, config.measure_by_key):
                    target = _summed(kpi, team, period)
                found[(team, key, period)] = target
    return found


def _summed(kpi: Kpi, team: str, period: Period) -> float | None:
    for kind in (PeriodKind.QUARTER, PeriodKind.MONTH):
        parts = [kpi.target_for(team, kind) for part in _parts(period, kind)]
        if parts and None not in parts:
            return sum(part for part in parts if part is not None)
    return None


def _parts(period: Period, kind: PeriodKind) -> list[Period]:
    """The periods of ``kind`` that make up ``period`` (none when ``kind`` is not shorter)."""
    if list(PeriodKind).index(kind) >= list(PeriodKind).index(period.kind):
        return []
    part, parts = Period.containing(kind, period.start), []
    while part.start < period.end:
        parts.append(part)
        part = part.next()
    return parts


def _lookup(targets: Targets, team: str, kpi: str, period: Period) -> float | None:
    return targets.get((team, kpi, period))


def _of(
    results: dict[Period, dict[str, dict[str, KpiResult]]], months: list[Period], team: str, kpi: str
) -> dict[Period, KpiResult]:
    return {month: results[month][team][kpi] for month in months if kpi in results[month][team]}
