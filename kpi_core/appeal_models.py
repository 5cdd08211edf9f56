"""The tables of appeals (申诉) against a closed period's results: the window in which the assessed may
confirm or appeal, one answer per assessed team or person, and every state change with its reason."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from kpi_core.models import USER_CHARS, UTCDateTime

#: confirmed: the assessed accepted the result; the others are an appeal's life (kpi_core/appeals.py)
APPEAL_STATES = ("confirmed", "submitted", "under_review", "upheld", "rejected")
SUBJECT_KINDS = ("team", "person")
REASON_CHARS = 1000  # kpi_core.period_close stores a correction's reason in as many
PERIOD_CHARS = 16


def _utc(*, nullable: bool) -> Any:
    return sa.Column(UTCDateTime(), nullable=nullable)


class AppealWindow(SQLModel, table=True):
    """When the assessed of a closed period may confirm or appeal: from the close for ``appeals.appeal_days``."""

    __tablename__ = "appeal_window"

    id: int | None = Field(default=None, primary_key=True)
    period_label: str = Field(max_length=PERIOD_CHARS, unique=True)
    opened_at: datetime = Field(sa_column=_utc(nullable=False))
    closes_at: datetime = Field(sa_column=_utc(nullable=False))


class Appeal(SQLModel, table=True):
    """The answer of one assessed team or person to a closed result: confirmed, or an appeal of one item."""

    __tablename__ = "appeal"
    __table_args__ = (
        sa.UniqueConstraint("period_label", "subject_kind", "subject", name="uq_appeal_subject"),
        sa.CheckConstraint(f"state IN {APPEAL_STATES!r}", name="ck_appeal_state"),
        sa.CheckConstraint(f"subject_kind IN {SUBJECT_KINDS!r}", name="ck_appeal_subject_kind"),
        sa.Index("ix_appeal_state", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    period_label: str = Field(max_length=PERIOD_CHARS)
    subject_kind: str = Field(max_length=8)
    subject: str = Field(max_length=USER_CHARS)
    state: str = Field(max_length=16)
    #: the scorecard item appealed (a KPI key); None for a confirmation
    item: str | None = Field(default=None, max_length=64)
    reason: str | None = Field(default=None, max_length=REASON_CHARS)
    evidence: list[str] = Field(default=[], sa_column=sa.Column(sa.JSON, nullable=False))
    by_user: str = Field(max_length=USER_CHARS)
    at: datetime = Field(sa_column=_utc(nullable=False))
    #: the deciders' deadline (an appeal only)
    decide_by: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    decided_by: str | None = Field(default=None, max_length=USER_CHARS)
    decided_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    #: an upheld appeal's corrected item value and the closed results' revision it made
    corrected_value: float | None = None
    revision: int | None = None


class AppealEvent(SQLModel, table=True):
    """One state change of an appeal, with who made it and the reason they gave (each one requires one)."""

    __tablename__ = "appeal_event"

    id: int | None = Field(default=None, primary_key=True)
    appeal_id: int = Field(foreign_key="appeal.id", index=True)
    state: str = Field(max_length=16)
    reason: str = Field(max_length=REASON_CHARS)
    by_user: str = Field(max_length=USER_CHARS)
    at: datetime = Field(sa_column=_utc(nullable=False))
