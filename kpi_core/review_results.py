"""The anonymity rules of 360° reviews, pure: what one person's answers show, group by group.

Self and superior ratings are shown as given (each group is one known person). Peer and subordinate
ratings are shown only as averages per competency, and only once at least ``min_raters`` of that group
answered (config ``reviews.min_group_raters``, at least 3); their comments likewise, sorted so that
their order tells nothing of who answered when. Everything that shows review results (Slack, the CLI
export, the personal scorecard) goes through ``group_results``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from kpi_core.review_models import RELATIONS

#: groups whose raters stay anonymous: averages only, and only from min_raters answers on
ANONYMOUS_GROUPS = ("peer", "subordinate")
MIN_ANONYMOUS_RATERS = 3


@dataclass(frozen=True)
class RatedAnswer:
    """One answer as results read it: the rater's group, never the rater."""

    relation: str
    scores: Mapping[str, int]
    comment: str | None = None


@dataclass(frozen=True)
class GroupResult:
    relation: str
    asked: int
    answered: int
    #: False: too few answers in an anonymous group, so nothing of it is shown
    shown: bool
    averages: Mapping[str, float] = field(default_factory=dict)
    comments: tuple[str, ...] = ()

    @property
    def mean(self) -> float | None:
        """The group's mean over the competencies it rated (None when nothing is shown)."""
        if not self.averages:
            return None
        return sum(self.averages.values()) / len(self.averages)


def group_results(
    answers: Sequence[RatedAnswer],
    *,
    asked: Mapping[str, int],
    competencies: Sequence[str],
    min_raters: int = MIN_ANONYMOUS_RATERS,
) -> dict[str, GroupResult]:
    """Each rater group's result, in RELATIONS order, for the groups that were asked or answered."""
    if min_raters < MIN_ANONYMOUS_RATERS:
        raise ValueError(f"min_raters must be at least {MIN_ANONYMOUS_RATERS}, not {min_raters}")
    by_group: dict[str, list[RatedAnswer]] = {relation: [] for relation in RELATIONS}
    for answer in answers:
        by_group[answer.relation].append(answer)
    results = {}
    for relation in RELATIONS:
        group = by_group[relation]
        if not group and not asked.get(relation):
            continue
        anonymous = relation in ANONYMOUS_GROUPS
        shown = bool(group) and (not anonymous or len(group) >= min_raters)
        averages: dict[str, float] = {}
        comments: tuple[str, ...] = ()
        if shown:
            for competency in competencies:
                given = [answer.scores[competency] for answer in group if competency in answer.scores]
                if given:
                    averages[competency] = sum(given) / len(given)
            texts = [answer.comment.strip() for answer in group if answer.comment and answer.comment.strip()]
            comments = tuple(sorted(texts) if anonymous else texts)
        results[relation] = GroupResult(
            relation=relation,
            asked=max(asked.get(relation, 0), len(group)),
            answered=len(group),
            shown=shown,
            averages=averages,
            comments=comments,
        )
    return results


def performance_score(groups: Mapping[str, GroupResult], *, weights: Mapping[str, float]) -> float | None:
    """0-100 from the shown groups' means (1 = 0, 5 = 100), weighted by group; groups shown nothing (or
    weighted 0) drop out and the others' weights are scaled up. None when no weighted group is shown."""
    weighted = [
        (weights.get(relation, 0.0), group.mean)
        for relation, group in groups.items()
        if group.mean is not None and weights.get(relation, 0.0) > 0
    ]
    total = sum(weight for weight, _ in weighted)
    if not total:
        return None
    mean = sum(weight * value for weight, value in weighted if value is not None) / total
    return round((mean - 1) / 4 * 100, 1)
