"""The schedule (bot.jobs) of bot/config/example.yaml: each job's cron trigger in its own time zone, across
daylight-saving changes, and ``due_in_cycle``, which decides what ``catch_up`` runs.

Schedules: weekly_digest "0 9 * * mon" and submission_reminder "0 16 * * fri" in each team's zone;
management_summary "30 9 * * mon" and quarterly_scorecard "0 10 1 1,4,7,10 *" in Asia/Shanghai.
Zones: Asia/Shanghai UTC+8 all year; Europe/Berlin +2 until 25 October 2026, +1 after (and from
29 March +2); America/New_York -4 until 1 November 2026, -5 after (and from 8 March -4).
Every expected instant is worked out by hand and written in UTC.
"""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from slack_sdk import WebClient

from bot.jobs import CASE_TIMER_ID, CATCH_UP_EVERY, MISSING_DATA_EVERY, due_in_cycle
from bot.settings import Settings
from bot.wiring import build
from kpi_core.cron import CronSyntaxError, check_cron
from kpi_core.periods import PeriodKind

TEAMS = ("shanghai_ops", "beijing_service", "berlin_ops", "newyork_delivery")
NOW = datetime(2026, 10, 5, 3, 0, tzinfo=UTC)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def jobs(example_config, tmp_path: Path):
    """Jobs over a never-used database and an unreachable Slack: trigger math makes no call."""
    settings = Settings(KPI_DATABASE_URL=f"sqlite:///{tmp_path / 'unused.db'}", KPI_INSTANCE="t")
    process = build(
        settings,
        client=WebClient(token="xoxb-test", base_url="http://127.0.0.1:9/"),
        clock=lambda: NOW,
        config=example_config,
    )
    yield process.jobs
    process.close()


@pytest.fixture
def by_id(jobs):
    return {job.id: job for job in jobs.scheduled()}


def next_fire(job, after: datetime) -> datetime:
    fire = job.trigger.get_next_fire_time(None, after)
    assert fire is not None
    assert fire.tzinfo is not None
    return fire


def test_scheduled_job_ids_are_stable_and_one_per_team(jobs):
    ids = [job.id for job in jobs.scheduled()]
    assert len(ids) == len(set(ids))
    assert set(ids) == {
        *(f"weekly_digest:{team}" for team in TEAMS),
        *(f"submission_reminder:{team}" for team in TEAMS),
        *(f"monthly_digest:{team}" for team in TEAMS),
        "management_summary",
        "quarterly_scorecard",
    }
    assert [job.id for job in jobs.scheduled()] == ids  # the same ids on every call (replace_existing)


def test_cycles_and_zones(by_id):
    zones = {job_id: str(job.trigger.timezone) for job_id, job in by_id.items()}
    assert zones["weekly_digest:shanghai_ops"] == "Asia/Shanghai"
    assert zones["weekly_digest:berlin_ops"] == "Europe/Berlin"
    assert zones["weekly_digest:newyork_delivery"] == "America/New_York"
    assert zones["submission_reminder:berlin_ops"] == "Europe/Berlin"
    assert zones["management_summary"] == zones["quarterly_scorecard"] == "Asia/Shanghai"
    assert zones["monthly_digest:newyork_delivery"] == "America/New_York"
    assert all(by_id[f"monthly_digest:{team}"].cycle is PeriodKind.MONTH for team in TEAMS)
    solo = ("weekly", "submission", "monthly")
    assert {job_id: job.cycle for job_id, job in by_id.items() if not job_id.startswith(solo)} == {
        "management_summary": PeriodKind.WEEK,
        "quarterly_scorecard": PeriodKind.QUARTER,
    }
    assert all(by_id[f"weekly_digest:{team}"].cycle is PeriodKind.WEEK for team in TEAMS)


@pytest.mark.parametrize(
    ("job_id", "after", "expected"),
    [
        # Sunday 4 October 12:00 UTC -> Monday 5 October 09:00 local
        pytest.param("weekly_digest:shanghai_ops", "2026-10-04 12:00", "2026-10-05 01:00", id="shanghai"),
        pytest.param("weekly_digest:beijing_service", "2026-10-04 12:00", "2026-10-05 01:00", id="beijing"),
        pytest.param("weekly_digest:berlin_ops", "2026-10-04 12:00", "2026-10-05 07:00", id="berlin-cest"),
        pytest.param("weekly_digest:newyork_delivery", "2026-10-04 12:00", "2026-10-05 13:00", id="newyork-edt"),
        # the fire time itself is the next fire time; a minute later it is next week's
        pytest.param("weekly_digest:berlin_ops", "2026-10-05 07:00", "2026-10-05 07:00", id="berlin-at-fire-time"),
        pytest.param("weekly_digest:berlin_ops", "2026-10-05 07:01", "2026-10-12 07:00", id="berlin-just-after"),
        # autumn: Berlin back to CET on Sunday 25 October, New York to EST on Sunday 1 November
        pytest.param("weekly_digest:berlin_ops", "2026-10-12 12:00", "2026-10-19 07:00", id="berlin-before-autumn"),
        pytest.param("weekly_digest:berlin_ops", "2026-10-20 00:00", "2026-10-26 08:00", id="berlin-after-autumn"),
        pytest.param("weekly_digest:newyork_delivery", "2026-10-20 00:00", "2026-10-26 13:00", id="ny-before-autumn"),
        pytest.param("weekly_digest:newyork_delivery", "2026-10-27 00:00", "2026-11-02 14:00", id="ny-after-autumn"),
        # Monday 26 October 07:30 UTC is 08:30 CET: still before this Monday's 09:00
        pytest.param("weekly_digest:berlin_ops", "2026-10-26 07:30", "2026-10-26 08:00", id="berlin-first-cet-monday"),
        # spring: Berlin to CEST on 29 March, New York to EDT on 8 March
        pytest.param("weekly_digest:berlin_ops", "2026-03-24 00:00", "2026-03-30 07:00", id="berlin-after-spring"),
        pytest.param("weekly_digest:berlin_ops", "2026-03-17 00:00", "2026-03-23 08:00", id="berlin-before-spring"),
        pytest.param("weekly_digest:newyork_delivery", "2026-03-03 00:00", "2026-03-09 13:00", id="ny-after-spring"),
        pytest.param("weekly_digest:newyork_delivery", "2026-02-24 00:00", "2026-03-02 14:00", id="ny-before-spring"),
        # Shanghai has no DST: 01:00 UTC all year
        pytest.param("weekly_digest:shanghai_ops", "2026-10-20 00:00", "2026-10-26 01:00", id="shanghai-october"),
        pytest.param("weekly_digest:shanghai_ops", "2026-12-29 00:00", "2027-01-04 01:00", id="shanghai-new-year"),
        # Friday 16:00 local
        pytest.param("submission_reminder:berlin_ops", "2026-10-05 00:00", "2026-10-09 14:00", id="reminder-berlin"),
        pytest.param("submission_reminder:shanghai_ops", "2026-10-05 00:00", "2026-10-09 08:00", id="reminder-sh"),
        pytest.param("submission_reminder:newyork_delivery", "2026-10-30 00:00", "2026-10-30 20:00", id="reminder-ny"),
        pytest.param(
            "submission_reminder:newyork_delivery", "2026-10-31 00:00", "2026-11-06 21:00", id="reminder-ny-est"
        ),
        # Monday 09:30 in Shanghai
        pytest.param("management_summary", "2026-10-04 12:00", "2026-10-05 01:30", id="management"),
        pytest.param("management_summary", "2026-10-20 00:00", "2026-10-26 01:30", id="management-no-dst"),
        # 1 January, April, July, October at 10:00 in Shanghai
        pytest.param("quarterly_scorecard", "2026-08-01 00:00", "2026-10-01 02:00", id="quarterly-q4"),
        pytest.param("quarterly_scorecard", "2026-10-01 02:01", "2027-01-01 02:00", id="quarterly-q1-2027"),
        # 31 December 18:00 UTC is already 1 January 02:00 in Shanghai
        pytest.param("quarterly_scorecard", "2026-12-31 18:00", "2027-01-01 02:00", id="quarterly-new-year"),
    ],
)
def test_next_fire_time_in_the_job_zone(by_id, job_id, after, expected):
    assert next_fire(by_id[job_id], utc(after)) == utc(expected)


def test_consecutive_berlin_digests_across_the_autumn_change_are_169_hours_apart(by_id):
    trigger = by_id["weekly_digest:berlin_ops"].trigger
    before = trigger.get_next_fire_time(None, utc("2026-10-19 00:00"))
    after = trigger.get_next_fire_time(before, before)
    assert (before, after) == (utc("2026-10-19 07:00"), utc("2026-10-26 08:00"))
    # elapsed time in UTC (subtracting two datetimes of one ZoneInfo gives the wall-clock difference, 168 h)
    assert after.astimezone(UTC) - before.astimezone(UTC) == timedelta(hours=169)  # the hour given back
    following = trigger.get_next_fire_time(after, after)
    assert following.astimezone(UTC) - after.astimezone(UTC) == timedelta(hours=168)


@pytest.mark.parametrize(
    ("job_id", "now", "due"),
    [
        # 2026-10-05 03:00 UTC: Monday 11:00 in Shanghai, Monday 05:00 in Berlin, Sunday 23:00 in New York
        pytest.param("weekly_digest:shanghai_ops", "2026-10-05 03:00", True, id="shanghai-monday-11:00"),
        pytest.param("weekly_digest:beijing_service", "2026-10-05 03:00", True, id="beijing-monday-11:00"),
        pytest.param("weekly_digest:berlin_ops", "2026-10-05 03:00", False, id="berlin-monday-05:00"),
        # New York's week is still the one of Monday 28 September, whose 09:00 digest is past
        pytest.param("weekly_digest:newyork_delivery", "2026-10-05 03:00", True, id="newyork-sunday-23:00"),
        # the fire time itself counts
        pytest.param("weekly_digest:shanghai_ops", "2026-10-05 00:59", False, id="shanghai-08:59"),
        pytest.param("weekly_digest:shanghai_ops", "2026-10-05 01:00", True, id="shanghai-09:00"),
        pytest.param("weekly_digest:berlin_ops", "2026-10-05 06:59", False, id="berlin-08:59"),
        pytest.param("weekly_digest:berlin_ops", "2026-10-05 07:00", True, id="berlin-09:00"),
        # New York's new week starts at Monday 00:00 EDT (04:00 UTC); its digest is due from 13:00 UTC
        pytest.param("weekly_digest:newyork_delivery", "2026-10-05 03:59", True, id="newyork-sunday-23:59"),
        pytest.param("weekly_digest:newyork_delivery", "2026-10-05 04:00", False, id="newyork-monday-00:00"),
        pytest.param("weekly_digest:newyork_delivery", "2026-10-05 12:59", False, id="newyork-08:59"),
        pytest.param("weekly_digest:newyork_delivery", "2026-10-05 13:00", True, id="newyork-09:00"),
        pytest.param("weekly_digest:berlin_ops", "2026-10-11 21:59", True, id="berlin-sunday-23:59"),
        # after the autumn change: Monday 26 October 09:00 CET is 08:00 UTC, not 07:00
        pytest.param("weekly_digest:berlin_ops", "2026-10-26 07:30", False, id="berlin-cet-08:30"),
        pytest.param("weekly_digest:berlin_ops", "2026-10-26 08:00", True, id="berlin-cet-09:00"),
        pytest.param("weekly_digest:newyork_delivery", "2026-11-02 13:30", False, id="newyork-est-08:30"),
        pytest.param("weekly_digest:newyork_delivery", "2026-11-02 14:00", True, id="newyork-est-09:00"),
        # the reminder is due from Friday 16:00 local to the end of the week
        pytest.param("submission_reminder:berlin_ops", "2026-10-08 12:00", False, id="reminder-thursday"),
        pytest.param("submission_reminder:berlin_ops", "2026-10-09 14:00", True, id="reminder-friday-16:00"),
        pytest.param("submission_reminder:berlin_ops", "2026-10-11 21:59", True, id="reminder-sunday-23:59"),
        pytest.param("submission_reminder:berlin_ops", "2026-10-11 22:00", False, id="reminder-next-monday"),
        # management summary: Monday 09:30 in Shanghai (01:30 UTC); Shanghai's week starts at 16:00 UTC Sunday
        pytest.param("management_summary", "2026-10-05 01:29", False, id="management-09:29"),
        pytest.param("management_summary", "2026-10-05 01:30", True, id="management-09:30"),
        pytest.param("management_summary", "2026-10-04 15:59", True, id="management-sunday-23:59"),
        pytest.param("management_summary", "2026-10-04 16:00", False, id="management-monday-00:00"),
        # quarterly scorecard: from 1 October 10:00 in Shanghai (02:00 UTC) to the quarter's end
        pytest.param("quarterly_scorecard", "2026-09-30 15:59", True, id="quarterly-q3-last-minute"),
        pytest.param("quarterly_scorecard", "2026-09-30 16:00", False, id="quarterly-q4-midnight"),
        pytest.param("quarterly_scorecard", "2026-10-01 01:59", False, id="quarterly-09:59"),
        pytest.param("quarterly_scorecard", "2026-10-01 02:00", True, id="quarterly-10:00"),
        pytest.param("quarterly_scorecard", "2026-11-15 00:00", True, id="quarterly-mid-quarter"),
        pytest.param("quarterly_scorecard", "2026-12-31 15:59", True, id="quarterly-last-minute"),
        pytest.param("quarterly_scorecard", "2026-12-31 16:00", False, id="quarterly-next-quarter"),
        pytest.param("quarterly_scorecard", "2027-01-01 02:00", True, id="quarterly-next-10:00"),
    ],
)
def test_due_in_cycle_in_the_job_zone(by_id, job_id, now, due):
    assert due_in_cycle(by_id[job_id], utc(now)) is due


def test_due_teams_at_one_instant(by_id):
    due = {team for team in TEAMS if due_in_cycle(by_id[f"weekly_digest:{team}"], NOW)}
    assert due == {"shanghai_ops", "beijing_service", "newyork_delivery"}  # Berlin's 09:00 is 4 hours away


def test_catch_up_runs_exactly_the_due_jobs(jobs, monkeypatch):
    ran: list[str] = []
    scheduled = [replace(job, run=lambda job_id=job.id: ran.append(job_id)) for job in jobs.scheduled()]
    monkeypatch.setattr(jobs, "scheduled", lambda: scheduled)
    # NOW is Monday 11:00 in Shanghai: this week's Shanghai jobs have fired, Berlin's not yet; New York
    # is in last week, whose digest and Friday reminder are past; Shanghai's reminder is due on Friday
    expected = [
        "weekly_digest:shanghai_ops",
        "weekly_digest:beijing_service",
        "weekly_digest:newyork_delivery",
        "submission_reminder:newyork_delivery",
        # the 1st of October 09:00 has passed in every zone: the monthly digests of September are due
        *(f"monthly_digest:{team}" for team in TEAMS),
        "management_summary",
        "quarterly_scorecard",
    ]
    assert sorted(jobs.catch_up()) == sorted(expected)
    assert sorted(ran) == sorted(expected)


def test_install_adds_every_job_with_a_generous_misfire_grace_time(jobs):
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.start(paused=True)
    try:
        jobs.install(scheduler, alert_sweep_every=timedelta(minutes=15))
        jobs.install(scheduler, alert_sweep_every=timedelta(minutes=15))  # a restart: replaced, not doubled
        installed = {job.id: job for job in scheduler.get_jobs()}
        startup = {"startup_catch_up", "startup_alert_check", "startup_missing_data"}  # run once, at once
        repeated = {"catch_up", "alert_sweep", "missing_data", "review_tick", "alert_followup", "verification_lists"}
        assert set(installed) == {job.id for job in jobs.scheduled()} | repeated | startup
        assert all(isinstance(installed[job_id].trigger, DateTrigger) for job_id in startup)
        assert len(scheduler.get_jobs()) == len(installed)
        for job in installed.values():
            assert (job.misfire_grace_time, job.coalesce, job.max_instances) == (6 * 3600, True, 1)
        berlin = installed["weekly_digest:berlin_ops"].trigger
        assert berlin.get_next_fire_time(None, utc("2026-10-20 00:00")) == utc("2026-10-26 08:00")
        assert isinstance(installed["catch_up"].trigger, IntervalTrigger)
        assert installed["catch_up"].trigger.interval == CATCH_UP_EVERY
        assert installed["alert_sweep"].trigger.interval == timedelta(minutes=15)
        assert installed["missing_data"].trigger.interval == MISSING_DATA_EVERY

        # the case timer follows the next case deadline, and goes when there is none
        deadline = datetime.now(UTC) + timedelta(days=1)
        jobs.alerts.on_next_deadline(deadline)
        timer = scheduler.get_job(CASE_TIMER_ID)
        assert isinstance(timer.trigger, DateTrigger)
        assert timer.trigger.run_date == deadline
        later = deadline + timedelta(hours=1)
        jobs.alerts.on_next_deadline(later)
        assert scheduler.get_job(CASE_TIMER_ID).trigger.run_date == later
        jobs.alerts.on_next_deadline(None)
        assert scheduler.get_job(CASE_TIMER_ID) is None
        jobs.alerts.on_next_deadline(None)  # nothing to remove: no error
    finally:
        scheduler.shutdown(wait=False)


@pytest.mark.parametrize(
    "expression",
    [
        pytest.param("0 9 * * mon", id="weekly"),
        pytest.param("*/15 8-18 * * mon,wed", id="steps-ranges-lists"),
        pytest.param("0 10 1 1,4,7,10 *", id="quarterly"),
        pytest.param("0 9 1 jan,jul *", id="month-names"),
        pytest.param("0 9 last * *", id="last-day"),
        pytest.param("0 25 * * mon", id="hour-25"),
        pytest.param("60 9 * * *", id="minute-60"),
        pytest.param("0 9 0 * *", id="day-0"),
        pytest.param("0 9 * 13 *", id="month-13"),
        pytest.param("0 9 * *", id="four-fields"),
        pytest.param("0 9 * * foo", id="unknown-weekday"),
        pytest.param("x 9 * * *", id="not-a-number"),
        pytest.param("0 9 * * fri-mon", id="backwards-range"),
    ],
)
def test_the_config_accepts_exactly_the_cron_expressions_the_scheduler_accepts(expression):
    # the core checks cron syntax without APScheduler; the two must agree on what runs
    try:
        CronTrigger.from_crontab(expression, timezone="UTC")
        scheduler_accepts = True
    except ValueError:
        scheduler_accepts = False
    try:
        check_cron(expression)
        config_accepts = True
    except CronSyntaxError:
        config_accepts = False
    assert config_accepts == scheduler_accepts
