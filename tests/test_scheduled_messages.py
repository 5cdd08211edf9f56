"""Scheduled messages end to end: the real jobs, sender and Slack client (with production's retry handlers)
against the fake Slack, on a fresh SQLite database, with a fake clock the tests move.

Weekly digests with their trend charts, the management summary, the quarterly scorecard, reminders, Slack
failures (rate limits, server errors, permanent errors, a broken job) and a sender that died mid-delivery.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from slack_sdk import WebClient

from bot.digests import weekly_digests
from bot.jobs import due_in_cycle
from bot.mrkdwn import unescape
from bot.render import blocks_text
from bot.sender import METADATA_EVENT
from bot.settings import Settings
from bot.wiring import Process, build
from kpi_core import ledger, store
from kpi_core.config import Config
from kpi_core.db import transaction
from kpi_core.periods import Period
from tests.factories import Clock, add, at, case, measures
from tests.fake_slack import DROP, Call, FakeSlack
from tests.slack_calls import key_of, posts

REPO_ROOT = Path(__file__).resolve().parent.parent
#: A Monday, 14:00 UTC: every team's 09:00 digest of 2026-W40 is due (New York: 10:00), for 2026-W39.
MONDAY = at("2026-09-28 14:00")
CLAIM_TIMEOUT = timedelta(seconds=60)
CHANNELS = {
    "shanghai_ops": "C0SHANGHAI",
    "beijing_service": "C0BEIJING",
    "berlin_ops": "C0BERLIN",
    "newyork_delivery": "C0NEWYORK",
}
LEADS = {"U0LEADSH", "U0LEADBJ", "U0LEADBE", "U0LEADNY"}
ADMIN = "U0ADMIN"


@dataclass
class World:
    config: Config
    database_url: str
    fake: FakeSlack
    clock: Clock
    process: Process = field(init=False)
    engine: sa.Engine = field(init=False)
    engines: list[sa.Engine] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.start("instance-1")

    def start(self, instance: str) -> Process:
        """A process starting: its own engine, services, Slack client, sender and jobs on the shared database."""
        settings = Settings(
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_API_URL=self.fake.base_url,
            KPI_CLAIM_TIMEOUT_SECONDS=CLAIM_TIMEOUT.total_seconds(),
            KPI_INSTANCE=instance,
            KPI_DATABASE_URL=self.database_url,
        )
        self.process = build(settings, clock=self.clock, config=self.config)
        self.engine = self.process.services.engine
        self.engines.append(self.engine)
        return self.process

    def ledger(self, kind: str, team: str | None, subject: str) -> Any:
        return ledger.find(self.engine, key=ledger.delivery_key(kind, team, subject))


@pytest.fixture
def world(example_config: Config, sqlite_template: Path, tmp_path: Path) -> Iterator[World]:
    path = tmp_path / "kpi.db"
    shutil.copyfile(sqlite_template, path)
    # message ts near the pinned clock, so the sender's look-back over recent channel history finds them
    with FakeSlack(first_ts=int(MONDAY.timestamp())) as fake:
        world = World(example_config, f"sqlite:///{path}", fake, Clock(MONDAY))
        yield world
        for engine in world.engines:
            engine.dispose()


def text_of(call: Call) -> str:
    """A message's block text as Slack shows it (mrkdwn escapes undone)."""
    return unescape(blocks_text(call.params["blocks"]))


def uploads(fake: FakeSlack, channel: str) -> list[tuple[Call, bytes, str]]:
    """files_upload_v2 to ``channel``: (completeUploadExternal call, uploaded bytes, requested filename)."""
    bodies = {call.path.rsplit("/", 1)[-1]: call.body for call in fake.calls("upload")}
    names = [call.params["filename"] for call in fake.calls("files.getUploadURLExternal")]
    done = fake.calls("files.completeUploadExternal")
    assert len(names) == len(done), "every upload started must be completed"
    return [
        (call, bodies[call.params["files"][0]["id"]], name)
        for call, name in zip(done, names, strict=True)
        if call.params["channel_id"] == channel
    ]


def run_due(world: World, *prefixes: str) -> list[str]:
    """Runs what catch_up would run now, limited to the scheduled jobs whose ids start with ``prefixes``
    (the digests' twelve-week reports and charts are the slow part of a full catch_up)."""
    ran = []
    for job in world.process.jobs.scheduled():
        if job.id.startswith(prefixes) and due_in_cycle(job, world.clock()):
            job.run()
            ran.append(job.id)
    return ran


def history(fake: FakeSlack, channel: str) -> list[dict[str, Any]]:
    answer = WebClient(token="xoxb-test", base_url=fake.base_url).conversations_history(
        channel=channel, include_all_metadata=True
    )
    messages: list[dict[str, Any]] = answer["messages"]
    return messages


def weekly_data(engine: sa.Engine) -> None:
    """2026-W39 (Sep 21-27) and W38 for three teams; New York has no data at all."""
    add(
        engine,
        *measures("shanghai_ops", date(2026, 9, 23), orders=200, on_time_orders=190),
        *measures("shanghai_ops", date(2026, 9, 16), orders=100, on_time_orders=80),
        *measures("beijing_service", date(2026, 9, 23), orders=100, on_time_orders=85),
        *measures("beijing_service", date(2026, 9, 16), orders=100, on_time_orders=92),
        *measures("berlin_ops", date(2026, 9, 23), orders=100, on_time_orders=93),
    )


# weekly digests


def test_each_team_gets_one_digest_in_its_language_with_this_week_last_week_and_target(world):
    weekly_data(world.engine)
    for team in CHANNELS:
        world.process.jobs.weekly_digest(team)

    digests = {team: posts(world.fake, channel) for team, channel in CHANNELS.items()}
    assert {team: len(calls) for team, calls in digests.items()} == dict.fromkeys(CHANNELS, 1)
    text = {team: text_of(calls[0]) for team, calls in digests.items()}
    blocks = digests["berlin_ops"][0].params["blocks"]
    # a header, the dates, one section per group with a field per KPI, the folded line, an Open action
    # button for the KPI below target (bot/followup_summary.py), the legend
    assert [block["type"] for block in blocks] == ["header", "context", "section", "section", "actions", "context"]
    assert [button["value"] for button in blocks[4]["elements"]] == ["berlin_ops:on_time_delivery"]
    assert blocks[0]["text"]["text"] == "Weekly KPI digest · Berlin Operations · 2026-W39"
    assert blocks[2]["text"]["text"] == "*Service and delivery*"
    assert blocks[2]["fields"] == [
        {
            "type": "mrkdwn",
            "text": "⚠️ *On-time delivery rate*\n*93.0 %* · target ≥ 95.0 %\nlast week no data · 100 orders",
        }
    ]
    assert blocks[-1]["elements"][0]["text"].startswith("✅ on target · ⚠️ below target · 🔴 past the alert")
    # the weekly KPIs without data fold into one line, with the leads to report and the forms missing
    folded = blocks[3]["text"]["text"]
    assert folded.startswith("▫️ *Not reported this week*: Customer satisfaction, Complaint rate, ")
    assert "Production cost rate" not in folded  # a monthly KPI: the monthly digest's business
    assert folded.endswith("Please report <@U0LEADBE> <@U0LEADSH>: `/kpi submit survey`")
    assert "no data" not in text["berlin_ops"].replace("last week no data", "")

    shanghai = text["shanghai_ops"].splitlines()
    assert shanghai[0] == "Weekly KPI digest / 每周KPI摘要 · Shanghai Operations / 上海运营中心 · 2026-W39"
    assert "*95.0 %* · target / 目标 ≥ 95.0 %" in shanghai
    beijing = text["beijing_service"]
    assert beijing.splitlines()[0] == "每周KPI摘要 · 北京客户服务部 · 2026-W39"
    # 85 % is past the alert threshold of 90 %: the threshold is shown; the basis is named in Chinese
    assert "🔴 *准时交付率*\n*85.0 %* · 目标 ≥ 95.0 % · 警戒值 < 90.0 %\n上周 92.0 % · 100 个订单" in beijing
    assert "Weekly" not in beijing and "last week" not in beijing and "orders" not in beijing
    assert "shanghai_ops" not in text["shanghai_ops"] and "groups." not in text["shanghai_ops"]
    assert not any("\u4e00" <= char <= "\u9fff" for char in text["berlin_ops"])  # no Chinese for Berlin
    # New York reported nothing: one folded line, no wall of "no data"
    assert text["newyork_delivery"].count("▫️") == 2  # the folded line and the legend

    # the message carries its delivery key, and the notification text is the heading
    for team, calls in digests.items():
        assert key_of(calls[0]) == f"weekly_digest:{team}:2026-W39"
        assert calls[0].params["text"] == text[team].splitlines()[0]


def test_precise_values_overdue_cases_and_monthly_kpis_in_the_monthly_digest(world):
    add(
        world.engine,
        # 89.95 % on-time: just below the 90 % alert threshold, which must not read "90.0 %"
        *measures("berlin_ops", date(2026, 9, 23), orders=2000, on_time_orders=1799),
        # a case raised in W39 and never answered: past its 8 h threshold by Monday, a breach
        case("berlin_ops", at("2026-09-22 10:00")),
        # monthly costs for August: the monthly digest's, never the weekly one's
        *measures("berlin_ops", date(2026, 8, 31), production_cost=75, production_value=100),
    )
    world.process.jobs.weekly_digest("berlin_ops")
    [weekly] = posts(world.fake, "C0BERLIN")
    text = text_of(weekly)
    assert "🔴 *On-time delivery rate*\n*89.95 %* · target ≥ 95.0 % · alert at < 90.00 %" in text
    assert "2,000 orders" in text
    assert "🔴 *After-sales response time*\n*no data* · target ≤ 4.0 h · alert at > 8.0 h\n" in text
    assert "1 still open" in text
    assert "Production cost rate" not in text

    assert run_due(world, "monthly_digest:berlin_ops") == ["monthly_digest:berlin_ops"]
    assert run_due(world, "monthly_digest:berlin_ops") == ["monthly_digest:berlin_ops"]  # caught up: once
    [_, monthly] = posts(world.fake, "C0BERLIN")
    assert key_of(monthly) == "monthly_digest:berlin_ops:2026-08"
    monthly_text = text_of(monthly)
    assert monthly_text.startswith("Monthly KPI digest · Berlin Operations · 2026-08\n")
    assert "⚠️ *Production cost rate*\n*75.0 %* · target ≤ 70.0 %" in monthly_text
    assert "On-time delivery rate" not in monthly_text  # a weekly KPI
    assert "Return on investment" not in monthly_text  # quarterly: after a quarter's last month only


def test_the_trend_chart_goes_up_in_the_digest_thread_and_not_for_a_team_without_data(world):
    weekly_data(world.engine)
    for team in CHANNELS:
        world.process.jobs.weekly_digest(team)

    for team in ("shanghai_ops", "beijing_service", "berlin_ops"):
        row = world.ledger("weekly_digest", team, "2026-W39")
        assert (row.state, row.channel) == ("sent", CHANNELS[team])
        [(complete, png, filename)] = uploads(world.fake, CHANNELS[team])
        assert complete.params["thread_ts"] == row.ts
        assert filename == f"kpi-trend-{team}-2026-W39.png"
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert world.ledger("weekly_digest_chart", team, "2026-W39").state == "sent"
        # Slack holds the digest at that ts, with the delivery key in its metadata
        [message] = [message for message in history(world.fake, CHANNELS[team]) if message["ts"] == row.ts]
        assert message["metadata"]["event_payload"] == {"key": f"weekly_digest:{team}:2026-W39"}

    assert uploads(world.fake, "C0NEWYORK") == []
    assert world.ledger("weekly_digest", "newyork_delivery", "2026-W39").state == "sent"
    # the chart is rendered only once its upload is claimed; with nothing to plot, nothing is uploaded
    assert world.ledger("weekly_digest_chart", "newyork_delivery", "2026-W39").state == "sent"


def test_the_digest_runs_at_nine_in_the_teams_own_time_zone(world):
    world.clock.set("2026-09-28 08:59", "Europe/Berlin")
    assert run_due(world, "weekly_digest:") == ["weekly_digest:shanghai_ops", "weekly_digest:beijing_service"]
    assert posts(world.fake, "C0BERLIN") == []

    world.clock.set("2026-09-28 09:00", "Europe/Berlin")
    assert "weekly_digest:berlin_ops" in run_due(world, "weekly_digest:")
    [digest] = posts(world.fake, "C0BERLIN")
    assert key_of(digest) == "weekly_digest:berlin_ops:2026-W39"


def test_running_again_or_restarting_posts_nothing_more_until_next_week(world):
    weekly_data(world.engine)
    ran = world.process.jobs.catch_up()
    assert set(ran) >= {f"weekly_digest:{team}" for team in CHANNELS} | {"management_summary"}
    first = [key_of(call) for call in posts(world.fake)]
    assert sorted(first) == sorted(set(first))  # nothing twice
    assert {f"weekly_digest:{team}:2026-W39" for team in CHANNELS} <= set(first)
    charts = len(world.fake.calls("files.completeUploadExternal"))

    world.process.jobs.weekly_digest("berlin_ops")
    world.clock.advance(timedelta(hours=5))
    world.start("instance-2").jobs.catch_up()  # a restart: a new process on the same database
    assert [key_of(call) for call in posts(world.fake)] == first
    assert len(world.fake.calls("files.completeUploadExternal")) == charts

    world.clock.advance(timedelta(weeks=1))
    world.process.jobs.catch_up()
    later = [key_of(call) for call in posts(world.fake)][len(first) :]
    assert {f"weekly_digest:{team}:2026-W40" for team in CHANNELS} <= set(later)
    assert "management_summary:*:2026-W40" in later


# management summary and scorecard


def test_the_management_summary_lists_the_worst_breaches_first_once(world):
    add(
        world.engine,
        # New York: on-time 80 % and complaints 10 %, two breaches
        *measures("newyork_delivery", date(2026, 9, 23), orders=100, on_time_orders=80, complaints=10),
        # Shanghai: on-time 85 %, one breach; complaints 1 % on target
        *measures("shanghai_ops", date(2026, 9, 23), orders=100, on_time_orders=85, complaints=1),
        # Beijing: all on target
        *measures("beijing_service", date(2026, 9, 23), orders=100, on_time_orders=99, complaints=1),
        # Berlin: nothing at all
    )
    world.clock.set("2026-09-28 09:29", "Asia/Shanghai")
    assert run_due(world, "management_summary") == []
    world.clock.set("2026-09-28 09:30", "Asia/Shanghai")
    assert run_due(world, "management_summary") == ["management_summary"]
    world.clock.advance(timedelta(hours=3))
    assert run_due(world, "management_summary") == ["management_summary"]

    summaries = [call for call in posts(world.fake, "C0MANAGEMENT") if key_of(call).startswith("management_summary")]
    assert len(summaries) == 1
    assert key_of(summaries[0]) == "management_summary:*:2026-W39"
    lines = text_of(summaries[0]).splitlines()
    assert lines[0] == "*Weekly management summary / 管理层周报 · 2026-W39*"
    teams = [line for line in lines if line[:2] in {"🔴 ", "⚠️", "✅ "}]
    # ordered by severity, with no rank number
    assert [line.split("*")[1] for line in teams] == [
        "New York Delivery / 纽约交付部",
        "Shanghai Operations / 上海运营中心",
        "Beijing Customer Service / 北京客户服务部",
    ]
    assert not any(line[:1].isdigit() for line in lines)
    assert "(<#C0NEWYORK> · `/kpi report newyork_delivery`): 🔴 2 in breach" in teams[0]
    assert "🔴 1 in breach" in teams[1] and "🔴 0 in breach" in teams[2] and "all on target" in teams[2]
    # breached and missed KPIs are named, with the target
    assert "    🔴 On-time delivery rate / 准时交付率: 80.0 % (target / 目标 ≥ 97.0 %)" in lines
    assert "    🔴 Complaint rate / 客户投诉率: 10.0 % (target / 目标 ≤ 2.0 %)" in lines
    # only weekly KPIs: a monthly cost KPI is never counted as unreported in a weekly summary
    assert "Production cost rate" not in text_of(summaries[0])
    # a team that reported nothing is listed apart, with its channel
    assert lines[-2:] == ["▫️ *No data this week / 本周无数据*:", "    Berlin Operations / 柏林运营部 (<#C0BERLIN>)"]


def test_the_quarterly_scorecard_is_posted_at_the_start_of_the_next_quarter_once(world):
    add(
        world.engine,
        *measures("shanghai_ops", date(2026, 8, 12), sales=3_000_000),
        *measures("berlin_ops", date(2026, 8, 12), sales=2_000_000),
        *measures("beijing_service", date(2026, 8, 12), sales=1_500_000),
    )
    world.clock.set("2026-10-01 09:59", "Asia/Shanghai")
    assert "quarterly_scorecard" not in world.process.jobs.catch_up()
    assert not any(key_of(call).startswith("scorecard") for call in posts(world.fake, "C0MANAGEMENT"))

    world.clock.set("2026-10-01 03:00")  # 11:00 in Shanghai
    assert "quarterly_scorecard" in world.process.jobs.catch_up()
    world.clock.advance(timedelta(days=20))
    assert run_due(world, "quarterly_scorecard") == ["quarterly_scorecard"]

    [scorecard] = [call for call in posts(world.fake, "C0MANAGEMENT") if key_of(call).startswith("scorecard")]
    assert key_of(scorecard) == "scorecard_quarterly:*:2026-Q3"
    lines = text_of(scorecard).splitlines()
    assert lines[0] == "*Quarterly operations scorecard / 季度绩效考核 · 2026-Q3* (4 teams / 个团队)"
    assert [line for line in lines if line[:1].isdigit()] == [
        "1. *Shanghai Operations / 上海运营中心*: 40.0 / 100",
        "2. *Berlin Operations / 柏林运营部*: 34.8 / 100",  # sales 2.0 M against Berlin's own 2.3 M target
        "3. *Beijing Customer Service / 北京客户服务部*: 20.0 / 100",
        "4. *New York Delivery / 纽约交付部*: 0.0 / 100",
    ]
    [(complete, png, filename)] = uploads(world.fake, "C0MANAGEMENT")
    assert filename == "scorecard-quarterly-2026-Q3.png" and png.startswith(b"\x89PNG")
    assert complete.params["thread_ts"] == world.ledger("scorecard_quarterly", None, "2026-Q3").ts


# reminders


def test_leads_of_a_team_without_a_submission_are_reminded_at_friday_four_pm_local_once(world):
    world.clock.set("2026-09-30 10:00", "Asia/Shanghai")
    with transaction(world.engine) as session:
        store.submit_measures(
            session,
            team="shanghai_ops",
            form="weekly",
            period=Period.parse("2026-W40"),
            values={"orders": 120, "on_time_orders": 118},
            user="U0LEADSH",
            now=world.clock(),
        )

    def reminders() -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for call in posts(world.fake):
            if call.params["channel"] in LEADS:
                found.setdefault(call.params["channel"], []).append(call.params["text"])
        return found

    world.clock.set("2026-10-02 15:59", "Asia/Shanghai")
    assert run_due(world, "submission_reminder") == []
    assert reminders() == {}

    world.clock.set("2026-10-02 16:00", "Asia/Shanghai")  # Beijing's and Shanghai's time, not Berlin's
    assert run_due(world, "submission_reminder") == [
        "submission_reminder:shanghai_ops",
        "submission_reminder:beijing_service",
    ]
    assert reminders() == {
        "U0LEADBJ": ["提醒：北京客户服务部 还没有提交 2026-W40 的 KPI 数据，请输入 `/kpi submit` 填写。"]
    }

    world.clock.set("2026-10-02 16:00", "Europe/Berlin")
    run_due(world, "submission_reminder")
    run_due(world, "submission_reminder")
    berlin = "Reminder: Berlin Operations has no KPI data for 2026-W40 yet. Type `/kpi submit` to add it."
    assert reminders() == {
        "U0LEADBJ": ["提醒：北京客户服务部 还没有提交 2026-W40 的 KPI 数据，请输入 `/kpi submit` 填写。"],
        "U0LEADBE": [berlin],
        "U0LEADSH": [berlin],  # as Berlin's lead; Shanghai, which they also lead, has submitted
    }
    assert world.ledger("reminder", "berlin_ops", "2026-W40:U0LEADSH").state == "sent"


# Slack failures


def test_a_rate_limited_digest_is_sent_again_after_retry_after_and_arrives_once(world):
    weekly_data(world.engine)
    world.fake.fail_next("chat.postMessage", status=429, retry_after=0)
    world.process.jobs.weekly_digest("berlin_ops")

    calls = world.fake.calls("chat.postMessage")
    assert [call.failed for call in calls] == [True, False]
    assert [call.params["channel"] for call in calls] == ["C0BERLIN", "C0BERLIN"]
    row = world.ledger("weekly_digest", "berlin_ops", "2026-W39")
    assert (row.state, row.attempts) == ("sent", 1)
    assert len(uploads(world.fake, "C0BERLIN")) == 1

    world.process.jobs.weekly_digest("berlin_ops")
    assert len(world.fake.calls("chat.postMessage")) == 2


def lose_the_answer(world: World, fault: str) -> None:
    """Arms the fake: the next digest is posted, and then its answer is lost."""
    if fault == "timeout":
        world.process.sender.client.timeout = 1
        world.fake.hang_next("chat.postMessage", 2)  # answers after the client gave up
    else:
        world.fake.post_then_fail("chat.postMessage", status={"post-then-drop": DROP, "post-then-500": 500}[fault])


@pytest.mark.parametrize("fault", ["post-then-drop", "post-then-500", "timeout"])
def test_a_digest_whose_answer_is_lost_stays_pending_and_the_takeover_finds_it_in_the_channel(world, fault):
    weekly_data(world.engine)
    lose_the_answer(world, fault)
    world.process.jobs.weekly_digest("berlin_ops")

    [digest] = posts(world.fake)  # Slack has it; the client did not send it again
    row = world.ledger("weekly_digest", "berlin_ops", "2026-W39")
    assert (row.state, row.attempts, row.ts) == ("pending", 1, None)
    assert uploads(world.fake, "C0BERLIN") == [] and posts(world.fake, ADMIN) == []

    world.process.jobs.weekly_digest("berlin_ops")  # the claim is fresh: nothing is looked up or posted
    assert len(posts(world.fake)) == 1 and world.fake.calls("conversations.history") == []

    world.clock.advance(CLAIM_TIMEOUT + timedelta(seconds=1))
    world.process.jobs.weekly_digest("berlin_ops")  # the stale claim's taker looks before posting
    assert len(world.fake.calls("conversations.history")) == 1
    [message] = [m for m in history(world.fake, "C0BERLIN") if key_of(digest) == m["metadata"]["event_payload"]["key"]]
    row = world.ledger("weekly_digest", "berlin_ops", "2026-W39")
    assert (row.state, row.attempts, row.ts) == ("sent", 2, message["ts"])
    [(complete, _, _)] = uploads(world.fake, "C0BERLIN")
    assert complete.params["thread_ts"] == message["ts"]

    world.clock.advance(CLAIM_TIMEOUT * 2)
    world.process.jobs.weekly_digest("berlin_ops")
    assert posts(world.fake) == [digest]
    assert len(uploads(world.fake, "C0BERLIN")) == 1


@pytest.mark.parametrize("fault", ["post-then-drop", "post-then-500"])
def test_a_chart_whose_upload_answer_is_lost_is_found_in_the_thread_and_not_uploaded_again(world, fault):
    weekly_data(world.engine)
    world.fake.post_then_fail(
        "files.completeUploadExternal", status={"post-then-drop": DROP, "post-then-500": 500}[fault]
    )
    world.process.jobs.weekly_digest("berlin_ops")
    digest = world.ledger("weekly_digest", "berlin_ops", "2026-W39")
    assert digest.state == "sent"
    assert world.ledger("weekly_digest_chart", "berlin_ops", "2026-W39").state == "pending"

    world.clock.advance(CLAIM_TIMEOUT + timedelta(seconds=1))
    world.process.jobs.weekly_digest("berlin_ops")
    world.clock.advance(CLAIM_TIMEOUT * 2)
    world.process.jobs.weekly_digest("berlin_ops")

    assert len(world.fake.calls("files.completeUploadExternal")) == 1
    [lookup] = world.fake.calls("conversations.replies")
    assert lookup.params["ts"] == digest.ts
    thread = WebClient(token="xoxb-test", base_url=world.fake.base_url).conversations_replies(
        channel="C0BERLIN", ts=digest.ts
    )["messages"]
    assert [shared["name"] for reply in thread for shared in reply.get("files", [])] == [
        "kpi-trend-berlin_ops-2026-W39.png"
    ]
    chart = world.ledger("weekly_digest_chart", "berlin_ops", "2026-W39")
    assert (chart.state, chart.attempts) == ("sent", 2)
    assert len(posts(world.fake)) == 1


def test_a_takeover_that_cannot_read_the_history_does_not_post_blindly(world):
    weekly_data(world.engine)
    world.fake.post_then_fail("chat.postMessage", status=DROP)
    world.process.jobs.weekly_digest("berlin_ops")
    world.clock.advance(CLAIM_TIMEOUT + timedelta(seconds=1))
    world.fake.fail_next("conversations.history", status=200, error="missing_scope")

    world.process.jobs.weekly_digest("berlin_ops")
    assert len(posts(world.fake)) == 1
    assert world.ledger("weekly_digest", "berlin_ops", "2026-W39").state == "pending"

    world.clock.advance(CLAIM_TIMEOUT + timedelta(seconds=1))
    world.process.jobs.weekly_digest("berlin_ops")
    assert len(posts(world.fake)) == 1
    assert world.ledger("weekly_digest", "berlin_ops", "2026-W39").state == "sent"


def test_a_digest_slack_refused_with_a_server_error_is_retried_once_its_claim_expires(world):
    world.fake.fail_next("chat.postMessage", status=500)  # refused before posting; the client does not repeat it
    world.process.jobs.weekly_digest("berlin_ops")
    assert posts(world.fake) == []
    assert len(world.fake.calls("chat.postMessage")) == 1
    row = world.ledger("weekly_digest", "berlin_ops", "2026-W39")
    assert (row.state, row.attempts) == ("pending", 1)

    world.process.jobs.weekly_digest("berlin_ops")  # the claim is still fresh: it may be in flight
    assert posts(world.fake) == []

    world.clock.advance(CLAIM_TIMEOUT + timedelta(seconds=1))
    world.process.jobs.weekly_digest("berlin_ops")
    [digest] = posts(world.fake)
    assert key_of(digest) == "weekly_digest:berlin_ops:2026-W39"
    row = world.ledger("weekly_digest", "berlin_ops", "2026-W39")
    assert (row.state, row.attempts) == ("sent", 2)
    assert posts(world.fake, ADMIN) == []  # a transient error is no news for the admins


PERMANENT = ["msg_blocks_too_long", "invalid_blocks", "invalid_arguments", "channel_not_found"]
PERMANENT += ["not_in_channel", "is_archived", "missing_scope", "an_error_slack_invents_tomorrow"]


@pytest.mark.parametrize("code", PERMANENT)
def test_an_error_retrying_cannot_fix_fails_the_delivery_and_tells_the_admins_once(world, code):
    world.fake.fail_next("chat.postMessage", status=200, error=code)
    world.process.jobs.weekly_digest("berlin_ops")

    row = world.ledger("weekly_digest", "berlin_ops", "2026-W39")
    assert (row.state, row.error) == ("failed", code)
    [notice] = posts(world.fake, ADMIN)
    assert code in notice.params["text"] and "weekly_digest:berlin_ops:2026-W39" in notice.params["text"]

    for _ in range(3):  # catch-ups every few minutes, for hours: no new attempt, no new notice
        world.clock.advance(CLAIM_TIMEOUT * 10)
        world.process.jobs.weekly_digest("berlin_ops")
    assert len(world.fake.calls("chat.postMessage")) == 2  # the refused digest and the one notice


@pytest.mark.parametrize(
    ("status", "code"),
    [
        pytest.param(200, "ratelimited", id="ratelimited"),
        pytest.param(200, "internal_error", id="internal_error"),
        pytest.param(200, "fatal_error", id="fatal_error"),
        pytest.param(200, "service_unavailable", id="service_unavailable"),
        pytest.param(200, "request_timeout", id="request_timeout"),
        pytest.param(503, "service_unavailable", id="http-503"),
        pytest.param(502, "bad_gateway", id="http-502"),
    ],
)
def test_a_transient_error_stays_pending_and_is_retried_without_bothering_the_admins(world, status, code):
    world.fake.fail_next("chat.postMessage", status=status, error=code)
    world.process.jobs.weekly_digest("berlin_ops")
    row = world.ledger("weekly_digest", "berlin_ops", "2026-W39")
    assert (row.state, row.error) == ("pending", None)

    world.clock.advance(CLAIM_TIMEOUT + timedelta(seconds=1))
    world.process.jobs.weekly_digest("berlin_ops")
    [digest] = posts(world.fake)
    assert key_of(digest) == "weekly_digest:berlin_ops:2026-W39"
    assert world.ledger("weekly_digest", "berlin_ops", "2026-W39").state == "sent"
    assert posts(world.fake, ADMIN) == []


def test_a_permanent_error_marks_the_delivery_failed_tells_the_admins_and_spares_the_other_teams(world):
    weekly_data(world.engine)
    world.fake.fail_next("chat.postMessage", status=200, error="channel_not_found")
    for team in ("berlin_ops", "shanghai_ops", "beijing_service", "newyork_delivery"):
        world.process.jobs.weekly_digest(team)

    failed = world.ledger("weekly_digest", "berlin_ops", "2026-W39")
    assert (failed.state, failed.error) == ("failed", "channel_not_found")
    [notice] = posts(world.fake, ADMIN)
    assert "weekly_digest:berlin_ops:2026-W39" in notice.params["text"]
    assert "<#C0BERLIN>" in notice.params["text"] and "channel_not_found" in notice.params["text"]
    for team in ("shanghai_ops", "beijing_service", "newyork_delivery"):
        assert len(posts(world.fake, CHANNELS[team])) == 1
        assert world.ledger("weekly_digest", team, "2026-W39").state == "sent"
    assert uploads(world.fake, "C0BERLIN") == []

    calls = len(world.fake.calls())
    world.process.jobs.weekly_digest("berlin_ops")
    world.clock.advance(CLAIM_TIMEOUT * 10)
    world.process.jobs.weekly_digest("berlin_ops")  # a failed delivery is never retried, even later
    assert world.fake.calls()[calls:] == []
    assert world.ledger("weekly_digest", "berlin_ops", "2026-W39").state == "failed"


def test_a_network_failure_leaves_that_message_for_later_and_the_rest_of_the_batch_goes_out(world):
    weekly_data(world.engine)
    # a connection dropped before Slack posted: the client does not repeat a post (it cannot know)
    world.fake.fail_next("chat.postMessage", status=DROP)
    outcomes = world.process.sender.send_all(weekly_digests(world.process.services, teams=list(world.config.teams)))
    assert outcomes == ["retry", "sent", "sent", "sent"]
    assert world.ledger("weekly_digest", "shanghai_ops", "2026-W39").state == "pending"

    world.clock.advance(CLAIM_TIMEOUT * 2)  # the claim goes stale, and the catch-up takes it over
    world.process.jobs.weekly_digest("shanghai_ops")
    assert len(posts(world.fake, CHANNELS["shanghai_ops"])) == 1
    assert world.ledger("weekly_digest", "shanghai_ops", "2026-W39").state == "sent"


def test_a_job_that_raises_is_reported_to_the_admins_and_the_other_jobs_still_run(world):
    # An honest failure without patching our code: the database lost a table (a bad migration, say).
    with world.engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE measure_value"))
    ran = world.process.jobs.catch_up()
    digests = {f"{kind}:{team}" for kind in ("weekly_digest", "monthly_digest") for team in CHANNELS}
    assert set(ran) == digests | {"management_summary", "quarterly_scorecard"}

    notices = [call.params["text"] for call in posts(world.fake, ADMIN)]
    assert len(notices) == len(ran)
    for job_id in ran:
        [notice] = [text for text in notices if f"`{job_id}`" in text]
        assert "failed" in notice and "OperationalError" in notice and "measure_value" in notice
    assert [call for call in posts(world.fake) if call.params["channel"] != ADMIN] == []

    world.clock.advance(timedelta(minutes=5))
    world.process.jobs.catch_up()  # still broken within the hour: no second round of notices
    assert len(posts(world.fake, ADMIN)) == len(ran)


# a sender that died mid-delivery


def claim_as_a_dead_sender(world: World) -> str:
    claim = ledger.claim(
        world.engine,
        kind="weekly_digest",
        team="berlin_ops",
        subject="2026-W39",
        owner="crashed-instance",
        now=world.clock(),
        stale_after=CLAIM_TIMEOUT,
    )
    assert claim is not None and not claim.taken_over
    return claim.key


def test_a_dead_senders_message_found_in_the_channel_is_not_posted_again(world):
    weekly_data(world.engine)
    key = claim_as_a_dead_sender(world)
    client = WebClient(token="xoxb-test", base_url=world.fake.base_url)
    posted = client.chat_postMessage(
        channel="C0BERLIN",
        text="the digest, as the crashed sender posted it",
        metadata={"event_type": METADATA_EVENT, "event_payload": {"key": key}},
    )
    assert len(posts(world.fake)) == 1

    world.process.jobs.weekly_digest("berlin_ops")  # the claim is fresh: the sender may still be alive
    assert len(posts(world.fake)) == 1 and world.fake.calls("conversations.history") == []

    world.clock.advance(CLAIM_TIMEOUT + timedelta(seconds=1))
    world.process.jobs.weekly_digest("berlin_ops")
    assert len(posts(world.fake)) == 1
    [lookup] = world.fake.calls("conversations.history")
    assert lookup.params["channel"] == "C0BERLIN"
    row = world.ledger("weekly_digest", "berlin_ops", "2026-W39")
    assert (row.state, row.ts, row.attempts) == ("sent", posted["ts"], 2)
    # the chart the dead sender never uploaded goes into the found message's thread
    [(complete, _, _)] = uploads(world.fake, "C0BERLIN")
    assert complete.params["thread_ts"] == posted["ts"]

    world.clock.advance(CLAIM_TIMEOUT * 2)
    world.process.jobs.weekly_digest("berlin_ops")
    assert len(posts(world.fake)) == 1


def test_a_dead_senders_message_that_never_reached_slack_is_posted_once(world):
    weekly_data(world.engine)
    claim_as_a_dead_sender(world)
    world.clock.advance(CLAIM_TIMEOUT + timedelta(seconds=1))
    world.process.jobs.weekly_digest("berlin_ops")
    world.process.jobs.weekly_digest("berlin_ops")
    world.clock.advance(CLAIM_TIMEOUT * 2)
    world.process.jobs.weekly_digest("berlin_ops")

    [digest] = posts(world.fake)
    assert key_of(digest) == "weekly_digest:berlin_ops:2026-W39"
    assert len(world.fake.calls("conversations.history")) == 1
    row = world.ledger("weekly_digest", "berlin_ops", "2026-W39")
    assert (row.state, row.attempts, row.claimed_by) == ("sent", 2, "instance-1")
    assert len(uploads(world.fake, "C0BERLIN")) == 1


def test_a_missed_run_is_reported_to_the_admins(world: World) -> None:
    scheduler = BackgroundScheduler(timezone="UTC")
    world.process.jobs.install(scheduler, alert_sweep_every=timedelta(hours=1))
    for startup_job in ("startup_catch_up", "startup_alert_check"):  # this test is about one missed run only
        scheduler.remove_job(startup_job)
    # A run due an hour ago with a one-second grace: APScheduler skips it and says so.
    past = datetime.now(UTC) - timedelta(hours=1)
    scheduler.add_job(lambda: None, DateTrigger(past), id="quarterly_scorecard_rerun", misfire_grace_time=1)
    scheduler.start()
    try:
        [notice] = world.fake.wait_for("chat.postMessage", count=1, timeout=10)
        # the scheduler drops the missed job right after telling its listeners: let it finish first
        deadline = time.monotonic() + 10
        while scheduler.get_job("quarterly_scorecard_rerun") is not None and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        scheduler.shutdown(wait=True)
    assert notice.params["channel"] == ADMIN
    assert "quarterly_scorecard_rerun" in notice.params["text"] and "missed" in notice.params["text"]
