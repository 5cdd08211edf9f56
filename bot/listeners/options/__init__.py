"""Menus whose options Slack loads from us (external selects): the team menu of a user with many teams,
the person menu of a measures form when those teams have many people."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.listeners.options.people import handle_person_menu, is_person_menu
from bot.listeners.options.teams import handle_team_menu, is_team_menu


def register(app: App) -> None:
    # every input's action_id is "value" (bot/forms.py reads it so); the block says which menu it is
    team_menu: list[Any] = [is_team_menu]
    app.options("value", matchers=team_menu)(handle_team_menu)
    person_menu: list[Any] = [is_person_menu]
    app.options("value", matchers=person_menu)(handle_person_menu)
