"""The buttons on an alert: Acknowledge, Assign (a user picker), Snooze (a menu), Open action. Only the
team's leads, management and admins may use them (``Access.alert_teams``); anyone else is told why, in
a message only they see."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.action_form import SLACK_USER, Subject, action_modal
from bot.alert_handling import redraw_alert
from bot.alert_view import alert_id_of
from bot.listeners.context import access_of, message_localizer, services_of
from bot.mrkdwn import mention
from kpi_core.alert_lifecycle import AlertAction, Handled, handle_alert, handling_of, snooze_until


def _clicked(body: dict[str, Any]) -> dict[str, Any]:
    action: dict[str, Any] = body["actions"][0]
    return action


def handle_acknowledge(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    ack()
    _act(body, respond, client, context, "acknowledge")


def handle_assign(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    ack()
    owner = _clicked(body).get("selected_user")
    if not isinstance(owner, str) or not SLACK_USER.fullmatch(owner):
        respond(
            text=message_localizer(context)("alert_ops.not_a_user"), response_type="ephemeral", replace_original=False
        )
        return
    _act(body, respond, client, context, "assign", owner=owner)


def handle_snooze(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    ack()
    services = services_of(context)
    alert, _, _ = handling_of(services.engine, alert_id=alert_id_of(_clicked(body).get("block_id")))
    choice = (_clicked(body).get("selected_option") or {}).get("value")
    until = None
    if alert is not None and alert.team in services.config.team_by_key:
        until = snooze_until(str(choice), team=services.config.team(alert.team), now=services.clock())
    if until is None:  # no such alert, or a choice the menu does not offer
        respond(text=message_localizer(context)("alert_ops.gone"), response_type="ephemeral", replace_original=False)
        return
    _act(body, respond, client, context, "snooze", until=until)


def _act(
    body: dict[str, Any],
    respond: Respond,
    client: WebClient,
    context: BoltContext,
    action: AlertAction,
    *,
    owner: str | None = None,
    until: datetime | None = None,
) -> None:
    services, access, localize = services_of(context), access_of(context), message_localizer(context)
    handled = handle_alert(
        services.engine,
        alert_id=alert_id_of(_clicked(body).get("block_id")),
        action=action,
        teams=access.alert_teams,
        user=access.user,
        now=services.clock(),
        owner=owner,
        until=until,
    )
    answer = _answer(handled, action, localize)
    if answer is not None:
        respond(text=answer, response_type="ephemeral", replace_original=False)
    if handled.outcome == "done" and handled.alert is not None and handled.alert.id is not None:
        redraw_alert(services, client, alert_id=handled.alert.id)


def _answer(handled: Handled, action: AlertAction, localize: Any) -> str | None:
    """What the user who clicked is told; None when the redrawn message says it all."""
    if handled.outcome == "refused" and handled.alert is not None:
        return str(localize("alert_ops.refused", team=handled.alert.team))
    if handled.outcome == "gone":
        return str(localize("alert_ops.gone"))
    if handled.outcome == "unchanged" and handled.handling is not None:
        if action == "assign":
            return str(localize("alert_ops.already_owner", user=mention(handled.handling.owner or "-")))
        return str(localize("alert_ops.already_acknowledged", user=mention(handled.handling.acknowledged_by or "-")))
    return None


def handle_open_action(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    """Opens the corrective action modal for the alert's team and KPI."""
    ack()
    services = services_of(context)
    alert, _, _ = handling_of(services.engine, alert_id=alert_id_of(_clicked(body).get("block_id")))
    _open_modal(body, client, respond, context, Subject.of(alert) if alert is not None else None)


def handle_open_action_for_kpi(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    """Opens the corrective action modal for a digest line's KPI (the button's value is ``team:kpi``)."""
    ack()
    team, _, kpi = str(_clicked(body).get("value") or "").partition(":")
    _open_modal(body, client, respond, context, Subject(team, kpi))


def _open_modal(
    body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext, subject: Subject | None
) -> None:
    """The modal, at once (trigger_id lives 3 s), for someone who may act on the team; else why not."""
    services, access, localize = services_of(context), access_of(context), message_localizer(context)
    config = services.config
    if subject is None or subject.team not in config.team_by_key or subject.kpi not in config.kpi_by_key:
        respond(text=localize("alert_ops.gone"), response_type="ephemeral", replace_original=False)
        return
    if subject.team not in access.alert_teams:
        respond(
            text=localize("alert_ops.refused", team=subject.team), response_type="ephemeral", replace_original=False
        )
        return
    client.views_open(trigger_id=body["trigger_id"], view=action_modal(services, access, subject=subject))
