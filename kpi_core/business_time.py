"""Working time of a team: which days are working days (weekends, public holidays and make-up working days
from the ``holidays`` package, the config's extra days) and how much working time lies between two instants.

The public API (used by KPIs with ``clock: business``, case timers, schedules and alert operations):

- ``calendar_for(team)`` -> ``BusinessCalendar`` (the team's ``calendar``, or Monday to Friday 09:00-18:00
  without public holidays when it has none);
- ``BusinessCalendar.is_working_day(day)``, ``next_working_day(day)``;
- ``working_hours_between(start, end)``: hours of working time in [start, end);
- ``add_working_time(start, duration)``: the instant when ``duration`` of working time has passed;
- ``next_working_moment(at)``: ``at`` itself in working hours, else the next opening;
- ``next_working_morning(after)``: the first opening strictly after ``after`` on a later working day.

Every instant is aware; arithmetic is done in UTC, so a day with a DST change has its real length (Python
subtracts two datetimes of the same zone on the wall clock, which would be an hour off).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

import holidays

from kpi_core.calendar_schema import CalendarConfig

#: A case open longer than this is not walked day by day any further (a bound, not a business rule).
MAX_DAYS = 366 * 20
DEFAULT_CALENDAR = CalendarConfig()


class HasCalendar(Protocol):
    @property
    def tz(self) -> ZoneInfo: ...

    @property
    def calendar(self) -> CalendarConfig | None: ...


class BusinessCalendar:
    """One team's working days and hours in its time zone. Thread-safe (jobs and listeners share it)."""

    def __init__(self, config: CalendarConfig, tz: ZoneInfo) -> None:
        self.config = config
        self.tz = tz
        self.opens, self.closes = config.opening
        self._extra_holidays = frozenset(config.extra_holidays)
        self._extra_workdays = frozenset(config.extra_workdays)
        self._public = holidays.country_holidays(config.country, subdiv=config.subdivision) if config.country else None
        self._lock = threading.Lock()
        self._working: dict[date, bool] = {}

    def is_working_day(self, day: date) -> bool:
        if day in self._extra_workdays:
            return True
        if day in self._extra_holidays:
            return False
        with self._lock:  # the holidays object fills its years lazily, and a dict is cheaper next time
            known = self._working.get(day)
            if known is None:
                if self._public is not None:
                    # weekends as the country has them, its holidays, and its make-up working days (调休)
                    known = self._public.is_working_day(day)
                else:
                    known = day.weekday() < 5
                self._working[day] = known
        return known

    def next_working_day(self, day: date) -> date:
        """``day`` itself when it is a working day, else the next one."""
        for offset in range(MAX_DAYS):
            candidate = day + timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError(f"no working day within {MAX_DAYS} days of {day}")

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The working hours of ``day`` as UTC instants, or None on a day off."""
        if not self.is_working_day(day):
            return None
        start = datetime.combine(day, self.opens, self.tz).astimezone(UTC)
        if self.closes is None:
            end = datetime.combine(day + timedelta(days=1), time(0), self.tz).astimezone(UTC)
        else:
            end = datetime.combine(day, self.closes, self.tz).astimezone(UTC)
        return start, end

    def _windows_from(self, at: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working windows that end after ``at``, in order, clipped to start no earlier than ``at``."""
        at = at.astimezone(UTC)
        day = at.astimezone(self.tz).date() - timedelta(days=1)  # a 24:00 close may reach past local midnight
        for offset in range(MAX_DAYS):
            window = self.window(day + timedelta(days=offset))
            if window is not None and window[1] > at:
                yield max(window[0], at), window[1]

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        """Hours of working time in [start, end); 0 when ``end`` is not after ``start``."""
        end = end.astimezone(UTC)
        total = timedelta()
        if end <= start:
            return 0.0
        for opens, closes in self._windows_from(start):
            if opens >= end:
                break
            total += min(closes, end) - opens
        return total.total_seconds() / 3600

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime:
        """The instant at which ``duration`` of working time has passed since ``start``. A zero duration
        gives ``start`` itself, even outside working hours."""
        if duration <= timedelta():
            return start.astimezone(UTC)
        remaining = duration
        for opens, closes in self._windows_from(start):
            if closes - opens >= remaining:
                return opens + remaining
            remaining -= closes - opens
        raise ValueError(f"no working time within {MAX_DAYS} days of {start}")

    def latest_start(self, end: datetime, duration: timedelta) -> datetime:
        """The latest instant from which ``duration`` (> 0) of working time has passed by ``end``: a
        start after it has less working time before ``end``, one at or before it at least as much
        (``add_working_time`` walked backwards; it lies within a working window)."""
        end = end.astimezone(UTC)
        remaining = duration
        day = end.astimezone(self.tz).date()  # later days' windows open after ``end``
        for offset in range(MAX_DAYS):
            window = self.window(day - timedelta(days=offset))
            if window is None or window[0] >= end:
                continue
            opens, closes = window[0], min(window[1], end)
            if closes - opens >= remaining:
                return closes - remaining
            remaining -= closes - opens
        raise ValueError(f"no working time within {MAX_DAYS} days before {end}")

    def is_working_time(self, at: datetime) -> bool:
        return self.next_working_moment(at) == at.astimezone(UTC)

    def next_working_moment(self, at: datetime) -> datetime:
        """``at`` itself during working hours, else the next opening (UTC)."""
        for opens, _ in self._windows_from(at):
            return opens
        raise ValueError(f"no working time within {MAX_DAYS} days of {at}")

    def next_working_morning(self, after: datetime) -> datetime:
        """The opening of the first working day after ``after``'s local day (a snooze "until tomorrow
        morning" that skips weekends and holidays)."""
        day = self.next_working_day(after.astimezone(self.tz).date() + timedelta(days=1))
        window = self.window(day)
        assert window is not None  # next_working_day returned a working day
        return window[0]


_calendars: dict[tuple[CalendarConfig, str], BusinessCalendar] = {}
_calendars_lock = threading.Lock()


def calendar_for(team: HasCalendar) -> BusinessCalendar:
    """The team's calendar (shared between callers: it caches which days are working days)."""
    key = (team.calendar or DEFAULT_CALENDAR, str(team.tz))
    with _calendars_lock:
        calendar = _calendars.get(key)
        if calendar is None:
            calendar = _calendars[key] = BusinessCalendar(key[0], team.tz)
    return calendar
