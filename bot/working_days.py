"""Schedules that keep to a team's working days: a cron fire time on a weekend, a public holiday or an
extra holiday of the team's calendar moves to the next working day of the same cycle (the week of a weekly
job, the month of a monthly one), at the same local time: a Monday 09:00 digest on a holiday Monday goes
out on Tuesday at 09:00. When the cycle has no working day after it, the run moves back to the last
working day before it instead (a Friday reminder before a holiday Friday comes on Thursday), so each cycle
keeps its one run and ``catch_up`` finds it. Teams without a ``calendar`` keep the plain cron schedule."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from kpi_core.business_time import BusinessCalendar, calendar_for
from kpi_core.config import Team
from kpi_core.periods import Period, PeriodKind

#: how many plain fire times are tried for one that, once moved, lies after the previous run
MAX_TRIES = 100


class WorkingDayCronTrigger(CronTrigger):
    """A CronTrigger whose fire times fall on working days of ``calendar`` (moved within ``cycle``)."""

    __slots__ = ("calendar", "cycle")
    calendar: BusinessCalendar
    cycle: PeriodKind

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        fire: datetime | None = super().get_next_fire_time(previous_fire_time, now)
        for _ in range(MAX_TRIES):
            if fire is None:
                return None
            moved = self._on_a_working_day(fire)
            # a run moved back may land on the previous run (or before it): the next plain fire time then
            if previous_fire_time is None or moved > previous_fire_time:
                return moved
            fire = super().get_next_fire_time(fire, fire)
        return None

    def _on_a_working_day(self, fire: datetime) -> datetime:
        local = fire.astimezone(self.timezone)
        day = local.date()
        if self.calendar.is_working_day(day):
            return fire
        cycle = Period.containing(self.cycle, day)
        working = _first(self.calendar, day, cycle.end, +1) or _first(self.calendar, day, cycle.start, -1)
        if working is None:
            return fire  # no working day in the whole cycle: the team is off, the plain schedule stands
        # the same wall-clock time on that day (zoneinfo resolves a DST gap or fold)
        moved: datetime = datetime.combine(working, local.timetz().replace(tzinfo=None), self.timezone)
        return moved

    def __str__(self) -> str:
        return f"{super().__str__()} on working days"


def _first(calendar: BusinessCalendar, day: date, limit: date, step: int) -> date | None:
    """The first working day from ``day`` (excluded) towards ``limit`` (forward: excluded; back: included)."""
    candidate = day + timedelta(days=step)
    while (candidate < limit) if step > 0 else (candidate >= limit):
        if calendar.is_working_day(candidate):
            return candidate
        candidate += timedelta(days=step)
    return None


def team_cron(expression: str, team: Team, cycle: PeriodKind) -> CronTrigger:
    """The cron trigger of a team's job in its zone; on its working days when it has a calendar."""
    if team.calendar is None:
        return CronTrigger.from_crontab(expression, timezone=team.tz)
    trigger: WorkingDayCronTrigger = WorkingDayCronTrigger.from_crontab(expression, timezone=team.tz)
    trigger.calendar = calendar_for(team)
    trigger.cycle = cycle
    return trigger
