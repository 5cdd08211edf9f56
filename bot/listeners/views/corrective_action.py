"""The corrective action modal's submission: validated, stored once (view id + hash), confirmed by DM."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.action_form import parse_action, subject_of
from bot.alert_view import sentence
from bot.listeners.context import access_of, localizer, services_of
from bot.listeners.views.submissions import view_key
from bot.mrkdwn import mention
from kpi_core.actions import open_action

FIRST_FIELD = "root_cause"  # where a refusal is shown: field errors go on input blocks only


def handle_corrective_action(ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    services, access = services_of(context), access_of(context)
    config, now = services.config, services.clock()
    subject = subject_of(services, view)
    if subject is None:
        ack(response_action="errors", errors={FIRST_FIELD: localizer(context)("errors.gone")})
        return
    if subject.team not in access.alert_teams:
        ack(response_action="errors", errors={FIRST_FIELD: localizer(context)("alert_ops.refused", team=subject.team)})
        return
    data, errors = parse_action(view, subject=subject, config=config, now=now, localize=localizer(context))
    if data is None:
        ack(response_action="errors", errors=errors)
        return
    # stored before the ack, like every modal: an outage is answered on the form, which keeps what was typed
    action = open_action(services.engine, request_key=view_key(view), data=data, user=access.user, now=now)
    ack()
    if action is None:
        return  # the same submission, stored already (a double click, a retry)
    text = sentence(
        services,
        "alert_ops.action_opened",
        access.language,
        id=action.id,
        team=config.team(action.team).name,
        kpi=config.kpi_by_key[action.kpi].name,
        owner=mention(action.owner),
        due=action.due_on.isoformat(),
    )
    client.chat_postMessage(channel=access.user, text=text)
