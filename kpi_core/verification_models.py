"""The verification table: the state of a submission's check by a verifier (核实). A submission without a row
is pending; every transition is also in the audit trail (``audit_entry``, entity ``submission_verification``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from kpi_core.models import USER_CHARS, UTCDateTime

PENDING, VERIFIED, QUERIED = "pending", "verified", "queried"
STATES = (PENDING, VERIFIED, QUERIED)
#: the longest question or note a verifier may write (a modal's text input)
NOTE_CHARS = 2000


def _utc(*, nullable: bool) -> Any:
    return sa.Column(UTCDateTime(), nullable=nullable)


class SubmissionVerification(SQLModel, table=True):
    """Where a submission's check stands: ``verified``, ``queried`` (a question to the lead is open) or
    ``pending`` again (a correction answered the query). The latest transition's who, when and note."""

    __tablename__ = "submission_verification"
    __table_args__ = (
        sa.CheckConstraint(f"state IN {STATES!r}", name="ck_submission_verification_state"),
        sa.Index("ix_submission_verification_state", "state"),
    )

    submission_id: int = Field(primary_key=True, foreign_key="submission.id")
    state: str = Field(max_length=16)
    changed_by: str = Field(max_length=USER_CHARS)
    changed_at: datetime = Field(sa_column=_utc(nullable=False))
    note: str | None = Field(default=None, max_length=NOTE_CHARS)
    #: the verifier who asked the open (or last) question, and when: the query's thread is keyed by it
    queried_by: str | None = Field(default=None, max_length=USER_CHARS)
    queried_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    #: the submission whose values answered the query (the lead's correction)
    corrected_by: int | None = None
