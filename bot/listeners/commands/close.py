"""``/kpi close 2026-Q3`` (management, admins): freeze the period's scorecard once everything in it is
verified, then post the final scorecard and HR's results file; ``/kpi reopen 2026-Q3 <reason>`` (admins)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.close_delivery import deliver, reopen_notice, scorecard_channel
from bot.listeners.context import after_ack, reviews_of
from bot.mrkdwn import Mrkdwn, escape
from kpi_core import close_use_cases
from kpi_core.errors import PeriodCloseError, PeriodError
from kpi_core.period_close import may_close, may_reopen
from kpi_core.periods import Period

if TYPE_CHECKING:
    from bot.listeners.commands.kpi import Invocation


def _period(invocation: Invocation, usage: str) -> Period | None:
    """The period named first, or None once the user has been told what is wrong."""
    if not invocation.args:
        invocation.reply(invocation.localize(usage))
        return None
    try:
        return Period.parse(invocation.args[0])
    except PeriodError:
        invocation.reply(invocation.localize("bad_period", text=invocation.args[0]))
        return None


def close_period(invocation: Invocation) -> None:
    if not may_close(invocation.services.config, invocation.access.user):
        invocation.reply(invocation.localize("period_close.refused_close"))
        return
    period = _period(invocation, "period_close.usage_close")
    if period is None:
        return
    invocation.ack()  # scoring every team and person takes longer than Slack's 3 s
    after_ack(invocation.context, "/kpi close", lambda: _close(invocation, period))


def _close(invocation: Invocation, period: Period) -> None:
    services, access = invocation.services, invocation.access
    try:
        revision, results = close_use_cases.close(
            services.engine, config=services.config, period_label=period.label, user=access.user, now=services.clock()
        )
    except PeriodCloseError as error:
        invocation.respond(text=escape(str(error)), response_type="ephemeral")
        return
    # the process's ledger sender (the review messenger carries it); the jobs' catch-up sends what this misses
    deliver(services, reviews_of(invocation.context).sender, period.label)
    channel = scorecard_channel(services.config)
    lines = [
        invocation.localize(
            "period_close.closed",
            period=period.label,
            revision=revision.revision,
            teams=sum(1 for result in results if result.subject_kind == "team"),
            persons=sum(1 for result in results if result.subject_kind == "person"),
            channel=Mrkdwn(f"<#{channel}>") if channel else "-",
        )
    ]
    if channel is None:
        lines.append(invocation.localize("period_close.no_channel"))
    if services.config.period_close.hr_channel:
        lines.append(invocation.localize("period_close.hr_file"))
    invocation.respond(text="\n".join(lines), response_type="ephemeral")


def reopen_period(invocation: Invocation) -> None:
    services, access = invocation.services, invocation.access
    if not may_reopen(services.config, access.user):
        invocation.reply(invocation.localize("period_close.refused_reopen"))
        return
    period = _period(invocation, "period_close.usage_reopen")
    if period is None:
        return
    if len(invocation.args) < 2:
        invocation.reply(invocation.localize("period_close.usage_reopen"))
        return
    reason = " ".join(invocation.args[1:])
    try:
        reopened = close_use_cases.reopen(
            services.engine,
            config=services.config,
            period_label=period.label,
            reason=reason,
            user=access.user,
            now=services.clock(),
        )
    except PeriodCloseError as error:
        invocation.reply(escape(str(error)))
        return
    invocation.reply(invocation.localize("period_close.reopened", period=period.label, reason=reopened.reason))
    sender = reviews_of(invocation.context).sender

    def tell_thread() -> None:
        reopen_notice(services, sender, reopened)

    after_ack(invocation.context, "/kpi reopen", tell_thread)
