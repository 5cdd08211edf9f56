"""Submitted forms: validate (field errors back on the right block), store once, confirm by DM."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from sqlmodel import Session

from bot.forms import Errors, State, parse_case, parse_measures, parse_milestone, parse_survey
from bot.listeners.context import access_of, localizer, services_of
from bot.modals import confirm_replace_modal
from kpi_core.db import transaction
from kpi_core.periods import Period
from kpi_core.store import (
    claim_request,
    record_case,
    record_milestone,
    stored_measures,
    submit_measures,
    submit_survey,
)


def view_key(view: dict[str, Any]) -> str:
    """The same view submitted twice (double click, retry) carries the same id and hash."""
    return f"view:{view['id']}:{view.get('hash', '')}"


def store_once(context: BoltContext, view: dict[str, Any], write: Callable[[Session], str]) -> str | None:
    """Runs ``write`` and claims the view in one transaction; None when the view was stored already."""
    services = services_of(context)
    with transaction(services.engine) as session:
        if not claim_request(session, key=view_key(view), now=services.clock()):
            return None
        return write(session)


def acknowledge(
    ack: Ack, client: WebClient, context: BoltContext, errors: Errors, stored: str | None, *, team: str | None = None
) -> None:
    """Closes the modal (or shows the field errors), thanks the user by DM, then checks ``team``'s alert
    thresholds (when the app runs with alerting) so a breach is posted right after the write."""
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()
    if stored is not None:
        client.chat_postMessage(channel=access_of(context).user, text=localizer(context)("stored", what=stored))
        alerting = context.get("alerting")
        if alerting is not None and team is not None:
            alerting.check(teams=[team])


def handle_measures(ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    services, access = services_of(context), access_of(context)
    parsed, errors = parse_measures(
        view, config=services.config, access=access, now=services.clock(), localize=localizer(context)
    )
    if parsed is None:
        acknowledge(ack, client, context, errors, None)
        return
    form = services.config.form_by_key[State(view).metadata["form"]]
    with transaction(services.engine) as session:
        stored = stored_measures(session, team=parsed.team, period=parsed.period, measures=list(parsed.values))
    if stored:
        modal = confirm_replace_modal(
            services,
            access,
            form=form,
            team=parsed.team,
            period=parsed.period,
            values=parsed.values,
            stored=stored,
        )
        ack(response_action="update", view=modal)
        return
    what = _store_measures(context, view, form.key, parsed.team, parsed.period, parsed.values)
    acknowledge(ack, client, context, {}, what, team=parsed.team)


def handle_confirm_replace(ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    access = access_of(context)
    metadata = State(view).metadata
    if not access.may_submit(metadata["team"]):  # roles are checked again: the modal is only a UI
        ack(response_action="errors", errors={"replace": localizer(context)("errors.not_yours")})
        return
    values = {key: float(value) for key, value in metadata["values"].items()}
    what = _store_measures(context, view, metadata["form"], metadata["team"], Period.parse(metadata["period"]), values)
    acknowledge(ack, client, context, {}, what, team=metadata["team"])


def _store_measures(
    context: BoltContext, view: dict[str, Any], form: str, team: str, period: Period, values: dict[str, float]
) -> str | None:
    services, access = services_of(context), access_of(context)

    def write(session: Session) -> str:
        submit_measures(
            session,
            team=team,
            form=form,
            period=period,
            values=values,
            user=access.user,
            now=services.clock(),
        )
        return f"{team} {period.label}, {len(values)}"

    return store_once(context, view, write)


def handle_survey(ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    services, access = services_of(context), access_of(context)
    parsed, errors = parse_survey(
        view, config=services.config, access=access, now=services.clock(), localize=localizer(context)
    )
    stored = None
    if parsed is not None:

        def write(session: Session) -> str:
            submit_survey(
                session,
                team=parsed.team,
                scores=parsed.scores,
                submitted_at=parsed.submitted_at,
                user=access.user,
                now=services.clock(),
            )
            return f"{parsed.team}, {len(parsed.scores)}"

        stored = store_once(context, view, write)
    acknowledge(ack, client, context, errors, stored, team=parsed.team if parsed else None)


def handle_case(ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    services, access = services_of(context), access_of(context)
    parsed, errors = parse_case(
        view, config=services.config, access=access, now=services.clock(), localize=localizer(context)
    )
    stored = None
    if parsed is not None:

        def write(session: Session) -> str:
            case = record_case(
                session,
                team=parsed.team,
                kind=parsed.kind,
                raised_at=parsed.raised_at,
                first_response_at=parsed.first_response_at,
                resolved_at=parsed.resolved_at,
                user=access.user,
                now=services.clock(),
            )
            return f"{parsed.team} #{case.id}"

        stored = store_once(context, view, write)
    acknowledge(ack, client, context, errors, stored, team=parsed.team if parsed else None)


def handle_milestone(ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    services, access = services_of(context), access_of(context)
    parsed, errors = parse_milestone(
        view, config=services.config, access=access, now=services.clock(), localize=localizer(context)
    )
    stored = None
    if parsed is not None:

        def write(session: Session) -> str:
            milestone = record_milestone(
                session,
                team=parsed.team,
                project=parsed.project,
                name=parsed.name,
                due_on=parsed.due_on,
                completed_on=parsed.completed_on,
                budget=parsed.budget,
                actual_cost=parsed.actual_cost,
                user=access.user,
                now=services.clock(),
            )
            return f"{parsed.team} {parsed.project} · {parsed.name} #{milestone.id}"

        stored = store_once(context, view, write)
    acknowledge(ack, client, context, errors, stored, team=parsed.team if parsed else None)
