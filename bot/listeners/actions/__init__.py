from __future__ import annotations

from slack_bolt import App

from bot.listeners.actions import reviews
from bot.listeners.actions.goals import handle_adjust_open, handle_approve
from bot.listeners.actions.history import handle_correct, handle_withdraw


def register(app: App) -> None:
    app.action("approve_goals")(handle_approve)
    app.action("adjust_goals")(handle_adjust_open)
    app.action("withdraw_submission")(handle_withdraw)
    app.action("correct_submission")(handle_correct)
    app.action("review_rate")(reviews.handle_rate)
    app.action("review_nominate")(reviews.handle_nominate)
    app.action("review_peers_approve")(reviews.handle_approve_peers)
    app.action("review_peers_decline")(reviews.handle_decline_peers)
    app.action("interview_record")(reviews.handle_record)
    app.action("interview_confirm")(reviews.handle_confirm)
    app.action("interview_acknowledge")(reviews.handle_acknowledge)
