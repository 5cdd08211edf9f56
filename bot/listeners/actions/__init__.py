from __future__ import annotations

from slack_bolt import App

from bot.listeners.actions.history import handle_correct, handle_withdraw


def register(app: App) -> None:
    app.action("withdraw_submission")(handle_withdraw)
    app.action("correct_submission")(handle_correct)
