"""Submitted year plan modals (issue 12): a proposal (stored, then sent to every other member of
management and the admins with Approve / Reject), and a rejection with its reason."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext

from bot.listeners.context import access_of, localizer, reviews_of, services_of
from bot.listeners.views.submissions import view_key
from bot.plan_forms import parse_plan, parse_reject
from bot.plan_messages import PlanMessenger
from bot.plan_views import REASON, TOTAL
from kpi_core.annual_plan import YearPlan
from kpi_core.plan_approval import PlanRefused, decide_plan, propose_plan
from kpi_core.plan_models import AnnualPlan


def messenger(context: BoltContext) -> PlanMessenger:
    """The plan's DMs go through the review messenger's sender: the process's one delivery ledger sender."""
    return PlanMessenger(services_of(context), reviews_of(context).sender)


def decide(
    context: BoltContext, *, plan_id: int, approve: bool, reason: str | None
) -> tuple[AnnualPlan, YearPlan | None]:
    """The clicking or submitting user's decision on a proposal (PlanRefused when they may not take it)."""
    services = services_of(context)
    return decide_plan(
        services.engine,
        config=services.config,
        plan_id=plan_id,
        user=access_of(context).user,
        approve=approve,
        reason=reason,
        now=services.clock(),
    )


def handle_plan(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    services, access, localize = services_of(context), access_of(context), localizer(context)
    config, now = services.config, services.clock()
    parsed, errors = parse_plan(view, config=config, now=now, localize=localize)
    if parsed is None:
        ack(response_action="errors", errors=errors)
        return
    try:
        proposed = propose_plan(
            services.engine,
            config=config,
            user=access.user,
            team=parsed.team,
            kpi=parsed.kpi,
            year=parsed.year,
            total=parsed.total,
            months=parsed.months,
            request_key=view_key(view),
            now=now,
        )
    except PlanRefused:  # removed from management since the modal opened
        ack(response_action="errors", errors={TOTAL: localize("plans.not_allowed")})
        return
    ack()
    if proposed is None:  # a retry of a proposal stored already: its messages went out the first time
        return
    messenger(context).ask_approval(*proposed)


def handle_reject(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    localize = localizer(context)
    parsed, errors = parse_reject(view, localize=localize)
    if parsed is None:
        ack(response_action="errors", errors=errors)
        return
    plan_id, reason = parsed
    try:
        row, before = decide(context, plan_id=plan_id, approve=False, reason=reason)
    except PlanRefused as refusal:
        ack(response_action="errors", errors={REASON: localize(f"plans.{refusal.reason}")})
        return
    ack()
    messenger(context).tell_decision(row, before)
