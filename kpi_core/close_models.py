"""The tables of period close: each close (or correction) of a period is a revision, and its frozen results.

A period's results are those of its latest revision, unless that revision was reopened (then the period is
open again and reads live data). Revisions are never changed but to record a reopening, so every score a
period ever had stays on record, with who made it and why."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from kpi_core.models import USER_CHARS, UTCDateTime

SUBJECT_KINDS = ("team", "person")
#: close: a period closed from live data; correction: a closed revision re-scored after a correction
REVISION_KINDS = ("close", "correction")
REASON_CHARS = 1000


def _utc(*, nullable: bool) -> Any:
    return sa.Column(UTCDateTime(), nullable=nullable)


class PeriodCloseRevision(SQLModel, table=True):
    """One frozen state of a period's results; the unique (period, revision) lets only one of two
    concurrent closes through."""

    __tablename__ = "period_close"
    __table_args__ = (
        sa.UniqueConstraint("period", "revision", name="uq_period_close_revision"),
        sa.CheckConstraint(f"kind IN {REVISION_KINDS!r}", name="ck_period_close_kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    period: str = Field(max_length=16, index=True)
    revision: int
    kind: str = Field(max_length=16)
    scheme: str = Field(max_length=64)  # the team scorecard scheme the results come from
    #: the grade bands, rank rewards and personal weights the results were graded with: a correction
    #: re-grades by them, not by a config that may have changed since
    rules: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False))
    made_by: str = Field(max_length=USER_CHARS)
    made_at: datetime = Field(sa_column=_utc(nullable=False))
    #: a correction's reason and what it changed (subject, item, old and new value)
    reason: str | None = Field(default=None, max_length=REASON_CHARS)
    change: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON, nullable=True))
    reopened_by: str | None = Field(default=None, max_length=USER_CHARS)
    reopened_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    reopen_reason: str | None = Field(default=None, max_length=REASON_CHARS)


class ClosedResultRow(SQLModel, table=True):
    """One team's or person's frozen result in a revision: ``items`` maps each scorecard item (a KPI key)
    to its weight, value, target and score; ``parts`` a person's position, personal and team scores."""

    __tablename__ = "closed_result"
    __table_args__ = (
        sa.UniqueConstraint("close_id", "subject_kind", "subject", name="uq_closed_result_subject"),
        sa.CheckConstraint(f"subject_kind IN {SUBJECT_KINDS!r}", name="ck_closed_result_subject_kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    close_id: int = Field(foreign_key="period_close.id", index=True)
    subject_kind: str = Field(max_length=8)
    subject: str = Field(max_length=USER_CHARS)
    team: str = Field(max_length=64)
    score: float | None = None
    rank: int | None = None
    grade: str | None = Field(default=None, max_length=32)
    pay_factor: float | None = None
    verified_share: float | None = None
    items: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False))
    parts: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON, nullable=True))
    #: the rank rewards (or penalties) the result earned, each {"en": ..., "zh": ...}
    rewards: list[Any] = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))
