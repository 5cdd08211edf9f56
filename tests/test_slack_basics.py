import json
import time
import urllib.request
from wsgiref.util import setup_testing_defaults

import pytest

from bot.server import health, wsgi_app
from bot.settings import Settings
from bot.wiring import build
from kpi_core.db import make_engine
from tests.bot_harness import LEAD_BEIJING, LEAD_SHANGHAI_AND_BERLIN, MANAGER, STRANGER
from tests.slack_requests import FORM, slash_command_body


def test_health_reports_the_database(bot):
    with urllib.request.urlopen(bot.url + "/healthz") as response:
        assert response.status == 200
        assert json.loads(response.read()) == {"ok": True, "database": "ok"}


@pytest.mark.parametrize(
    "how",
    [
        pytest.param({"signed": False}, id="unsigned"),
        pytest.param({"signature": "v0=" + "0" * 64}, id="wrong-signature"),
        pytest.param({"timestamp": int(time.time()) - 301}, id="stale-over-5-minutes"),
    ],
)
def test_requests_not_from_slack_are_rejected(bot, how):
    body = slash_command_body("submit weekly", user_id=LEAD_BEIJING, response_url=bot.fake.response_url("x"))
    reply = bot.slack.post(body, content_type=FORM, **how)
    assert reply.status == 401
    bot.fake.assert_no_call("views.open")


def test_help_lists_every_subcommand_in_both_languages(bot):
    status, body = bot.command("help", user_id=LEAD_BEIJING)
    assert status == 200
    for word in (
        "submit",
        "case",
        "milestone",
        "report",
        "scorecard",
        "history",
        "undo",
        "alerts",
        "actions",
        "命令列表",
    ):
        assert word in body["text"]


def test_unknown_subcommand_gets_help_not_an_error(bot):
    status, body = bot.command("frobnicate", user_id=LEAD_BEIJING)
    assert status == 200
    assert "frobnicate" in body["text"] and "submit" in body["text"]


def test_submit_opens_the_form_modal(bot):
    status, _ = bot.command("submit weekly", user_id=LEAD_SHANGHAI_AND_BERLIN)
    assert status == 200
    view = bot.opened_view()
    assert view["callback_id"] == "submit_measures"
    block_ids = [block["block_id"] for block in view["blocks"]]
    assert block_ids[:2] == ["team", "period"]
    assert "measure:orders" in block_ids
    team_options = [option["value"] for option in view["blocks"][0]["element"]["options"]]
    assert team_options == ["shanghai_ops", "berlin_ops"]


def test_someone_without_a_role_is_refused_politely(bot):
    status, body = bot.command("submit weekly", user_id=STRANGER)
    assert status == 200
    assert "Sorry" in body["text"]
    bot.fake.assert_no_call("views.open")


@pytest.mark.parametrize(
    "text",
    [pytest.param("case", id="case"), pytest.param("milestone", id="milestone"), pytest.param("undo", id="undo")],
)
def test_every_writing_subcommand_refuses_like_submit_whoever_submits_for_no_team(bot, text):
    # management sees every team but leads none
    _, refusal = bot.command("submit weekly", user_id=MANAGER)
    assert refusal["response_type"] == "ephemeral"
    assert refusal["text"].startswith("Sorry, only the team's leads (or an admin) may submit data for")
    bot.fake.reset()
    status, body = bot.command(text, user_id=MANAGER)
    assert (status, body) == (200, refusal)
    bot.fake.assert_no_call()


def test_health_says_503_when_the_database_is_unreachable(tmp_path, example_config):
    settings = Settings(
        SLACK_SIGNING_SECRET="s",
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_API_URL="http://127.0.0.1:9/api/",
        KPI_DATABASE_URL=f"sqlite:///{tmp_path}/kpi.db",
    )
    process = build(settings, config=example_config)
    unreachable = make_engine(f"sqlite:///{tmp_path}/missing-folder/kpi.db")
    application = wsgi_app(process.app(), health=lambda: health(unreachable), signing_secret="s", team_id="T0TEAM")
    environ: dict = {"PATH_INFO": "/healthz", "REQUEST_METHOD": "GET"}
    setup_testing_defaults(environ)
    statuses = []
    body = b"".join(application(environ, lambda status, headers: statuses.append(status)))
    assert statuses == ["503 Service Unavailable"]
    assert json.loads(body) == {"ok": False, "database": "OperationalError"}
    unreachable.dispose()
