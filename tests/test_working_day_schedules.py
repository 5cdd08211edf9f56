"""Schedules on a team's working days (bot/working_days.py): a fire time on a holiday moves to the next
working day at the same local time; a team without a calendar keeps its plain cron schedule."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.working_days import team_cron
from kpi_core.config import Config, parse_config
from tests.conftest import EXAMPLE_CONFIG

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def config_with_calendars() -> Config:
    raw = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    for team in raw["teams"]:
        if team["key"] == "shanghai_ops":
            team["calendar"] = {"country": "CN", "extra_holidays": ["2026-11-16"]}
        if team["key"] == "berlin_ops":
            team["calendar"] = {"country": "DE", "subdivision": "BE"}
    return parse_config(raw)


def fires(trigger, start: datetime, count: int) -> list[datetime]:
    times, previous = [], None
    now = start
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, now)
        times.append(fire)
        previous = now = fire
    return times


@pytest.mark.parametrize(
    ("team", "cron", "start", "expected"),
    [
        pytest.param(
            "shanghai_ops",
            "0 9 * * mon",
            datetime(2026, 9, 22, tzinfo=SHANGHAI),
            # Monday 5 October is National Day: Thursday 8 October; Monday 16 November an extra holiday
            ["2026-09-28 09:00", "2026-10-08 09:00", "2026-10-12 09:00"],
            id="national-day-monday",
        ),
        pytest.param(
            "shanghai_ops",
            "0 16 * * fri",
            datetime(2026, 9, 19, tzinfo=SHANGHAI),
            # Friday 25 September is Mid-Autumn: Monday 28th; Friday 2 October National Day: Thursday 8th
            ["2026-09-28 16:00", "2026-10-08 16:00", "2026-10-09 16:00"],
            id="mid-autumn-and-national-day-fridays",
        ),
        pytest.param(
            "shanghai_ops",
            "0 9 * * mon",
            datetime(2026, 11, 10, tzinfo=SHANGHAI),
            ["2026-11-17 09:00", "2026-11-23 09:00"],
            id="extra-holiday",
        ),
        pytest.param(
            "berlin_ops",
            "0 9 * * mon",
            datetime(2026, 3, 30, 12, tzinfo=BERLIN),
            # Easter Monday 6 April 2026: Tuesday
            ["2026-04-07 09:00", "2026-04-13 09:00"],
            id="easter-monday",
        ),
        pytest.param(
            "newyork_delivery",
            "0 9 * * mon",
            datetime(2026, 9, 1, tzinfo=ZoneInfo("America/New_York")),
            # no calendar: Labor Day (7 September) is not skipped
            ["2026-09-07 09:00", "2026-09-14 09:00"],
            id="no-calendar",
        ),
    ],
)
def test_a_fire_time_on_a_day_off_moves_to_the_next_working_day(team, cron, start, expected):
    config = config_with_calendars()
    zone = config.team(team).tz
    trigger = team_cron(cron, config.team(team))
    assert [f"{fire.astimezone(zone):%Y-%m-%d %H:%M}" for fire in fires(trigger, start, len(expected))] == expected
