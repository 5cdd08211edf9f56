"""The team menu of a form when a user may submit for more teams than a static menu holds (100):
Slack asks for the options as the user types, and gets the matching teams, at most 100."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext

from bot.forms import TEAM
from bot.listeners.context import access_of, services_of
from bot.modals import team_menu_options


def is_team_menu(body: dict[str, Any]) -> bool:
    return body.get("block_id") == TEAM


def handle_team_menu(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    options = team_menu_options(services_of(context), access_of(context), typed=str(body.get("value") or ""))
    ack(options=[{"text": {"type": "plain_text", "text": text}, "value": key} for key, text in options])
