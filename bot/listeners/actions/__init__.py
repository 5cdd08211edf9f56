from __future__ import annotations

from slack_bolt import App

from bot.listeners.actions.goals import handle_adjust_open, handle_approve
from bot.listeners.actions.history import handle_correct, handle_withdraw


def register(app: App) -> None:
    app.action("approve_goals")(handle_approve)
    app.action("adjust_goals")(handle_adjust_open)
    app.action("withdraw_submission")(handle_withdraw)
    app.action("correct_submission")(handle_correct)
