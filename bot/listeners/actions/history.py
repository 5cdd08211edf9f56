"""Buttons on ``/kpi history`` and ``/kpi undo``: withdraw a submission, or correct one (reopen its form)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.listeners.context import access_of, localizer, services_of
from bot.modals import form_modal
from kpi_core.db import transaction
from kpi_core.models import Submission
from kpi_core.periods import Period
from kpi_core.store import measures_of, withdraw_submission


def _submission_id(body: dict[str, Any]) -> int:
    return int(body["actions"][0]["value"])


def handle_withdraw(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    services, access, localize = services_of(context), access_of(context), localizer(context)
    with transaction(services.engine) as session:
        submission = session.get(Submission, _submission_id(body))
        if submission is None or submission.team is None or not access.may_submit(submission.team):
            respond(text=localize("refused_submit", team=getattr(submission, "team", "-")), replace_original=False)
            return
        if submission.withdrawn_at is not None:
            respond(text=localize("errors.gone"), replace_original=False)
            return
        rows = withdraw_submission(session, submission=submission, user=access.user, now=services.clock())
        team, what = submission.team, f"#{submission.id} {submission.team} {submission.kind}"
    respond(text=localize("withdrawn", what=what, rows=rows), replace_original=True)
    alerting = context.get("alerting")
    if alerting is not None:  # the withdrawn rows no longer count: a KPI or case alert may recover
        alerting.check(teams=[team])


def handle_correct(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext) -> None:
    ack()
    services, access, localize = services_of(context), access_of(context), localizer(context)
    with transaction(services.engine) as session:
        submission = session.get(Submission, _submission_id(body))
        allowed = submission is not None and submission.team is not None and access.may_submit(submission.team)
        rows = measures_of(session, submission_id=submission.id or 0) if allowed and submission else []
    if submission is None or not allowed:
        respond(text=localize("refused_submit", team=getattr(submission, "team", "-")), replace_original=False)
        return
    form = services.config.form_by_key.get(submission.source.removeprefix("slack:"))
    if form is None or not rows:  # withdrawn, or every value replaced since: say so rather than do nothing
        respond(text=localize("errors.gone"), replace_original=False)
        return
    period = Period.containing(form.period, rows[0].on_date)
    initial = {row.measure: row.value for row in rows}
    view = form_modal(services, access, form, team=submission.team, period=period, initial=initial)
    client.views_open(trigger_id=body["trigger_id"], view=view)
