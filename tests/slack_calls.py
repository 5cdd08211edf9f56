"""Reading what the fake Slack recorded: the messages it accepted (per channel) and their delivery keys.

Listeners keep posting after their ack (the thank-you DM, then the alerts a write causes), so a test that
needs one message waits for it by channel with `wait_for_posts`, never by its position among all posts:
another listener's message may arrive in between.
"""

from __future__ import annotations

import time

from bot.sender import METADATA_EVENT
from tests.fake_slack import Call, FakeSlack

__all__ = ["key_of", "posts", "wait_for_posts"]


def posts(fake: FakeSlack, channel: str | None = None) -> list[Call]:
    """The chat.postMessage calls Slack accepted, optionally to one channel (a user id for a DM)."""
    return _accepted(fake.calls("chat.postMessage"), channel)


def wait_for_posts(fake: FakeSlack, channel: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
    """Blocks until Slack accepted ``count`` messages to ``channel``; returns them all."""
    deadline = time.monotonic() + timeout
    while True:
        every = fake.calls("chat.postMessage")
        found = _accepted(every, channel)
        if len(found) >= count:
            return found
        remaining = deadline - time.monotonic()
        try:  # sleeps on the fake's condition until any further message arrives
            fake.wait_for("chat.postMessage", count=len(every) + 1, timeout=max(remaining, 0.0))
        except AssertionError:
            seen = [call.params.get("channel") for call in fake.calls("chat.postMessage")]
            raise AssertionError(
                f"expected {count} message(s) to {channel} within {timeout} s; messages went to {seen}"
            ) from None


def key_of(call: Call) -> str:
    """The delivery key a ledger-governed message carries in its metadata."""
    metadata = call.params["metadata"]
    assert metadata["event_type"] == METADATA_EVENT
    key: str = metadata["event_payload"]["key"]
    return key


def _accepted(calls: list[Call], channel: str | None) -> list[Call]:
    return [call for call in calls if not call.failed and (channel is None or call.params["channel"] == channel)]
