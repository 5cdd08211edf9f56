"""Buttons of the review DMs: rate, nominate peers, approve or decline them, record, confirm and
acknowledge the review interview. A button's value comes back from the client and is checked again."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.listeners.context import access_of, after_ack, message_localizer, review_refusal, reviews_of, services_of
from bot.mrkdwn import Mrkdwn, mention
from bot.review_modals import interview_modal, peers_modal, rating_modal
from kpi_core import review_use_cases as use
from kpi_core.errors import ReviewError

_MAX_ID = 2**63 - 1


def button_value(body: dict[str, Any]) -> str:
    value = body["actions"][0].get("value")
    return value if isinstance(value, str) else ""


def button_id(text: str) -> int:
    """An id a button carries; 0 (no row has it) when it cannot be one."""
    return int(text) if text.isascii() and text.isdigit() and 0 < int(text) <= _MAX_ID else 0


def _refused(respond: Respond, context: BoltContext, error: ReviewError) -> None:
    respond(text=review_refusal(context, error), replace_original=False, response_type="ephemeral")


def handle_rate(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext) -> None:
    ack()
    services, user, messenger = services_of(context), access_of(context).user, reviews_of(context)
    try:
        form = use.rater_form(
            services.engine,
            config=services.config,
            assignment_id=button_id(button_value(body)),
            rater=user,
            now=services.clock(),
        )
    except ReviewError as error:
        _refused(respond, context, error)
        return
    view = rating_modal(messenger, form, rater=user, language=messenger.language(user))
    client.views_open(trigger_id=body["trigger_id"], view=view)


def handle_nominate(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext) -> None:
    ack()
    services, user, messenger = services_of(context), access_of(context).user, reviews_of(context)
    try:
        cycle = use.open_cycle(services.engine, cycle_id=button_id(button_value(body)))
        if cycle.closed_at is not None or services.clock() >= cycle.deadline_at:
            raise ReviewError(reason="closed", cycle=cycle.key)
    except ReviewError as error:
        _refused(respond, context, error)
        return
    client.views_open(
        trigger_id=body["trigger_id"], view=peers_modal(messenger, cycle, language=messenger.language(user))
    )


def _decide(approve: bool) -> Any:
    def handle(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        ack()
        services, user, messenger = services_of(context), access_of(context).user, reviews_of(context)
        cycle_text, _, subject = button_value(body).partition(":")
        try:
            decided = use.decide_peers(
                services.engine,
                config=services.config,
                cycle_id=button_id(cycle_text),
                subject=subject,
                approver=user,
                approve=approve,
                now=services.clock(),
            )
        except ReviewError as error:
            _refused(respond, context, error)
            return
        localize = message_localizer(context)
        peers = Mrkdwn(", ".join(mention(assignment.rater) for assignment in decided))
        if approve:
            respond(
                text=localize("reviews.peers_approved", peers=peers, person=mention(subject)), replace_original=True
            )
            after_ack(context, "review peers", messenger.send_requests)
        else:
            respond(text=localize("reviews.peers_declined", person=mention(subject)), replace_original=True)

    return handle


handle_approve_peers = _decide(True)
handle_decline_peers = _decide(False)


def handle_record(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext) -> None:
    ack()
    services, user, messenger = services_of(context), access_of(context).user, reviews_of(context)
    try:
        interview, cycle = use.interview(services.engine, interview_id=button_id(button_value(body)), user=user)
        if user == interview.subject:
            raise ReviewError(reason="not_yours")
    except ReviewError as error:
        _refused(respond, context, error)
        return
    view = interview_modal(messenger, interview, cycle, language=messenger.language(user))
    client.views_open(trigger_id=body["trigger_id"], view=view)


def handle_confirm(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    services, user, messenger = services_of(context), access_of(context).user, reviews_of(context)
    try:
        interview = use.confirm_interview(
            services.engine, interview_id=button_id(button_value(body)), user=user, now=services.clock()
        )
        _, cycle = use.interview(services.engine, interview_id=interview.id or 0, user=user)
    except ReviewError as error:
        _refused(respond, context, error)
        return
    respond(
        text=message_localizer(context)("reviews.confirmed", person=mention(interview.subject)), replace_original=True
    )
    after_ack(context, "interview confirmation", lambda: messenger.after_record(interview, cycle))


def handle_acknowledge(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    services, user = services_of(context), access_of(context).user
    try:
        use.acknowledge_interview(
            services.engine, interview_id=button_id(button_value(body)), user=user, now=services.clock()
        )
    except ReviewError as error:
        _refused(respond, context, error)
        return
    respond(text=message_localizer(context)("reviews.acknowledged"), replace_original=True)
