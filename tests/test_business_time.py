"""Working time (kpi_core.business_time): holidays, weekends, China's make-up working days, DST, cases
spanning several days, and the config's checks of a calendar."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml

from kpi_core.business_time import BusinessCalendar
from kpi_core.calendar_schema import CalendarConfig
from kpi_core.config import parse_config
from kpi_core.errors import ConfigError
from tests.conftest import EXAMPLE_CONFIG

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def china(**extra: object) -> BusinessCalendar:
    return BusinessCalendar(CalendarConfig(country="CN", hours="09:00-18:00", **extra), SHANGHAI)  # type: ignore[arg-type]


def at(zone: ZoneInfo, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=zone)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        pytest.param(at(SHANGHAI, 2026, 9, 29, 10), at(SHANGHAI, 2026, 9, 29, 12, 30), 2.5, id="same-day"),
        pytest.param(at(SHANGHAI, 2026, 9, 29, 17), at(SHANGHAI, 2026, 9, 30, 10), 2.0, id="overnight"),
        pytest.param(at(SHANGHAI, 2026, 9, 29, 7), at(SHANGHAI, 2026, 9, 29, 8), 0.0, id="before-opening"),
        pytest.param(at(SHANGHAI, 2026, 9, 29, 20), at(SHANGHAI, 2026, 9, 30, 9), 0.0, id="after-closing-to-opening"),
        # National Day 2026: Oct 1-7 off (Oct 5 observed, Oct 6 and 7 moved), Oct 10 (a Saturday) is worked
        pytest.param(at(SHANGHAI, 2026, 9, 30, 17), at(SHANGHAI, 2026, 10, 8, 10), 2.0, id="national-day-week"),
        pytest.param(at(SHANGHAI, 2026, 10, 9, 17), at(SHANGHAI, 2026, 10, 12, 10), 11.0, id="make-up-saturday"),
        # Sunday 2026-09-20 is a make-up working day, Friday 2026-09-25 Mid-Autumn a holiday
        pytest.param(at(SHANGHAI, 2026, 9, 19, 12), at(SHANGHAI, 2026, 9, 21, 9), 9.0, id="make-up-sunday"),
        pytest.param(at(SHANGHAI, 2026, 9, 24, 17), at(SHANGHAI, 2026, 9, 28, 10), 2.0, id="mid-autumn-long-weekend"),
        pytest.param(at(SHANGHAI, 2026, 10, 1, 10), at(SHANGHAI, 2026, 10, 1, 9), 0.0, id="end-before-start"),
        # an instant given in another zone is the same instant
        pytest.param(at(UTC, 2026, 9, 29, 2), at(SHANGHAI, 2026, 9, 29, 11), 1.0, id="mixed-zones"),
    ],
)
def test_working_hours_between_count_only_working_time_in_china(start, end, hours):
    assert china().working_hours_between(start, end) == pytest.approx(hours)


def test_a_case_spanning_several_weeks_counts_every_working_day_once():
    # 2026-09-07 (Mon) 09:00 to 2026-09-28 (Mon) 09:00: three weeks of 5 days, less Friday 25 (Mid-Autumn),
    # plus Sunday 20 (made up): 15 days of 9 hours
    assert china().working_hours_between(at(SHANGHAI, 2026, 9, 7, 9), at(SHANGHAI, 2026, 9, 28, 9)) == 15 * 9


def test_make_up_working_days_come_from_the_holidays_package():
    calendar = china()
    assert calendar.is_working_day(date(2026, 10, 10))  # Saturday, worked for National Day
    assert calendar.is_working_day(date(2026, 9, 20))  # Sunday, worked for Mid-Autumn
    assert not calendar.is_working_day(date(2026, 10, 5))  # Monday, National Day
    assert not calendar.is_working_day(date(2026, 10, 17))  # an ordinary Saturday


def test_extra_days_of_the_config_override_the_country():
    calendar = china(extra_holidays=[date(2026, 12, 31)], extra_workdays=[date(2026, 10, 7)])
    assert not calendar.is_working_day(date(2026, 12, 31))
    assert calendar.is_working_day(date(2026, 10, 7))
    assert calendar.working_hours_between(at(SHANGHAI, 2026, 10, 6), at(SHANGHAI, 2026, 10, 8)) == 9


def test_across_the_dst_change_the_clock_hour_is_not_counted_twice_or_lost():
    # Friday 17:00 before the spring change (Berlin, 2026-03-29) to Monday 10:00 after: 1 h + 1 h
    berlin = BusinessCalendar(CalendarConfig(country="DE", subdivision="BE"), BERLIN)
    assert berlin.working_hours_between(at(BERLIN, 2026, 3, 27, 17), at(BERLIN, 2026, 3, 30, 10)) == 2.0
    # a day with working hours around the change itself: 01:00-05:00 local on 2026-03-29 is 3 real hours
    night = BusinessCalendar(
        CalendarConfig(country="DE", hours="01:00-05:00", extra_workdays=(date(2026, 3, 29),)), BERLIN
    )
    assert night.working_hours_between(at(BERLIN, 2026, 3, 29), at(BERLIN, 2026, 3, 29, 12)) == 3.0
    # in the autumn (2026-10-25) the repeated hour is worked twice: 01:00-05:00 local is 5 real hours
    autumn = BusinessCalendar(
        CalendarConfig(country="DE", hours="01:00-05:00", extra_workdays=(date(2026, 10, 25),)), BERLIN
    )
    assert autumn.working_hours_between(at(BERLIN, 2026, 10, 25), at(BERLIN, 2026, 10, 25, 12)) == 5.0
    # round the clock on the short day: 23 hours
    always = BusinessCalendar(CalendarConfig(hours="00:00-24:00", extra_workdays=(date(2026, 3, 29),)), BERLIN)
    assert always.working_hours_between(at(BERLIN, 2026, 3, 29), at(BERLIN, 2026, 3, 30)) == 23.0


def test_us_dst_and_thanksgiving():
    us = BusinessCalendar(CalendarConfig(country="US"), NEW_YORK)
    # Friday 2026-11-06 17:00 EDT -> Monday 2026-11-09 10:00 EST (the clocks went back on Sunday)
    assert us.working_hours_between(at(NEW_YORK, 2026, 11, 6, 17), at(NEW_YORK, 2026, 11, 9, 10)) == 2.0
    # Thanksgiving 2026-11-26 is a day off
    assert us.working_hours_between(at(NEW_YORK, 2026, 11, 25, 17), at(NEW_YORK, 2026, 11, 27, 10)) == 2.0


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        pytest.param(at(SHANGHAI, 2026, 9, 29, 10), 4, at(SHANGHAI, 2026, 9, 29, 14), id="same-day"),
        pytest.param(at(SHANGHAI, 2026, 9, 29, 16), 4, at(SHANGHAI, 2026, 9, 30, 11), id="next-morning"),
        pytest.param(at(SHANGHAI, 2026, 9, 30, 16), 4, at(SHANGHAI, 2026, 10, 8, 11), id="over-national-day"),
        pytest.param(at(SHANGHAI, 2026, 9, 30, 20), 9, at(SHANGHAI, 2026, 10, 8, 18), id="exactly-a-day-from-night"),
        pytest.param(at(SHANGHAI, 2026, 10, 3, 12), 0, at(SHANGHAI, 2026, 10, 3, 12), id="zero-on-a-holiday"),
    ],
)
def test_add_working_time_is_the_inverse_of_working_hours_between(start, hours, due):
    calendar = china()
    reached = calendar.add_working_time(start, timedelta(hours=hours))
    assert reached == due
    assert calendar.working_hours_between(start, reached) == pytest.approx(hours)


def test_next_working_moment_and_morning():
    calendar = china()
    assert calendar.next_working_moment(at(SHANGHAI, 2026, 9, 29, 10)) == at(SHANGHAI, 2026, 9, 29, 10)
    assert calendar.next_working_moment(at(SHANGHAI, 2026, 9, 30, 19)) == at(SHANGHAI, 2026, 10, 8, 9)
    assert calendar.next_working_morning(at(SHANGHAI, 2026, 10, 9, 10)) == at(SHANGHAI, 2026, 10, 10, 9)
    assert calendar.is_working_time(at(SHANGHAI, 2026, 10, 10, 9, 30))
    assert not calendar.is_working_time(at(SHANGHAI, 2026, 10, 2, 9, 30))
    assert calendar.next_working_day(date(2026, 10, 1)) == date(2026, 10, 8)


def _with_calendar(calendar: object) -> dict:
    raw = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    raw["teams"][0]["calendar"] = calendar
    return raw


@pytest.mark.parametrize(
    ("calendar", "message"),
    [
        pytest.param({"country": "XX"}, "unknown country 'XX'", id="unknown-country"),
        pytest.param({"country": "DE", "subdivision": "ZZ"}, "unknown subdivision 'ZZ' of DE", id="subdivision"),
        pytest.param({"hours": "9-18"}, "bad working hours '9-18'", id="hours-shape"),
        pytest.param({"hours": "18:00-09:00"}, "must end after they start", id="night-shift"),
        pytest.param({"hours": "09:00-25:00"}, "bad working hours", id="hour-25"),
        pytest.param({"extra_holidays": ["2026-02-30"]}, "extra_holidays", id="impossible-date"),
        pytest.param(
            {"extra_holidays": ["2026-10-10"], "extra_workdays": ["2026-10-10"]},
            "both an extra holiday and an extra workday",
            id="both",
        ),
        pytest.param({"country": "CN", "hourz": "09:00-18:00"}, "did you mean 'hours'", id="typo"),
    ],
)
def test_a_bad_calendar_is_refused_with_a_clear_message(calendar, message):
    with pytest.raises(ConfigError) as raised:
        parse_config(_with_calendar(calendar), file="my.yaml")
    text = str(raised.value)
    assert message in text
    assert "teams" in text and "calendar" in text


def test_a_good_calendar_loads():
    config = parse_config(_with_calendar({"country": "CN", "hours": "08:30-17:30", "extra_workdays": ["2027-02-20"]}))
    assert config.teams[0].calendar is not None
    assert config.teams[0].calendar.extra_workdays == (date(2027, 2, 20),)


@pytest.mark.parametrize(
    ("end", "hours", "start"),
    [
        pytest.param(at(SHANGHAI, 2026, 9, 29, 14), 4, at(SHANGHAI, 2026, 9, 29, 10), id="same-day"),
        pytest.param(at(SHANGHAI, 2026, 9, 30, 11), 4, at(SHANGHAI, 2026, 9, 29, 16), id="previous-afternoon"),
        pytest.param(at(SHANGHAI, 2026, 9, 29, 22), 4, at(SHANGHAI, 2026, 9, 29, 14), id="end-at-night"),
        pytest.param(at(SHANGHAI, 2026, 10, 8, 11), 4, at(SHANGHAI, 2026, 9, 30, 16), id="over-national-day"),
        pytest.param(at(SHANGHAI, 2026, 10, 8, 9), 9, at(SHANGHAI, 2026, 9, 30, 9), id="end-at-opening"),
    ],
)
def test_latest_start_is_the_last_start_whose_working_time_has_passed(end, hours, start):
    calendar, duration = china(), timedelta(hours=hours)
    latest = calendar.latest_start(end, duration)
    assert latest == start
    assert calendar.working_hours_between(latest, end) == pytest.approx(hours)
    assert calendar.add_working_time(latest, duration) <= end  # due by end
    assert calendar.add_working_time(latest + timedelta(minutes=1), duration) > end  # a later start is not
