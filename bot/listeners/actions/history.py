"""Buttons on ``/kpi history`` and ``/kpi undo``: withdraw a submission, or correct one (reopen its form)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.listeners.actions.clicked import clicked_id
from bot.listeners.context import access_of, check_alerts, message_localizer, services_of
from bot.modals import form_modal
from kpi_core import use_cases
from kpi_core.alert_sweep import change_of_submission
from kpi_core.periods import Period


def handle_withdraw(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    services, access, localize = services_of(context), access_of(context), message_localizer(context)
    withdrawal = use_cases.withdraw_submission(
        services.engine,
        submission_id=clicked_id(body),
        teams=access.submit_teams,
        user=access.user,
        now=services.clock(),
    )
    submission = withdrawal.submission
    if withdrawal.outcome == "refused":
        respond(text=localize("refused_submit", team=getattr(submission, "team", "-")), replace_original=False)
        return
    if withdrawal.outcome == "gone" or submission is None or submission.team is None:
        respond(text=localize("errors.gone"), replace_original=False)
        return
    what = f"#{submission.id} {submission.team} {submission.kind}"
    respond(text=localize("withdrawn", what=what, rows=withdrawal.rows), replace_original=True)
    # the withdrawn rows no longer count: an alert may recover
    check_alerts(context, change_of_submission(services.config, submission))


def handle_correct(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext) -> None:
    ack()
    services, access, localize = services_of(context), access_of(context), message_localizer(context)
    submission, rows = use_cases.submission_with_measures(services.engine, submission_id=clicked_id(body))
    if submission is None or submission.team is None or not access.may_submit(submission.team):
        respond(text=localize("refused_submit", team=getattr(submission, "team", "-")), replace_original=False)
        return
    form = services.config.form_by_key.get(submission.form or "")
    if form is None or not rows:  # withdrawn, or every value replaced since: say so rather than do nothing
        respond(text=localize("errors.gone"), replace_original=False)
        return
    period = Period.containing(form.period, rows[0].on_date)
    initial = {row.measure: row.value for row in rows}
    # a submission's values are all recorded for one person (or the team itself): the correction keeps them so
    person = rows[0].person
    view = form_modal(services, access, form, team=submission.team, period=period, initial=initial, person=person)
    client.views_open(trigger_id=body["trigger_id"], view=view)
