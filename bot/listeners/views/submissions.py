"""Submitted forms: validate (field errors back on the right block), store once, confirm by DM."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.forms import (
    PERIOD,
    CaseInput,
    Errors,
    MeasuresInput,
    MilestoneInput,
    State,
    SurveyInput,
    parse_case,
    parse_confirm_replace,
    parse_measures,
    parse_milestone,
    parse_survey,
)
from bot.listeners.context import (
    access_of,
    after_ack,
    check_alerts,
    localizer,
    message_localizer,
    services_of,
    verification_of,
)
from bot.modals import confirm_replace_modal, notice_modal
from bot.services import Services
from kpi_core import use_cases
from kpi_core.alert_sweep import Change
from kpi_core.errors import PeriodCloseError
from kpi_core.verification import is_on

T = TypeVar("T")


def view_key(view: dict[str, Any]) -> str:
    """The same view submitted twice (double click, retry) carries the same id and hash."""
    return f"view:{view['id']}:{view.get('hash', '')}"


def refusing_closed(context: BoltContext, block_id: str, write: Callable[[], T]) -> tuple[T | None, Errors]:
    """Runs ``write``; one dated inside a closed period stores nothing and becomes ``block_id``'s field error."""
    try:
        return write(), {}
    except PeriodCloseError as error:
        return None, {block_id: localizer(context)("period_close.write_refused", period=error.period)}


def acknowledge(
    ack: Ack,
    client: WebClient,
    context: BoltContext,
    errors: Errors,
    stored: str | None,
    *,
    change: Change | None = None,
) -> None:
    """Closes the modal (or shows the field errors), thanks the user by DM, then queues the alerts the
    write (``change``) can have changed (when the app runs with alerting), posted right after it."""
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()
    if stored is not None:
        client.chat_postMessage(channel=access_of(context).user, text=message_localizer(context)("stored", what=stored))
        check_alerts(context, change)


def handle_measures(ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    services, access = services_of(context), access_of(context)
    parsed, errors = parse_measures(
        view, config=services.config, access=access, now=services.clock(), localize=localizer(context)
    )
    if parsed is None:
        acknowledge(ack, client, context, errors, None)
        return
    form = services.config.form_by_key[State(view).metadata["form"]]
    # only the same person's values (or, for none, the team's own) are replaced: others' stay
    stored = use_cases.stored_measures(
        services.engine, team=parsed.team, period=parsed.period, measures=list(parsed.values), person=parsed.person
    )
    if stored:
        modal = confirm_replace_modal(
            services,
            access,
            form=form,
            team=parsed.team,
            period=parsed.period,
            values=parsed.values,
            stored=stored,
            person=parsed.person,
        )
        ack(response_action="update", view=modal)
        return
    what, errors = refusing_closed(context, PERIOD, lambda: _store_measures(context, view, form.key, parsed))
    acknowledge(ack, client, context, errors, what, change=Change(parsed.team, measures=frozenset(parsed.values)))


def handle_confirm_replace(ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    services, access = services_of(context), access_of(context)
    # every rule is applied again: the metadata came back from the client and may have been edited
    parsed, errors = parse_confirm_replace(
        view, config=services.config, access=access, now=services.clock(), localize=localizer(context)
    )
    if parsed is None:
        # Slack shows field errors on input blocks only, and the confirmation has none: the modal itself
        # turns into the message, and nothing is stored
        notice = notice_modal(services, access, title_key="replace_title", text=next(iter(errors.values())))
        ack(response_action="update", view=notice)
        return
    form, measures = parsed
    what, refused = refusing_closed(context, PERIOD, lambda: _store_measures(context, view, form, measures))
    if refused:  # the period was closed while the confirmation was open
        notice = notice_modal(services, access, title_key="replace_title", text=refused[PERIOD])
        ack(response_action="update", view=notice)
        return
    acknowledge(ack, client, context, {}, what, change=Change(measures.team, measures=frozenset(measures.values)))


def _store_measures(context: BoltContext, view: dict[str, Any], form: str, measures: MeasuresInput) -> str | None:
    services, access = services_of(context), access_of(context)
    submission = use_cases.submit_measures(
        services.engine,
        request_key=view_key(view),
        team=measures.team,
        form=form,
        period=measures.period,
        values=measures.values,
        user=access.user,
        now=services.clock(),
        person=measures.person,
    )
    if submission is None:
        return None
    if is_on(services.config):  # a correction answers the queries on the values it replaced: tell their threads
        after_ack(context, "verification", lambda: verification_of(context).tell_corrected(submission))
    person = services.config.person_by_user.get(measures.person or "")
    whose = f"{measures.team} ({person.name or person.user})" if person is not None else measures.team
    return f"{whose} {measures.period.label}, {len(measures.values)}"


Write = Callable[..., str | None]  # (services, parsed input, request_key=, user=, now=) -> what was stored
Touched = Callable[[Any], Change]  # parsed input -> what its write changes (for the alerts)


def _form_handler(parse: Callable[..., tuple[Any, Errors]], write: Write, touched: Touched, dated_by: str) -> Any:
    """A view listener for a form stored as one new submission: parse and validate, store once, thank;
    ``dated_by`` is the block whose date a closed period refuses."""

    def handle(ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        services, access = services_of(context), access_of(context)
        parsed, errors = parse(
            view, config=services.config, access=access, now=services.clock(), localize=localizer(context)
        )
        stored = None
        if parsed is not None:
            stored, errors = refusing_closed(
                context,
                dated_by,
                lambda: write(services, parsed, request_key=view_key(view), user=access.user, now=services.clock()),
            )
        acknowledge(ack, client, context, errors, stored, change=touched(parsed) if parsed else None)

    return handle


def _write_survey(services: Services, survey: SurveyInput, *, request_key: str, user: str, now: datetime) -> str | None:
    stored = use_cases.submit_survey(
        services.engine,
        request_key=request_key,
        team=survey.team,
        scores=survey.scores,
        submitted_at=survey.submitted_at,
        user=user,
        now=now,
    )
    return None if stored is None else f"{survey.team}, {len(survey.scores)}"


def _write_case(services: Services, case: CaseInput, *, request_key: str, user: str, now: datetime) -> str | None:
    stored = use_cases.record_case(
        services.engine,
        request_key=request_key,
        team=case.team,
        kind=case.kind,
        raised_at=case.raised_at,
        first_response_at=case.first_response_at,
        resolved_at=case.resolved_at,
        user=user,
        now=now,
        person=case.person,
    )
    return None if stored is None else f"{case.team} #{stored.id}"


def _write_milestone(
    services: Services, milestone: MilestoneInput, *, request_key: str, user: str, now: datetime
) -> str | None:
    stored = use_cases.record_milestone(
        services.engine,
        request_key=request_key,
        team=milestone.team,
        project=milestone.project,
        name=milestone.name,
        due_on=milestone.due_on,
        completed_on=milestone.completed_on,
        budget=milestone.budget,
        actual_cost=milestone.actual_cost,
        user=user,
        now=now,
        person=milestone.person,
    )
    return None if stored is None else f"{milestone.team} {milestone.project} · {milestone.name} #{stored.id}"


handle_survey = _form_handler(
    parse_survey, _write_survey, lambda survey: Change(survey.team, surveys=True), dated_by="survey_date"
)
handle_case = _form_handler(
    parse_case, _write_case, lambda case: Change(case.team, case_kinds=frozenset({case.kind})), dated_by="raised_at"
)
handle_milestone = _form_handler(
    parse_milestone, _write_milestone, lambda milestone: Change(milestone.team, milestones=True), dated_by="due_on"
)
