"""360° review answers and results: a rater's form (their own answer, stored or replaced until the
deadline), a person's results by rater group (through the anonymity rules of kpi_core/review_results.py),
the personal performance score, a cycle's status and its export rows.

Results are shown only once a cycle is closed: a result that moved while answers came in would tell
who had just answered."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, delete, func, select

from kpi_core.config import Config
from kpi_core.errors import ReviewError
from kpi_core.models import AuditEntry
from kpi_core.people import competencies_of, position_of
from kpi_core.review_cycles import find_cycle, latest_closed_cycle
from kpi_core.review_models import RELATIONS, ReviewAnswer, ReviewAssignment, ReviewCycle, ReviewScore
from kpi_core.review_results import GroupResult, RatedAnswer, group_results, performance_score


def competency_keys(config: Config, subject: str) -> list[str]:
    """The competencies ``subject`` is rated on: their position's, else every configured one."""
    position = position_of(config, subject)
    competencies = competencies_of(config, position) if position is not None else list(config.competencies)
    return [competency.key for competency in competencies]


@dataclass(frozen=True)
class RaterForm:
    """What a rater's form needs: whom they rate, as what, and their answer so far."""

    assignment: ReviewAssignment
    cycle: ReviewCycle
    competencies: list[str]
    scores: dict[str, int]
    comment: str | None


def rater_form(session: Session, *, config: Config, assignment_id: int, rater: str, now: datetime) -> RaterForm:
    """The rater's own assignment (anyone else's is refused) in an open cycle, with their answer so far."""
    assignment = session.get(ReviewAssignment, assignment_id) if 0 < assignment_id < 2**63 else None
    if assignment is None or assignment.rater != rater or assignment.state != "active":
        raise ReviewError(reason="not_yours")
    cycle = session.get(ReviewCycle, assignment.cycle_id)
    assert cycle is not None  # a foreign key
    if cycle.closed_at is not None:
        raise ReviewError(reason="closed", cycle=cycle.key)
    if now >= cycle.deadline_at:
        raise ReviewError(reason="past_deadline", cycle=cycle.key)
    answer = session.exec(select(ReviewAnswer).where(ReviewAnswer.assignment_id == assignment.id)).first()
    scores: dict[str, int] = {}
    if answer is not None:
        query = select(ReviewScore).where(ReviewScore.answer_id == answer.id)
        scores = {score.competency: score.score for score in session.exec(query).all()}
    return RaterForm(
        assignment, cycle, competency_keys(config, assignment.subject), scores, answer.comment if answer else None
    )


def submit_answer(
    session: Session,
    *,
    config: Config,
    assignment_id: int,
    rater: str,
    scores: Mapping[str, int],
    comment: str | None,
    now: datetime,
) -> bool:
    """Stores the rater's answer, replacing an earlier one; True when it replaced one. ``scores`` must rate
    exactly the person's competencies, each 1-5 (the form checked them; this is the last word)."""
    form = rater_form(session, config=config, assignment_id=assignment_id, rater=rater, now=now)
    if set(scores) != set(form.competencies) or not all(
        isinstance(score, int) and 1 <= score <= 5 for score in scores.values()
    ):
        raise ReviewError(reason="not_yours")
    assignment = form.assignment
    answer = session.exec(select(ReviewAnswer).where(ReviewAnswer.assignment_id == assignment.id)).first()
    replaced = answer is not None
    if answer is None:
        answer = ReviewAnswer(
            assignment_id=assignment.id or 0,
            cycle_id=assignment.cycle_id,
            subject=assignment.subject,
            relation=assignment.relation,
            submitted_at=now,
        )
    answer.comment, answer.submitted_at = comment, now
    session.add(answer)
    session.flush()
    session.execute(delete(ReviewScore).where(col(ReviewScore.answer_id) == answer.id))
    for competency, score in scores.items():
        session.add(ReviewScore(answer_id=answer.id or 0, competency=competency, score=score))
    assignment.answered_at = now
    session.add(assignment)
    # the trail says that an answer was given, never what it was (that would name the rater's ratings)
    session.add(
        AuditEntry(
            at=now,
            user=rater,
            action="replace" if replaced else "rate",
            entity="review_answer",
            entity_id=answer.id,
            new={"cycle": form.cycle.key},
        )
    )
    session.flush()
    return replaced


def results(session: Session, *, config: Config, cycle: ReviewCycle, subject: str) -> dict[str, GroupResult]:
    """A person's results by rater group, anonymity applied; empty while the cycle is open."""
    if cycle.closed_at is None:
        return {}
    asked = Counter(
        session.exec(
            select(ReviewAssignment.relation).where(
                ReviewAssignment.cycle_id == cycle.id,
                ReviewAssignment.subject == subject,
                ReviewAssignment.state == "active",
            )
        ).all()
    )
    rows = session.execute(
        sa.select(
            col(ReviewAnswer.id),
            col(ReviewAnswer.relation),
            col(ReviewAnswer.comment),
            col(ReviewScore.competency),
            col(ReviewScore.score),
        )
        .join(ReviewScore, col(ReviewScore.answer_id) == ReviewAnswer.id)
        .where(col(ReviewAnswer.cycle_id) == cycle.id, col(ReviewAnswer.subject) == subject)
    ).all()
    answers: dict[int, tuple[str, str | None, dict[str, int]]] = {}
    for answer_id, relation, comment, competency, score in rows:
        answers.setdefault(answer_id, (relation, comment, {}))[2][competency] = score
    return group_results(
        [RatedAnswer(relation, scores, comment) for relation, comment, scores in answers.values()],
        asked=asked,
        competencies=competency_keys(config, subject),
        min_raters=config.reviews.min_group_raters,
    )


def personal_performance(session: Session, config: Config, user: str, cycle: str | None = None) -> float | None:
    """The personal performance part (0-100) of ``user``'s scorecard from a closed cycle's review (the
    latest closed one by default); None without one or without a shown, weighted group."""
    found = latest_closed_cycle(session) if cycle is None else find_cycle(session, key=cycle)
    if found is None:
        return None
    groups = results(session, config=config, cycle=found, subject=user)
    return performance_score(groups, weights={str(key): weight for key, weight in config.reviews.group_weights.items()})


@dataclass(frozen=True)
class CycleStatus:
    cycle: ReviewCycle
    people: int
    #: per rater group: (asked, answered)
    groups: dict[str, tuple[int, int]]
    awaiting_approval: int
    unanswered_raters: int


def status(session: Session, *, key: str) -> CycleStatus:
    cycle = find_cycle(session, key=key)
    query = (
        select(
            ReviewAssignment.relation,
            ReviewAssignment.state,
            func.count(),
            func.count(col(ReviewAssignment.answered_at)),
        )
        .where(ReviewAssignment.cycle_id == cycle.id)
        .group_by(ReviewAssignment.relation, ReviewAssignment.state)
    )
    groups = {relation: (0, 0) for relation in RELATIONS}
    awaiting = 0
    for relation, state, asked, answered in session.exec(query).all():
        if state == "nominated":
            awaiting += asked
        elif state == "active":
            groups[relation] = (groups[relation][0] + asked, groups[relation][1] + answered)
    people = session.exec(
        select(func.count(func.distinct(ReviewAssignment.subject))).where(ReviewAssignment.cycle_id == cycle.id)
    ).one()
    unanswered = session.exec(
        select(func.count(func.distinct(ReviewAssignment.rater))).where(
            ReviewAssignment.cycle_id == cycle.id,
            ReviewAssignment.state == "active",
            col(ReviewAssignment.answered_at).is_(None),
        )
    ).one()
    return CycleStatus(cycle, int(people), groups, awaiting, int(unanswered))


def export_rows(session: Session, *, config: Config, key: str) -> list[dict[str, object]]:
    """One row per person, rater group and competency of a closed cycle: the average, or nothing where
    anonymity hides it. With ``reviews.admins_see_raters`` (the export is an admin's), one row per rater
    and competency instead, naming the rater."""
    cycle = find_cycle(session, key=key)
    if cycle.closed_at is None:
        raise ReviewError(reason="not_closed", cycle=cycle.key)
    if config.reviews.admins_see_raters:
        return _rows_naming_raters(session, cycle)
    rows: list[dict[str, object]] = []
    subjects = session.exec(
        select(ReviewAssignment.subject).where(ReviewAssignment.cycle_id == cycle.id).distinct()
    ).all()
    for subject in sorted(subjects):
        for relation, group in results(session, config=config, cycle=cycle, subject=subject).items():
            for competency in competency_keys(config, subject):
                average = group.averages.get(competency)
                rows.append(
                    {
                        "cycle": cycle.key,
                        "person": subject,
                        "group": relation,
                        "asked": group.asked,
                        "answered": group.answered,
                        "shown": group.shown,
                        "competency": competency,
                        "average": None if average is None else round(average, 2),
                    }
                )
    return rows


def _rows_naming_raters(session: Session, cycle: ReviewCycle) -> list[dict[str, object]]:
    query = (
        select(ReviewAssignment.subject, ReviewAssignment.relation, ReviewAssignment.rater, ReviewScore)
        .join(ReviewAnswer, col(ReviewAnswer.assignment_id) == ReviewAssignment.id)
        .join(ReviewScore, col(ReviewScore.answer_id) == ReviewAnswer.id)
        .where(ReviewAssignment.cycle_id == cycle.id)
        .order_by(
            col(ReviewAssignment.subject),
            col(ReviewAssignment.relation),
            col(ReviewAssignment.rater),
            col(ReviewScore.competency),
        )
    )
    return [
        {
            "cycle": cycle.key,
            "person": subject,
            "group": relation,
            "rater": rater,
            "competency": score.competency,
            "score": score.score,
        }
        for subject, relation, rater, score in session.exec(query).all()
    ]


def pending_requests(session: Session) -> list[tuple[ReviewAssignment, ReviewCycle]]:
    """Active assignments of open cycles whose rater has not been asked yet."""
    query = (
        select(ReviewAssignment, ReviewCycle)
        .join(ReviewCycle, col(ReviewCycle.id) == ReviewAssignment.cycle_id)
        .where(
            col(ReviewCycle.closed_at).is_(None),
            ReviewAssignment.state == "active",
            col(ReviewAssignment.requested_at).is_(None),
        )
        .order_by(col(ReviewAssignment.id))
    )
    return [(assignment, cycle) for assignment, cycle in session.exec(query).all()]


def mark_requested(session: Session, *, assignment_id: int, now: datetime) -> None:
    assignment = session.get(ReviewAssignment, assignment_id)
    if assignment is not None:
        assignment.requested_at = now
        session.add(assignment)


def unanswered(session: Session, *, cycle: ReviewCycle) -> dict[str, list[ReviewAssignment]]:
    """Per rater, the active assignments they have not answered, in a cycle."""
    query = select(ReviewAssignment).where(
        ReviewAssignment.cycle_id == cycle.id,
        ReviewAssignment.state == "active",
        col(ReviewAssignment.answered_at).is_(None),
    )
    by_rater: dict[str, list[ReviewAssignment]] = defaultdict(list)
    for assignment in session.exec(query.order_by(col(ReviewAssignment.id))).all():
        by_rater[assignment.rater].append(assignment)
    return dict(by_rater)
