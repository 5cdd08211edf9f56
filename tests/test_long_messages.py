"""A message too long for one post (the summary and scorecard of 200 teams) is delivered as parts: the first
in the channel, the others in its thread, each exactly once through its own ledger entry, on both backends.
Every payload is also checked against Slack's limits at teardown (tests/slack_limits.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient

from kpi_core import ledger
from tests.factories import Clock, add, at, surveys
from tests.fake_slack import DROP, Call, FakeSlack
from tests.test_scheduled_messages import ADMIN, CLAIM_TIMEOUT, MONDAY, World, key_of, posts
from tests.test_slack_many_teams import many_teams_config

SHANGHAI = ZoneInfo("Asia/Shanghai")
MANAGEMENT = "C0MANAGEMENT"
SUMMARY = "management_summary:*:2026-W39"
SCORECARD = "scorecard_quarterly:*:2026-Q3"


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    with FakeSlack(first_ts=int(MONDAY.timestamp())) as fake:
        world = World(many_teams_config(), database_url, fake, Clock(MONDAY))
        # every team reported a poor week: the summary names each team's breached and missed KPIs
        rows = [row for team in world.config.teams for row in surveys(team.key, at("2026-09-23 10:00"), 1, 2)]
        add(world.engine, *rows)
        yield world
        for engine in world.engines:
            engine.dispose()


def summary(world: World) -> None:
    world.process.jobs.management_summary(MANAGEMENT, SHANGHAI)


def parts_of(world: World, key: str) -> list[Call]:
    return [call for call in posts(world.fake, MANAGEMENT) if key_of(call).startswith(f"{key}#")]


def thread_keys(world: World, ts: str) -> list[str]:
    """The delivery keys of a thread's messages as Slack holds them, parent first."""
    thread = WebClient(token="xoxb-test", base_url=world.fake.base_url).conversations_replies(
        channel=MANAGEMENT, ts=ts, include_all_metadata=True
    )["messages"]
    return [message["metadata"]["event_payload"]["key"] for message in thread if message.get("metadata")]


def section_lines(call: Call) -> list[str]:
    blocks: list[dict[str, Any]] = call.params["blocks"]
    return [line for block in blocks if block["type"] == "section" for line in block["text"]["text"].splitlines()]


def assert_delivered_once_in_parts(world: World, key: str) -> list[Call]:
    parts = parts_of(world, key)
    count = len(parts)
    assert count > 1
    assert [key_of(call) for call in parts] == [f"{key}#part{number}" for number in range(1, count + 1)]
    first = parts[0]
    whole = ledger.find(world.engine, key=key)
    assert (whole.state, whole.channel) == ("sent", MANAGEMENT)
    assert whole.ts == ledger.find(world.engine, key=f"{key}#part1").ts  # a chart or a reply goes under it
    assert "thread_ts" not in first.params and all(call.params["thread_ts"] == whole.ts for call in parts[1:])
    assert thread_keys(world, whole.ts) == [f"{key}#part{number}" for number in range(1, count + 1)]
    marks = [
        block["elements"][0]["text"] for call in parts for block in call.params["blocks"] if block["type"] == "context"
    ]
    assert marks == [f"({number}/{count})" for number in range(1, count + 1)]
    return parts


def test_a_200_team_summary_and_scorecard_arrive_as_parts_in_a_thread_once(world: World) -> None:
    summary(world)
    parts = assert_delivered_once_in_parts(world, SUMMARY)
    channels = [line.split("(<#")[1].split(">")[0] for call in parts for line in section_lines(call) if "(<#" in line]
    assert sorted(channels) == sorted(team.channel for team in world.config.teams)  # every team, once, none cut

    world.clock.set("2026-10-01 03:00")  # 11:00 in Shanghai: the Q3 scorecard is due
    world.process.jobs.quarterly_scorecard(MANAGEMENT, SHANGHAI)
    scorecard = assert_delivered_once_in_parts(world, SCORECARD)
    assert len(scorecard) > 2
    [upload] = world.fake.calls("files.completeUploadExternal")
    assert upload.params["thread_ts"] == ledger.find(world.engine, key=SCORECARD).ts  # after its last part
    every_call = world.fake.calls()
    assert every_call.index(upload) > every_call.index(scorecard[-1])

    posted = len(posts(world.fake))
    world.clock.advance(CLAIM_TIMEOUT * 3)
    world.start("instance-2")  # a restart runs the jobs again: all settled, nothing is posted again
    world.process.jobs.quarterly_scorecard(MANAGEMENT, SHANGHAI)
    summary(world)
    assert len(posts(world.fake)) == posted and len(world.fake.calls("files.completeUploadExternal")) == 1


@pytest.mark.parametrize("fault", ["dropped-before-posting", "posted-then-dropped"])
def test_a_crash_after_the_first_part_ends_with_every_part_exactly_once(world: World, fault: str) -> None:
    if fault == "dropped-before-posting":
        world.fake.fail_next("chat.postMessage", status=DROP, after=1)
    else:
        world.fake.post_then_fail("chat.postMessage", status=DROP, after=1)
    summary(world)
    assert [key_of(call) for call in posts(world.fake, MANAGEMENT)] == [f"{SUMMARY}#part1", f"{SUMMARY}#part2"][
        : 1 if fault == "dropped-before-posting" else 2
    ]
    assert ledger.find(world.engine, key=SUMMARY).state == "pending"  # not complete, so not settled
    assert ledger.find(world.engine, key=f"{SUMMARY}#part2").state == "pending"
    assert not world.process.sender.settled("management_summary", None, "2026-W39")

    summary(world)  # the claims are fresh: their sender may still be at work
    assert len(world.fake.calls("chat.postMessage")) == 2

    world.start("instance-2")  # the first process died; its claims go stale and the catch-up takes over
    world.clock.advance(CLAIM_TIMEOUT + timedelta(seconds=1))
    summary(world)
    lookups = world.fake.calls("conversations.replies")
    assert len(lookups) == 1 and lookups[0].params["ts"] == ledger.find(world.engine, key=f"{SUMMARY}#part1").ts
    assert_delivered_once_in_parts(world, SUMMARY)
    part2 = ledger.find(world.engine, key=f"{SUMMARY}#part2")
    assert (part2.state, part2.attempts) == ("sent", 2)

    posted = len(world.fake.calls("chat.postMessage"))
    world.clock.advance(CLAIM_TIMEOUT * 3)
    world.start("instance-3")
    summary(world)
    assert len(world.fake.calls("chat.postMessage")) == posted and posts(world.fake, ADMIN) == []


def test_a_part_slack_refuses_for_good_fails_the_whole_and_tells_the_admins_once(world: World) -> None:
    world.fake.fail_next("chat.postMessage", status=200, error="invalid_blocks", after=1)
    summary(world)
    assert ledger.find(world.engine, key=f"{SUMMARY}#part2").state == "failed"
    whole = ledger.find(world.engine, key=SUMMARY)
    assert (whole.state, whole.error) == ("failed", "part 2: invalid_blocks")
    assert world.process.sender.settled("management_summary", None, "2026-W39")  # not retried for ever
    [notice] = posts(world.fake, ADMIN)
    assert f"{SUMMARY}#part2" in notice.params["text"]

    world.clock.advance(CLAIM_TIMEOUT * 3)
    summary(world)
    assert len(posts(world.fake)) == 2  # the first part and the admin's notice
