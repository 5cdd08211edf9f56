"""The data version and the change log: every write transaction moves the version and records what it
touched (a team, local dates), so cached reports know exactly what went stale (kpi_core/shared_reports.py)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from kpi_core.models import CustomerCase, DataChange, DataVersion, Milestone

Days = tuple[date, date]  # first and last local date a write touched


def data_version(session: Session) -> int:
    """The counter every write through kpi_core moves (see DataVersion)."""
    return int(session.exec(select(DataVersion.version).where(DataVersion.id == 1)).one())


def bump_data_version(session: Session, *, team: str | None = None, days: Days | None = None) -> DataChange:
    """Marks the caller's transaction as a change to the data of ``team`` (None: any team) on the local
    dates ``days`` (first, last; None: any date); call it in every write. Returns the change, whose
    dates the caller may still set before its transaction ends."""
    version = session.execute(
        sa.update(DataVersion)
        .where(col(DataVersion.id) == 1)
        .values(version=DataVersion.version + 1)
        .returning(col(DataVersion.version))
    ).scalar_one()
    change = DataChange(
        version=version, team=team, first_day=days[0] if days else None, last_day=days[1] if days else None
    )
    session.add(change)
    return change


def changes_since(session: Session, *, version: int, until: int) -> list[DataChange]:
    """The changes of the writes that moved the data version past ``version`` up to ``until`` (all
    committed when ``until`` was read: each write holds the version's row lock until it commits)."""
    query = select(DataChange).where(DataChange.version > version, DataChange.version <= until)
    return list(session.exec(query))


def touch_teams(session: Session, *, change: DataChange, teams: Iterable[str]) -> None:
    """Narrows ``change``, recorded for any team because its write did not know its teams up front (an
    import, the withdrawal of one), to the ``teams`` it turned out to touch: one change row per team, all
    at the change's version, so shared reports and the alert sweep look at exactly those teams."""
    touched = sorted(set(teams))
    if not touched or change.team is not None:
        return
    change.team, *others = touched
    for team in others:
        session.add(DataChange(version=change.version, team=team, first_day=change.first_day, last_day=change.last_day))


def teams_moved_since(session: Session, *, version: int | None) -> tuple[int, frozenset[str] | None]:
    """The data version now and the teams whose data moved past ``version`` (None: every team's, a change
    for any team among them, or ``version`` is None), read in one statement: a write that commits after
    it has a later version, so a caller that keeps the version sees that write next time."""
    current = DataVersion.__table__.c  # type: ignore[attr-defined]
    changes = DataChange.__table__.c  # type: ignore[attr-defined]
    if version is None:
        return data_version(session), None
    query = (
        sa.select(current.version, changes.id, changes.team)
        .select_from(DataVersion.__table__)  # type: ignore[attr-defined]
        .outerjoin(
            DataChange.__table__,  # type: ignore[attr-defined]
            sa.and_(changes.version > version, changes.version <= current.version),
        )
        .where(current.id == 1)
    )
    rows = session.execute(query).all()
    teams: set[str] = set()
    for _, change, team in rows:
        if change is not None and team is None:
            return rows[0][0], None
        if team is not None:
            teams.add(team)
    return rows[0][0], frozenset(teams)


def around(instant: datetime) -> Days:
    """The local dates an instant can fall on in any time zone (within a day of its UTC date)."""
    day = instant.astimezone(UTC).date()
    return day - timedelta(days=1), day + timedelta(days=1)


def days_of(row: CustomerCase | Milestone) -> Days:
    """The dates that place ``row`` in a period: a case's raising, a milestone's due date."""
    if isinstance(row, CustomerCase):
        return around(row.raised_at)
    return row.due_on, row.due_on
