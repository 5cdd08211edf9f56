"""The people side's use cases (issue 11), one transaction each, like kpi_core.use_cases: personal targets
proposed and decided, and a person's scorecard."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from kpi_core import goals
from kpi_core.config_schema import Config, Person
from kpi_core.db import transaction
from kpi_core.goals import TargetGap
from kpi_core.models import PersonalTarget
from kpi_core.periods import Period
from kpi_core.person_scorecard import PersonCard, person_card
from kpi_core.store import write_once


@dataclass(frozen=True)
class Proposal:
    """A waiting proposal: the values per KPI and the stamp its decision buttons carry."""

    values: dict[str, float]
    stamp: str


@dataclass(frozen=True)
class Decision:
    """A decided proposal: the agreed targets, and the team's KPIs whose personal targets fall short."""

    agreed: dict[str, float]
    gaps: list[TargetGap]


def propose_targets(
    engine: sa.Engine,
    *,
    config: Config,
    person: Person,
    period: Period,
    values: Mapping[str, float],
    request_key: str,
    now: datetime,
) -> Proposal | None:
    """Stores the proposal; None when this request was handled already (a retry, a double click)."""

    def write(session: Session) -> Proposal:
        rows = goals.propose(session, config=config, person=person, period=period, values=values, now=now)
        return Proposal({row.kpi: row.proposed for row in rows}, goals.proposal_stamp(rows))

    return write_once(engine, request_key=request_key, now=now, write=write)


def pending_proposal(engine: sa.Engine, *, person: str, period: Period) -> Proposal | None:
    with transaction(engine) as session:
        rows = goals.pending(session, person=person, period=period)
        return Proposal({row.kpi: row.proposed for row in rows}, goals.proposal_stamp(rows)) if rows else None


def known_targets(engine: sa.Engine, *, person: str, period: Period) -> dict[str, float]:
    """Per KPI the waiting proposal's value, else the agreed target: what a new proposal starts from."""
    with transaction(engine) as session:
        agreed = goals.agreed_targets(session, person=person, period=period)
        waiting = {row.kpi: row.proposed for row in goals.pending(session, person=person, period=period)}
    return agreed | waiting


def decide_targets(
    engine: sa.Engine,
    *,
    config: Config,
    person: Person,
    period: Period,
    user: str,
    stamp: str,
    adjusted: Mapping[str, float] | None = None,
    reason: str | None = None,
    now: datetime,
) -> Decision:
    """The superior's decision (raises goals.NotTheSuperior / goals.NothingPending), and the team check."""
    with transaction(engine) as session:
        rows: list[PersonalTarget] = goals.decide(
            session,
            config=config,
            person=person,
            period=period,
            user=user,
            stamp=stamp,
            adjusted=adjusted,
            reason=reason,
            now=now,
        )
        gaps = goals.team_gaps(session, config=config, team=person.team, period=period)
        return Decision({row.kpi: float(row.agreed or 0.0) for row in rows}, gaps)


def scorecard_of(engine: sa.Engine, *, config: Config, person: Person, period: Period) -> PersonCard:
    with transaction(engine) as session:
        return person_card(session, config=config, person=person, period=period)
