"""Personal targets (目标设定): a person proposes a target per KPI of their position for a period, their direct
superior approves or adjusts them (with a reason), every step audited; and whether a team's agreed personal
targets add up to the team's target.

How personal targets "add up", per KPI kind (README, Personal targets):
- additive counts and amounts (an ``expression`` KPI that only adds and subtracts measures summed over the
  period, e.g. sales): the personal targets are summed;
- everything else (rates, ratios, means, durations, survey scores, milestone shares, growth): the personal
  targets are averaged, each weighted by the records the person's KPI rested on in the period before (their
  share of the work), equally when nobody has any;
- a ``band`` KPI has no single target and is not checked.
The combined figure must reach the team's target in the KPI's direction (at least it when higher is better,
at most it when lower is better).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlmodel import Session, select

from kpi_core.config_schema import Config, Kpi, Person
from kpi_core.kpis import compute_person
from kpi_core.models import AuditEntry, PersonalTarget
from kpi_core.people import people_of_team, position_of, superior_of
from kpi_core.periods import Period
from kpi_core.plan_schema import is_additive
from kpi_core.rules import Bounds
from kpi_core.store import bump_data_version
from kpi_core.targets import agreed_targets, team_targets

#: the longest reason an adjustment may give (the column's length)
MAX_REASON_CHARS = 500

Combination = Literal["sum", "weighted"]


class NotTheSuperior(Exception):
    """Someone other than the person's direct superior tried to approve or adjust their targets."""

    def __init__(self, *, user: str, person: str, superior: str | None) -> None:
        super().__init__(f"{user} is not the direct superior of {person} (that is {superior or 'nobody'})")
        self.superior = superior


class NothingPending(Exception):
    """The proposal was decided already, or replaced by a newer one (a stale button)."""


@dataclass(frozen=True)
class TargetGap:
    """One KPI whose team's personal targets do not add up to the team target."""

    kpi: str
    combination: Combination
    combined: float
    team_target: float
    people: int  # how many people have an agreed target for it


def target_bounds(kpi: Kpi) -> Bounds:
    """What a personal target may be: never negative unless the KPI can be (growth, variance)."""
    return Bounds(minimum=None if kpi.signed else 0)


def position_kpis(config: Config, user: str) -> list[str]:
    position = position_of(config, user)
    return list(position.kpis) if position is not None else []


def _rows(session: Session, *, person: str, period: Period) -> dict[str, PersonalTarget]:
    query = select(PersonalTarget).where(PersonalTarget.person == person, PersonalTarget.period == period.label)
    return {row.kpi: row for row in session.exec(query)}


def _audit(
    session: Session, *, user: str, person: Person, action: str, row: PersonalTarget, old: dict[str, object] | None
) -> None:
    new = {"person": row.person, "period": row.period, "kpi": row.kpi, "proposed": row.proposed}
    new |= {"agreed": row.agreed, "pending": row.pending, "reason": row.reason}
    session.add(
        AuditEntry(
            at=row.decided_at if action != "propose" and row.decided_at else row.proposed_at,
            user=user,
            team=person.team,
            action=action,
            entity="personal_target",
            entity_id=row.id,
            old=old,
            new=new,
        )
    )


def _snapshot(row: PersonalTarget) -> dict[str, object]:
    return {"proposed": row.proposed, "agreed": row.agreed, "pending": row.pending, "reason": row.reason}


def propose(
    session: Session, *, config: Config, person: Person, period: Period, values: Mapping[str, float], now: datetime
) -> list[PersonalTarget]:
    """Stores ``person``'s proposal (one value per KPI of their position) for ``period``; a waiting proposal
    is replaced, an agreed target stays in force until the new one is decided."""
    # its team and period only: team alerts and reports re-read it
    bump_data_version(session, team=person.team, days=(period.start, period.end - timedelta(days=1)))
    existing = _rows(session, person=person.user, period=period)
    rows = []
    for kpi in position_kpis(config, person.user):
        if kpi not in values:
            continue
        row = existing.get(kpi)
        old = _snapshot(row) if row is not None else None
        if row is None:
            row = PersonalTarget(
                person=person.user, team=person.team, period=period.label, kpi=kpi, proposed=0, proposed_at=now
            )
        row.proposed, row.proposed_at, row.pending = float(values[kpi]), now, True
        session.add(row)
        session.flush()
        _audit(session, user=person.user, person=person, action="propose", row=row, old=old)
        rows.append(row)
    return rows


def pending(session: Session, *, person: str, period: Period) -> list[PersonalTarget]:
    return [row for row in _rows(session, person=person, period=period).values() if row.pending]


def proposal_stamp(rows: list[PersonalTarget]) -> str:
    """What a decision button carries to recognise the proposal it was sent for: a newer one differs in
    its time or its values (one with the same values and time is the same proposal)."""
    content = sorted((row.kpi, float(row.proposed), row.proposed_at.isoformat()) for row in rows)
    return hashlib.sha256(repr(content).encode()).hexdigest()[:16] if rows else ""


def decide(
    session: Session,
    *,
    config: Config,
    person: Person,
    period: Period,
    user: str,
    stamp: str,
    adjusted: Mapping[str, float] | None,
    reason: str | None,
    now: datetime,
) -> list[PersonalTarget]:
    """The direct superior's decision on the waiting proposal: approved as proposed (``adjusted`` None), or
    with the ``adjusted`` values and a ``reason``. Raises NotTheSuperior for anyone else, NothingPending when
    the proposal with ``stamp`` was decided already or replaced."""
    superior = superior_of(config, person.user)
    if user != superior:
        raise NotTheSuperior(user=user, person=person.user, superior=superior)
    # its row lock orders two decisions on one proposal (a double click)
    bump_data_version(session, team=person.team, days=(period.start, period.end - timedelta(days=1)))
    rows = pending(session, person=person.user, period=period)
    if not rows or proposal_stamp(rows) != stamp:
        raise NothingPending()
    for row in rows:
        old = _snapshot(row)
        row.agreed = adjusted.get(row.kpi, row.proposed) if adjusted is not None else row.proposed
        row.pending, row.decided_by, row.decided_at = False, user, now
        row.reason = reason if adjusted is not None else None
        session.add(row)
        session.flush()
        action = "adjust" if adjusted is not None else "approve"
        _audit(session, user=user, person=person, action=action, row=row, old=old)
    return rows


def agreed_row(
    person: Person, *, period: Period, kpi: str, value: float, decided_by: str, now: datetime
) -> PersonalTarget:
    """A target agreed already (as the demo and the benchmark load them, without the proposal's steps)."""
    return PersonalTarget(
        person=person.user,
        team=person.team,
        period=period.label,
        kpi=kpi,
        proposed=value,
        proposed_at=now,
        pending=False,
        agreed=value,
        decided_by=decided_by,
        decided_at=now,
    )


def combination(config: Config, kpi: Kpi) -> Combination:
    """How personal targets of ``kpi`` combine into a team figure (the module docstring)."""
    return "sum" if is_additive(kpi, config.measure_by_key) else "weighted"


def team_gaps(session: Session, *, config: Config, team: str, period: Period) -> list[TargetGap]:
    """The KPIs whose agreed personal targets of ``team``'s people in ``period`` do not add up to the team's
    target for that period kind (KPIs without a team target or with a band are not checked)."""
    people = people_of_team(config, team)
    targets = {person.user: agreed_targets(session, person=person.user, period=period) for person in people}
    team_wide = team_targets(session, config=config, period=period, teams=[team])[team]
    gaps = []
    for kpi_key in dict.fromkeys(key for person_targets in targets.values() for key in person_targets):
        kpi = config.kpi_by_key.get(kpi_key)
        team_target = team_wide.get(kpi_key)
        if kpi is None or team_target is None or kpi.better == "band":
            continue
        having = [person for person in people if kpi_key in targets[person.user]]
        how = combination(config, kpi)
        values = [targets[person.user][kpi_key] for person in having]
        if how == "sum":
            combined = sum(values)
        else:
            weights = [_work_share(session, config, person, kpi_key, period) for person in having]
            if not any(weights):
                weights = [1.0] * len(having)
            combined = sum(weight * value for weight, value in zip(weights, values, strict=True)) / sum(weights)
        short = combined < team_target if kpi.better == "higher" else combined > team_target
        if short:
            gaps.append(TargetGap(kpi_key, how, round(combined, 6), team_target, len(having)))
    return gaps


def _work_share(session: Session, config: Config, person: Person, kpi: str, period: Period) -> float:
    """How many records ``person``'s ``kpi`` rested on in the period before ``period``."""
    results = compute_person(session, config=config, person=person, period=period.previous(), kpis=[kpi], targets={})
    return float(results[kpi].n)
