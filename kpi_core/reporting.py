"""Team reports as typed values shared by every renderer: each KPI's result for a period and the team's
place in each scorecard scheme of that period's kind. They become JSON or CSV only at the export edge
(bot/export.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlmodel import Session

from kpi_core.config import Config
from kpi_core.isolation import ComputeFailure
from kpi_core.kpis import KpiResult, TeamReport, compute_reports
from kpi_core.periods import Period
from kpi_core.scorecard import ItemScore, TeamScore, score_teams


@dataclass(frozen=True)
class Placement:
    """A team's place in one scorecard scheme, ranked among every team of the config."""

    scheme: str
    score: float
    rank: int
    teams: int  # how many teams were ranked
    items: tuple[ItemScore, ...]


@dataclass(frozen=True)
class Report:
    """One team's report for one period. ``kpis`` holds every configured KPI in config order (a KPI's name,
    unit and direction are in the config); ``scorecard`` the schemes whose period kind is the period's.
    A report that could not be computed has no KPIs and no placement, and ``failure`` says why."""

    team: str
    period: Period
    kpis: Mapping[str, KpiResult]
    scorecard: Mapping[str, Placement]
    failure: ComputeFailure | None = None


@dataclass(frozen=True)
class Rankings:
    """Every scorecard scheme of one period, ranking the teams that could be computed; ``failures`` are
    the teams left out of every ranking, and why."""

    schemes: Mapping[str, list[TeamScore]]
    failures: tuple[ComputeFailure, ...] = ()


def schemes_for(config: Config, reports: dict[str, TeamReport]) -> dict[str, list[TeamScore]]:
    """Every scorecard scheme whose period kind matches the reports' period, scored over all their teams
    that could be computed (a team that could not is not ranked, rather than ranked last)."""
    if not reports:
        return {}
    kind = next(iter(reports.values())).period.kind
    computed = {key: report for key, report in reports.items() if report.failure is None}
    return {
        key: score_teams(config, key, computed) for key, scheme in config.scorecards.items() if scheme.period == kind
    }


def report_of(team_report: TeamReport, scores: Mapping[str, list[TeamScore]]) -> Report:
    """``team_report`` with the team's place in each ranking of ``scores`` (a ranking without it is left out)."""
    scorecard = {}
    for scheme, ranking in scores.items():
        row = next((team_score for team_score in ranking if team_score.team == team_report.team), None)
        if row is not None:
            scorecard[scheme] = Placement(scheme, row.score, row.rank, len(ranking), tuple(row.items))
    return Report(
        team=team_report.team,
        period=team_report.period,
        kpis=team_report.results,
        scorecard=scorecard,
        failure=team_report.failure,
    )


def build_reports(session: Session, *, config: Config, period: Period, teams: list[str] | None = None) -> list[Report]:
    """The report of each team in ``teams`` (default: all); scorecard ranks are always among all teams."""
    selected = teams if teams is not None else [team.key for team in config.teams]
    for key in selected:
        config.team(key)  # raises UnknownTeam before any query runs
    scored_kinds = {scheme.period for scheme in config.scorecards.values()}
    everyone = compute_reports(
        session, config=config, period=period, teams=None if period.kind in scored_kinds else selected
    )
    scores = schemes_for(config, everyone)
    return [report_of(everyone[key], scores) for key in selected]


def rank_teams(session: Session, *, config: Config, period: Period) -> Rankings:
    """Every scorecard scheme of the period's kind, ranking all teams that could be computed."""
    reports = compute_reports(session, config=config, period=period)
    failures = tuple(report.failure for report in reports.values() if report.failure is not None)
    return Rankings(schemes_for(config, reports), failures)
