"""Real-time alerts through bot.alert_poster: the real sender and Slack client against the fake Slack, on a
fresh SQLite database, with a fake clock the tests move; and once end to end, from a modal submitted over
HTTP to the alert in the team channel.

From bot/config/example.yaml: on_time_delivery alerts below 90 % and recovers from 91 % (margin 1) over the
current ISO week; response_time alerts above 8 h (beijing_service: 6 h), and each after-sales case must
get its first response within 4 h.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from bot.resources import EXAMPLE_CONFIG
from bot.settings import Settings
from bot.wiring import Process, build
from kpi_core import store
from kpi_core.alert_sweep import Change
from kpi_core.config import Config, parse_config
from kpi_core.db import transaction
from kpi_core.models import CustomerCase
from kpi_core.periods import Period
from tests.bot_harness import LEAD_SHANGHAI_AND_BERLIN
from tests.factories import Clock, add, at, case
from tests.fake_slack import Call, FakeSlack
from tests.slack_calls import key_of, posts
from tests.test_slack_submissions import open_form, weekly_answers

REPO_ROOT = Path(__file__).resolve().parent.parent
WEDNESDAY = at("2026-09-30 08:00")  # 16:00 in Shanghai, 10:00 in Berlin: 2026-W40 everywhere
W40 = Period.parse("2026-W40")


@dataclass
class World:
    fake: FakeSlack
    engine: sa.Engine
    clock: Clock
    process: Process

    def week(self, team: str, **values: float) -> None:
        """Stores (or replaces) the team's 2026-W40 measures, as a lead's submission would."""
        with transaction(self.engine) as session:
            store.submit_measures(
                session, team=team, form="weekly", period=W40, values=values, user="U0LEAD", now=self.clock()
            )

    def check(self, *teams: str) -> None:
        self.process.alerts.check(teams=list(teams) if teams else None)


def make_world(
    config: Config, database: Path, fake: FakeSlack, instance: str = "instance-1"
) -> tuple[World, sa.Engine]:
    clock = Clock(WEDNESDAY)
    settings = Settings(
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_API_URL=fake.base_url,
        KPI_INSTANCE=instance,
        KPI_DATABASE_URL=f"sqlite:///{database}",
    )
    process = build(settings, clock=clock, config=config)
    return World(fake, process.services.engine, clock, process), process.services.engine


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(first_ts=int(WEDNESDAY.timestamp())) as fake:
        yield fake


@pytest.fixture
def database(sqlite_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "kpi.db"
    shutil.copyfile(sqlite_template, path)
    return path


@pytest.fixture
def world(example_config: Config, database: Path, fake: FakeSlack) -> Iterator[World]:
    world, engine = make_world(example_config, database, fake)
    yield world
    engine.dispose()


@pytest.fixture
def quiet_world(database: Path, fake: FakeSlack) -> Iterator[World]:
    """Shanghai holds its alerts from 22:00 to 07:00 local time."""
    raw = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    [shanghai] = [team for team in raw["teams"] if team["key"] == "shanghai_ops"]
    shanghai["quiet_hours"] = {"start": "22:00", "end": "07:00"}
    world, engine = make_world(parse_config(raw), database, fake)
    yield world
    engine.dispose()


def alert_ts(world: World, call: Call) -> str:
    """The ts Slack gave the alert, as the ledger recorded it."""
    sent = world.process.sender.sent_ts("alert", *key_of(call).split(":")[1:])
    assert sent is not None and sent[0] == call.params["channel"]
    return sent[1]


# KPI thresholds


def test_a_breach_posts_one_alert_to_the_team_channel(world):
    world.week("shanghai_ops", orders=100, on_time_orders=85)
    world.check("shanghai_ops")

    [alert] = posts(world.fake)
    assert alert.params["channel"] == "C0SHANGHAI"
    assert alert.params["text"] == (
        # a team that reads both languages gets the whole sentence in each, names not doubled inside
        "🔴 Shanghai Operations: On-time delivery rate is 85.0 %, past the alert threshold 90.0 %. / "
        "上海运营中心：准时交付率 为 85.0 %，超过告警阈值 90.0 %。"
    )
    assert alert.params["blocks"][0]["text"]["text"] == alert.params["text"]
    assert key_of(alert).startswith("alert:shanghai_ops:")

    world.check("shanghai_ops")
    world.check()
    assert len(posts(world.fake)) == 1
    # the KPI's recent weeks go up once, in the alert's thread
    done = world.fake.calls("files.completeUploadExternal")
    names = [call.params["filename"] for call in world.fake.calls("files.getUploadURLExternal")]
    assert [call.params["thread_ts"] for call in done] == [alert_ts(world, alert)]
    assert names[0].startswith("kpi-alert-shanghai_ops-on_time_delivery-")


def test_a_recovery_within_the_margin_is_silent_and_past_it_replies_in_the_thread_and_resolves_the_alert(world):
    world.week("berlin_ops", orders=100, on_time_orders=85)
    world.check("berlin_ops")
    [alert] = posts(world.fake)
    ts = alert_ts(world, alert)

    world.week("berlin_ops", orders=1000, on_time_orders=905)  # 90.5 %: above 90, below 90 + 1
    world.check("berlin_ops")
    assert len(posts(world.fake)) == 1 and world.fake.calls("chat.update") == []

    world.week("berlin_ops", orders=100, on_time_orders=95)
    world.check("berlin_ops")
    [_, recovery] = posts(world.fake)
    assert (recovery.params["channel"], recovery.params["thread_ts"]) == ("C0BERLIN", ts)
    assert recovery.params["text"] == "✅ Recovered: On-time delivery rate is back at 95.0 % (threshold 90.0 %)."
    [update] = world.fake.calls("chat.update")
    assert (update.params["channel"], update.params["ts"]) == ("C0BERLIN", ts)
    assert update.params["text"] == (
        "✅ ~Berlin Operations: On-time delivery rate is 85.0 %, past the alert threshold 90.0 %.~ (resolved)"
    )

    world.check("berlin_ops")
    world.clock.advance(timedelta(hours=1))
    world.check()
    assert len(posts(world.fake)) == 2 and len(world.fake.calls("chat.update")) == 1

    world.week("berlin_ops", orders=100, on_time_orders=80)  # a new episode is a new alert
    world.check("berlin_ops")
    [_, _, again] = posts(world.fake)
    assert "80.0 %" in again.params["text"] and "thread_ts" not in again.params
    assert key_of(again) != key_of(alert)


def test_thresholds_can_differ_per_team(world):
    # after-sales cases answered after 7 h: past Beijing's own threshold (6 h), within the default (8 h)
    raised = at("2026-09-28 10:00")
    add(
        world.engine,
        case("beijing_service", raised, response_hours=7),
        case("shanghai_ops", raised, response_hours=7),
        case("berlin_ops", raised, response_hours=9),
    )
    world.check()

    assert {call.params["channel"] for call in posts(world.fake)} == {"C0BEIJING", "C0BERLIN"}
    [beijing] = posts(world.fake, "C0BEIJING")
    assert beijing.params["text"] == "🔴 北京客户服务部：售后服务响应时间 为 7.0 h，超过告警阈值 6.0 h。"
    [berlin] = posts(world.fake, "C0BERLIN")
    assert "is 9.0 h, past the alert threshold 8.0 h" in berlin.params["text"]


# case timers


def test_a_case_without_a_first_response_alerts_at_its_deadline_and_recovers_when_answered(world):
    deadlines: list[datetime | None] = []
    world.process.alerts.on_next_deadline = deadlines.append
    world.check()
    assert deadlines == [None]  # no open case: no timer

    raised = at("2026-09-30 15:00", "Asia/Shanghai")
    add(world.engine, case("beijing_service", raised))
    world.check("beijing_service")
    assert deadlines[-1] == raised + timedelta(hours=4)
    assert posts(world.fake) == []

    world.clock.now = raised + timedelta(hours=4) - timedelta(seconds=1)
    world.check()
    assert posts(world.fake) == []

    world.clock.now = deadlines[-1]  # the case timer fires
    world.check()
    [alert] = posts(world.fake)
    assert alert.params["channel"] == "C0BEIJING"
    assert (
        alert.params["text"]
        == "🔴 北京客户服务部：案例 #1（售后问题）于 2026-09-30 15:00 提出，超过目标 4 小时仍没有首次响应。"
    )
    assert deadlines[-1] is None  # nothing else pending
    # one case's alert carries no chart: every case of the team would carry the same one
    assert world.fake.calls("files.completeUploadExternal") == []
    world.clock.advance(timedelta(minutes=10))
    world.check()
    assert len(posts(world.fake)) == 1

    world.clock.now = raised + timedelta(hours=4, minutes=30)
    with transaction(world.engine) as session:
        store.update_case(
            session,
            case=session.get(CustomerCase, 1),
            first_response_at=world.clock(),
            resolved_at=None,
            user="U0LEADBJ",
            now=world.clock(),
        )
    world.check()
    [_, recovery] = posts(world.fake)
    assert (recovery.params["channel"], recovery.params["thread_ts"]) == ("C0BEIJING", alert_ts(world, alert))
    assert recovery.params["text"] == "✅ 已恢复：案例 #1 在 4.5 小时后得到首次响应。"
    [update] = world.fake.calls("chat.update")
    assert update.params["ts"] == alert_ts(world, alert) and update.params["text"].endswith("~ (已解决)")


def test_the_next_deadline_is_the_earliest_open_case(world):
    deadlines: list[datetime | None] = []
    world.process.alerts.on_next_deadline = deadlines.append
    add(
        world.engine,
        case("berlin_ops", at("2026-09-30 07:30")),
        case("shanghai_ops", at("2026-09-30 06:00")),
        case("newyork_delivery", at("2026-09-30 05:00"), response_hours=1),  # answered: no timer
    )
    world.check()
    assert deadlines == [at("2026-09-30 10:00")]
    world.clock.set("2026-09-30 10:00")
    world.check()
    assert deadlines[-1] == at("2026-09-30 11:30")
    assert [call.params["channel"] for call in posts(world.fake)] == ["C0SHANGHAI"]


# quiet hours


def test_an_alert_during_quiet_hours_is_posted_once_they_end(quiet_world):
    world = quiet_world
    world.clock.set("2026-09-30 23:00", "Asia/Shanghai")
    world.week("shanghai_ops", orders=100, on_time_orders=80)
    world.week("berlin_ops", orders=100, on_time_orders=80)  # Berlin has no quiet hours
    world.check()
    assert [call.params["channel"] for call in posts(world.fake)] == ["C0BERLIN"]

    world.clock.set("2026-10-01 06:59", "Asia/Shanghai")
    world.check()
    assert len(posts(world.fake, "C0SHANGHAI")) == 0

    world.clock.set("2026-10-01 07:00", "Asia/Shanghai")
    world.check()
    world.check()
    [held] = posts(world.fake, "C0SHANGHAI")
    assert "80.0 %" in held.params["text"]


def test_an_alert_that_opens_and_recovers_within_quiet_hours_posts_nothing(quiet_world):
    world = quiet_world
    world.clock.set("2026-09-30 23:00", "Asia/Shanghai")
    world.week("shanghai_ops", orders=100, on_time_orders=80)
    world.check()
    world.clock.set("2026-10-01 02:00", "Asia/Shanghai")
    world.week("shanghai_ops", orders=100, on_time_orders=96)
    world.check()
    world.clock.set("2026-10-01 07:00", "Asia/Shanghai")
    world.check()
    assert posts(world.fake) == [] and world.fake.calls("chat.update") == []


# replicas


def test_two_replicas_sweeping_and_evaluating_the_same_writes_post_each_alert_once(world, example_config, database):
    second, engine = make_world(example_config, database, world.fake, instance="instance-2")
    world.week("berlin_ops", orders=100, on_time_orders=80)
    add(world.engine, case("beijing_service", WEDNESDAY - timedelta(hours=5)))
    written = [Change("berlin_ops", measures=frozenset({"orders"})), Change("beijing_service", everything=True)]
    start = threading.Barrier(4)

    def run(work) -> None:
        start.wait()
        work()

    threads = [
        threading.Thread(target=run, args=(work,))
        for work in (
            world.process.alerts.sweep,
            second.process.alerts.sweep,
            lambda: world.process.alerts.evaluate(written),
            lambda: second.process.alerts.evaluate(written),
        )
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    world.check()
    second.check()
    assert sorted(call.params["channel"] for call in posts(world.fake)) == ["C0BEIJING", "C0BERLIN"]
    engine.dispose()


# end to end through Slack


def test_a_weekly_submission_below_the_threshold_alerts_the_team_channel(start_bot, caplog):
    caplog.set_level("INFO", logger="bot.alert_poster")
    bot = start_bot(alerting=True)
    view = open_form(bot, "weekly", LEAD_SHANGHAI_AND_BERLIN)
    answers = weekly_answers(on_time_orders="100")  # 83.3 %: below the 90 % threshold
    status, body = bot.submit(view, answers, user_id=LEAD_SHANGHAI_AND_BERLIN)
    assert (status, body) == (200, "")

    # one listener thanks, then checks: the DM comes first
    thanks, alert = bot.fake.wait_for("chat.postMessage", count=2)
    assert thanks.params["channel"] == LEAD_SHANGHAI_AND_BERLIN
    assert alert.params["channel"] == "C0SHANGHAI"
    assert "83.3 %" in alert.params["text"] and "90.0 %" in alert.params["text"]
    assert key_of(alert).startswith("alert:shanghai_ops:")
    # a complaint rate of 1.7 % and the other figures are fine: one alert only
    bot.fake.assert_no_call("chat.postMessage", within=0.3, already=2)
    # evaluated on the alert queue's thread, not on the listener's that acked the submission
    [evaluated] = [record for record in caplog.records if record.getMessage().startswith("alert breach")]
    assert evaluated.threadName == "alert-queue"
    assert "team=shanghai_ops kpi=on_time_delivery" in evaluated.getMessage()


def test_a_recovery_posted_by_a_sender_that_died_is_found_in_the_thread_not_posted_again(world):
    from slack_sdk import WebClient

    from kpi_core import ledger

    world.week("berlin_ops", orders=100, on_time_orders=85)
    world.check("berlin_ops")
    [alert] = posts(world.fake)
    ts = alert_ts(world, alert)
    alert_id = key_of(alert).rsplit(":", 1)[1]
    # A sender claims the recovery, posts it in the thread, and dies before recording it.
    recovery_key = ledger.delivery_key("recovery", "berlin_ops", alert_id)
    claimed = ledger.claim(
        world.engine,
        kind="recovery",
        team="berlin_ops",
        subject=alert_id,
        owner="dead",
        now=world.clock(),
        stale_after=timedelta(minutes=5),
    )
    assert claimed is not None
    WebClient(token="xoxb-test", base_url=world.fake.base_url).chat_postMessage(
        channel="C0BERLIN",
        text="✅ Recovered",
        thread_ts=ts,
        metadata={"event_type": "kpi_bot_delivery", "event_payload": {"key": recovery_key}},
    )
    world.week("berlin_ops", orders=100, on_time_orders=95)
    world.clock.advance(timedelta(minutes=6))  # the dead sender's claim is stale
    world.check("berlin_ops")

    replies = [call for call in posts(world.fake) if call.params.get("thread_ts") == ts]
    assert len(replies) == 1  # only the dead sender's, found through conversations.replies
    assert ledger.find(world.engine, key=recovery_key).state == "sent"
    assert len(world.fake.calls("chat.update")) == 1  # the alert is still marked resolved
