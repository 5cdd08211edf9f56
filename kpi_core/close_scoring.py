"""The results a period close freezes, and how they are ranked, graded and re-scored, pure.

Each result keeps what scored it (an item's weight, target, direction and band), and each revision the
grade bands, rank rewards and personal weights it was graded with, so a correction re-scores a closed
period by the rules it was closed with, whatever the config says later."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kpi_core.close_schema import PeriodCloseSettings
from kpi_core.config_schema import Config
from kpi_core.scorecard import scored, shared_ranks

PARTS = ("position", "personal", "team")


@dataclass(frozen=True)
class ClosedItem:
    key: str  # the scorecard item's KPI
    weight: float
    value: float | None
    target: float | None
    score: float  # 0..100


@dataclass(frozen=True)
class ClosedResult:
    """A team's or person's frozen result; ``score`` None: a person with no score at all (unranked)."""

    period: str
    revision: int
    subject_kind: str  # team | person
    subject: str  # a team key or a person's Slack user id
    team: str  # the team, or the person's team
    score: float | None
    rank: int | None
    grade: str | None
    pay_factor: float | None
    verified_share: float | None
    items: Mapping[str, ClosedItem]
    parts: Mapping[str, float | None] = field(default_factory=dict)  # a person's position, personal, team
    rewards: tuple[Mapping[str, str], ...] = ()  # each {"en": ..., "zh": ...}


@dataclass
class Draft:
    """A result being built or re-scored; ``items`` as stored (kpi_core.close_models.ClosedResultRow)."""

    subject_kind: str
    subject: str
    team: str
    score: float | None
    items: dict[str, dict[str, Any]]
    parts: dict[str, float | None] | None = None
    verified_share: float | None = None
    rank: int | None = None
    grade: str | None = None
    pay_factor: float | None = None
    rewards: list[dict[str, str]] = field(default_factory=list)


def rules_of(config: Config) -> dict[str, Any]:
    """The grading rules of ``config`` as a revision stores them."""
    settings = config.period_close
    return {
        "grades": [band.model_dump() for band in settings.grades],
        "rewards": [reward.model_dump() for reward in settings.rewards],
        "weights": {part: getattr(config.person_scorecard, part) for part in PARTS},
    }


def stored_item(*, weight: float, value: float | None, target: float | None, score: float, **scoring: Any) -> dict:
    """An item as a snapshot keeps it: with ``better``, ``full_at`` and ``zero_at``, to re-score it."""
    return {"weight": weight, "value": value, "target": target, "score": score, **scoring}


def grade_all(drafts: Sequence[Draft], rules: Mapping[str, Any]) -> None:
    """Ranks the teams and the persons apart (best score first, ties share a rank), then gives each its
    grade, pay factor and rank rewards."""
    settings = PeriodCloseSettings.model_validate({"grades": rules["grades"], "rewards": rules["rewards"]})
    for kind in ("team", "person"):
        of_kind = [draft for draft in drafts if draft.subject_kind == kind]
        scores = {draft.subject: draft.score for draft in of_kind if draft.score is not None}
        ranks = shared_ranks(scores)
        from_bottom = shared_ranks({subject: -score for subject, score in scores.items()})
        for draft in of_kind:
            draft.rank = ranks.get(draft.subject)
            band = settings.band_for(draft.score)
            draft.grade = band.grade if band else None
            draft.pay_factor = band.pay_factor if band else None
            draft.rewards = [
                {"en": reward.text.en, "zh": reward.text.zh}
                for reward in settings.rewards
                if reward.applies_to == kind
                and draft.rank is not None
                and reward.earned(rank=draft.rank, rank_from_bottom=from_bottom[draft.subject])
            ]


def total_of(items: Mapping[str, Mapping[str, Any]]) -> float:
    return round(sum(item["score"] * item["weight"] / 100 for item in items.values()), 6)


def composite(parts: Mapping[str, float | None], weights: Mapping[str, float]) -> float | None:
    """The personal scorecard's composite (kpi_core.person_scorecard): the parts with a score, by weight."""
    present = [part for part in PARTS if parts.get(part) is not None and weights[part] > 0]
    total = sum(weights[part] for part in present)
    if not total:
        return None
    return round(sum(weights[part] * (parts[part] or 0.0) for part in present) / total, 1)


def correct(drafts: Sequence[Draft], *, subject: Draft, item: str, value: float, rules: Mapping[str, Any]) -> None:
    """Sets ``item`` of ``subject`` to ``value`` and re-scores it, its team's persons (whose team part is
    the team's score) and every rank and grade."""
    stored = subject.items[item]
    stored["value"] = value
    stored["score"] = scored(
        stored.get("better", "higher"),
        value=value,
        target=stored["target"],
        full_at=stored.get("full_at"),
        zero_at=stored.get("zero_at"),
    )
    weights = rules["weights"]
    if subject.subject_kind == "team":
        subject.score = total_of(subject.items)
        for person in drafts:
            in_team = person.subject_kind == "person" and person.team == subject.subject
            if in_team and person.parts and person.parts.get("team") is not None:
                person.parts["team"] = subject.score
                person.score = composite(person.parts, weights)
    else:
        assert subject.parts is not None
        subject.parts["position"] = total_of(subject.items)
        subject.score = composite(subject.parts, weights)
    grade_all(drafts, rules)
