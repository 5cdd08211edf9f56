"""The demo's finished 360° review: cycle 2026-Q3, launched, rated by everyone asked (peers defaulted),
closed at its deadline, and the first person's review interview recorded, confirmed and acknowledged.
Deterministic, like the rest of the demo data (kpi_core/demo.py)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, select

from kpi_core import interviews, review_cycles, reviews
from kpi_core.config import Config
from kpi_core.review_cycles import LaunchRequest
from kpi_core.review_models import ReviewAssignment, ReviewCycle

DEMO_CYCLE = "2026-Q3"
LAUNCHED_AT = datetime(2026, 9, 14, 1, 0, tzinfo=UTC)
DEADLINE_ON = date(2026, 9, 28)
SEED = 20260914


def load_demo_review(session: Session, *, config: Config) -> int | None:
    """Adds the demo cycle in the caller's transaction; how many answers it holds, or None when it is there
    already (or the config names no people)."""
    if not config.people or session.exec(select(ReviewCycle).where(ReviewCycle.key == DEMO_CYCLE)).first():
        return None
    launcher = next(iter(config.roles.hr + config.roles.admins), "demo")
    request = LaunchRequest(key=DEMO_CYCLE, kind="quarter", deadline_on=DEADLINE_ON)
    cycle = review_cycles.launch(session, config=config, request=request, user=launcher, now=LAUNCHED_AT)
    review_cycles.default_peers(session, config=config, cycle=cycle, now=cycle.nominations_due_at)
    rng = random.Random(SEED)
    strength = {person.user: rng.choice((3, 4, 4, 5)) for person in config.people}  # each person's usual level
    answered_at = cycle.nominations_due_at + timedelta(days=1)
    assignments = session.exec(select(ReviewAssignment).where(ReviewAssignment.cycle_id == cycle.id)).all()
    for assignment in sorted(assignments, key=lambda row: row.id or 0):
        scores = {
            key: max(1, min(5, strength[assignment.subject] + rng.choice((-1, 0, 0, 1))))
            for key in reviews.competency_keys(config, assignment.subject)
        }
        reviews.submit_answer(
            session,
            config=config,
            assignment_id=assignment.id or 0,
            rater=assignment.rater,
            scores=scores,
            comment=None,
            now=answered_at,
        )
    opened = review_cycles.close(session, config=config, cycle=cycle, user="scheduler", now=cycle.deadline_at)
    if opened:
        _interview(session, opened[0].id or 0, at=cycle.deadline_at + timedelta(days=2))
    return len(assignments)


def _interview(session: Session, interview_id: int, *, at: datetime) -> None:
    interview, _ = interviews.find_interview(session, interview_id=interview_id)
    record = interviews.InterviewRecord(
        held_on=at.date(),
        rating=4,
        strengths="Delivers on time; the team relies on them.",
        development_plan="Lead the Q4 customer-feedback project; a course in data analysis.",
    )
    interviews.record(session, interview_id=interview_id, user=interview.superior, record=record, now=at)
    if interview.second_superior is not None:
        interviews.confirm(session, interview_id=interview_id, user=interview.second_superior, now=at)
    interviews.acknowledge(session, interview_id=interview_id, user=interview.subject, now=at + timedelta(hours=1))
