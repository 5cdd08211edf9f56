"""Mrkdwn escaping: user- and config-supplied text reaches Slack escaped once, the bot's own markup intact."""

from __future__ import annotations

import json

import pytest

from bot.mrkdwn import Mrkdwn, escape, mention
from bot.render import Renderer
from bot.resources import TEMPLATES_DIR
from kpi_core.config import Config
from tests.mrkdwn import HOSTILE, as_slack_shows, mrkdwn_problems


@pytest.mark.parametrize("text", HOSTILE)
def test_escape_follows_slacks_rule_and_reads_back(text: str) -> None:
    escaped = escape(text)
    assert mrkdwn_problems(escaped) == []
    assert as_slack_shows(escaped) == text
    assert escape(escaped) == escaped  # already mrkdwn: not escaped twice


def test_mentions_only_for_slack_user_ids() -> None:
    assert mention("U0LEADBJ") == "<@U0LEADBJ>"
    assert mention("<!channel>") == "&lt;!channel&gt;"
    assert mention("cli") == "cli"


@pytest.mark.parametrize("text", HOSTILE)
def test_templates_escape_values_but_keep_their_own_markup(example_config: Config, text: str) -> None:
    renderer = Renderer(templates_dir=TEMPLATES_DIR, config=example_config)
    stored = renderer.mrkdwn("stored", "en", what=text)
    assert mrkdwn_problems(stored) == [] and text in as_slack_shows(stored)
    assert "&lt;command&gt;" in renderer.render("help.txt.j2", language="both", forms=example_config.forms)
    blocks = renderer.blocks("submissions", language="en", title=Mrkdwn(escape(text)), submissions=[], tz={})
    assert as_slack_shows(blocks[0]["text"]["text"]) == f"*{text}*"
    modal = renderer.view("failed", language="en", text=renderer.mrkdwn("failed_text", "en"))
    assert json.loads(json.dumps(modal)) == modal
