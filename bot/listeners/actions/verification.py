"""The Verify / Query buttons of a verifier's list: Verify moves the submission to verified at once; Query
opens the question modal. Anyone but a verifier, and a verifier on their own submission, is refused."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.listeners.actions.reviews import button_value
from bot.listeners.context import access_of, message_localizer, services_of, verification_of
from bot.mrkdwn import mention
from bot.verification import Where, clicked
from kpi_core import verification_use_cases as use
from kpi_core.verification_models import NOTE_CHARS


def handle_verify(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    services, access, localize = services_of(context), access_of(context), message_localizer(context)
    submission_id, listed = clicked(button_value(body))
    step = use.verify_submission(
        services.engine, config=services.config, submission_id=submission_id, user=access.user, now=services.clock()
    )
    # the list clicked shows the item verified (and by whom) in place of its buttons
    if (
        step.outcome == "done"
        and listed is not None
        and verification_of(context).redraw(Where.of(body), listed, verifier=access.user, language=access.language)
    ):
        return
    respond(
        text=localize(f"verification.{step.outcome}", id=submission_id, user=mention(access.user)),
        replace_original=False,
    )


def handle_query_open(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    """Opens the question modal, after the same checks the submission makes (they are made again there)."""
    ack()
    services, access, localize = services_of(context), access_of(context), message_localizer(context)
    value = button_value(body)
    submission_id, listed = clicked(value)
    step = use.may_query(services.engine, config=services.config, submission_id=submission_id, user=access.user)
    if step.outcome != "done":
        respond(text=localize(f"verification.{step.outcome}", id=submission_id), replace_original=False)
        return
    held = use.holding_of(services.engine, config=services.config, submission_id=submission_id)
    what = verification_of(context).item_text(held, access.language) if held is not None else f"#{submission_id}"
    view = services.renderer.view(
        "verification_query",
        language=access.language,
        # the list clicked, redrawn once the question is sent (bot.verification.Where, Listed)
        metadata={"submission": submission_id} | ({"list": value} | Where.of(body).metadata() if listed else {}),
        what=what,
        max_chars=NOTE_CHARS,
    )
    client.views_open(trigger_id=body["trigger_id"], view=view)
