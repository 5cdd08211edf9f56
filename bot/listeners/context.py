"""Typed access to what the middleware puts in Bolt's context."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from slack_bolt import BoltContext

from bot.alert_poster import AlertPoster
from bot.answer_lane import Task
from bot.appeals import AppealMessenger
from bot.failures import answer_after_ack
from bot.reviews import ReviewMessenger
from bot.services import Services
from bot.verification import VerificationMessenger
from kpi_core.access import Access
from kpi_core.alert_sweep import Change
from kpi_core.errors import AppealError, ReviewError
from kpi_core.names import Language


def services_of(context: BoltContext) -> Services:
    services: Services = context["services"]
    return services


def access_of(context: BoltContext) -> Access:
    access: Access = context["access"]
    return access


def localizer(context: BoltContext) -> Any:
    """``localize(key, **params)`` in the user's language."""
    services, access = services_of(context), access_of(context)
    return lambda key, **params: services.renderer.text(key, access.language, **params)


def message_localizer(context: BoltContext) -> Any:
    """``localize(key, **params)`` for a Slack message: the params escaped for mrkdwn (``localizer`` is
    for plain_text, e.g. field errors)."""
    services, access = services_of(context), access_of(context)
    return lambda key, **params: services.renderer.mrkdwn(key, access.language, **params)


def reviews_of(context: BoltContext) -> ReviewMessenger:
    """The review DMs' sender; the app is always built with it (bot/wiring.py)."""
    messenger: ReviewMessenger = context["reviews"]
    return messenger


def review_refusal(context: BoltContext, error: ReviewError) -> str:
    """Why a review step was refused, in the user's language, for a Slack message."""
    return str(message_localizer(context)(f"reviews.errors.{error.reason}", **error.params))


def appeals_of(context: BoltContext) -> AppealMessenger:
    """The appeals' sender: the review DMs' language, time and DM shape serve it (bot/appeals.py)."""
    return AppealMessenger(reviews_of(context))


def appeal_refusal(context: BoltContext, error: AppealError) -> str:
    """Why an appeal step was refused, in the user's language, for a Slack message; the states it names are
    words of that language too, not the stored keys."""
    services, access = services_of(context), access_of(context)

    def in_language(language: Language) -> str:
        params = {
            name: services.renderer.text(f"appeals.states.{str(value).replace(' ', '_')}", language)
            if name in ("state", "to")
            else value
            for name, value in error.params.items()
        }
        return str(services.renderer.mrkdwn(f"appeals.errors.{error.reason}", language, **params))

    if access.language == "both":
        return f"{in_language('en')} / {in_language('zh')}"
    return in_language(access.language)


def check_alerts(context: BoltContext, change: Change | None) -> None:
    """Queues the alerts ``change`` (a write) can have changed for evaluation, when the app runs with
    alerts (as `serve` does), so a breach or a recovery is posted right after the write that caused it;
    the evaluation runs on the alert queue's thread (bot/alert_queue.py), never on this listener's."""
    alerts: AlertPoster | None = context.get("alerts")
    if alerts is not None and change is not None:
        alerts.submit(change)


def after_ack(context: BoltContext, what: str, work: Callable[[], None]) -> None:
    """Runs ``work`` (which answers through response_url) in the slow lane; should it fail, the user who
    asked is told what happened, like any listener's failure (bot/failures.py); should the lane be full,
    the user is told that the follow-up did not run and to try again."""
    services = services_of(context)
    on_error = lambda error: answer_after_ack(error, context=context, what=what)  # noqa: E731
    if not services.slow_lane.run(work, on_error=on_error) and context.respond is not None:
        text = message_localizer(context)("answers.busy_after", what=what)
        context.respond(text=text, response_type="ephemeral", replace_original=False)


def answer_later(
    context: BoltContext,
    what: str,
    task: Task,
    *,
    route: Hashable,
    ack: Callable[[], object],
    busy: Callable[[str], None],
    body: dict[str, Any] | None = None,
) -> None:
    """Acks with ``ack`` and has ``task`` (bot/answers.py) answer from the answer lane, off the threads
    that ack (bot/answer_lane.py); when the lane is full, ``busy`` says so instead, in the user's language,
    and nothing runs. A failure of the task is answered like any listener's (bot/failures.py; ``body``,
    the request's, says where)."""
    services = services_of(context)
    accepted = services.answers.submit(
        task,
        services=services,
        client=context.client,
        route=route,
        before=ack,
        on_error=lambda error: answer_after_ack(error, context=context, what=what, body=body),
    )
    if not accepted:
        busy(message_localizer(context)("answers.busy", what=what))


def verification_of(context: BoltContext) -> VerificationMessenger:
    """The verification messages, sent through the process's one ledger-backed sender (the review DMs')."""
    return VerificationMessenger(services_of(context), reviews_of(context).sender)
