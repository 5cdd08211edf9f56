"""Schedules on a team's working days (bot/working_days.py): a fire time on a holiday moves to the next
working day at the same local time; a team without a calendar keeps its plain cron schedule."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import yaml
from slack_sdk import WebClient

from bot.jobs import due_in_cycle
from bot.settings import Settings
from bot.wiring import build
from bot.working_days import team_cron
from kpi_core.config import Config, parse_config
from kpi_core.periods import PeriodKind
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
            # Friday 25 September is Mid-Autumn, and that week has no working day after it: Thursday 24th;
            # Friday 2 October is National Day (as are Thursday 1st and the weekend): Wednesday 30 September
            ["2026-09-24 16:00", "2026-09-30 16:00", "2026-10-09 16:00"],
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
    trigger = team_cron(cron, config.team(team), PeriodKind.WEEK)
    assert [f"{fire.astimezone(zone):%Y-%m-%d %H:%M}" for fire in fires(trigger, start, len(expected))] == expected


@pytest.fixture
def scheduled(tmp_path):
    """The jobs of the example config with Shanghai on China's calendar (no Slack call is made)."""
    settings = Settings(KPI_DATABASE_URL=f"sqlite:///{tmp_path / 'unused.db'}", KPI_INSTANCE="t")
    process = build(
        settings,
        client=WebClient(token="xoxb-test", base_url="http://127.0.0.1:9/"),
        config=config_with_calendars(),
    )
    yield {job.id: job for job in process.jobs.scheduled()}
    process.close()


@pytest.mark.parametrize(
    ("job_id", "now", "due"),
    [
        # National Day: Shanghai's Monday digest waits for Thursday 8 October; its Friday reminder comes on
        # Wednesday 30 September, the week's last working day
        pytest.param("weekly_digest:shanghai_ops", "2026-10-05 10:00", False, id="digest-on-national-day"),
        pytest.param("weekly_digest:shanghai_ops", "2026-10-08 08:59", False, id="digest-before-thursday"),
        pytest.param("weekly_digest:shanghai_ops", "2026-10-08 09:00", True, id="digest-thursday"),
        pytest.param("weekly_digest:beijing_service", "2026-10-05 10:00", True, id="no-calendar-monday"),
        pytest.param("submission_reminder:shanghai_ops", "2026-09-30 15:59", False, id="reminder-before-wednesday"),
        pytest.param("submission_reminder:shanghai_ops", "2026-09-30 16:00", True, id="reminder-wednesday"),
        pytest.param("submission_reminder:shanghai_ops", "2026-10-08 16:00", False, id="next-reminder-not-yet"),
        pytest.param("submission_reminder:shanghai_ops", "2026-10-09 16:00", True, id="next-reminder-friday"),
    ],
)
def test_catch_up_runs_a_moved_job_on_its_working_day_only(scheduled, job_id, now, due):
    moment = datetime.fromisoformat(now).replace(tzinfo=SHANGHAI)
    assert due_in_cycle(scheduled[job_id], moment) is due
