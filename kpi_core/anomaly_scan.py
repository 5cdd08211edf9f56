"""Each KPI's weekly value of the teams judged against its own history (kpi_core.anomalies), for the weekly
digest and the anomaly alerts.

History costs one report per week, so it is read in two steps: the last ``WINDOW`` weeks, and the rest of
two years (what the seasonal baseline needs) only when a team has data a year back. Only the KPIs judged
are computed for the history (``kpis``; the digest judges its weekly KPIs), through the report cache's
per-KPI-set entries, so the digests of teams sharing a schedule compute each week once, and a weekly
digest does not compute (and keep) 27 weeks of every monthly and quarterly KPI and the ranks.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import sqlalchemy as sa

from kpi_core.anomalies import FULL_HISTORY, SEASON, WINDOW, Anomaly, judge
from kpi_core.config_schema import Config
from kpi_core.db import transaction
from kpi_core.kpis import KpiResult, compute_reports
from kpi_core.periods import Period, PeriodKind
from kpi_core.reporting import Report, build_reports
from kpi_core.shared_reports import SharedReports


@dataclass(frozen=True)
class Flag:
    """A KPI whose value is unusual for its team, by its own threshold."""

    kpi: str
    anomaly: Anomaly
    alert: bool  # the KPI asks for an alert as well


def scan(
    engine: sa.Engine,
    *,
    config: Config,
    period: Period,
    teams: list[str],
    kpis: Collection[str] | None = None,
    cache: SharedReports | None = None,
) -> dict[str, dict[str, Anomaly]]:
    """Per team, each KPI's (of ``kpis``, default all) value in the week ``period`` judged against the
    weeks before it (KPIs with too little history or no value are left out)."""
    if period.kind is not PeriodKind.WEEK:
        raise ValueError(f"anomalies are judged per week, not per {period.kind.value}")
    judged = [kpi.key for kpi in config.kpis if kpis is None or kpi.key in kpis]
    everyone = [team.key for team in config.teams]
    weeks = [period]
    with transaction(engine) as session:

        def results(week: Period) -> dict[str, dict[str, KpiResult]]:
            # every team at once: the digest jobs of the other teams then find each week in the cache
            if cache is None:
                computed = compute_reports(session, config=config, period=week, kpis=judged)
            else:
                computed = cache.results(session, config=config, periods=[week], teams=everyone, kpis=judged)[week]
            return {team: report.results for team, report in computed.items()}

        def full(week: Period) -> list[Report]:  # every KPI of every team, as the digest reports the week
            return (cache.build if cache else build_reports)(session, config=config, period=week, teams=None)

        # a team whose week could not be computed (any KPI) is judged on nothing: its digest says so
        unavailable = {report.team for report in full(period) if report.failure is not None}
        history = [results(period)]
        while len(weeks) <= WINDOW:
            weeks.insert(0, weeks[0].previous())
            history.insert(0, results(weeks[0]))
        # whether anyone has data a year back, by every KPI as before (one week of every KPI)
        if any(_has_values(report) for report in full(_back(period, SEASON))):
            while len(weeks) <= FULL_HISTORY:
                weeks.insert(0, weeks[0].previous())
                history.insert(0, results(weeks[0]))
    found: dict[str, dict[str, Anomaly]] = {}
    for team in teams:
        found[team] = {}
        for key in judged if team not in unavailable else []:
            values = [_value(week.get(team), key) for week in history]
            current = values.pop()
            if current is None:
                continue
            anomaly = judge(values, current)
            if anomaly is not None:
                found[team][key] = anomaly
    return found


def flags(config: Config, anomalies: dict[str, Anomaly]) -> list[Flag]:
    """The unusual ones, by each KPI's ``anomaly.threshold``, most unusual first."""
    unusual = [
        Flag(key, anomaly, config.kpi_by_key[key].anomaly.alert)
        for key, anomaly in anomalies.items()
        if key in config.kpi_by_key and anomaly.unusual(config.kpi_by_key[key].anomaly.threshold)
    ]
    return sorted(unusual, key=lambda flag: -abs(flag.anomaly.score))


def _back(period: Period, weeks: int) -> Period:
    for _ in range(weeks):
        period = period.previous()
    return period


def _has_values(report: Report) -> bool:
    return any(result.value is not None for result in report.kpis.values())


def _value(results: dict[str, KpiResult] | None, kpi: str) -> float | None:
    if results is None or kpi not in results:  # a team that could not be computed has no results
        return None
    return results[kpi].value
