"""Reporting periods (ISO week, month, quarter, year) and their bounds in a team's time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from kpi_core.errors import PeriodError


class PeriodKind(StrEnum):
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"  # last: PeriodKind's order is from the shortest period to the longest


MIN_YEAR, MAX_YEAR = 1900, 9990

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True, order=True)
class Period:
    """A half-open span of local calendar days [start, end)."""

    start: date
    end: date
    kind: PeriodKind

    @classmethod
    def parse(cls, label: str) -> Period:
        try:
            period = cls._parse(label)
        except PeriodError:
            raise
        except (ValueError, OverflowError):  # year 0, or a period ending after year 9999
            raise PeriodError(label=label, reason=f"the year must be between {MIN_YEAR} and {MAX_YEAR}") from None
        # Reports also look at the previous period and the year before, so keep a year of room on
        # both sides of what ``date`` can hold.
        if not MIN_YEAR <= period.start.year <= MAX_YEAR:
            raise PeriodError(label=label, reason=f"the year must be between {MIN_YEAR} and {MAX_YEAR}")
        return period

    @classmethod
    def _parse(cls, label: str) -> Period:
        text = label.strip().upper()
        if match := _WEEK.match(text):
            year, week = int(match[1]), int(match[2])
            try:
                monday = date.fromisocalendar(year, week, 1)
            except ValueError:
                raise PeriodError(label=label, reason=f"{year} has no ISO week {week}") from None
            return cls.containing(PeriodKind.WEEK, monday)
        if match := _MONTH.match(text):
            month = int(match[2])
            if not 1 <= month <= 12:
                raise PeriodError(label=label, reason=f"there is no month {month}")
            return cls.containing(PeriodKind.MONTH, date(int(match[1]), month, 1))
        if match := _QUARTER.match(text):
            return cls.containing(PeriodKind.QUARTER, date(int(match[1]), 3 * int(match[2]) - 2, 1))
        if match := _YEAR.match(text):
            return cls.containing(PeriodKind.YEAR, date(int(match[1]), 1, 1))
        raise PeriodError(label=label, reason="unknown format")

    @classmethod
    def containing(cls, kind: PeriodKind | str, day: date) -> Period:
        kind = PeriodKind(kind)
        if kind is PeriodKind.WEEK:
            start = day - timedelta(days=day.weekday())
            return cls(start, start + timedelta(days=7), kind)
        if kind is PeriodKind.MONTH:
            start = day.replace(day=1)
            return cls(start, _add_months(start, 1), kind)
        if kind is PeriodKind.YEAR:
            start = date(day.year, 1, 1)
            return cls(start, _add_months(start, 12), kind)
        start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        return cls(start, _add_months(start, 3), kind)

    @classmethod
    def current(cls, kind: PeriodKind | str, *, now: datetime, tz: ZoneInfo) -> Period:
        """The period of ``kind`` that contains the instant ``now`` as seen in ``tz``."""
        return cls.containing(kind, now.astimezone(tz).date())

    @property
    def label(self) -> str:
        if self.kind is PeriodKind.WEEK:
            year, week, _ = self.start.isocalendar()
            return f"{year:04d}-W{week:02d}"
        if self.kind is PeriodKind.MONTH:
            return f"{self.start.year:04d}-{self.start.month:02d}"
        if self.kind is PeriodKind.YEAR:
            return f"{self.start.year:04d}"
        return f"{self.start.year:04d}-Q{(self.start.month - 1) // 3 + 1}"

    def __str__(self) -> str:
        return self.label

    def previous(self) -> Period:
        return Period.containing(self.kind, self.start - timedelta(days=1))

    def next(self) -> Period:
        return Period.containing(self.kind, self.end)

    def year_ago(self) -> Period:
        """The same period one year earlier (ISO week 53 maps to week 52 when that year has none)."""
        if self.kind is PeriodKind.WEEK:
            year, week, _ = self.start.isocalendar()
            try:
                monday = date.fromisocalendar(year - 1, week, 1)
            except ValueError:
                monday = date.fromisocalendar(year - 1, 52, 1)
            return Period.containing(self.kind, monday)
        return Period.containing(self.kind, self.start.replace(year=self.start.year - 1))

    def utc_bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The instants where this period starts and ends in ``tz``, in UTC (DST-aware)."""
        return (
            datetime.combine(self.start, time(0), tz).astimezone(UTC),
            datetime.combine(self.end, time(0), tz).astimezone(UTC),
        )

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end
