"""Reports as plain data (the shape of ``kpi-bot report --format json``), shared by every renderer."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from sqlmodel import Session

from kpi_core.config import Config
from kpi_core.kpis import TeamReport, compute_reports
from kpi_core.periods import Period
from kpi_core.scorecard import TeamScore, score_teams
from kpi_core.store import data_version

CSV_COLUMNS = ("team", "period", "kpi", "value", "unit", "target", "status", "n")


def schemes_for(config: Config, reports: dict[str, TeamReport]) -> dict[str, list[TeamScore]]:
    """Every scorecard scheme whose period kind matches the reports' period, scored over all their teams."""
    if not reports:
        return {}
    kind = next(iter(reports.values())).period.kind
    return {
        key: score_teams(config, key, reports) for key, scheme in config.scorecards.items() if scheme.period == kind
    }


def report_as_dict(config: Config, report: TeamReport, scores: dict[str, list[TeamScore]]) -> dict[str, Any]:
    kpis = {}
    for key, result in report.results.items():
        kpi = config.kpi_by_key[key]
        kpis[key] = {
            "name": kpi.name.model_dump(),
            "group": kpi.group,
            "value": result.value,
            "unit": kpi.unit,
            "better": kpi.better,
            "target": result.target,
            "threshold": result.threshold,
            "status": result.status,
            "n": result.n,
            "details": result.details,
        }
    scorecard = {}
    for scheme_key, ranking in scores.items():
        row = next((team_score for team_score in ranking if team_score.team == report.team), None)
        if row is None:
            continue
        scorecard[scheme_key] = {
            "score": row.score,
            "rank": row.rank,
            "teams": len(ranking),
            "items": [
                {
                    "kpi": item.kpi,
                    "weight": item.weight,
                    "value": item.value,
                    "target": item.target,
                    "score": item.score,
                    "points": item.points,
                }
                for item in row.items
            ],
        }
    return {
        "team": report.team,
        "period": report.period.label,
        "period_kind": report.period.kind.value,
        "period_start": report.period.start.isoformat(),
        "period_end": report.period.end.isoformat(),
        "kpis": kpis,
        "scorecard": scorecard,
    }


def report_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One flat row per KPI, for CSV."""
    return [
        {
            "team": report["team"],
            "period": report["period"],
            "kpi": key,
            "value": kpi["value"],
            "unit": kpi["unit"],
            "target": kpi["target"],
            "status": kpi["status"],
            "n": kpi["n"],
        }
        for key, kpi in report["kpis"].items()
    ]


def build_reports(
    session: Session, *, config: Config, period: Period, teams: list[str] | None = None
) -> list[dict[str, Any]]:
    """The report of each team in ``teams`` (default: all); scorecard ranks are always among all teams."""
    selected = teams if teams is not None else [team.key for team in config.teams]
    for key in selected:
        config.team(key)  # raises UnknownTeam before any query runs
    scored_kinds = {scheme.period for scheme in config.scorecards.values()}
    everyone = compute_reports(
        session, config=config, period=period, teams=None if period.kind in scored_kinds else selected
    )
    scores = schemes_for(config, everyone)
    return [report_as_dict(config, everyone[key], scores) for key in selected]


def rank_teams(session: Session, *, config: Config, period: Period) -> dict[str, list[TeamScore]]:
    """Every scorecard scheme of the period's kind, ranking all teams."""
    return schemes_for(config, compute_reports(session, config=config, period=period))


class ReportCache:
    """Team reports computed once per (teams, period, data version). Every write through kpi_core moves
    the version (kpi_core.store.bump_data_version), so a cached report is never stale; the version is read
    from the database, so replicas agree on it."""

    def __init__(self, *, max_entries: int = 512) -> None:
        self._entries: OrderedDict[tuple[Any, ...], list[dict[str, Any]]] = OrderedDict()
        self._max_entries = max_entries
        self._lock = threading.Lock()

    def build(
        self, session: Session, *, config: Config, period: Period, teams: list[str] | None = None
    ) -> list[dict[str, Any]]:
        key = (tuple(teams) if teams is not None else None, period, data_version(session))
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        reports = build_reports(session, config=config, period=period, teams=teams)
        with self._lock:
            self._entries[key] = reports
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return reports
