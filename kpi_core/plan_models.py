"""The table of annual plans (issue 12): every proposed year plan of a team's KPI, with its state.

A row is proposed by one of management (or an admin) and decided by another: ``approved`` (it is then the
team's plan for that KPI and year, and the approved one before it becomes ``superseded``) or ``rejected``
(with a reason); a proposal still waiting when a newer one for the same team, KPI and year comes is
``replaced``. Every step is in the audit trail (``annual_plan`` entries)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from kpi_core.models import USER_CHARS, UTCDateTime

PLAN_STATES = ("proposed", "approved", "rejected", "replaced", "superseded")
REASON_CHARS = 500


def _utc(*, nullable: bool) -> Any:
    return sa.Column(UTCDateTime(), nullable=nullable)


class AnnualPlan(SQLModel, table=True):
    """One team's year plan of one KPI: the year's target and the 12 monthly targets (January first)."""

    __tablename__ = "annual_plan"
    __table_args__ = (
        sa.Index("ix_annual_plan_year_team_kpi_state", "year", "team", "kpi", "state"),
        sa.CheckConstraint(f"state IN {PLAN_STATES!r}", name="ck_annual_plan_state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    year: int
    team: str = Field(max_length=64)
    kpi: str = Field(max_length=64)
    total: float
    months: list[float] = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    state: str = Field(max_length=16)
    proposed_by: str = Field(max_length=USER_CHARS)
    proposed_at: datetime = Field(sa_column=_utc(nullable=False))
    decided_by: str | None = Field(default=None, max_length=USER_CHARS)
    decided_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    reason: str | None = Field(default=None, max_length=REASON_CHARS)
