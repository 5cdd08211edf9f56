"""The Web API client's retry policy (bot/slack_retries.py) against the fault-injecting fake Slack: a post is
repeated only when Slack cannot have taken it; idempotent calls are also repeated when the answer was lost."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.app import build_client
from bot.sender import NETWORK_ERRORS
from bot.settings import Settings
from tests.fake_slack import DROP, FakeSlack

# The smallest modal real Slack accepts: every payload the fake records is checked (tests/slack_limits.py).
MODAL = {
    "type": "modal",
    "title": {"type": "plain_text", "text": "KPI"},
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}],
}


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    """The production client (build_client), pointed at the fake."""
    return build_client(Settings(SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=fake.base_url))


def channel_messages(client: WebClient, channel: str) -> list[str]:
    return [message["text"] for message in client.conversations_history(channel=channel)["messages"]]


@pytest.mark.parametrize("status", [DROP, 500, 503], ids=["post-then-drop", "post-then-500", "post-then-503"])
def test_a_post_whose_answer_is_lost_is_not_sent_again(fake: FakeSlack, client: WebClient, status: int) -> None:
    fake.post_then_fail("chat.postMessage", status=status)

    with pytest.raises((SlackApiError, *NETWORK_ERRORS)):
        client.chat_postMessage(channel="C1", text="digest")

    assert len(fake.calls("chat.postMessage")) == 1
    assert channel_messages(client, "C1") == ["digest"]


def test_a_post_answered_after_the_clients_timeout_is_not_sent_again(fake: FakeSlack, client: WebClient) -> None:
    client.timeout = 1
    fake.hang_next("chat.postMessage", 2)

    with pytest.raises(TimeoutError):
        client.chat_postMessage(channel="C1", text="digest")

    assert len(fake.calls("chat.postMessage")) == 1
    assert channel_messages(client, "C1") == ["digest"]


def test_a_rate_limited_post_is_sent_again_after_retry_after(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next("chat.postMessage", status=429, retry_after=0, times=2)

    assert client.chat_postMessage(channel="C1", text="digest")["ok"]

    assert [call.failed for call in fake.calls("chat.postMessage")] == [True, True, False]
    assert channel_messages(client, "C1") == ["digest"]


def test_a_rate_limit_longer_than_a_thread_should_wait_is_not_slept_through(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next("chat.postMessage", status=429, retry_after=120)

    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C1", text="digest")

    assert raised.value.response["error"] == "ratelimited"
    assert len(fake.calls("chat.postMessage")) == 1


@pytest.mark.parametrize(
    ("method", "call"),
    [
        pytest.param("views.open", lambda c: c.views_open(trigger_id="t", view=MODAL), id="views.open"),
        pytest.param("chat.update", lambda c: c.chat_update(channel="C1", ts="1.0", text="x"), id="chat.update"),
        pytest.param("conversations.history", lambda c: c.conversations_history(channel="C1"), id="history"),
    ],
)
@pytest.mark.parametrize("status", [DROP, 500], ids=["drop", "500"])
def test_idempotent_calls_are_sent_again_when_the_answer_is_lost(
    fake: FakeSlack, client: WebClient, method: str, call: object, status: int
) -> None:
    fake.post_then_fail(method, status=status)

    assert call(client)["ok"]  # type: ignore[operator]

    assert len(fake.calls(method)) == 2
