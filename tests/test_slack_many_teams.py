"""A config of 200 teams, some with long names: what an admin sees still fits Slack's limits (every payload
is checked by tests/slack_limits.py at teardown)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kpi_core.config import Config, parse_config
from tests.bot_harness import ADMIN, Bot, running_bot
from tests.conftest import EXAMPLE_CONFIG
from tests.fake_slack import FakeSlack

TEAMS = 200
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
