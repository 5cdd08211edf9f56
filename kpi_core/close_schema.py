"""The ``period_close`` config section: which scorecard a close freezes, where its final scorecard and
HR's results file go, the grade bands (score -> grade, pay factor) and the rank rewards. Its cross-checks
(bands that overlap or leave gaps, an unknown scheme) are ``check_period_close``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kpi_core.errors import ConfigProblem
from kpi_core.names import Names

#: scores run from 0 to 100 (kpi_core.scorecard), so the bands must cover exactly that
LOWEST_SCORE, HIGHEST_SCORE = 0.0, 100.0
REWARD_CHARS = 200  # a reward's text is shown beside a rank on the scorecard


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GradeBand(_Model):
    """Scores from ``min_score`` up to, not including, ``max_score`` earn ``grade`` (the top band includes
    100) and ``pay_factor``, the multiplier HR applies to variable pay."""

    grade: str = Field(min_length=1, max_length=32)
    min_score: float
    max_score: float
    pay_factor: float = Field(ge=0, le=10)


class RankReward(_Model):
    """A reward (or penalty) for the ``top`` N or the ``bottom`` N ranks of teams or persons."""

    top: int | None = Field(default=None, ge=1)
    bottom: int | None = Field(default=None, ge=1)
    text: Names  # e.g. {en: Team of the quarter bonus, zh: 季度最佳团队奖}
    applies_to: Literal["team", "person"] = "team"

    @model_validator(mode="after")
    def _top_or_bottom(self) -> RankReward:
        if (self.top is None) == (self.bottom is None):
            raise ValueError("give exactly one of top or bottom")
        return self

    def earned(self, *, rank: int, rank_from_bottom: int) -> bool:
        """Whether a subject ranked ``rank`` from the top and ``rank_from_bottom`` from the bottom (ties
        share either, so two teams tied last both take a bottom-1 penalty) earns this reward."""
        if self.top is not None:
            return rank <= self.top
        assert self.bottom is not None
        return rank_from_bottom <= self.bottom


class PeriodCloseSettings(_Model):
    #: the team scorecard scheme a close freezes (None: the first scheme of the closed period's kind)
    scorecard: str | None = None
    #: where the final scorecard is posted (None: the quarterly_scorecard schedule's channel)
    channel: str | None = None
    #: HR's channel: it gets the results file (CSV, with pay factors and persons); None: no file is sent
    hr_channel: str | None = None
    grades: list[GradeBand] = []
    rewards: list[RankReward] = []

    def band_for(self, score: float | None) -> GradeBand | None:
        if score is None:
            return None
        for band in self.grades:
            if band.min_score <= score < band.max_score or (score == band.max_score == HIGHEST_SCORE):
                return band
        return None


def check_period_close(settings: PeriodCloseSettings, *, scorecards: Collection[str]) -> list[ConfigProblem]:
    """Bands that must tile 0..100 without gaps or overlaps, unique grades, a known scheme."""
    where = "period_close"
    problems: list[ConfigProblem] = []
    if settings.scorecard is not None and settings.scorecard not in scorecards:
        problems.append(ConfigProblem(f"{where}.scorecard", f"unknown scorecard {settings.scorecard!r}"))
    for number, reward in enumerate(settings.rewards):
        if not reward.text.en.strip() or len(reward.text.en) > REWARD_CHARS or len(reward.text.zh) > REWARD_CHARS:
            message = f"the text must be 1 to {REWARD_CHARS} characters"
            problems.append(ConfigProblem(f"{where}.rewards.{number}.text", message))
    for grade, count in Counter(band.grade for band in settings.grades).items():
        if count > 1:
            problems.append(ConfigProblem(f"{where}.grades", f"duplicate grade {grade!r} ({count} times)"))
    bands = sorted(settings.grades, key=lambda band: (band.min_score, band.max_score))
    for band in bands:
        if band.min_score >= band.max_score:
            message = f"grade {band.grade!r}: min_score {band.min_score:g} must be below max_score {band.max_score:g}"
            problems.append(ConfigProblem(f"{where}.grades", message))
    if not bands or problems:
        return problems
    if bands[0].min_score != LOWEST_SCORE:
        message = f"scores below {bands[0].min_score:g} have no grade (the lowest band must start at {LOWEST_SCORE:g})"
        problems.append(ConfigProblem(f"{where}.grades", message))
    if bands[-1].max_score != HIGHEST_SCORE:
        message = f"the highest band must end at {HIGHEST_SCORE:g}, not {bands[-1].max_score:g}"
        problems.append(ConfigProblem(f"{where}.grades", message))
    for lower, upper in zip(bands, bands[1:], strict=False):
        if upper.min_score > lower.max_score:
            message = (
                f"scores from {lower.max_score:g} to {upper.min_score:g} have no grade "
                f"(between {lower.grade!r} and {upper.grade!r})"
            )
            problems.append(ConfigProblem(f"{where}.grades", message))
        elif upper.min_score < lower.max_score:
            message = f"grades {lower.grade!r} and {upper.grade!r} overlap ({upper.min_score:g} to {lower.max_score:g})"
            problems.append(ConfigProblem(f"{where}.grades", message))
    return problems
