"""Exactly once across real processes on PostgreSQL: two schedulers at once, and a sender killed with
SIGKILL in the middle of a post and restarted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.resources import EXAMPLE_CONFIG
from kpi_core.db import make_engine, transaction
from kpi_core.demo import load_demo_data
from kpi_core.ledger import find
from tests.fake_slack import FakeSlack

REPO_ROOT = Path(__file__).resolve().parent.parent
TEAM_CHANNELS = {"C0SHANGHAI", "C0BEIJING", "C0BERLIN", "C0NEWYORK"}


def _env(database_url: str, fake: FakeSlack, **extra: str) -> dict[str, str]:
    return (
        os.environ
        | {
            "KPI_DATABASE_URL": database_url,
            "KPI_CONFIG": str(EXAMPLE_CONFIG),
            "SLACK_SIGNING_SECRET": "replica-secret",
            "SLACK_BOT_TOKEN": "xoxb-replica",
            "SLACK_API_URL": fake.base_url,
        }
        | extra
    )


def _kpi_bot(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", *args],
        env=env,
        cwd=REPO_ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _load_demo(database_url: str, example_config) -> None:
    engine = make_engine(database_url)
    with transaction(engine) as session:
        load_demo_data(session, config=example_config, now=datetime(2026, 10, 1, tzinfo=UTC))
    engine.dispose()


def _delivery_keys(fake: FakeSlack) -> list[str]:
    return [
        call.params["metadata"]["event_payload"]["key"]
        for call in fake.calls("chat.postMessage")
        if not call.failed and call.params.get("metadata")
    ]


def _digests_by_channel(fake: FakeSlack) -> Counter[str]:
    return Counter(
        call.params["channel"]
        for call in fake.calls("chat.postMessage")
        if not call.failed and call.params["metadata"]["event_payload"]["key"].startswith("weekly_digest:")
    )


def test_two_workers_started_together_post_each_message_once(postgres_database_url, example_config, fake_slack):
    _load_demo(postgres_database_url, example_config)
    env = _env(postgres_database_url, fake_slack)
    workers = [_kpi_bot("worker", env=env | {"KPI_INSTANCE": f"replica-{number}"}) for number in (1, 2)]
    try:
        # Both catch up at start: every team's last-week digest (its Monday 09:00 has passed this week),
        # the management summary and last quarter's scorecard are due in both processes at once.
        fake_slack.wait_for("chat.postMessage", count=len(TEAM_CHANNELS) + 2, timeout=60)
        time.sleep(3)  # let the slower replica finish its attempts
    finally:
        for process in workers:
            process.send_signal(signal.SIGTERM)
        outputs = [process.communicate(timeout=30)[0] for process in workers]
    keys = _delivery_keys(fake_slack)
    assert keys, outputs
    assert [key for key, count in Counter(keys).items() if count > 1] == []
    assert _digests_by_channel(fake_slack) == Counter(dict.fromkeys(TEAM_CHANNELS, 1))
    assert sum(key.startswith("management_summary:") for key in keys) == 1
    assert sum(key.startswith("scorecard_quarterly:") for key in keys) == 1
    assert all(process.returncode == 0 for process in workers), outputs


def test_a_sender_killed_mid_post_is_restarted_without_posting_twice(postgres_database_url, example_config, fake_slack):
    _load_demo(postgres_database_url, example_config)
    env = _env(postgres_database_url, fake_slack, KPI_CLAIM_TIMEOUT_SECONDS="1")
    fake_slack.hang_next("chat.postMessage", 5)  # Slack takes the first digest but the sender never hears back
    first = _kpi_bot("digest", "--all", "--period", "2026-W39", "--send", env=env)
    hung = fake_slack.wait_for("chat.postMessage", count=1, timeout=60)[0]
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=10)
    time.sleep(1.2)  # the dead sender's claim goes stale

    restarted = _kpi_bot("digest", "--all", "--period", "2026-W39", "--send", env=env)
    output = restarted.communicate(timeout=120)[0]
    assert restarted.returncode == 0, output

    assert _digests_by_channel(fake_slack) == Counter(dict.fromkeys(TEAM_CHANNELS, 1)), output
    key = hung.params["metadata"]["event_payload"]["key"]
    engine = make_engine(postgres_database_url)
    row = find(engine, key=key)
    engine.dispose()
    assert row is not None and row.state == "sent" and row.attempts == 2
    assert f"{key.split(':')[1]} 2026-W39: found" in output
    # a third run finds everything sent
    again = _kpi_bot("digest", "--all", "--period", "2026-W39", "--send", env=env)
    assert again.communicate(timeout=120)[0].count(": skipped") == len(TEAM_CHANNELS)
    assert _digests_by_channel(fake_slack) == Counter(dict.fromkeys(TEAM_CHANNELS, 1))


@pytest.fixture(autouse=True)
def _needs_postgres(postgres_url):
    """These tests prove cross-process guarantees, which only PostgreSQL gives under real concurrency."""
