"""``kpi-bot serve`` as a real process: started the way production starts it, stopped with SIGTERM."""

import json
import signal
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bot_harness import LEAD_SHANGHAI_AND_BERLIN
from tests.serve_harness import SECRET, START_TIMEOUT, Served, running_serve, serve_env, start
from tests.slack_requests import FORM, SlackClient, slash_command_body


@pytest.fixture
def served(tmp_path: Path, fake_slack) -> Iterator[Served]:
    with running_serve(tmp_path, serve_env(tmp_path, fake_slack)) as running:
        yield running


def _get(url: str) -> tuple[int, dict]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=5) as response:
        return response.status, json.loads(response.read())


def test_serve_answers_the_health_check(served):
    status, body = _get(served.url + "/healthz")
    assert status == 200
    assert body["ok"] is True and body["database"] == "ok"


def test_serve_handles_a_signed_command_and_rejects_an_unsigned_one(served, fake_slack):
    slack = SlackClient(served.url + "/slack/events", SECRET)
    reply = slack.command("submit weekly", user_id=LEAD_SHANGHAI_AND_BERLIN, response_url=fake_slack.response_url("s"))
    assert reply.status == 200
    (call,) = fake_slack.wait_for("views.open")
    assert call.token == "xoxb-serve-test"
    assert call.params["view"]["callback_id"] == "submit_measures"

    body = slash_command_body("submit weekly", user_id=LEAD_SHANGHAI_AND_BERLIN, response_url="http://x/")
    assert slack.post(body, content_type=FORM, signed=False).status == 401
    fake_slack.assert_no_call("views.open", already=1)


@pytest.mark.parametrize("sig", [pytest.param(signal.SIGTERM, id="sigterm"), pytest.param(signal.SIGINT, id="sigint")])
def test_serve_stops_cleanly_on_a_signal(served, sig):
    assert _get(served.url + "/healthz")[0] == 200
    # a hang, not slowness, is the failure: the ceiling only keeps a hung server from hanging the suite
    assert served.stop(sig, timeout=60) == 0
    assert not any("Traceback" in line for line in served.stderr)


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        pytest.param("SLACK_SIGNING_SECRET", "SLACK_SIGNING_SECRET is not set", id="signing-secret"),
        pytest.param("SLACK_BOT_TOKEN", "SLACK_BOT_TOKEN is not set", id="bot-token"),
    ],
)
def test_serve_without_a_required_setting_exits_with_a_clear_message(tmp_path, fake_slack, missing, message):
    process = start(tmp_path, serve_env(tmp_path, fake_slack, **{missing: None}))
    stdout, stderr = process.communicate(timeout=START_TIMEOUT)
    assert process.returncode != 0
    assert message in stderr
    assert "Traceback" not in stderr
    assert "listening on" not in stderr
