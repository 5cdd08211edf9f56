"""Schedules that keep to a team's working days: a cron fire time on a weekend, a public holiday or an
extra holiday of the team's calendar moves to the next working day, at the same local time (a Monday
09:00 digest on a holiday Monday goes out on Tuesday at 09:00). Teams without a ``calendar`` keep the
plain cron schedule."""

from __future__ import annotations

from datetime import datetime

from apscheduler.triggers.cron import CronTrigger

from kpi_core.business_time import BusinessCalendar, calendar_for
from kpi_core.config import Team


class WorkingDayCronTrigger(CronTrigger):
    """A CronTrigger whose fire times fall on working days of ``calendar`` only (moved, not dropped)."""

    __slots__ = ("calendar",)
    calendar: BusinessCalendar

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        fire: datetime | None = super().get_next_fire_time(previous_fire_time, now)
        if fire is None:
            return None
        local = fire.astimezone(self.timezone)
        day = self.calendar.next_working_day(local.date())
        if day == local.date():
            return fire
        # the same wall-clock time on the working day (zoneinfo resolves a DST gap or fold)
        moved: datetime = datetime.combine(day, local.timetz().replace(tzinfo=None), self.timezone)
        return moved

    def __str__(self) -> str:
        return f"{super().__str__()} on working days"


def team_cron(expression: str, team: Team) -> CronTrigger:
    """The cron trigger of a team's job in its zone; on its working days when it has a calendar."""
    if team.calendar is None:
        return CronTrigger.from_crontab(expression, timezone=team.tz)
    trigger: WorkingDayCronTrigger = WorkingDayCronTrigger.from_crontab(expression, timezone=team.tz)
    trigger.calendar = calendar_for(team)
    return trigger
