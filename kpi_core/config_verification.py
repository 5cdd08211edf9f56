"""The config's ``verification`` section: when and how much the verifiers' daily list shows. Who verifies is
``roles.verifiers``; with none, verification is off and every value counts as verified
(kpi_core/verification.py)."""

from __future__ import annotations

from datetime import date, time

from pydantic import BaseModel, ConfigDict, Field

#: the most submissions one message lists (each takes a section and a row of buttons; a message holds 50 blocks)
MAX_LISTED = 20


class VerificationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: the local time (the verifier's team's zone, else UTC) from which the day's list is sent
    dm_at: time = time(9, 0)
    #: how many waiting submissions the list shows; the rest are counted, and `/kpi verify` lists them
    dm_items: int = Field(default=10, ge=1, le=MAX_LISTED)
    #: submissions stored before this day (UTC) count as verified: turning verification on for a bot with
    #: years of data does not make all of it wait
    since: date | None = None
