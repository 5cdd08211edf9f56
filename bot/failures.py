"""What a user sees when KPI Bot fails to do what they asked, in one place for every kind of request.

A failure is either the database being unavailable (``StorageUnavailable``: the transaction stored nothing,
trying again later works) or a bug (logged with its traceback, the admins told by DM). The answer goes
where the user is looking: in the ack while it is still ours to give (an ephemeral reply to a command; for
a modal a field error on its first input, so that what was typed stays, or a modal saying what happened),
else through response_url (commands, buttons in messages), on the Home tab, or by DM. ``handle_error``
is the Bolt app's error handler; ``answer_after_ack`` serves the work the slow lane runs after an ack.
Bodies may have shapes Slack never sends (a signed hostile request): nothing here trusts their shape.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext, BoltResponse

from bot.mrkdwn import escape, mention
from bot.render import message_parts
from bot.services import Services
from kpi_core.access import Access
from kpi_core.config import Language
from kpi_core.errors import StorageUnavailable

logger = logging.getLogger(__name__)

NotifyAdmins = Callable[..., None]  # Sender.notify_admins(subject=, text=)
ACK_SECONDS = 3.0  # Slack's wait for an ack, and Bolt's (a listener's ack_timeout): then Bolt answers empty


class StickyAck(Ack):
    """An acknowledgement that, once given, stays given. When a listener fails after its ack, Bolt's
    ThreadListenerRunner (slack_bolt 1.30) sets ``ack.response`` back to None; a request thread that had
    not yet seen the ack then waits out Slack's 3 s and answers 404 "unhandled request" instead of the ack.
    ``bot/app.py`` puts one in every request's context, so it also knows when the request arrived."""

    _given: BoltResponse | None = None

    def __init__(self) -> None:
        super().__init__()
        self.started = time.monotonic()

    @property
    def too_late(self) -> bool:
        """Whether Slack's 3 s have passed (Bolt has then answered the request with an empty 200)."""
        return time.monotonic() - self.started >= ACK_SECONDS

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
    services: Services | None = context.get("services")
    if services is None:  # failed before our middleware ran: no renderer to say more with
        logger.error("a Slack request failed before the app's middleware", exc_info=error)
        return BoltResponse(status=200, body="") if context.ack.response is None else None
    unavailable = isinstance(error, StorageUnavailable)
    text = _failure_text(error, context=context, services=services, what=_described(body))
    if context.ack.response is not None:
        _deliver(text, context=context, body=body, acked=True)
        return None  # (Bolt accepts no response once the ack is given)
    answer = None
    if not (isinstance(context.ack, StickyAck) and context.ack.too_late):
        answer = _ack_answer(body, text, unavailable=unavailable, context=context, services=services)
    if answer is None:  # an ack that cannot carry a message, or one too late for Slack to read
        _deliver(text, context=context, body=body, acked=False)
    return BoltResponse(status=200, body=answer or "")


def answer_after_ack(error: Exception, *, context: BoltContext, what: str, body: dict[str, Any] | None = None) -> None:
    """Answers the failure of work done after the ack (a report, a scorecard) through response_url (on
    the Home tab for the Home tab's ``body``)."""
    services: Services = context["services"]
    text = _failure_text(error, context=context, services=services, what=what)
    _deliver(text, context=context, body=body or {}, acked=True)


def _language(context: BoltContext) -> Language:
    access: Access | None = context.get("access")
    return access.language if access is not None else "both"


def _failure_text(error: Exception, *, context: BoltContext, services: Services, what: str) -> str:
    """Logs the failure, has the admins told of a bug, and returns what the user reads, in their language."""
    if isinstance(error, StorageUnavailable):
        logger.warning("%s of user %s failed: %s", what, context.user_id, error)
        return services.renderer.mrkdwn("unavailable_text", _language(context))
    logger.error("%s of user %s failed", what, context.user_id, exc_info=error)
    notify: NotifyAdmins | None = context.get("notify_admins")
    if notify is not None:
        summary = f"{type(error).__name__}: {error}"[:300]
        subject = f"listener_error:{type(error).__name__}:{services.clock():%Y-%m-%dT%H}"  # one DM an hour
        # what the user typed and the error's message are text, not markup (bot/mrkdwn.py)
        who = mention(str(context.user_id))
        text = f":warning: KPI Bot failed to answer {escape(what)} of {who}: `{escape(summary)}` (traceback in the log)"
        # posting sleeps on rate limits: not before the ack, and not in the way of the answer to the user
        services.slow_lane.run(lambda: notify(subject=subject, text=text))
    return services.renderer.mrkdwn("failed_text", _language(context))


def _ack_answer(
    body: dict[str, Any], text: str, *, unavailable: bool, context: BoltContext, services: Services
) -> dict[str, Any] | None:
    """The ack that says ``text``: ephemeral for a command; for a modal during an outage a field error on
    its first input (the user submits again once the database is back), else a modal saying what
    happened; None for requests whose ack carries no message."""
    if "command" in body:
        return {"response_type": "ephemeral", "text": text}
    if body.get("type") != "view_submission":
        return None
    inputs = _input_block_ids(body.get("view")) if unavailable else []
    if inputs:
        return {"response_action": "errors", "errors": {inputs[0]: text}}
    return {
        "response_action": "update",
        "view": services.renderer.view("failed", language=_language(context), text=text),
    }


def _input_block_ids(view: Any) -> list[str]:
    """The block ids of the submitted modal's inputs (its state names them when the blocks are absent)."""
    if not isinstance(view, dict):
        return []
    blocks = view.get("blocks")
    ids = [
        block["block_id"]
        for block in (blocks if isinstance(blocks, list) else [])
        if isinstance(block, dict) and block.get("type") == "input" and isinstance(block.get("block_id"), str)
    ]
    state = view.get("state")
    values = state.get("values") if isinstance(state, dict) else None
    return ids or ([key for key in values if isinstance(key, str)] if isinstance(values, dict) else [])


def _deliver(text: str, *, context: BoltContext, body: dict[str, Any], acked: bool) -> None:
    """Says ``text`` outside the ack (given already, or too late to give): through response_url when
    there is one, on the Home tab for a failed Home, else by DM."""
    if acked and body.get("type") == "view_submission":
        return  # acked after its write: the user was told what was stored, and nothing of it is undone
    try:
        if context.respond is not None and context.respond.response_url:
            context.respond(text=text, response_type="ephemeral", replace_original=False)
        elif _field(body, "event", "type") == "app_home_opened" and context.user_id:
            home = {"type": "home", "blocks": message_parts(text)[0]}
            context.client.views_publish(user_id=context.user_id, view=home)
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
        return f"view {_field(body, 'view', 'callback_id')}"
    if kind == "block_actions":
        actions = body.get("actions")
        return f"button {_field(actions[0] if isinstance(actions, list) and actions else {}, 'action_id')}"
    if kind == "event_callback":
        return f"event {_field(body, 'event', 'type')}"
    return kind


def _field(value: Any, *path: str) -> Any:
    """``value[path[0]][path[1]]...``, or None where a step is missing or not an object."""
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value
