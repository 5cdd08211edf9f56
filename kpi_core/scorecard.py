"""Weighted scorecards: each item's score from attainment (or a linear band), the team total, the ranking."""

from __future__ import annotations

from dataclasses import dataclass

from kpi_core.config import Config, Kpi, ScorecardItem
from kpi_core.kpis import TeamReport


@dataclass(frozen=True)
class ItemScore:
    kpi: str
    weight: float
    value: float | None
    target: float | None
    score: float  # 0..100; 0 when there is no data (missing data earns no points)
    points: float  # score × weight / 100

    @property
    def has_data(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class TeamScore:
    team: str
    score: float
    rank: int
    items: list[ItemScore]


def item_score(kpi: Kpi, item: ScorecardItem, *, value: float | None, target: float | None) -> float:
    """0..100 for one KPI: ``min(attainment, 1) × 100`` by direction, or linear from zero_at to full_at."""
    if value is None:
        return 0.0
    if item.full_at is not None and item.zero_at is not None:
        fraction = (value - item.zero_at) / (item.full_at - item.zero_at)
        return max(0.0, min(fraction, 1.0)) * 100
    reached = attainment(kpi, value=value, target=target)
    return 0.0 if reached is None else max(0.0, min(reached, 1.0)) * 100


def attainment(kpi: Kpi, *, value: float, target: float | None) -> float | None:
    """How far ``value`` reaches ``target`` (1 = on target, more = better), honouring the direction:
    actual/target when higher is better, target/actual when lower is (an actual of 0 attains fully)."""
    if target is None:
        return None
    if kpi.better == "higher":
        return value / target if target else 1.0
    return target / value if value > 0 else 1.0


def score_teams(config: Config, scheme_key: str, reports: dict[str, TeamReport]) -> list[TeamScore]:
    """Scores every team in ``reports`` with scheme ``scheme_key``, best first; equal scores share a rank."""
    scheme = config.scorecards[scheme_key]
    unranked = []
    for team, report in reports.items():
        items = []
        for item in scheme.items:
            result = report.results[item.kpi]
            score = item_score(config.kpi_by_key[item.kpi], item, value=result.value, target=result.target)
            items.append(
                ItemScore(item.kpi, item.weight, result.value, result.target, score, score * item.weight / 100)
            )
        unranked.append((round(sum(item.points for item in items), 6), team, items))
    unranked.sort(key=lambda row: (-row[0], row[1]))
    ranked: list[TeamScore] = []
    for position, (total, team, items) in enumerate(unranked, start=1):
        rank = ranked[-1].rank if ranked and ranked[-1].score == total else position
        ranked.append(TeamScore(team=team, score=total, rank=rank, items=items))
    return ranked
