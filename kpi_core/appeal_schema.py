"""The config of appeals (申诉) against a closed period's results: how long the assessed may appeal, how
long management and HR have to decide, and when the deciders are reminded (kpi_core/appeals.py)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class AppealSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    appeal_days: int = Field(default=7, ge=1, le=90, description="days after a close to confirm or appeal")
    review_days: int = Field(default=5, ge=1, le=90, description="days management and HR have to decide")
    #: days before the decision deadline on which each decider is reminded of appeals still undecided
    remind_days_before: list[int] = Field(default=[2, 1], max_length=5)

    @field_validator("remind_days_before")
    @classmethod
    def _each_before_the_deadline(cls, value: list[int]) -> list[int]:
        if any(days < 1 for days in value) or len(set(value)) != len(value):
            raise ValueError("each reminder is a different number of days, at least 1, before the deadline")
        return sorted(value, reverse=True)
