"""A person's latest review results as the personal scorecard shows them: ``kpi_core.reviews.results``
(anonymity applied) and the personal performance score of the latest closed cycle."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlmodel import Session

from kpi_core.config_schema import Config
from kpi_core.review_cycles import latest_closed_cycle
from kpi_core.reviews import personal_performance, results


@dataclass(frozen=True)
class ReviewSummary:
    """A person's latest closed review: the personal performance part (0-100) and the averages it shows,
    rater group -> competency -> mean rating (1-5); groups held back by the anonymity rule are absent."""

    cycle: str
    score: float | None
    ratings: Mapping[str, Mapping[str, float]]


def latest_review_summary(session: Session, *, config: Config, user: str) -> ReviewSummary | None:
    """The latest closed review of ``user``, or None when no cycle is closed or they were not reviewed."""
    cycle = latest_closed_cycle(session)
    if cycle is None:
        return None
    groups = results(session, config=config, cycle=cycle, subject=user)
    if not any(group.asked for group in groups.values()):
        return None
    return ReviewSummary(
        cycle=cycle.key,
        score=personal_performance(session, config, user, cycle.key),
        ratings={relation: dict(group.averages) for relation, group in groups.items() if group.shown},
    )
