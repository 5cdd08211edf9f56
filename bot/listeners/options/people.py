"""The person menu of a measures form when the user's teams have more people than a static menu holds
(100): Slack asks for the options as the user types, and gets the matching people, at most 100."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext

from bot.forms import PERSON
from bot.listeners.context import access_of, services_of
from bot.modals import person_menu_options


def is_person_menu(body: dict[str, Any]) -> bool:
    return body.get("block_id") == PERSON


def handle_person_menu(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    options = person_menu_options(services_of(context), access_of(context), typed=str(body.get("value") or ""))
    ack(options=[{"text": {"type": "plain_text", "text": text}, "value": user} for user, text in options])
