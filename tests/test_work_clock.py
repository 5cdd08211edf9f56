"""The alert follow-up's working time (kpi_core/work_clock.py): a team with a business calendar snoozes
and escalates in its working hours across public holidays; a team without one keeps the plain fallback."""

from __future__ import annotations

from datetime import timedelta

from kpi_core.calendar_schema import CalendarConfig
from kpi_core.config import Config
from kpi_core.work_clock import add_working_time, next_working_morning
from tests.factories import at


def test_a_team_with_a_calendar_snoozes_past_national_day_and_escalates_in_working_hours(example_config: Config):
    plain = example_config.team("shanghai_ops")
    assert plain.calendar is None
    with_calendar = plain.model_copy(update={"calendar": CalendarConfig(country="CN", hours="09:00-18:00")})
    evening = at("2026-09-30 20:00", "Asia/Shanghai")  # Wednesday; 1-7 October are public holidays in China

    assert next_working_morning(plain, evening) == at("2026-10-01 09:00", "Asia/Shanghai")
    assert next_working_morning(with_calendar, evening) == at("2026-10-08 09:00", "Asia/Shanghai")
    early = at("2026-10-08 07:30", "Asia/Shanghai")
    assert next_working_morning(with_calendar, early) == at("2026-10-08 09:00", "Asia/Shanghai")  # this morning

    late_afternoon = at("2026-09-30 17:00", "Asia/Shanghai")
    two_hours = timedelta(hours=2)
    assert add_working_time(plain, late_afternoon, two_hours) == at("2026-09-30 19:00", "Asia/Shanghai")
    # one hour before closing, the other after the holidays
    assert add_working_time(with_calendar, late_afternoon, two_hours) == at("2026-10-08 10:00", "Asia/Shanghai")
