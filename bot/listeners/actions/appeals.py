"""Buttons of the appeal DMs: Confirm or Appeal a closed result (the assessed), Take up, Uphold or Reject
an appeal (management and HR; each opens a modal asking the reason). A button's value comes back from
the client and is checked again: who may, and whether the window or the state still allows it."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.appeal_forms import DECISIONS, appeal_modal, decision_modal
from bot.appeals import parse_answer_value
from bot.listeners.actions.reviews import button_id, button_value
from bot.listeners.context import (
    access_of,
    after_ack,
    appeal_refusal,
    appeals_of,
    message_localizer,
    services_of,
)
from kpi_core import appeal_use_cases as use
from kpi_core.errors import AppealError


def _refused(respond: Respond, context: BoltContext, error: AppealError) -> None:
    respond(text=appeal_refusal(context, error), replace_original=False, response_type="ephemeral")


def handle_confirm(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    services, user = services_of(context), access_of(context).user
    period_label, subject_kind, subject = parse_answer_value(button_value(body))
    try:
        confirmed = use.confirm(
            services.engine,
            config=services.config,
            period_label=period_label,
            subject_kind=subject_kind,
            subject=subject,
            user=user,
            now=services.clock(),
        )
    except AppealError as error:
        _refused(respond, context, error)
        return
    # the DM itself is redrawn without its buttons (every lead's of a team), so this answer adds to it
    respond(text=message_localizer(context)("appeals.confirmed", period=period_label), replace_original=False)
    messenger = appeals_of(context)
    after_ack(context, "appeal confirmed", lambda: messenger.redraw_invitations(confirmed))


def handle_open(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext) -> None:
    ack()
    user, messenger = access_of(context).user, appeals_of(context)
    try:
        result = messenger.result_to_answer(button_value(body), user)
    except AppealError as error:
        _refused(respond, context, error)
        return
    view = appeal_modal(messenger, result, language=messenger.reviews.language(user))
    client.views_open(trigger_id=body["trigger_id"], view=view)


def _decide(decision: str) -> Any:
    def handle(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext) -> None:
        ack()
        services, user, messenger = services_of(context), access_of(context).user, appeals_of(context)
        try:
            appeal = use.appeal_for_decider(
                services.engine,
                config=services.config,
                appeal_id=button_id(button_value(body)),
                to=DECISIONS[decision],
                user=user,
            )
        except AppealError as error:
            _refused(respond, context, error)
            return
        client.views_open(
            trigger_id=body["trigger_id"], view=decision_modal(messenger, appeal, decision=decision, to=user)
        )

    return handle


handle_take_up = _decide("take_up")
handle_uphold = _decide("uphold")
handle_reject = _decide("reject")
