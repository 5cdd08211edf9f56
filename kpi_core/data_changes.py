"""The data version and the change log: every write transaction moves the version and records what it
touched (a team, local dates), so cached reports know exactly what went stale (kpi_core/shared_reports.py).

The log's readers (each SharedReports entry, the alert sweep) remember the version they last saw, in
their process; another replica's are unknown. So the log is pruned by age (``ChangeLogPruner``, run by
the catch-up job): changes older than ``KEEP_CHANGES`` are replaced by one change of any team and date at
the newest version pruned, which a reader that last looked before it finds, and so recomputes everything
it holds instead of missing a deleted change."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from kpi_core.close_guard import DATE_FIELDS
from kpi_core.db import transaction
from kpi_core.models import DataChange, DataVersion

Days = tuple[date, date]  # first and last local date a write touched
#: change rows a write records per team at most: an import of scattered dates merges its closest spans
MAX_SPANS = 8
#: how long a change stays in the log: a reader that last looked longer ago recomputes what it holds. A
#: week and a day, so the cache of a weekly digest (its months and anomaly weeks) finds last week's changes
KEEP_CHANGES = timedelta(days=8)
#: and the most change rows it keeps, whatever their age (processes restarted more often than that)
KEEP_ROWS = 100_000


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


class Touched:
    """The local dates a write touched, per team, gathered row by row (an import, a withdrawal) and
    recorded with ``record``: distinct dates are kept, not rows, so a million rows cost a few thousand."""

    def __init__(self) -> None:
        self._days: dict[str, set[Days]] = {}
        self._dates: dict[tuple[str, bool], set[date]] = {}  # (team, of an instant): dates, cheap per row

    def add(self, team: str, days: Days) -> None:
        self._days.setdefault(team, set()).add(days)

    def add_date(self, team: str, day: date, *, instant: bool) -> None:
        """A row dated ``day``, or (``instant``) the UTC date of a row's instant, which is within a day of
        its local date in any team's zone (``around``)."""
        self._dates.setdefault((team, instant), set()).add(day)

    def add_row(self, row: Any) -> None:
        """A stored data row, by the date that places it in a period."""
        self.add(row.team, days_of(row))

    def teams(self) -> list[str]:
        return sorted({*self._days, *(team for team, _ in self._dates)})

    def record(self, session: Session, *, change: DataChange) -> None:
        """Narrows ``change``, recorded before its write knew what it would touch (for any team, or its
        submission's team, on any date), to what it did: one change row per team and span of dates (at
        most ``MAX_SPANS`` a team, the closest merged), all at the change's version, so shared reports and
        the alert sweep look at exactly those teams and periods. Touching nothing leaves it as it is."""
        days = {team: set(found) for team, found in self._days.items()}
        for (team, instant), dates in self._dates.items():
            widen = timedelta(days=1 if instant else 0)
            days.setdefault(team, set()).update((day - widen, day + widen) for day in dates)
        found = [(team, span) for team in sorted(days) for span in spans(days[team])]
        if not found:
            return
        (change.team, (change.first_day, change.last_day)), *others = found
        for team, (first, last) in others:
            session.add(DataChange(version=change.version, team=team, first_day=first, last_day=last))


def spans(days: Iterable[Days], *, limit: int = MAX_SPANS) -> list[Days]:
    """``days`` merged where they overlap or meet, then, while more than ``limit`` spans remain, across
    the smallest gaps: a year of daily rows is one span, a week now and one last year are two."""
    merged: list[Days] = []
    for first, last in sorted(days):
        if merged and first <= merged[-1][1] + timedelta(days=1):
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    if len(merged) <= limit:
        return merged
    gaps = sorted(range(len(merged) - 1), key=lambda at: merged[at + 1][0] - merged[at][1], reverse=True)
    cuts = sorted(gaps[: limit - 1])  # the widest gaps stay gaps
    kept, start = [], 0
    for cut in cuts:
        kept.append((merged[start][0], merged[cut][1]))
        start = cut + 1
    kept.append((merged[start][0], merged[-1][1]))
    return kept


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


def prune(session: Session, *, through: int) -> int:
    """Deletes the changes up to version ``through`` and records one change of any team and date at that
    version in their place: a reader that last saw an earlier version finds it and recomputes everything
    (it cannot tell which of the deleted changes it missed), one at ``through`` or later needed none of
    them. Returns how many rows were deleted."""
    table = DataChange.__table__  # type: ignore[attr-defined]
    deleted = session.execute(sa.delete(table).where(table.c.version <= through))
    session.add(DataChange(version=through))
    return int(deleted.rowcount)  # type: ignore[attr-defined]


class ChangeLogPruner:
    """Prunes the change log to what a reader may still need: each run notes the data version, and
    prunes through the latest version noted at least ``keep`` ago (a process that has run less long
    does not know how old the changes are), or through what leaves at most ``rows`` rows."""

    def __init__(self, *, keep: timedelta = KEEP_CHANGES, rows: int = KEEP_ROWS) -> None:
        self.keep = keep
        self.rows = rows
        self._noted: deque[tuple[datetime, int]] = deque()
        self._pruned = 0

    def run(self, engine: sa.Engine, *, now: datetime) -> int:
        """Returns how many change rows were deleted."""
        with transaction(engine) as session:
            self._noted.append((now, data_version(session)))
            horizon = 0
            while self._noted and self._noted[0][0] <= now - self.keep:
                horizon = self._noted.popleft()[1]
            newest = select(DataChange.version).order_by(col(DataChange.version).desc()).offset(self.rows).limit(1)
            horizon = max(horizon, session.exec(newest).first() or 0)
            if horizon <= self._pruned:
                return 0
            self._pruned = horizon
            return prune(session, through=horizon)


def around(instant: datetime) -> Days:
    """The local dates an instant can fall on in any time zone (within a day of its UTC date)."""
    day = instant.astimezone(UTC).date()
    return day - timedelta(days=1), day + timedelta(days=1)


def days_of(row: Any) -> Days:
    """The local dates that place ``row`` (a data row, or an imported record: a dict) in a period: a
    measure's date, a milestone's due date, the dates a case's raising or a survey answer can fall on in
    any team's zone."""
    for name in DATE_FIELDS:
        value = row.get(name) if isinstance(row, dict) else getattr(row, name, None)
        if isinstance(value, datetime):
            return around(value)
        if isinstance(value, date):
            return value, value
    raise ValueError(f"{row!r} has no date")
