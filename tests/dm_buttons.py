"""Clicking the buttons of a DM the app sent (a proposal's Approve / Adjust, a plan's Approve / Reject) and
reading the answer the click got through its response_url."""

from __future__ import annotations

import json
from typing import Any

from tests.bot_harness import Bot


def buttons_in(message: dict[str, Any], block_id: str) -> dict[str, dict[str, Any]]:
    """The buttons of the actions block ``block_id`` of a posted message, by action_id."""
    blocks = message["blocks"] if isinstance(message["blocks"], list) else json.loads(message["blocks"])
    [actions] = [block for block in blocks if block.get("block_id") == block_id]
    return {element["action_id"]: element for element in actions["elements"]}


def click(bot: Bot, button: dict[str, Any], *, user: str, block_id: str, value: str | None = None) -> None:
    """``user`` clicks ``button`` in a DM (``value`` forges what it carries)."""
    bot.fake.reset()
    reply = bot.slack.action(
        action_id=button["action_id"],
        value=button["value"] if value is None else value,
        user_id=user,
        block_id=block_id,
        response_url=bot.fake.response_url("click"),
        channel_id="D0DM",
    )
    assert (reply.status, reply.body) == (200, "")


def clicked(bot: Bot) -> dict[str, Any]:
    """The one answer the click got through its response_url."""
    (call,) = bot.fake.wait_for("response")
    params: dict[str, Any] = call.params
    return params
