"""``kpi-bot serve`` as a real process: started the way production starts it, stopped with SIGTERM."""

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.resources import EXAMPLE_CONFIG
from tests.bot_harness import LEAD_SHANGHAI_AND_BERLIN
from tests.slack_requests import FORM, SlackClient, slash_command_body

REPO_ROOT = Path(__file__).resolve().parent.parent
SECRET = "serve-test-signing-secret"
LISTENING = re.compile(r"listening on http://127\.0\.0\.1:(\d+)/slack/events")
START_TIMEOUT = 30.0  # the first start migrates a fresh database


def serve_env(tmp_path: Path, fake_slack, **overrides) -> dict[str, str]:
    """The process's environment: ours without any KPI_/SLACK_ setting, then the test's."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("KPI_", "SLACK_"))}
    env |= {
        "KPI_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "KPI_CONFIG": str(EXAMPLE_CONFIG),
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_BOT_TOKEN": "xoxb-serve-test",
        "SLACK_API_URL": fake_slack.base_url,
        "PYTHONPATH": str(REPO_ROOT),
    }
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def start(tmp_path: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    # cwd is an empty directory: no .env file of the developer's may leak into the settings
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", "0"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@dataclass
class Served:
    process: subprocess.Popen[str]
    url: str
    stderr: list[str]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 5.0) -> int:
        self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)


def _drain(stream, lines: list[str], found: queue.Queue[int]) -> None:
    """Reads the process's stderr to the end (so the pipe never fills), reporting the port once seen."""
    for line in stream:
        lines.append(line)
        match = LISTENING.search(line)
        if match:
            found.put(int(match.group(1)))


@pytest.fixture
def served(tmp_path: Path, fake_slack) -> Iterator[Served]:
    process = start(tmp_path, serve_env(tmp_path, fake_slack))
    lines: list[str] = []
    found: queue.Queue[int] = queue.Queue()
    reader = threading.Thread(target=_drain, args=(process.stderr, lines, found), daemon=True)
    reader.start()
    try:
        port = found.get(timeout=START_TIMEOUT)
    except queue.Empty:
        process.kill()
        process.wait()
        pytest.fail("kpi-bot serve did not start:\n" + "".join(lines))
    running = Served(process, f"http://127.0.0.1:{port}", lines)
    try:
        yield running
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join(timeout=5)
        process.stdout.close()
        process.stderr.close()


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
    started = time.monotonic()
    assert served.stop(sig) == 0
    assert time.monotonic() - started < 5
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
