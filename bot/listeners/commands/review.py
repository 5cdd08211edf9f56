"""``/kpi review launch|close|status|results``: admins and HR launch and close cycles and see their
status; anyone sees their own results, and those of the people they may see (kpi_core.people)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.listeners.context import after_ack, reviews_of
from kpi_core import review_use_cases as use
from kpi_core.errors import ReviewError
from kpi_core.review_cycles import may_run_reviews, parse_launch, zone_of

if TYPE_CHECKING:
    from bot.listeners.commands.kpi import Invocation

#: how Slack writes a mention in a command's text: <@U123|name>
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


def handle_review(invocation: Invocation) -> None:
    words = invocation.args
    action = words[0].lower() if words else ""
    handler = {"launch": _launch, "close": _close, "status": _status, "results": _results}.get(action)
    if handler is None or (action in ("close", "status") and len(words) < 2):  # these name their cycle
        invocation.reply(invocation.localize("reviews.usage"))
        return
    try:
        handler(invocation, words[1:])
    except ReviewError as error:
        invocation.reply(refusal(invocation, error))


def refusal(invocation: Invocation, error: ReviewError) -> str:
    return str(invocation.localize(f"reviews.errors.{error.reason}", **error.params))


def _launch(invocation: Invocation, words: list[str]) -> None:
    services, user = invocation.services, invocation.access.user
    if not may_run_reviews(services.config, user):
        raise ReviewError(reason="not_allowed")
    now = services.clock()
    today = now.astimezone(zone_of(services.config, user)).date()
    request = parse_launch(words, today=today, deadline_days=services.config.reviews.deadline_days)
    cycle = use.launch(services.engine, config=services.config, request=request, user=user, now=now)
    invocation.reply(
        invocation.localize(
            "reviews.launched", cycle=cycle.key, people=len(services.config.people), deadline=cycle.deadline_on
        )
    )
    messenger = reviews_of(invocation.context)
    after_ack(invocation.context, "/kpi review launch", messenger.tick)  # the invitations and rating requests


def _close(invocation: Invocation, words: list[str]) -> None:
    services = invocation.services
    key = words[0] if words else ""
    cycle = use.close(
        services.engine, config=services.config, key=key, user=invocation.access.user, now=services.clock()
    )
    invocation.reply(invocation.localize("reviews.closed", cycle=cycle.key))
    messenger = reviews_of(invocation.context)
    after_ack(invocation.context, "/kpi review close", lambda: messenger.send_packets(cycle.key))


def _status(invocation: Invocation, words: list[str]) -> None:
    services = invocation.services
    if not may_run_reviews(services.config, invocation.access.user):
        raise ReviewError(reason="not_allowed")
    status = use.status(services.engine, key=words[0] if words else "")
    text = services.renderer.render(
        "review_status.txt.j2", language=invocation.access.language, status=status, deadline=status.cycle.deadline_on
    )
    invocation.reply(text)


def _results(invocation: Invocation, words: list[str]) -> None:
    """``results [CYCLE] [@person]``: the latest closed cycle and the asker by default."""
    services, viewer = invocation.services, invocation.access.user
    subject, key = viewer, None
    for word in words:
        if match := _MENTION.match(word):
            subject = match[1]
        else:
            key = word
    found = use.results_for(services.engine, config=services.config, viewer=viewer, subject=subject, key=key)
    if found is None:
        invocation.reply(invocation.localize("reviews.no_results"))
        return
    cycle, groups = found
    if not groups:
        raise ReviewError(reason="not_closed", cycle=cycle.key)
    messenger = reviews_of(invocation.context)
    language = messenger.language(viewer)
    invocation.reply(messenger.results_text(cycle=cycle, subject=subject, groups=groups, language=language))
