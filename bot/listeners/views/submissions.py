"""Submitted forms: validate (field errors back on the right block), store once, confirm by DM."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from sqlmodel import Session

from bot.forms import (
    CaseInput,
    Errors,
    MilestoneInput,
    State,
    SurveyInput,
    parse_case,
    parse_confirm_replace,
    parse_measures,
    parse_milestone,
    parse_survey,
)
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
    services = services_of(context)
    # every rule is applied again: the metadata came back from the client and may have been edited
    parsed, errors = parse_confirm_replace(
        view, config=services.config, access=access_of(context), now=services.clock(), localize=localizer(context)
    )
    if parsed is None:
        acknowledge(ack, client, context, errors, None)
        return
    form, measures = parsed
    what = _store_measures(context, view, form, measures.team, measures.period, measures.values)
    acknowledge(ack, client, context, {}, what, team=measures.team)


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


def _form_handler(parse: Callable[..., tuple[Any, Errors]], write: Callable[[Session, Any, str, datetime], str]) -> Any:
    """A view listener for a form stored as one new submission: parse and validate, store once, thank."""

    def handle(ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        services, access = services_of(context), access_of(context)
        parsed, errors = parse(
            view, config=services.config, access=access, now=services.clock(), localize=localizer(context)
        )
        stored = None
        if parsed is not None:
            stored = store_once(context, view, lambda session: write(session, parsed, access.user, services.clock()))
        acknowledge(ack, client, context, errors, stored, team=parsed.team if parsed else None)

    return handle


def _write_survey(session: Session, survey: SurveyInput, user: str, now: datetime) -> str:
    submit_survey(session, team=survey.team, scores=survey.scores, submitted_at=survey.submitted_at, user=user, now=now)
    return f"{survey.team}, {len(survey.scores)}"


def _write_case(session: Session, case: CaseInput, user: str, now: datetime) -> str:
    stored = record_case(
        session,
        team=case.team,
        kind=case.kind,
        raised_at=case.raised_at,
        first_response_at=case.first_response_at,
        resolved_at=case.resolved_at,
        user=user,
        now=now,
    )
    return f"{case.team} #{stored.id}"


def _write_milestone(session: Session, milestone: MilestoneInput, user: str, now: datetime) -> str:
    stored = record_milestone(
        session,
        team=milestone.team,
        project=milestone.project,
        name=milestone.name,
        due_on=milestone.due_on,
        completed_on=milestone.completed_on,
        budget=milestone.budget,
        actual_cost=milestone.actual_cost,
        user=user,
        now=now,
    )
    return f"{milestone.team} {milestone.project} · {milestone.name} #{stored.id}"


handle_survey = _form_handler(parse_survey, _write_survey)
handle_case = _form_handler(parse_case, _write_case)
handle_milestone = _form_handler(parse_milestone, _write_milestone)
