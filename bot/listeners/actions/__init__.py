from __future__ import annotations

import re

from slack_bolt import App

from bot.listeners.actions import alert_buttons, corrective_actions, plan, reviews
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
    app.action("alert_ack")(alert_buttons.handle_acknowledge)
    app.action("alert_assign")(alert_buttons.handle_assign)
    app.action("alert_snooze")(alert_buttons.handle_snooze)
    app.action("alert_open_action")(alert_buttons.handle_open_action)
    # a digest's Open action buttons: one per KPI, each action_id unique in its block
    app.action(re.compile(r"^kpi_open_action:"))(alert_buttons.handle_open_action_for_kpi)
    app.action("close_action")(corrective_actions.handle_close)
    app.action("approve_plan")(plan.handle_approve)
    app.action("reject_plan")(plan.handle_reject_open)
