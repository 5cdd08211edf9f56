"""The tables of 360° reviews and review interviews (绩效面谈).

Anonymity rests on the split: ``review_assignment`` says who rates whom (and whether they answered), while
``review_answer`` and ``review_score`` carry the ratings with the rater's *group* only. Results are read from
the latter alone (kpi_core/review_results.py), so no output can name a rater unless it goes out of its way
through the assignment, which only the rater's own form and, with ``reviews.admins_see_raters``, an admin's
export do."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from kpi_core.models import USER_CHARS, UTCDateTime

#: the rater groups of a 360° review
RELATIONS = ("self", "superior", "subordinate", "peer")
#: active: asked to rate; nominated: a peer the person proposed, awaiting the superior; declined: not asked
ASSIGNMENT_STATES = ("active", "nominated", "declined")
CYCLE_KINDS = ("year", "quarter")
COMMENT_CHARS = 3000


def _utc(*, nullable: bool) -> Any:
    return sa.Column(UTCDateTime(), nullable=nullable)


class ReviewCycle(SQLModel, table=True):
    """One review cycle (``2026`` or ``2026-Q4``): launched, rated until its deadline, closed."""

    __tablename__ = "review_cycle"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=16, unique=True)
    kind: str = Field(max_length=8)
    launched_by: str = Field(max_length=USER_CHARS)
    launched_at: datetime = Field(sa_column=_utc(nullable=False))
    #: the last day of rating; it ends when that day has ended in every team's time zone (deadline_at)
    deadline_on: date
    deadline_at: datetime = Field(sa_column=_utc(nullable=False))
    #: peers not nominated by then are defaulted (the same team and position)
    nominations_due_at: datetime = Field(sa_column=_utc(nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    closed_by: str | None = Field(default=None, max_length=USER_CHARS)


class ReviewAssignment(SQLModel, table=True):
    """A rater asked (or proposed) to rate a person in a cycle."""

    __tablename__ = "review_assignment"
    __table_args__ = (
        sa.UniqueConstraint("cycle_id", "subject", "rater", name="uq_review_assignment"),
        sa.Index("ix_review_assignment_cycle_rater", "cycle_id", "rater"),
        sa.CheckConstraint(f"relation IN {RELATIONS!r}", name="ck_review_assignment_relation"),
        sa.CheckConstraint(f"state IN {ASSIGNMENT_STATES!r}", name="ck_review_assignment_state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="review_cycle.id")
    subject: str = Field(max_length=USER_CHARS)
    rater: str = Field(max_length=USER_CHARS)
    relation: str = Field(max_length=16)
    state: str = Field(max_length=16)
    requested_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    answered_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


class ReviewAnswer(SQLModel, table=True):
    """One rater's answer about one person: the group, not the rater, is what results read."""

    __tablename__ = "review_answer"
    __table_args__ = (sa.Index("ix_review_answer_cycle_subject", "cycle_id", "subject"),)

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="review_assignment.id", unique=True)
    cycle_id: int = Field(foreign_key="review_cycle.id")
    subject: str = Field(max_length=USER_CHARS)
    relation: str = Field(max_length=16)
    comment: str | None = Field(default=None, max_length=COMMENT_CHARS)
    submitted_at: datetime = Field(sa_column=_utc(nullable=False))


class ReviewScore(SQLModel, table=True):
    """A 1-5 rating of one competency in an answer."""

    __tablename__ = "review_score"
    __table_args__ = (
        sa.UniqueConstraint("answer_id", "competency", name="uq_review_score"),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name="ck_review_score_score"),
    )

    id: int | None = Field(default=None, primary_key=True)
    answer_id: int = Field(foreign_key="review_answer.id")
    competency: str = Field(max_length=64)
    score: int


class ReviewInterview(SQLModel, table=True):
    """The review interview of a person after a cycle closes: recorded by the direct superior or the
    superior's superior, confirmed by both, acknowledged by the person."""

    __tablename__ = "review_interview"
    __table_args__ = (
        sa.UniqueConstraint("cycle_id", "subject", name="uq_review_interview"),
        sa.CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="ck_review_interview_rating"),
    )

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="review_cycle.id")
    subject: str = Field(max_length=USER_CHARS)
    superior: str = Field(max_length=USER_CHARS)
    second_superior: str | None = Field(default=None, max_length=USER_CHARS)
    held_on: date | None = None
    rating: int | None = None
    strengths: str | None = Field(default=None, max_length=COMMENT_CHARS)
    development_plan: str | None = Field(default=None, max_length=COMMENT_CHARS)
    recorded_by: str | None = Field(default=None, max_length=USER_CHARS)
    recorded_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    superior_confirmed_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    second_confirmed_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    acknowledged_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
