"""Menus whose options Slack loads from us (external selects): the team menu of a user with many teams."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.listeners.options.teams import handle_team_menu, is_team_menu


def register(app: App) -> None:
    # every input's action_id is "value" (bot/forms.py reads it so); the block says which menu it is
    matchers: list[Any] = [is_team_menu]
    app.options("value", matchers=matchers)(handle_team_menu)
