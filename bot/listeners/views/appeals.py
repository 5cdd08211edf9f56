"""Submitted appeal modals: the appeal itself (item, reason, evidence links) and a decision (its reason,
an upheld appeal's corrected value). Field errors go back on their input; a refusal no field explains
(the window closed meanwhile, someone else decided first) turns the modal into a notice, nothing stored."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.appeal_forms import DECISIONS, decision_of, parse_appeal, parse_decision
from bot.forms import State
from bot.listeners.context import (
    access_of,
    after_ack,
    appeal_refusal,
    appeals_of,
    localizer,
    message_localizer,
    services_of,
)
from bot.listeners.views.submissions import view_key
from bot.modals import notice_modal
from bot.review_forms import metadata_id
from kpi_core import appeal_use_cases as use
from kpi_core.errors import AppealError

#: refusals that a field explains
_FIELD_OF = {
    "unknown_item": "item",
    "bad_link": "evidence",
    "reason_required": "reason",
    "value_required": "corrected_value",
}


def _refuse(ack: Ack, context: BoltContext, error: AppealError, *, fields: set[str]) -> None:
    field = _FIELD_OF.get(error.reason)
    if field in fields:
        ack(response_action="errors", errors={field: appeal_refusal(context, error)})
        return
    notice = notice_modal(
        services_of(context), access_of(context), title_key="appeals.title", text=appeal_refusal(context, error)
    )
    ack(response_action="update", view=notice)


def _thank(client: WebClient, context: BoltContext, key: str, **params: Any) -> None:
    client.chat_postMessage(channel=access_of(context).user, text=message_localizer(context)(key, **params))


def handle_appeal(ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    services, user, messenger = services_of(context), access_of(context).user, appeals_of(context)
    answer = State(view).metadata.get("answer")
    answer = answer if isinstance(answer, str) else ""
    fields = {"item", "reason", "evidence"}
    try:
        result = messenger.result_to_answer(answer, user)
    except AppealError as error:
        _refuse(ack, context, error, fields=fields)
        return
    parsed, errors = parse_appeal(view, items=list(result.items), localize=localizer(context))
    if parsed is None:
        ack(response_action="errors", errors=errors)
        return
    try:
        appeal = use.submit(
            services.engine,
            config=services.config,
            request_key=view_key(view),
            period_label=result.period,
            subject_kind=result.subject_kind,
            subject=result.subject,
            item=parsed.item,
            reason=parsed.reason,
            evidence=parsed.evidence,
            user=user,
            now=services.clock(),
        )
    except AppealError as error:
        _refuse(ack, context, error, fields=fields)
        return
    ack()
    if appeal is None:  # a retry of a request already stored and thanked for
        return
    _thank(client, context, "appeals.submitted", period=result.period)
    after_ack(context, "appeal", lambda: messenger.after_appeal(appeal))


def handle_decision(ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    services, user, messenger = services_of(context), access_of(context).user, appeals_of(context)
    state = State(view)
    decision, appeal_id = decision_of(state), metadata_id(state, "appeal")
    fields = {"reason", "corrected_value"} if decision == "uphold" else {"reason"}
    try:
        use.appeal_for_decider(
            services.engine, config=services.config, appeal_id=appeal_id, to=DECISIONS.get(decision, ""), user=user
        )
    except AppealError as error:
        _refuse(ack, context, error, fields=set())
        return
    parsed, errors = parse_decision(view, decision=decision, localize=localizer(context))
    if parsed is None:
        ack(response_action="errors", errors=errors)
        return
    try:
        decided = use.decide(
            services.engine,
            config=services.config,
            request_key=view_key(view),
            appeal_id=appeal_id,
            to=DECISIONS[decision],
            reason=parsed.reason,
            user=user,
            now=services.clock(),
            corrected_value=parsed.corrected_value,
        )
    except AppealError as error:
        _refuse(ack, context, error, fields=fields)
        return
    ack()
    if decided is None:
        return
    appeal = decided.appeal
    _thank(client, context, f"appeals.decided_{appeal.state}", period=appeal.period_label)
    after_ack(context, "appeal decision", lambda: messenger.after_decision(appeal))
