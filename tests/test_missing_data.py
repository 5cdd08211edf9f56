"""Missing-data alerts end to end: two app instances (each its own engine, sender and Slack client, as two
replicas) check on one database, on SQLite and PostgreSQL, against the fake Slack, while a fake clock moves.

The weekly form is due Monday 12:00 local (``due: {at: MON 12:00, channel_after_hours: 4}``): the leads are
told by DM at 12:00, the channel 4 working hours later, and the channel alert recovers in its thread when
the data arrives. Berlin works 09:00-17:00 on Berlin's calendar, Shanghai on China's."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date

import pytest
import yaml

from bot.digests import reminders
from bot.missing_data import MissingDataPoster
from bot.settings import Settings
from bot.wiring import Process, build
from kpi_core.absence import record_absence
from kpi_core.config import Config, parse_config
from kpi_core.errors import ConfigError
from tests.conftest import EXAMPLE_CONFIG
from tests.factories import Clock, add, at, measures
from tests.fake_slack import FakeSlack
from tests.slack_calls import key_of, posts

BERLIN_TZ = "Europe/Berlin"
SHANGHAI_TZ = "Asia/Shanghai"


def due_config(**form_changes: object) -> dict:
    raw = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    for team in raw["teams"]:
        if team["key"] == "berlin_ops":
            team["calendar"] = {"country": "DE", "subdivision": "BE", "hours": "09:00-17:00"}
        if team["key"] == "shanghai_ops":
            team["calendar"] = {"country": "CN"}
    weekly = next(form for form in raw["forms"] if form["key"] == "weekly")
    weekly["due"] = {"at": "MON 12:00", "channel_after_hours": 4}
    weekly.update(form_changes)
    return raw


@pytest.fixture
def replicas(database_url: str) -> Iterator[tuple[list[Process], Clock, FakeSlack]]:
    config: Config = parse_config(due_config())
    clock = Clock(at("2026-09-28 08:00", BERLIN_TZ))
    with FakeSlack() as fake:
        processes = [
            build(
                Settings(
                    SLACK_BOT_TOKEN="xoxb-test",
                    SLACK_API_URL=fake.base_url,
                    KPI_INSTANCE=f"replica-{number}",
                    KPI_DATABASE_URL=database_url,
                ),
                clock=clock,
                config=config,
            )
            for number in (1, 2)
        ]
        yield processes, clock, fake
        for process in processes:
            process.close()


def check_together(processes: list[Process]) -> None:
    """Both replicas run the check at the same moment."""
    start = threading.Barrier(len(processes))
    errors: list[BaseException] = []

    def run(process: Process) -> None:
        start.wait()
        try:
            MissingDataPoster(process.services, process.sender).check()
        except BaseException as error:  # noqa: BLE001 - handed to the test thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(process,)) for process in processes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def keys(fake: FakeSlack, channel: str) -> list[str]:
    return [key_of(call) for call in posts(fake, channel)]


def test_missing_data_tells_the_leads_then_the_channel_and_recovers_once_with_two_replicas(replicas):
    processes, clock, fake = replicas
    engine = processes[0].services.engine

    add(engine, *measures("berlin_ops", date(2026, 9, 18), orders=100))  # W38's data is in
    clock.set("2026-09-28 11:59", BERLIN_TZ)  # W39's data is due at 12:00
    check_together(processes)
    assert keys(fake, "U0LEADBE") == [] and keys(fake, "C0BERLIN") == []
    # 17:59 in Beijing: its W39 data is due already; only the latest week due is chased, not W38 too
    assert keys(fake, "U0LEADBJ") == ["missing_data_dm:beijing_service:weekly:2026-W39:U0LEADBJ"]

    clock.set("2026-09-28 12:00", BERLIN_TZ)
    check_together(processes)
    check_together(processes)
    assert keys(fake, "U0LEADBE") == ["missing_data_dm:berlin_ops:weekly:2026-W39:U0LEADBE"]
    assert "missing_data_dm:berlin_ops:weekly:2026-W39:U0LEADSH" in keys(fake, "U0LEADSH")
    assert keys(fake, "C0BERLIN") == []
    dm = posts(fake, "U0LEADBE")[0].params["text"]
    assert "Berlin" in dm and "2026-W39" in dm and "Mon 2026-09-28 12:00" in dm and "/kpi submit weekly" in dm

    clock.set("2026-09-28 15:59", BERLIN_TZ)
    check_together(processes)
    assert keys(fake, "C0BERLIN") == []

    clock.set("2026-09-28 16:00", BERLIN_TZ)  # 4 working hours after 12:00
    check_together(processes)
    check_together(processes)
    assert keys(fake, "C0BERLIN") == ["missing_data:berlin_ops:weekly:2026-W39"]
    alert = posts(fake, "C0BERLIN")[0]
    assert "On-time delivery rate" in alert.params["text"]  # what cannot be computed
    assert len(posts(fake, "U0LEADBE")) == 1  # the leads were told once

    add(engine, *measures("berlin_ops", date(2026, 9, 25), orders=100, on_time_orders=99))
    clock.set("2026-09-28 16:05", BERLIN_TZ)
    check_together(processes)
    check_together(processes)
    assert keys(fake, "C0BERLIN") == [
        "missing_data:berlin_ops:weekly:2026-W39",
        "missing_data_recovered:berlin_ops:weekly:2026-W39",
    ]
    recovery = posts(fake, "C0BERLIN")[1]
    alert_ts = processes[1].sender.sent_ts("missing_data", "berlin_ops", "weekly:2026-W39")
    assert alert_ts is not None and recovery.params["thread_ts"] == alert_ts[1]


def test_a_due_day_on_a_holiday_moves_to_the_next_working_day(replicas):
    processes, clock, fake = replicas
    # W40's data is due Monday 5 October, National Day: Shanghai's moves to Thursday 8 October 12:00
    clock.set("2026-10-07 23:00", SHANGHAI_TZ)
    check_together(processes)
    assert "missing_data_dm:shanghai_ops:weekly:2026-W40:U0LEADSH" not in keys(fake, "U0LEADSH")
    assert "missing_data_dm:beijing_service:weekly:2026-W40:U0LEADBJ" in keys(fake, "U0LEADBJ")  # no calendar
    clock.set("2026-10-08 12:00", SHANGHAI_TZ)
    check_together(processes)
    assert "missing_data_dm:shanghai_ops:weekly:2026-W40:U0LEADSH" in keys(fake, "U0LEADSH")


def test_a_lead_away_is_stood_in_for(replicas):
    processes, clock, fake = replicas
    engine = processes[0].services.engine
    record_absence(
        engine,
        user="U0LEADBJ",
        first_day=date(2026, 9, 28),
        last_day=date(2026, 10, 2),
        recorded_by="U0LEADBJ",
        now=clock(),
    )
    clock.set("2026-09-28 12:00", SHANGHAI_TZ)
    check_together(processes)
    assert keys(fake, "U0LEADBJ") == []  # W39's data is due, Beijing's lead is away
    assert keys(fake, "U0MANAGER") == ["missing_data_dm:beijing_service:weekly:2026-W39:U0MANAGER"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"due": "MON 25:00"}, "bad due time 'MON 25:00'", id="hour-25"),
        pytest.param({"due": "FUN 12:00"}, "bad due time 'FUN 12:00'", id="not-a-weekday"),
        pytest.param({"due": "3 12:00"}, "a weekly form is due on a weekday", id="day-for-a-week"),
        pytest.param({"due": {"at": "MON 12:00", "channel_after_hours": 0}}, "channel_after_hours", id="no-delay"),
    ],
)
def test_a_bad_due_time_is_refused_with_a_clear_message(change, message):
    with pytest.raises(ConfigError) as raised:
        parse_config(due_config(**change), file="my.yaml")
    assert message in str(raised.value) and "forms.weekly.due" in str(raised.value)


def test_the_submission_reminder_goes_to_the_stand_in_of_a_lead_away(replicas):
    processes, clock, fake = replicas
    services = processes[0].services
    record_absence(
        services.engine,
        user="U0LEADBJ",
        first_day=date(2026, 10, 1),
        last_day=date(2026, 10, 7),
        recorded_by="U0ADMIN",
        now=clock(),
    )
    beijing = services.config.team("beijing_service")
    clock.set("2026-09-25 16:00", SHANGHAI_TZ)  # before the absence: the lead
    assert [message.channel for message in reminders(services, team=beijing)] == ["U0LEADBJ"]
    clock.set("2026-10-02 16:00", SHANGHAI_TZ)  # during it: management, as Beijing has no backup
    assert [message.channel for message in reminders(services, team=beijing)] == ["U0MANAGER"]
