"""The review interview (绩效面谈) after a cycle closes: the direct superior or the superior's superior
records it (date, agreed rating, strengths, development plan), the other confirms, then the person
acknowledges. Recording again before the acknowledgement replaces the record and asks the other to
confirm again. Every step is in the audit trail, with the record as it was and as it became."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlmodel import Session, select

from kpi_core.errors import ReviewError
from kpi_core.models import AuditEntry
from kpi_core.review_models import ReviewCycle, ReviewInterview

_MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class InterviewRecord:
    held_on: date
    rating: int
    strengths: str
    development_plan: str


def find_interview(session: Session, *, interview_id: int) -> tuple[ReviewInterview, ReviewCycle]:
    interview = session.get(ReviewInterview, interview_id) if 0 < interview_id <= _MAX_ID else None
    if interview is None:
        raise ReviewError(reason="not_yours")
    cycle = session.get(ReviewCycle, interview.cycle_id)
    assert cycle is not None  # a foreign key
    return interview, cycle


def interviews_of(session: Session, *, cycle: ReviewCycle) -> list[ReviewInterview]:
    return list(session.exec(select(ReviewInterview).where(ReviewInterview.cycle_id == cycle.id)).all())


def holders(interview: ReviewInterview) -> tuple[str, ...]:
    """Who holds the interview: the direct superior and (when there is one) the superior's superior."""
    return (
        (interview.superior,) if interview.second_superior is None else (interview.superior, interview.second_superior)
    )


def confirmed(interview: ReviewInterview) -> bool:
    return interview.superior_confirmed_at is not None and (
        interview.second_superior is None or interview.second_confirmed_at is not None
    )


def _snapshot(interview: ReviewInterview) -> dict[str, Any]:
    return interview.model_dump(mode="json")


def _audited(
    session: Session, interview: ReviewInterview, *, user: str, action: str, old: dict[str, Any], now: datetime
) -> None:
    session.add(interview)
    session.flush()
    session.add(
        AuditEntry(
            at=now,
            user=user,
            action=action,
            entity="review_interview",
            entity_id=interview.id,
            old=old,
            new=_snapshot(interview),
        )
    )


def record(
    session: Session, *, interview_id: int, user: str, record: InterviewRecord, now: datetime
) -> ReviewInterview:
    """Stores the record made by one of the holders; it counts as their confirmation, and the other's
    confirmation is asked (again)."""
    interview, _ = find_interview(session, interview_id=interview_id)
    if user not in holders(interview):
        raise ReviewError(reason="not_yours")
    if interview.acknowledged_at is not None:
        raise ReviewError(reason="done")
    old = _snapshot(interview)
    interview.held_on, interview.rating = record.held_on, record.rating
    interview.strengths, interview.development_plan = record.strengths, record.development_plan
    interview.recorded_by, interview.recorded_at = user, now
    interview.superior_confirmed_at = now if user == interview.superior else None
    interview.second_confirmed_at = now if user == interview.second_superior else None
    _audited(session, interview, user=user, action="record", old=old, now=now)
    return interview


def confirm(session: Session, *, interview_id: int, user: str, now: datetime) -> ReviewInterview:
    """The other holder confirms the record."""
    interview, _ = find_interview(session, interview_id=interview_id)
    if user not in holders(interview):
        raise ReviewError(reason="not_yours")
    if interview.recorded_at is None:
        raise ReviewError(reason="not_recorded")
    slot: Literal["superior_confirmed_at", "second_confirmed_at"] = (
        "superior_confirmed_at" if user == interview.superior else "second_confirmed_at"
    )
    if getattr(interview, slot) is not None or interview.acknowledged_at is not None:
        raise ReviewError(reason="done")
    old = _snapshot(interview)
    setattr(interview, slot, now)
    _audited(session, interview, user=user, action="confirm", old=old, now=now)
    return interview


def acknowledge(session: Session, *, interview_id: int, user: str, now: datetime) -> ReviewInterview:
    """The person acknowledges the confirmed record."""
    interview, _ = find_interview(session, interview_id=interview_id)
    if user != interview.subject:
        raise ReviewError(reason="not_yours")
    if not confirmed(interview):
        raise ReviewError(reason="not_confirmed")
    if interview.acknowledged_at is not None:
        raise ReviewError(reason="done")
    old = _snapshot(interview)
    interview.acknowledged_at = now
    _audited(session, interview, user=user, action="acknowledge", old=old, now=now)
    return interview
