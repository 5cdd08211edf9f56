"""HOOK for the 360° reviews (issue 11, built on branch ``reviews``): a person's latest review results as the
personal scorecard shows them. Until that branch is merged there are none; on merge, this body becomes a call
of ``kpi_core.reviews.results`` (anonymity applied) and ``kpi_core.reviews.personal_performance`` for the
latest closed cycle."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlmodel import Session

from kpi_core.config_schema import Config


@dataclass(frozen=True)
class ReviewSummary:
    """A person's latest closed review: the personal performance part (0-100) and the averages it shows,
    rater group -> competency -> mean rating (1-5); groups held back by the anonymity rule are absent."""

    cycle: str
    score: float | None
    ratings: Mapping[str, Mapping[str, float]]


def latest_review_summary(session: Session, *, config: Config, user: str) -> ReviewSummary | None:
    """The latest closed review of ``user``, or None (always None until the reviews branch is merged)."""
    return None
