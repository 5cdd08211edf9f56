from __future__ import annotations

import re

from slack_bolt import App

from bot.listeners.actions import alert_buttons, corrective_actions
from bot.listeners.actions.history import handle_correct, handle_withdraw


def register(app: App) -> None:
    app.action("withdraw_submission")(handle_withdraw)
    app.action("correct_submission")(handle_correct)
    app.action("alert_ack")(alert_buttons.handle_acknowledge)
    app.action("alert_assign")(alert_buttons.handle_assign)
    app.action("alert_snooze")(alert_buttons.handle_snooze)
    app.action("alert_open_action")(alert_buttons.handle_open_action)
    # a digest's Open action buttons: one per KPI, each action_id unique in its block
    app.action(re.compile(r"^kpi_open_action:"))(alert_buttons.handle_open_action_for_kpi)
    app.action("close_action")(corrective_actions.handle_close)
