"""What a user sees when KPI Bot fails to do what they asked, in one place for every kind of request.

A failure is either the database being unavailable (``StorageUnavailable``: the transaction stored nothing,
trying again later will work) or a bug (logged with its traceback, the admins told by DM). The answer goes
where the user is looking: in the ack while it is still ours to give (an ephemeral reply to a command,
a field error or an updated modal for a submission), else through response_url (commands, buttons in
messages), on the Home tab (app_home_opened), or by DM. ``handle_error`` is the Bolt app's error handler;
``answer_after_ack`` serves work the slow lane runs after the ack.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext, BoltResponse

from bot.render import text_blocks
from bot.services import Services
from kpi_core.access import Access
from kpi_core.config import Language
from kpi_core.errors import StorageUnavailable

logger = logging.getLogger(__name__)

NotifyAdmins = Callable[..., None]  # Sender.notify_admins(subject=, text=)
#: what a submitted modal keeps when shown again (the rest of the payload is Slack's state, not a view)
MODAL_FIELDS = ("type", "callback_id", "private_metadata", "title", "submit", "close")


class StickyAck(Ack):
    """An acknowledgement that, once given, stays given. When a listener fails after its ack, Bolt's
    ThreadListenerRunner (slack_bolt 1.30) sets ``ack.response`` back to None; a request thread that had
    not yet seen the ack then waits out Slack's 3 s and answers 404 "unhandled request" instead of the ack.
    ``bot/app.py`` puts one in every request's context."""

    _given: BoltResponse | None = None

    @property
    def response(self) -> BoltResponse | None:
        return self._given

    @response.setter
    def response(self, value: BoltResponse | None) -> None:
        if value is not None:
            self._given = value


def handle_error(error: Exception, body: dict[str, Any], context: BoltContext) -> BoltResponse | None:
    """The Bolt error handler: any listener's failure gets an answer; a BoltResponse replaces the ack
    when the listener failed before acknowledging."""
    text = _failure_text(error, context=context, what=_described(body))
    if context.ack.response is None:  # the listener never acked: the ack carries the answer
        answer = _ack_answer(body, text)
        if answer is not None:
            return BoltResponse(status=200, body=answer)
        _deliver(text, context=context, body=body)
        return BoltResponse(status=200, body="")
    _deliver(text, context=context, body=body)
    return None


def answer_after_ack(error: Exception, *, context: BoltContext, what: str) -> None:
    """Answers the failure of work done after the ack (a report, a scorecard) through response_url."""
    _deliver(_failure_text(error, context=context, what=what), context=context, body={})


def _failure_text(error: Exception, *, context: BoltContext, what: str) -> str:
    """Logs the failure, has the admins told of a bug, and returns what the user reads, in their language."""
    services: Services = context["services"]
    access: Access | None = context.get("access")
    language: Language = access.language if access is not None else "en"
    if isinstance(error, StorageUnavailable):
        logger.warning("%s of user %s failed: %s", what, context.user_id, error)
        return services.renderer.text("failures.unavailable", language)
    logger.error("%s of user %s failed", what, context.user_id, exc_info=error)
    notify: NotifyAdmins | None = context.get("notify_admins")
    if notify is not None:
        summary = f"{type(error).__name__}: {error}"[:300]
        subject = f"listener_error:{type(error).__name__}:{services.clock():%Y-%m-%dT%H}"  # one DM an hour
        text = f":warning: KPI Bot failed to answer {what} of <@{context.user_id}>: `{summary}` (traceback in the log)"
        # posting sleeps on rate limits: not before the ack, and not in the way of the answer to the user
        services.slow_lane.run(lambda: notify(subject=subject, text=text))
    return services.renderer.text("failures.unexpected", language)


def _ack_answer(body: dict[str, Any], text: str) -> dict[str, Any] | None:
    """The ack that says ``text``: ephemeral for a command; for a modal, a field error on its first input
    (the user keeps what they typed and submits again) or, without inputs, the modal again with ``text``
    on top; None for requests whose ack carries no message."""
    if "command" in body:
        return {"response_type": "ephemeral", "text": text}
    if body.get("type") != "view_submission":
        return None
    view: dict[str, Any] = body.get("view") or {}
    inputs = [block["block_id"] for block in view.get("blocks", []) if block.get("type") == "input"]
    inputs = inputs or list((view.get("state") or {}).get("values") or {})
    if inputs:
        return {"response_action": "errors", "errors": {inputs[0]: text}}
    shown = {key: view[key] for key in MODAL_FIELDS if key in view}
    return {"response_action": "update", "view": shown | {"blocks": text_blocks(text) + view.get("blocks", [])}}


def _deliver(text: str, *, context: BoltContext, body: dict[str, Any]) -> None:
    """Says ``text`` after the ack: through response_url when there is one, on the Home tab for a
    failed Home, else by DM; a modal that was acked already told the user what it stored."""
    if body.get("type") == "view_submission":
        return  # acked after its write: the user was told what was stored, and nothing of it is undone
    try:
        if context.respond is not None and context.respond.response_url:
            context.respond(text=text, response_type="ephemeral", replace_original=False)
        elif (body.get("event") or {}).get("type") == "app_home_opened" and context.user_id:
            context.client.views_publish(user_id=context.user_id, view={"type": "home", "blocks": text_blocks(text)})
        elif context.user_id:
            context.client.chat_postMessage(channel=context.user_id, text=text)
    except Exception:  # Slack failing too: the log is all that is left
        logger.exception("could not tell user %s of a failure", context.user_id)


def _described(body: dict[str, Any]) -> str:
    """The request in a few words, for the log and the admins: "/kpi report", "view submit_measures"."""
    if "command" in body:
        words = str(body.get("text") or "").split()
        return f"{body['command']} {words[0] if words else 'help'}"
    kind = str(body.get("type", "request"))
    if kind == "view_submission":
        return f"view {(body.get('view') or {}).get('callback_id')}"
    if kind == "block_actions":
        return f"button {(body.get('actions') or [{}])[0].get('action_id')}"
    if kind == "event_callback":
        return f"event {(body.get('event') or {}).get('type')}"
    return kind
