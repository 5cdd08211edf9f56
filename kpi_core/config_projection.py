"""The config's ``projection`` section: how far a year-end or quarter-end projection may miss its plan and
still be "at risk" rather than "off track" (kpi_core/projection.py)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ProjectionSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    at_risk_within_pct: float = Field(
        default=5,
        ge=0,
        le=100,
        description="a projection short of its plan by at most this share of the plan is at risk, beyond it off track",
    )
