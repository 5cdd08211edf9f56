"""A verifier's question about a submission: validated (required, its length, no control characters),
stored once (view id + hash) as the query, then sent to the lead in a conversation of its own."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext

from bot.forms import Errors, State
from bot.listeners.context import access_of, localizer, services_of, verification_of
from bot.listeners.views.submissions import view_key
from bot.mrkdwn import Mrkdwn, mention
from bot.review_forms import long_text
from bot.verification import Where, clicked
from kpi_core import verification_use_cases as use
from kpi_core.verification_models import NOTE_CHARS

FIELD = "question"  # where a refusal is shown: field errors go on input blocks only
_MAX_ID = 2**63 - 1


def handle_query(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    services, access, localize = services_of(context), access_of(context), localizer(context)
    state = State(view)
    submission_id = state.metadata.get("submission")
    if not isinstance(submission_id, int) or isinstance(submission_id, bool) or not 0 < submission_id <= _MAX_ID:
        ack(response_action="errors", errors={FIELD: localize("verification.gone", id="-")})
        return
    errors: Errors = {}
    question = long_text(state, errors, localize, FIELD, required=True, maximum=NOTE_CHARS)
    if errors or question is None:
        ack(response_action="errors", errors=errors)
        return
    step = use.query_submission(
        services.engine,
        config=services.config,
        request_key=view_key(view),
        submission_id=submission_id,
        user=access.user,
        question=question,
        now=services.clock(),
    )
    if step is None:  # the same submission of the modal, stored already (a double click, a retry)
        ack()
        return
    if step.outcome != "done":
        ack(response_action="errors", errors={FIELD: localize(f"verification.{step.outcome}", id=submission_id)})
        return
    ack()
    assert step.submission is not None and step.verification is not None  # a query that was stored
    messenger = verification_of(context)
    leads = messenger.send_query(step.submission, step.verification)
    told = services.renderer.mrkdwn(
        "verification.query_sent",
        access.language,
        id=submission_id,
        leads=Mrkdwn(" ".join(mention(lead) for lead in leads)),
    )
    messenger.sender.client.chat_postMessage(channel=access.user, text=told)
    _, listed = clicked(state.metadata.get("list"))
    if listed is not None:  # the list the Query was clicked in shows the item queried, by whom
        messenger.redraw(Where.from_metadata(state.metadata), listed, verifier=access.user, language=access.language)
