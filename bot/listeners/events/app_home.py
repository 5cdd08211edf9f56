"""The App Home tab: the user's own personal scorecard (when they are a configured person), then their teams'
KPIs for the current week, with status against target (computed and published by bot/answers.py)."""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient

from bot import answers
from bot.listeners.context import access_of, answer_later, services_of
from bot.render import message_parts


def handle_app_home_opened(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    if event.get("tab", "home") != "home":
        return
    services, access = services_of(context), access_of(context)
    now = services.clock()

    def busy(text: str) -> None:
        client.views_publish(user_id=access.user, view={"type": "home", "blocks": message_parts(text)[0]})

    # Bolt acked the event before calling this listener: nothing to ack
    task = partial(answers.home, access=access, now=now)
    route = answers.home_week(services, access, now)
    body = {"event": event}  # a failure is shown on the tab
    answer_later(context, "the Home tab", task, route=route, ack=lambda: None, busy=busy, body=body)
