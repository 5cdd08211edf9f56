"""Review cycles: launching one (who rates whom), peers (nominated and approved, or defaulted), the
deadline in every time zone, which reminder is due, and closing (which opens the review interviews).

Raters of a person: themselves, their direct superior, their subordinates (people whose superior they
are) and peers. A person nominates peers; their superior approves (a person without a superior needs no
approval). Whoever has no peer at all once ``reviews.nomination_days`` have passed gets the people of
the same team and position as peers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from kpi_core.config import Config
from kpi_core.errors import ReviewError
from kpi_core.models import AuditEntry
from kpi_core.people import direct_reports, person_of, superior_of
from kpi_core.review_models import ReviewAssignment, ReviewCycle, ReviewInterview

REMINDER_DAYS = (7, 1)  # days before the deadline day, each at REMINDER_TIME in the rater's zone
REMINDER_TIME = time(9)
_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)


@dataclass(frozen=True)
class LaunchRequest:
    key: str  # 2026 or 2026-Q4
    kind: str  # year | quarter
    deadline_on: date


def may_run_reviews(config: Config, user: str) -> bool:
    """Admins and HR launch and close cycles."""
    return user in config.roles.admins or user in config.roles.hr


def parse_launch(words: Sequence[str], *, today: date, deadline_days: int) -> LaunchRequest:
    """``2026 [quarterly|yearly] [YYYY-MM-DD]`` or ``2026-Q4 [YYYY-MM-DD]``: a yearly cycle by default; a
    quarterly one is the year's current quarter (its last, for a year gone by)."""
    if not words:
        raise ReviewError(reason="bad_cycle", text="")
    first, rest = words[0].strip(), [word.strip().lower() for word in words[1:]]
    deadline_on = today + timedelta(days=deadline_days)
    quarterly = False
    for word in rest:
        if word in ("quarterly", "quarter"):
            quarterly = True
        elif word in ("yearly", "year", "annual"):
            quarterly = False
        else:
            try:
                deadline_on = date.fromisoformat(word)
            except ValueError:
                raise ReviewError(reason="bad_deadline", text=word[:40]) from None
            if deadline_on <= today:
                raise ReviewError(reason="bad_deadline", text=word)
    if match := _QUARTER.match(first):
        year, quarter = int(match[1]), int(match[2])
    elif match := _YEAR.match(first):
        year = int(match[1])
        quarter = ((today.month - 1) // 3 + 1 if year == today.year else 4) if quarterly else 0
    else:
        raise ReviewError(reason="bad_cycle", text=first[:40])
    key = f"{year}-Q{quarter}" if quarter else str(year)
    if year > today.year or (year == today.year and quarter > (today.month - 1) // 3 + 1):
        raise ReviewError(reason="future_cycle", cycle=key)
    return LaunchRequest(key=key, kind="quarter" if quarter else "year", deadline_on=deadline_on)


def deadline_instant(config: Config, deadline_on: date) -> datetime:
    """When the deadline day has ended in every team's time zone (the last of them), in UTC."""
    zones = {team.tz for team in config.teams} or {ZoneInfo("UTC")}
    day_after = deadline_on + timedelta(days=1)
    return max(datetime.combine(day_after, time(0), zone) for zone in zones).astimezone(UTC)


def zone_of(config: Config, user: str) -> ZoneInfo:
    """A user's own time zone: their team's (as a person, else a team they lead or belong to), else UTC."""
    person = person_of(config, user)
    if person is not None and person.team in config.team_by_key:
        return config.team(person.team).tz
    for team in config.teams:
        if user in team.leads or user in team.members:
            return team.tz
    return ZoneInfo("UTC")


def reminder_at(deadline_on: date, days_before: int, zone: ZoneInfo) -> datetime:
    """REMINDER_TIME on the day ``days_before`` the deadline day, in ``zone``."""
    return datetime.combine(deadline_on - timedelta(days=days_before), REMINDER_TIME, zone)


def due_reminder(cycle: ReviewCycle, zone: ZoneInfo, now: datetime) -> int | None:
    """The reminder (days before the deadline) a rater in ``zone`` is due at ``now``: the latest whose
    time has come, until the deadline; None before the first, after the deadline or once closed."""
    if cycle.closed_at is not None or now >= cycle.deadline_at:
        return None
    due = [days for days in REMINDER_DAYS if reminder_at(cycle.deadline_on, days, zone) <= now]
    return min(due) if due else None


def _audit(
    session: Session, *, user: str, action: str, entity: str, entity_id: int | None, new: dict[str, Any], now: datetime
) -> None:
    session.add(AuditEntry(at=now, user=user, action=action, entity=entity, entity_id=entity_id, new=new))


def launch(session: Session, *, config: Config, request: LaunchRequest, user: str, now: datetime) -> ReviewCycle:
    """Creates the cycle with every person's self, superior and subordinate raters (active). Who may
    launch is checked by the caller (kpi_core.review_use_cases)."""
    if not config.people:
        raise ReviewError(reason="no_people")
    if session.exec(select(ReviewCycle).where(ReviewCycle.key == request.key)).first() is not None:
        raise ReviewError(reason="cycle_exists", cycle=request.key)
    cycle = ReviewCycle(
        key=request.key,
        kind=request.kind,
        launched_by=user,
        launched_at=now,
        deadline_on=request.deadline_on,
        deadline_at=deadline_instant(config, request.deadline_on),
        nominations_due_at=min(
            now + timedelta(days=config.reviews.nomination_days), deadline_instant(config, request.deadline_on)
        ),
    )
    session.add(cycle)
    session.flush()
    assert cycle.id is not None
    for person in config.people:
        raters = [(person.user, "self")]
        superior = superior_of(config, person.user)
        if superior is not None:
            raters.append((superior, "superior"))
        raters += [(report.user, "subordinate") for report in direct_reports(config, person.user)]
        for rater, relation in raters:
            session.add(
                ReviewAssignment(cycle_id=cycle.id, subject=person.user, rater=rater, relation=relation, state="active")
            )
    new = {"key": cycle.key, "kind": cycle.kind, "deadline_on": cycle.deadline_on.isoformat()}
    _audit(session, user=user, action="launch", entity="review_cycle", entity_id=cycle.id, new=new, now=now)
    session.flush()
    return cycle


def find_cycle(session: Session, *, key: str) -> ReviewCycle:
    cycle = session.exec(select(ReviewCycle).where(ReviewCycle.key == key.upper())).first()
    if cycle is None:
        raise ReviewError(reason="no_cycle", cycle=key[:40])
    return cycle


def latest_closed_cycle(session: Session) -> ReviewCycle | None:
    query = select(ReviewCycle).where(col(ReviewCycle.closed_at).is_not(None))
    return session.exec(query.order_by(col(ReviewCycle.closed_at).desc(), col(ReviewCycle.id).desc())).first()


def open_cycles(session: Session) -> list[ReviewCycle]:
    return list(session.exec(select(ReviewCycle).where(col(ReviewCycle.closed_at).is_(None))).all())


def _assignments(session: Session, cycle: ReviewCycle, subject: str) -> list[ReviewAssignment]:
    query = select(ReviewAssignment).where(ReviewAssignment.cycle_id == cycle.id, ReviewAssignment.subject == subject)
    return list(session.exec(query).all())


def _check_open(cycle: ReviewCycle, now: datetime) -> None:
    if cycle.closed_at is not None:
        raise ReviewError(reason="closed", cycle=cycle.key)
    if now >= cycle.deadline_at:
        raise ReviewError(reason="past_deadline", cycle=cycle.key)


def nominate(
    session: Session, *, config: Config, cycle: ReviewCycle, subject: str, peers: Sequence[str], now: datetime
) -> list[ReviewAssignment]:
    """The person's peer nominations, replacing those not yet decided; approved at once when the person
    has no superior to approve them. Returns the nominations awaiting approval."""
    _check_open(cycle, now)
    if person_of(config, subject) is None:
        raise ReviewError(reason="not_a_person", user=subject)
    wanted = list(dict.fromkeys(peers))
    if len(wanted) > config.reviews.max_peers:
        raise ReviewError(reason="too_many_peers", count=config.reviews.max_peers)
    existing = {assignment.rater: assignment for assignment in _assignments(session, cycle, subject)}
    for peer in wanted:
        taken = existing.get(peer)
        if person_of(config, peer) is None:
            raise ReviewError(reason="not_a_person", user=peer)
        if peer == subject or (taken is not None and taken.relation != "peer"):
            raise ReviewError(reason="bad_peer", user=peer)
    state = "nominated" if superior_of(config, subject) is not None else "active"
    for rater, assignment in existing.items():
        if assignment.relation == "peer" and assignment.state == "nominated" and rater not in wanted:
            session.delete(assignment)
    nominated = []
    for peer in wanted:
        assignment = existing.get(peer) or ReviewAssignment(
            cycle_id=cycle.id or 0, subject=subject, rater=peer, relation="peer", state=state
        )
        if assignment.state == "declined":
            assignment.state = state
        session.add(assignment)
        nominated.append(assignment)
    new = {"cycle": cycle.key, "subject": subject, "peers": wanted}
    _audit(session, user=subject, action="nominate", entity="review_assignment", entity_id=None, new=new, now=now)
    session.flush()
    return [assignment for assignment in nominated if assignment.state == "nominated"]


def decide_peers(
    session: Session, *, config: Config, cycle: ReviewCycle, subject: str, approver: str, approve: bool, now: datetime
) -> list[ReviewAssignment]:
    """The superior approves (or declines) the person's pending nominations; returns those decided."""
    _check_open(cycle, now)
    if superior_of(config, subject) != approver:
        raise ReviewError(reason="not_yours")
    pending = [a for a in _assignments(session, cycle, subject) if a.relation == "peer" and a.state == "nominated"]
    if not pending:
        raise ReviewError(reason="done")
    for assignment in pending:
        assignment.state = "active" if approve else "declined"
        session.add(assignment)
    new = {"cycle": cycle.key, "subject": subject, "peers": [a.rater for a in pending], "approved": approve}
    _audit(session, user=approver, action="approve_peers" if approve else "decline_peers",
           entity="review_assignment", entity_id=None, new=new, now=now)  # fmt: skip
    session.flush()
    return pending


def default_peers(session: Session, *, config: Config, cycle: ReviewCycle, now: datetime) -> int:
    """Once nominations are due: the same team's people of the same position become the peers of every
    person who has none (nominated, approved or declined). Returns how many peers were added."""
    if cycle.closed_at is not None or now < cycle.nominations_due_at or now >= cycle.deadline_at:
        return 0
    query = select(ReviewAssignment.subject).where(
        ReviewAssignment.cycle_id == cycle.id, ReviewAssignment.relation == "peer"
    )
    with_peers = set(session.exec(query).all())
    taken = {
        (assignment.subject, assignment.rater)
        for assignment in session.exec(select(ReviewAssignment).where(ReviewAssignment.cycle_id == cycle.id)).all()
    }
    rows = []
    for person in config.people:
        if person.user in with_peers:
            continue
        same = [
            other.user
            for other in config.people
            if other.team == person.team and other.position == person.position and other.user != person.user
        ]
        for peer in [user for user in same if (person.user, user) not in taken][: config.reviews.max_peers]:
            rows.append(
                {"cycle_id": cycle.id, "subject": person.user, "rater": peer, "relation": "peer", "state": "active"}
            )
    if not rows:
        return 0
    # another replica's tick may default the same peers at the same moment: the same rows, stored once
    table = ReviewAssignment.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    inserted = session.execute(
        insert.values(rows)
        .on_conflict_do_nothing(index_elements=["cycle_id", "subject", "rater"])
        .returning(table.c.id)
    )
    return len(inserted.all())


def close(session: Session, *, config: Config, cycle: ReviewCycle, user: str, now: datetime) -> list[ReviewInterview]:
    """Closes the cycle and opens the interview of every person with a superior (held by the superior
    and the superior's superior). ``user`` is an admin, HR, or "scheduler" at the deadline."""
    table = ReviewCycle.__table__  # type: ignore[attr-defined]
    # one UPDATE that only one closer wins: another replica's tick may close it at the same moment
    taken = session.execute(
        sa.update(table)
        .where(table.c.id == cycle.id, table.c.closed_at.is_(None))
        .values(closed_at=now, closed_by=user)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise ReviewError(reason="closed", cycle=cycle.key)
    session.refresh(cycle)
    interviews = []
    for person in config.people:
        superior = superior_of(config, person.user)
        if superior is None:
            continue
        second = superior_of(config, superior)
        interview = ReviewInterview(
            cycle_id=cycle.id or 0, subject=person.user, superior=superior, second_superior=second
        )
        session.add(interview)
        interviews.append(interview)
    _audit(
        session, user=user, action="close", entity="review_cycle", entity_id=cycle.id, new={"key": cycle.key}, now=now
    )
    session.flush()
    return interviews
