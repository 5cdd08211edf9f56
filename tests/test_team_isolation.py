"""One team's bad data never silences another team: hostile rows written straight into the database (as an
old database, direct SQL or another tool would, past kpi_core/rules.py), then the real app, jobs and
sender against the fake Slack, on SQLite and PostgreSQL.

beijing_service holds sales of 1e308 on two days of 2026-W39 (PostgreSQL's SUM overflows with
NumericValueOutOfRange; SQLite's comes out as inf), or one stored infinity. 2026-W39 lies in 2026-09 and
2026-Q3, so beijing's weekly, monthly and quarterly figures all fail; the other three teams' must not.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from bot.digest_view import Section, digest_view
from bot.render import Renderer, blocks_text
from bot.resources import TEMPLATES_DIR
from bot.settings import Settings
from bot.wiring import Process, build
from kpi_core.config import Config
from kpi_core.db import make_engine, transaction
from kpi_core.isolation import ComputeFailure
from kpi_core.kpis import KpiResult, compute_reports
from kpi_core.periods import Period
from kpi_core.reporting import Report
from tests.bot_harness import MANAGER, Bot, running_bot
from tests.factories import Clock, add, at, case, measures
from tests.fake_slack import Call, FakeSlack

#: A Monday, 14:00 UTC: every team's digest of 2026-W39 and the management summary are due.
MONDAY = at("2026-09-28 14:00")
W39 = Period.parse("2026-W39")
BAD = "beijing_service"
GOOD_CHANNELS = {"shanghai_ops": "C0SHANGHAI", "berlin_ops": "C0BERLIN", "newyork_delivery": "C0NEWYORK"}
ADMIN = "U0ADMIN"
COULD_NOT = "could not be computed from the stored data"
COULD_NOT_ZH = "无法根据已存数据计算"  # beijing_service's digest is in Chinese

HOSTILE = [
    pytest.param([1e308, 1e308], id="sum-overflows"),
    pytest.param([float("inf")], id="stored-infinity"),
]


def insert_hostile_sales(engine: sa.Engine, values: list[float]) -> None:
    """Rows the rules would refuse, written with plain SQL (no submission, no rules, no version bump)."""
    rows = [
        {"team": BAD, "on_date": W39.start + timedelta(days=index), "value": value}
        for index, value in enumerate(values)
    ]
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO measure_value (team, measure, on_date, value) VALUES (:team, 'sales', :on_date, :value)"
            ),
            rows,
        )


@dataclass
class World:
    process: Process
    bot: Bot
    fake: FakeSlack

    def posts(self, channel: str) -> list[Call]:
        return [
            call
            for call in self.fake.calls("chat.postMessage")
            if not call.failed and call.params["channel"] == channel
        ]

    def report(self, text: str, name: str) -> str:
        """``/kpi text`` as the manager; the one answer posted to its response_url, as text."""
        before = len(self.fake.calls("response"))
        status, body = self.bot.command(text, user_id=MANAGER, name=name)
        assert (status, body) == (200, "")
        calls = self.fake.wait_for("response", count=before + 1, timeout=30)  # a report is computed after the ack
        (answer,) = [call for call in calls if call.path == f"/response/{name}"]
        return text_of(answer)


def text_of(call: Call) -> str:
    blocks = call.params.get("blocks") or []
    return blocks_text(blocks) or str(call.params["text"])  # a digest's fields too


def key_of(call: Call) -> str:
    key: str = call.params["metadata"]["event_payload"]["key"]
    return key


@pytest.fixture
def world(example_config: Config, database_url: str, request: pytest.FixtureRequest) -> Iterator[World]:
    with FakeSlack(first_ts=int(MONDAY.timestamp())) as fake:
        settings = Settings(SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=fake.base_url, KPI_DATABASE_URL=database_url)
        process = build(settings, clock=Clock(MONDAY), config=example_config)
        engine = process.services.engine
        for team in GOOD_CHANNELS:
            add(engine, *measures(team, W39.start, orders=200, on_time_orders=190, sales=250000))
        # shanghai_ops' after-sales case, 6 h without a first response (its target is 4 h)
        add(engine, case("shanghai_ops", MONDAY - timedelta(hours=6)))
        with running_bot(config=example_config, database_url=database_url, fake=fake, now=MONDAY) as bot:
            yield World(process, bot, fake)
        process.close()


@pytest.mark.parametrize("values", HOSTILE)
def test_one_teams_hostile_data_silences_no_other_team(world: World, values: list[float]) -> None:
    insert_hostile_sales(world.process.services.engine, values)

    # the alert sweep (every team, one transaction): shanghai's overdue case is alerted
    world.process.alerts.check()
    (alert,) = world.posts("C0SHANGHAI")
    assert key_of(alert).startswith("alert:shanghai_ops:")
    assert alert.params["text"].startswith("🔴")

    # the scheduled jobs: each good team's digest with its figures, beijing's saying why it has none
    ran = world.process.jobs.catch_up()
    assert {f"weekly_digest:{team}" for team in (*GOOD_CHANNELS, BAD)} | {"management_summary"} <= set(ran)
    for team, channel in GOOD_CHANNELS.items():
        digests = [call for call in world.posts(channel) if key_of(call) == f"weekly_digest:{team}:2026-W39"]
        assert len(digests) == 1, team
        assert "250,000 CNY" in text_of(digests[0])
        assert COULD_NOT not in text_of(digests[0])
    # the monthly digest job posts August's, which holds no hostile rows; the week's is unavailable
    (august,) = [call for call in world.posts("C0BEIJING") if key_of(call).startswith("monthly_digest:")]
    assert key_of(august) == f"monthly_digest:{BAD}:2026-08"
    (beijing,) = [call for call in world.posts("C0BEIJING") if call is not august]
    assert key_of(beijing) == f"weekly_digest_unavailable:{BAD}:2026-W39"  # the digest itself stays due
    assert COULD_NOT_ZH in text_of(beijing)
    assert "inf" not in text_of(beijing).lower()  # no 'inf' passed off as a figure
    (summary,) = [call for call in world.posts("C0MANAGEMENT") if key_of(call).startswith("management_summary:")]
    lines = text_of(summary).splitlines()
    assert COULD_NOT in lines[1] and "Beijing Customer Service" in lines[1]  # failed teams come first
    assert sum(COULD_NOT in line for line in lines) == 1
    for name in ("Shanghai Operations", "Berlin Operations", "New York Delivery"):
        assert any(name in line for line in lines[2:])

    # /kpi report and /kpi scorecard over HTTP, for the month and quarter that hold the hostile rows
    shanghai = world.report("report shanghai_ops 2026-09", "shanghai")
    assert "Shanghai Operations" in shanghai and "250,000 CNY" in shanghai and COULD_NOT not in shanghai
    assert COULD_NOT_ZH in world.report("report beijing_service 2026-09", "beijing")
    scorecard = world.report("scorecard 2026-Q3", "scorecard")
    ranked = [line for line in scorecard.splitlines() if line[:2] in {"1.", "2.", "3.", "4."}]
    assert len(ranked) == 3 and not any("Beijing" in line for line in ranked)
    (not_ranked,) = [line for line in scorecard.splitlines() if line.startswith("⛔")]
    assert "Beijing Customer Service" in not_ranked

    # the admins: one notice per team, period and kind of failure, however often it is met again
    world.process.alerts.check()
    world.process.jobs.catch_up()
    notices = world.posts(ADMIN)
    subjects = [key_of(call) for call in notices]
    assert len(subjects) == len(set(subjects))
    # the digests' week only: the sweep computes just the KPIs it alerts on, none of which uses sales, and
    # the compute engine sums only the measures the asked KPIs need (so no overflow on PostgreSQL either)
    periods = {subject.split(":")[4] for subject in subjects}
    assert periods == {"2026-W39"}
    assert all(subject.startswith(f"notice:{ADMIN}:compute_failed:{BAD}:") for subject in subjects)
    assert all(f"`{BAD}`" in call.params["text"] for call in notices)
    assert [call for call in world.posts("C0BEIJING") if call is not beijing] == [august]  # said once

    # the data corrected: the next catch-up posts beijing's digest, and nothing else again
    with world.process.services.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM measure_value WHERE team = :team"), {"team": BAD})
    world.process.jobs.catch_up()
    assert [key_of(call) for call in world.posts("C0BEIJING") if call is not august] == [
        f"weekly_digest_unavailable:{BAD}:2026-W39",
        f"weekly_digest:{BAD}:2026-W39",
    ]
    assert len(world.posts(ADMIN)) == len(notices)


def test_a_team_whose_data_cannot_be_computed_is_not_ranked_and_the_others_are(
    example_config: Config, database_url: str
) -> None:
    engine = make_engine(database_url)
    try:
        add(engine, *measures("shanghai_ops", W39.start, sales=3000000), *measures("berlin_ops", W39.start, sales=1))
        insert_hostile_sales(engine, [1e308, 1e308])
        with transaction(engine) as session:
            reports = compute_reports(session, config=example_config, period=Period.parse("2026-Q3"))
            after = session.execute(sa.text("SELECT count(*) FROM measure_value")).scalar_one()
        assert after == 4  # the transaction survived the failed statement (PostgreSQL aborts it otherwise)
        failure = reports[BAD].failure
        assert failure is not None and failure.team == BAD and failure.period.label == "2026-Q3"
        assert failure.kind == ("out_of_range" if engine.dialect.name == "postgresql" else "not_finite")
        assert reports[BAD].results == {}
        assert reports["shanghai_ops"].failure is None
        assert reports["shanghai_ops"].results["sales"].value == 3000000
        assert reports["newyork_delivery"].results["sales"].value is None  # no data, not a failure
    finally:
        engine.dispose()


def test_the_fast_path_queries_all_teams_at_once(example_config: Config, database_url: str) -> None:
    """Without a failure, every team costs the same statements as one team: no per-team queries."""
    engine = make_engine(database_url)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    try:
        for team in ("shanghai_ops", "beijing_service", "berlin_ops", "newyork_delivery"):
            add(engine, *measures(team, W39.start, orders=10, on_time_orders=9, sales=100))
        sa.event.listen(engine, "before_cursor_execute", count)
        quarter = Period.parse("2026-Q3")
        with Session(engine) as session:
            compute_reports(session, config=example_config, period=quarter, teams=["shanghai_ops"])
            one_team = len(statements)
            statements.clear()
            everyone = compute_reports(session, config=example_config, period=quarter)
        # teams are grouped by time zone for instants (three zones here, one for a single team)
        assert len(statements) <= one_team * 3
        assert all(report.failure is None for report in everyone.values())
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
        engine.dispose()


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")], ids=["inf", "minus-inf", "nan"])
def test_a_stored_measure_that_is_not_finite_reports_only_its_team(
    example_config: Config, database_url: str, value: float
) -> None:
    """inf or NaN in a sum is a failure of its team, never an 'inf' in a message or a crash of the others."""
    if value != value and database_url.startswith("sqlite"):
        pytest.skip("SQLite stores NaN as NULL, which the column refuses: it cannot hold one")
    engine = make_engine(database_url)
    try:
        add(engine, *measures("berlin_ops", date(2026, 9, 22), sales=5))
        insert_hostile_sales(engine, [value])
        with transaction(engine) as session:
            reports = compute_reports(session, config=example_config, period=W39)
        failure = reports[BAD].failure
        assert failure is not None and failure.kind == "not_finite" and "sales" in failure.detail
        assert reports["berlin_ops"].results["sales"].value == 5
    finally:
        engine.dispose()


def test_a_report_that_could_not_be_computed_renders_as_such_everywhere(example_config: Config) -> None:
    """Digest, report, home tab: the failed week says why; a failed previous week shows as no data."""
    renderer = Renderer(templates_dir=TEMPLATES_DIR, config=example_config)
    failure = ComputeFailure("berlin_ops", W39, "out_of_range", "value out of range: overflow")
    failed = Report(team="berlin_ops", period=W39, kpis={}, scorecard={}, failure=failure)
    with_data = replace(failed, failure=None, kpis=_only_sales(example_config, 180000))
    team = example_config.team("berlin_ops")

    text = blocks_text(renderer.report_blocks(team=team, report=failed, previous=with_data))
    assert text.splitlines()[2] == (
        "⛔ could not be computed from the stored data (value out of range: overflow); an admin must correct it."
        " The other teams are not affected."
    )
    after = renderer.report_blocks(team=team, report=replace(with_data, period=W39.next()), previous=failed)
    assert "• *Sales*\n*180,000 CNY*" in blocks_text(after)  # no weekly target: information
    assert "\nlast week no data" in blocks_text(after)

    # the posted digest, in Block Kit: the failed week's says why and shows no KPIs; the week after it shows
    # its figures, the failed one as no data
    blocks = renderer.digest_blocks(digest_view(example_config, team, [Section(failed, with_data, [])]))
    assert blocks[2]["text"]["text"].startswith("⛔ could not be computed from the stored data (value out of range")
    assert not any("fields" in block for block in blocks)
    week_after = replace(with_data, period=W39.next())
    blocks = renderer.digest_blocks(digest_view(example_config, team, [Section(week_after, failed, ["sales"])]))
    assert "could not be computed" not in blocks_text(blocks)
    assert "*180,000 CNY*" in blocks_text(blocks) and "last week no data" in blocks_text(blocks)

    home = renderer.view("home", language="en", reports=[failed], role="management")
    assert "could not be computed" in home["blocks"][-1]["text"]["text"]


def _only_sales(config: Config, value: float) -> dict[str, KpiResult]:
    """Every KPI without data but sales."""
    return {
        kpi.key: KpiResult(
            key=kpi.key,
            value=value if kpi.key == "sales" else None,
            n=1 if kpi.key == "sales" else 0,
            target=None,
            threshold=None,
            status="info" if kpi.key == "sales" else "no_data",
        )
        for kpi in config.kpis
    }


def test_an_alert_that_cannot_be_posted_holds_back_no_other(world: World) -> None:
    """An open alert of a team the config no longer has (removed after the alert opened) cannot be
    rendered: the admins hear of it once, and shanghai's overdue case is still alerted."""
    with world.process.services.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO alert (team, kpi, value, threshold, opened_at)"
                " VALUES ('closed_team', 'on_time_delivery', 50, 90, :now)"
            ),
            {"now": MONDAY.replace(tzinfo=None)},
        )
    world.process.alerts.check()
    world.process.alerts.check()
    (alert,) = world.posts("C0SHANGHAI")
    assert key_of(alert).startswith("alert:shanghai_ops:")
    (notice,) = world.posts(ADMIN)
    assert key_of(notice) == f"notice:{ADMIN}:alert_failed:closed_team:1"
    assert "`closed_team`" in notice.params["text"]
