from __future__ import annotations

from slack_bolt import App

from bot.listeners.commands.kpi import handle_kpi


def register(app: App) -> None:
    app.command("/kpi")(handle_kpi)
