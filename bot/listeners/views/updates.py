"""Closing open items without retyping them: a case's response or resolution, a milestone's completion."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.forms import State, parse_case_update, parse_milestone_completion
from bot.listeners.context import access_of, localizer, services_of
from bot.listeners.views.submissions import acknowledge, refusing_closed, view_key
from kpi_core import use_cases
from kpi_core.alert_sweep import Change


def _selected_id(view: dict[str, Any], block_id: str) -> int | None:
    selected = State(view).selected(block_id)
    return int(selected) if selected and selected.isdigit() else None


def handle_case_update(ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    services, access = services_of(context), access_of(context)
    now = services.clock()
    localize = localizer(context)
    stored = None
    case = use_cases.open_case(services.engine, case_id=_selected_id(view, "case"), teams=access.submit_teams)
    parsed, errors = parse_case_update(view, case=case, config=services.config, now=now, localize=localize)
    if case is not None and case.id is not None and parsed is not None and not errors:
        first_response_at, resolved_at = parsed
        case_id = case.id
        updated, errors = refusing_closed(
            context,
            "first_response_at",
            lambda: use_cases.update_case(
                services.engine,
                request_key=view_key(view),
                case_id=case_id,
                teams=access.submit_teams,
                first_response_at=first_response_at,
                resolved_at=resolved_at,
                user=access.user,
                now=now,
            ),
        )
        stored = None if updated is None else f"{case.team} #{case.id}"
    change = Change(case.team, case_kinds=frozenset({case.kind})) if case else None
    acknowledge(ack, client, context, errors, stored, change=change)


def handle_milestone_completion(ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    services, access = services_of(context), access_of(context)
    now = services.clock()
    stored = None
    milestone = use_cases.open_milestone(
        services.engine, milestone_id=_selected_id(view, "milestone"), teams=access.submit_teams
    )
    today = now.astimezone(services.config.team(milestone.team).tz).date() if milestone else now.date()
    parsed, errors = parse_milestone_completion(
        view, exists=milestone is not None, today=today, config=services.config, localize=localizer(context)
    )
    if milestone is not None and milestone.id is not None and parsed is not None:
        completed_on, actual_cost = parsed
        milestone_id = milestone.id
        completed, errors = refusing_closed(
            context,
            "completed_on",
            lambda: use_cases.complete_milestone(
                services.engine,
                request_key=view_key(view),
                milestone_id=milestone_id,
                teams=access.submit_teams,
                completed_on=completed_on,
                actual_cost=actual_cost,
                user=access.user,
                now=now,
            ),
        )
        stored = None if completed is None else f"{milestone.team} {milestone.project} · {milestone.name}"
    change = Change(milestone.team, milestones=True) if milestone else None
    acknowledge(ack, client, context, errors, stored, change=change)
