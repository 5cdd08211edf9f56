"""Tells the admins that a team's figures could not be computed (its data overflows, or holds an
infinity): once per team, period and kind of failure, through the ledger's notices, however many
sweeps and jobs meet the same failure. The other teams' messages went out regardless."""

from __future__ import annotations

from collections.abc import Iterable

from bot.render import Renderer
from bot.sender import Sender
from kpi_core.isolation import ComputeFailure, unique


def tell_admins(sender: Sender, renderer: Renderer, failures: Iterable[ComputeFailure]) -> None:
    for failure in unique(failures):
        sender.notify_admins(
            subject=f"compute_failed:{failure.team}:{failure.period.label}:{failure.kind}",
            text=renderer.mrkdwn(  # the detail quotes the data: escaped for mrkdwn
                "compute_failed_notice",
                "en",
                team=failure.team,
                period=failure.period.label,
                detail=failure.detail,
            ),
        )
