"""Every Slack listener, grouped by kind; ``register(app)`` wires them all."""

from __future__ import annotations

from slack_bolt import App

from bot.listeners import actions, commands, events, options, views


def register(app: App) -> None:
    commands.register(app)
    views.register(app)
    actions.register(app)
    events.register(app)
    options.register(app)
