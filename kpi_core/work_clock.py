"""When a team works, as the alert follow-up needs it: the next working morning (the end of a "until
tomorrow morning" snooze) and a duration counted in working time (how long an alert waited).

Without working hours in the team's config these fall back to 09:00 on the next Monday to Friday, and
to wall-clock time. The per-team business calendar (working hours, holidays) plugs in here, in these
two functions only, so everything that follows alerts up uses one notion of working time.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from kpi_core.config import Team

#: The working morning when the team's config has no working hours.
DEFAULT_MORNING = time(9, 0)
WEEKDAYS = range(0, 5)  # Monday to Friday


def next_working_morning(team: Team, now: datetime) -> datetime:
    """The first start of a working day after ``now`` in the team's zone (09:00 Monday to Friday), in UTC."""
    local = now.astimezone(team.tz)
    day = local.date()
    while True:
        start = datetime.combine(day, DEFAULT_MORNING, team.tz)
        if day.weekday() in WEEKDAYS and start > local:
            return start.astimezone(now.tzinfo)
        day += timedelta(days=1)


def add_working_time(team: Team, start: datetime, duration: timedelta) -> datetime:
    """The instant at which ``duration`` of the team's working time has passed since ``start``: wall-clock
    time while the config gives the team no working hours."""
    return start + duration
