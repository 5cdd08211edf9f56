"""When a team works, as the alert follow-up needs it: the next working morning (the end of a "until
tomorrow morning" snooze) and a duration counted in working time (how long an alert waited).

A team with a ``calendar`` in the config (kpi_core/business_time.py: working hours, public holidays,
make-up working days) counts in it; without one these fall back to 09:00 on the next Monday to Friday,
and to wall-clock time. Everything that follows alerts up asks these two functions only, so it uses one
notion of working time.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from kpi_core.business_time import calendar_for
from kpi_core.config import Team

#: The working morning when the team's config has no working hours.
DEFAULT_MORNING = time(9, 0)
WEEKDAYS = range(0, 5)  # Monday to Friday


def next_working_morning(team: Team, now: datetime) -> datetime:
    """The first start of a working day after ``now`` in the team's zone (09:00 Monday to Friday), in UTC."""
    if team.calendar is not None:
        calendar = calendar_for(team)
        today = calendar.window(now.astimezone(team.tz).date())
        opening = today[0] if today is not None and today[0] > now else calendar.next_working_morning(now)
        return opening.astimezone(now.tzinfo)
    local = now.astimezone(team.tz)
    day = local.date()
    while True:
        start = datetime.combine(day, DEFAULT_MORNING, team.tz)
        if day.weekday() in WEEKDAYS and start > local:
            return start.astimezone(now.tzinfo)
        day += timedelta(days=1)


def add_working_time(team: Team, start: datetime, duration: timedelta) -> datetime:
    """The instant at which ``duration`` of the team's working time has passed since ``start``: wall-clock
    time while the config gives the team no calendar."""
    if team.calendar is not None:
        return calendar_for(team).add_working_time(start, duration).astimezone(start.tzinfo)
    return start + duration
