"""Buttons on ``/kpi history`` and ``/kpi undo``: withdraw a submission, or correct one (reopen its form)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient
from sqlmodel import Session

from bot.listeners.context import access_of, localizer, services_of
from bot.modals import form_modal
from kpi_core.db import transaction
from kpi_core.models import Submission
from kpi_core.periods import Period
from kpi_core.store import measures_of, withdraw_submission

#: Submission ids are 64-bit integers in the database: a larger number cannot name one (and SQLite and
#: psycopg would refuse to bind it).
_MAX_ID = 2**63 - 1


def _submission(session: Session, body: dict[str, Any]) -> Submission | None:
    """The submission a button names; None when its value (Slack echoes what we sent, or what a forger
    wrote) is not the id of one."""
    value = body["actions"][0].get("value")
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or int(value) > _MAX_ID:
        return None
    return session.get(Submission, int(value))


def handle_withdraw(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    services, access, localize = services_of(context), access_of(context), localizer(context)
    with transaction(services.engine) as session:
        submission = _submission(session, body)
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
        submission = _submission(session, body)
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
