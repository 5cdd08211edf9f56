"""Weighted scorecards: each item's score from attainment (or a linear band), the team total, the ranking."""

from __future__ import annotations

from collections.abc import Mapping
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
    return scored(kpi.better, value=value, target=target, full_at=item.full_at, zero_at=item.zero_at)


def scored(
    better: str, *, value: float | None, target: float | None, full_at: float | None, zero_at: float | None
) -> float:
    """``item_score`` from the item's parts alone, as a closed period's snapshot keeps them (a correction
    re-scores a frozen item by the rules it was closed with, not by today's config)."""
    if value is None:
        return 0.0
    if full_at is not None and zero_at is not None:
        fraction = (value - zero_at) / (full_at - zero_at)
        return max(0.0, min(fraction, 1.0)) * 100
    reached = reached_share(better, value=value, target=target)
    return 0.0 if reached is None else max(0.0, min(reached, 1.0)) * 100


def attainment(kpi: Kpi, *, value: float, target: float | None) -> float | None:
    """How far ``value`` reaches ``target`` (1 = on target, more = better), honouring the direction:
    actual/target when higher is better, target/actual when lower is (an actual of 0 attains fully)."""
    return reached_share(kpi.better, value=value, target=target)


def reached_share(better: str, *, value: float, target: float | None) -> float | None:
    if target is None:
        return None
    if better == "higher":
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
    ranks = shared_ranks({team: total for total, team, _ in unranked})
    ranked = [TeamScore(team=team, score=total, rank=ranks[team], items=items) for total, team, items in unranked]
    ranked.sort(key=lambda row: (row.rank, row.team))
    return ranked


def shared_ranks(scores: Mapping[str, float]) -> dict[str, int]:
    """Each subject's rank, best score first; equal scores share a rank (1, 2, 2, 4)."""
    ordered = sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))
    ranks: dict[str, int] = {}
    for position, (subject, score) in enumerate(ordered, start=1):
        previous = ordered[position - 2] if position > 1 else None
        ranks[subject] = ranks[previous[0]] if previous is not None and previous[1] == score else position
    return ranks
