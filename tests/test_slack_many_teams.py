"""A config of 200 teams, some with long names: what an admin sees still fits Slack's limits (every payload
is checked by tests/slack_limits.py at teardown)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.digests import management_summary, quarterly_scorecards, weekly_digests
from bot.sender import Outgoing
from bot.settings import Settings
from bot.wiring import build_services
from kpi_core.config import Config, parse_config
from kpi_core.periods import Period
from tests import slack_limits
from tests.bot_harness import ADMIN, MANAGER, NOW, Bot, running_bot
from tests.conftest import EXAMPLE_CONFIG
from tests.fake_slack import FakeSlack
from tests.slack_requests import app_home_opened_body

TEAMS = 200
KPIS = 30
LONG_NAME = "Regional Operations and Customer Excellence Centre for the Greater Metropolitan Area"  # 84


EXAMPLE_TEAMS = len(yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))["teams"])


def many_teams_config() -> Config:
    raw: dict[str, Any] = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    for number in range(TEAMS - EXAMPLE_TEAMS):
        name = f"{LONG_NAME} {number}" if number % 10 == 0 else f"Team {number}"
        raw["teams"].append(
            {
                "key": f"team_{number:03d}",
                "name": {"en": name, "zh": f"团队 {number}"},
                "channel": f"C{number:08d}",
                "timezone": "Europe/Berlin",
                "language": "en",
                "leads": [f"U{number:08d}"],
            }
        )
    copies = [dict(kpi, key=f"{kpi['key']}_copy") for kpi in raw["kpis"][: KPIS - len(raw["kpis"])]]
    raw["kpis"] += copies
    return parse_config(raw)


@pytest.fixture
def big_bot(sqlite_template: Path, tmp_path: Path, fake_slack: FakeSlack) -> Iterator[Bot]:
    path = tmp_path / "bot.db"
    shutil.copyfile(sqlite_template, path)
    with running_bot(config=many_teams_config(), database_url=f"sqlite:///{path}", fake=fake_slack) as running:
        yield running


def test_an_admins_team_menu_of_200_teams_is_served_as_the_admin_types(big_bot: Bot) -> None:
    status, _ = big_bot.command("submit weekly", user_id=ADMIN)
    assert status == 200
    view = big_bot.opened_view()
    menu = next(block["element"] for block in view["blocks"] if block["block_id"] == "team")
    assert menu["type"] == "external_select" and "options" not in menu
    assert menu["initial_option"]["value"] == "shanghai_ops"

    everything = big_bot.options(view, "team", "", user_id=ADMIN)
    assert len(everything) == 100  # a menu holds at most 100; typing narrows it
    found = big_bot.options(view, "team", "team_19", user_id=ADMIN)
    assert [option["value"] for option in found] == [f"team_{number}" for number in range(190, TEAMS - EXAMPLE_TEAMS)]
    long_named = big_bot.options(view, "team", "team_190", user_id=ADMIN)
    assert long_named[0]["text"]["text"] == f"{LONG_NAME} 190"[:74] + "…"


def test_an_admins_history_names_how_many_teams_instead_of_listing_them(big_bot: Bot) -> None:
    status, _ = big_bot.command("history", user_id=ADMIN, name="history")
    assert status == 200
    (reply,) = big_bot.fake.wait_for("response")
    assert reply.params["text"] == "Recent submissions of 200 teams / 200 个团队最近的提交"  # the admin reads both


def test_every_form_and_the_home_tab_fit_at_200_teams_and_30_kpis(big_bot: Bot) -> None:
    """Checked by tests/slack_limits.py at teardown: each modal and Home tab the admin and a manager get."""
    for form in ("weekly", "costs", "finance", "survey", "case", "milestone"):
        status, _ = big_bot.command(f"submit {form}", user_id=ADMIN)
        assert status == 200
    big_bot.fake.wait_for("views.open", count=6)
    for number, user in enumerate((ADMIN, MANAGER)):
        assert big_bot.slack.event(app_home_opened_body(user_id=user, event_id=f"Ev{number}")).status == 200
    big_bot.fake.wait_for("views.publish", count=2)


def _violations(messages: list[Outgoing]) -> list[str]:
    return [
        problem
        for message in messages
        for blocks in (message.blocks, *message.continued)
        for problem in slack_limits.message_violations(
            {"text": message.text, "blocks": blocks}, method="chat.postMessage"
        )
    ]


@pytest.fixture
def services(sqlite_template: Path, tmp_path: Path) -> Any:
    path = tmp_path / "kpi.db"
    shutil.copyfile(sqlite_template, path)
    settings = Settings(SLACK_BOT_TOKEN="xoxb-test", KPI_DATABASE_URL=f"sqlite:///{path}")
    services = build_services(settings, clock=lambda: NOW, config=many_teams_config())
    yield services
    services.engine.dispose()


def test_every_teams_weekly_digest_fits_at_200_teams_and_30_kpis(services: Any) -> None:
    digests = weekly_digests(services, teams=services.config.teams, charts=False)
    assert len(digests) == TEAMS and _violations(digests) == []


def test_the_summary_and_scorecard_fit_at_200_teams_and_30_kpis_in_parts(services: Any) -> None:
    summary = management_summary(services, channel="C0MGMT", period=Period.parse("2026-W39"))
    scorecards = quarterly_scorecards(services, channel="C0MGMT", period=Period.parse("2026-Q3"))
    assert _violations([summary, *scorecards]) == []
    # no team reported: the summary lists 200 silent teams, one short line each, and fits one message
    # (tests/test_long_messages.py splits one of 200 reporting teams); the scorecard must be split
    assert not summary.continued and all(scorecard.continued for scorecard in scorecards)


def test_an_admins_scorecard_of_200_teams_comes_as_five_answers_naming_what_did_not_fit(big_bot: Bot) -> None:
    status, _ = big_bot.command("scorecard 2026-Q3", user_id=ADMIN, name="scorecard")
    assert status == 200
    answers = big_bot.fake.wait_for("response", count=5)
    big_bot.fake.assert_no_call("response", already=5)  # a response_url takes five posts at most
    marks = [
        block["elements"][0]["text"]
        for answer in answers
        for block in answer.params["blocks"]
        if block["type"] == "context"
    ]
    assert [mark for mark in marks if mark.startswith("(")] == [f"({number}/5)" for number in range(1, 6)]
    assert marks[-1].startswith("… ") and "more lines" in marks[-1]  # counted, not dropped silently
    ranked = [
        line
        for answer in answers
        for block in answer.params["blocks"]
        if block["type"] == "section"
        for line in block["text"]["text"].splitlines()
        if line[:1].isdigit()
    ]
    assert 0 < len(ranked) < TEAMS and all(line.endswith(" / 100") for line in ranked)  # whole lines only
