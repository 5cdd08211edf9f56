"""Hostile text (a mention of everyone, a disguised link, ``&``) through the real app and the fake Slack:
every recorded mrkdwn payload escapes it (bot/mrkdwn.py), and reads as typed once Slack unescapes it."""

import shutil
from datetime import date

import pytest
import yaml

from bot.digests import management_summary, weekly_digests
from bot.settings import Settings
from bot.wiring import build_services
from kpi_core.config import parse_config
from kpi_core.periods import Period
from tests import factories
from tests.bot_harness import ADMIN, LEAD_BEIJING, LEAD_SHANGHAI_AND_BERLIN, NOW, running_bot
from tests.conftest import EXAMPLE_CONFIG
from tests.mrkdwn import as_slack_shows, mrkdwn_problems
from tests.slack_calls import wait_for_posts
from tests.slack_requests import datepicker_value, static_select_value, text_value
from tests.test_slack_history import listing
from tests.test_slack_submissions import open_form, weekly_answers

HOSTILE = "R&D <!channel> <https://evil.example|click here>"


def submit_hostile_milestone(bot):
    view = open_form(bot, "milestone", LEAD_BEIJING) | {"id": "V0HOSTILE"}
    answers = {
        "team": static_select_value("beijing_service"),
        "project": text_value(HOSTILE),
        "milestone_name": text_value(HOSTILE),
        "due_on": datepicker_value("2026-10-15"),
    }
    status, body = bot.submit(view, answers, user_id=LEAD_BEIJING)
    assert (status, body) == (200, "")
    (dm,) = wait_for_posts(bot.fake, LEAD_BEIJING)
    return dm.params["text"]


def test_the_thanks_for_a_hostile_milestone_shows_its_name_literally(bot):
    text = submit_hostile_milestone(bot)
    assert mrkdwn_problems(text) == []
    assert HOSTILE in as_slack_shows(text)
    assert "<!channel>" not in text


def test_history_after_a_hostile_milestone_has_no_raw_markup(bot):
    submit_hostile_milestone(bot)
    message = listing(bot, "history", user=LEAD_BEIJING)
    texts = [message["text"]] + [
        block["text"]["text"] for block in message["blocks"] if block.get("text", {}).get("type") == "mrkdwn"
    ]
    assert len(texts) > 2  # the title and the submission's line
    for text in texts:
        assert mrkdwn_problems(text) == [], text


def test_an_admin_notice_quotes_a_hostile_error_literally(bot):
    """Slack's error (text we do not control) lands in the admins' DM inside backticks, escaped."""
    bot.fake.fail_next("views.open", status=200, error="bad <!channel> & <https://evil.example|x>")
    assert bot.command("submit weekly", user_id=LEAD_BEIJING, name="later") == (200, "")
    (notice,) = wait_for_posts(bot.fake, ADMIN)
    text = notice.params["text"]
    assert mrkdwn_problems(text) == []
    assert "bad <!channel> & <https://evil.example|x>" in as_slack_shows(text)


def hostile_config():
    """The example config with Shanghai's team named like an attack, in both languages."""
    raw = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    for team in raw["teams"]:
        if team["key"] == "shanghai_ops":
            team["name"] = {"en": HOSTILE, "zh": HOSTILE}
    return parse_config(raw)


@pytest.fixture
def hostile_bot(sqlite_template, tmp_path, fake_slack):
    path = tmp_path / "bot.db"
    shutil.copyfile(sqlite_template, path)
    config = hostile_config()
    with running_bot(config=config, database_url=f"sqlite:///{path}", fake=fake_slack, alerting=True) as running:
        yield running


def mrkdwn_texts(payload):
    """The message's text and every mrkdwn text of its blocks."""
    texts = [payload["text"]]
    for block in payload.get("blocks", []):
        if block.get("text", {}).get("type") == "mrkdwn":
            texts.append(block["text"]["text"])
        texts += [element["text"] for element in block.get("elements", []) if element.get("type") == "mrkdwn"]
    return texts


def test_a_report_of_a_team_with_a_hostile_name_shows_the_name_literally(hostile_bot):
    factories.add(hostile_bot.engine, *factories.measures("shanghai_ops", date(2026, 9, 7), sales=10))
    assert hostile_bot.command("report shanghai_ops 2026-09", user_id=LEAD_SHANGHAI_AND_BERLIN, name="r") == (200, "")
    (answer,) = hostile_bot.fake.wait_for("response")
    texts = mrkdwn_texts(answer.params)
    assert [problem for text in texts for problem in mrkdwn_problems(text)] == []
    assert HOSTILE in as_slack_shows("\n".join(texts))


def test_the_digest_and_summary_of_a_team_with_a_hostile_name_escape_it(hostile_bot):
    services = build_services(
        Settings(SLACK_BOT_TOKEN="xoxb-test", KPI_DATABASE_URL=str(hostile_bot.engine.url)),
        clock=lambda: NOW,
        config=hostile_config(),
    )
    try:
        factories.add(services.engine, *factories.measures("shanghai_ops", date(2026, 9, 21), sales=10))
        shanghai = services.config.team("shanghai_ops")
        messages = [
            *weekly_digests(services, teams=[shanghai], charts=False),
            management_summary(services, channel="C0MGMT", period=Period.parse("2026-W39")),
        ]
    finally:
        services.engine.dispose()
    for message in messages:
        payloads = [{"text": message.text, "blocks": blocks} for blocks in (message.blocks, *message.continued)]
        texts = [text for payload in payloads for text in mrkdwn_texts(payload)]
        assert [problem for text in texts for problem in mrkdwn_problems(text)] == []
        assert HOSTILE in as_slack_shows("\n".join(texts))


def test_an_alert_of_a_team_with_a_hostile_name_escapes_it(hostile_bot):
    view = open_form(hostile_bot, "weekly", LEAD_SHANGHAI_AND_BERLIN)
    answers = weekly_answers(on_time_orders="100")  # 83.3 %: below the 90 % threshold
    assert hostile_bot.submit(view, answers, user_id=LEAD_SHANGHAI_AND_BERLIN) == (200, "")
    (alert,) = wait_for_posts(hostile_bot.fake, "C0SHANGHAI")
    texts = mrkdwn_texts(alert.params)
    assert [problem for text in texts for problem in mrkdwn_problems(text)] == []
    assert f"{HOSTILE}: " in as_slack_shows(alert.params["text"])
