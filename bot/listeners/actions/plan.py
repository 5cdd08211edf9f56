"""The Approve / Reject buttons of a proposed year plan (issue 12): management and admins other than the
proposer decide; anyone else, the proposer, or a click on a plan decided already is told so ephemerally
and nothing changes."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.listeners.context import access_of, message_localizer, services_of
from bot.listeners.views.plan import decide, messenger
from bot.plan_forms import plan_id_of
from bot.plan_views import reject_modal
from kpi_core.plan_approval import PlanRefused, may_plan, pending_plan


def handle_approve(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    access, localize = access_of(context), message_localizer(context)
    plan_id = plan_id_of(body["actions"][0].get("value"))
    try:
        if plan_id is None:
            raise PlanRefused("decided")
        row, before = decide(context, plan_id=plan_id, approve=True, reason=None)
    except PlanRefused as refusal:
        respond(text=localize(f"plans.{refusal.reason}"), replace_original=False)
        return
    plans = messenger(context)
    respond(text=plans.decision_note(row, before, access.language), replace_original=False)
    plans.tell_decision(row, before)


def handle_reject_open(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    """Opens the reject modal (a reason is required) for someone who may reject this proposal."""
    ack()
    services, access, localize = services_of(context), access_of(context), message_localizer(context)
    plan_id = plan_id_of(body["actions"][0].get("value"))
    row = pending_plan(services.engine, plan_id=plan_id) if plan_id is not None else None
    refusal = None
    if not may_plan(services.config, access.user):
        refusal = "not_planner"
    elif row is None or row.state != "proposed":
        refusal = "decided"
    elif row.proposed_by == access.user:
        refusal = "own_proposal"
    if refusal is not None or row is None:
        respond(text=localize(f"plans.{refusal or 'decided'}"), replace_original=False)
        return
    client.views_open(trigger_id=body["trigger_id"], view=reject_modal(services, access.language, row=row))
