"""Each KPI's weekly value of the teams judged against its own history (kpi_core.anomalies), for the weekly
digest and the anomaly alerts.

History costs one report per week, so it is read in two steps: the last ``WINDOW`` weeks, and the rest of
two years (what the seasonal baseline needs) only when a team has data a year back. Reports go through
the report cache, so the digests of teams sharing a schedule compute each week once.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from kpi_core.anomalies import FULL_HISTORY, SEASON, WINDOW, Anomaly, judge
from kpi_core.config_schema import Config
from kpi_core.db import transaction
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
    engine: sa.Engine, *, config: Config, period: Period, teams: list[str], cache: SharedReports | None = None
) -> dict[str, dict[str, Anomaly]]:
    """Per team, each KPI's value in the week ``period`` judged against the weeks before it (KPIs with
    too little history or no value are left out)."""
    if period.kind is not PeriodKind.WEEK:
        raise ValueError(f"anomalies are judged per week, not per {period.kind.value}")
    weeks = [period]
    with transaction(engine) as session:

        def reports(week: Period) -> dict[str, Report]:
            # every team at once: the digest jobs of the other teams then find each week in the cache
            built = (cache.build if cache else build_reports)(session, config=config, period=week, teams=None)
            return {report.team: report for report in built}

        history = [reports(period)]
        while len(weeks) <= WINDOW:
            weeks.insert(0, weeks[0].previous())
            history.insert(0, reports(weeks[0]))
        year_ago = reports(_back(period, SEASON))
        if any(_has_values(report) for report in year_ago.values()):
            while len(weeks) <= FULL_HISTORY:
                weeks.insert(0, weeks[0].previous())
                history.insert(0, reports(weeks[0]))
    found: dict[str, dict[str, Anomaly]] = {}
    for team in teams:
        found[team] = {}
        for kpi in config.kpis:
            values = [_value(week.get(team), kpi.key) for week in history]
            current = values.pop()
            if current is None:
                continue
            anomaly = judge(values, current)
            if anomaly is not None:
                found[team][kpi.key] = anomaly
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


def _value(report: Report | None, kpi: str) -> float | None:
    if report is None or kpi not in report.kpis:
        return None
    return report.kpis[kpi].value
