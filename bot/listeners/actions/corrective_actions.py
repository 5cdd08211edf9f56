"""The Close button of ``/kpi actions``: a corrective action closes only when its KPI has been met for two
periods in a row since it was opened; otherwise it stays open and the user is told why."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from bot.alert_view import sentence
from bot.listeners.actions.clicked import clicked_id
from bot.listeners.context import access_of, message_localizer, services_of
from kpi_core.actions import close_action


def handle_close(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    services, access, localize = services_of(context), access_of(context), message_localizer(context)
    config = services.config
    closing = close_action(
        services.engine,
        action_id=clicked_id(body),
        teams=access.alert_teams,
        config=config,
        user=access.user,
        now=services.clock(),
    )
    action = closing.action
    if closing.outcome == "gone" or action is None:
        text = localize("alert_ops.action_gone")
    elif closing.outcome == "refused":
        text = localize("alert_ops.refused", team=action.team)
    else:
        kpi = config.kpi_by_key[action.kpi].name
        if closing.outcome == "closed":
            periods = ", ".join(check.label for check in closing.periods)
            text = sentence(
                services, "alert_ops.action_closed", access.language, id=action.id, kpi=kpi, periods=periods
            )
        elif action.note == "too_early":
            text = localize("alert_ops.action_too_early")
        else:
            text = sentence(
                services, "alert_ops.action_reopened", access.language, id=action.id, kpi=kpi, note=action.note
            )
    respond(text=text, response_type="ephemeral", replace_original=False)
