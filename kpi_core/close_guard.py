"""The guard of closed periods: a write dated inside a closed period is refused, whatever its path (a
Slack form, a correction, a withdrawal, a CSV import), until an admin reopens the period. Kept apart from
kpi_core.period_close so that the low-level writes in kpi_core.store can use it without importing the
scoring.

A row's date is the one that places it in a period: a measure's or milestone's local date, and for a case
or survey answer the UTC date of its instant (a close covers every team, each in its own zone; the UTC
date is within a day of each, and refusing on it never refuses a write of the next, open period)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session, col, select

from kpi_core.close_models import PeriodCloseRevision
from kpi_core.errors import PeriodCloseError
from kpi_core.periods import Period

#: the field that dates each kind of data row (a stored row or an imported record)
DATE_FIELDS = ("on_date", "due_on", "raised_at", "submitted_at")


def closed_periods(session: Session) -> list[Period]:
    """Every period closed now: its latest revision is not reopened."""
    query = select(PeriodCloseRevision.period, PeriodCloseRevision.reopened_at).order_by(
        col(PeriodCloseRevision.revision)
    )
    latest: dict[str, datetime | None] = {}
    for label, reopened_at in session.exec(query):
        latest[label] = reopened_at
    return [Period.parse(label) for label, reopened_at in latest.items() if reopened_at is None]


def ensure_open(session: Session, *, first: date, last: date) -> None:
    """Refuses a write of data dated ``first`` to ``last`` that reaches into a closed period."""
    for period in closed_periods(session):
        if period.start <= last and first < period.end:
            dated = first.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"
            message = (
                f"{period.label} is closed: data dated {dated} can no longer change "
                f"(an admin may reopen it: /kpi reopen {period.label} <reason>)"
            )
            raise PeriodCloseError(message, period=period.label)


def date_of(row: Any) -> date:
    """The date that places a data row (or an imported record, a dict) in a period."""
    for field in DATE_FIELDS:
        value = row.get(field) if isinstance(row, dict) else getattr(row, field, None)
        if isinstance(value, datetime):
            return value.astimezone(UTC).date()
        if isinstance(value, date):
            return value
    raise ValueError(f"{row!r} has no date")


def ensure_rows_open(session: Session, rows: Iterable[Any]) -> None:
    """``ensure_open`` over the dates of ``rows``; nothing to check without rows."""
    days = [date_of(row) for row in rows]
    if days:
        ensure_open(session, first=min(days), last=max(days))
