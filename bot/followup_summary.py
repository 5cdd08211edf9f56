"""How teams follow their alerts up, for the weekly digest and the management summary: the median time to
acknowledge and to resolve the alerts opened in the period, and the open and overdue corrective actions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from bot.alert_view import sentence
from bot.followup_lists import age
from bot.mrkdwn import Mrkdwn
from bot.services import Services
from kpi_core.actions import action_counts
from kpi_core.alert_lifecycle import ResponseTimes, response_times
from kpi_core.config import Team
from kpi_core.periods import Period


def _minutes(value: float | None) -> str:
    """A median wait as ``3 h 20 min``; "–" when no alert was acknowledged (or resolved)."""
    return "–" if value is None else age(timedelta(minutes=value))


def followup_figures(
    services: Services, *, teams: Sequence[Team], period: Period
) -> dict[str, tuple[ResponseTimes, tuple[int, int]]]:
    """Per team: the response times of the period's alerts, and (open, overdue) corrective actions now."""
    times = response_times(services.engine, periods={team.key: period.utc_bounds(team.tz) for team in teams})
    counts = action_counts(
        services.engine, config=services.config, teams=[team.key for team in teams], now=services.clock()
    )
    return {team.key: (times[team.key], counts[team.key]) for team in teams}


def digest_followup_block(services: Services, *, team: Team, period: Period) -> dict[str, Any] | None:
    """A context line for the team's digest; None when the period had no alert and no action is open."""
    times, (open_count, overdue) = followup_figures(services, teams=[team], period=period)[team.key]
    if not times.opened and not open_count:
        return None
    text = sentence(
        services,
        "alert_ops.followup_digest",
        team.language,
        opened=times.opened,
        acknowledge=_minutes(times.acknowledge_minutes),
        resolve=_minutes(times.resolve_minutes),
        open=open_count,
        overdue=overdue,
    )
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def summary_followup_text(services: Services, *, period: Period) -> Mrkdwn:
    """Lines for the management summary: each team with alerts in the period or open actions; empty
    when there is none."""
    teams = list(services.config.teams)
    figures = followup_figures(services, teams=teams, period=period)
    lines = []
    for team in teams:
        times, (open_count, overdue) = figures[team.key]
        if not times.opened and not open_count:
            continue
        lines.append(
            sentence(
                services,
                "alert_ops.followup_team",
                "both",
                team=team.name,
                opened=times.opened,
                acknowledge=_minutes(times.acknowledge_minutes),
                acknowledged=times.acknowledged,
                resolve=_minutes(times.resolve_minutes),
                resolved=times.resolved,
                open=open_count,
                overdue=overdue,
            )
        )
    if not lines:
        return Mrkdwn("")
    title = services.renderer.mrkdwn("alert_ops.followup_title", "both")
    return Mrkdwn("\n".join([f"*{title} · {period.label}*", *lines]))


#: Buttons a digest offers for its KPIs off target (an actions block holds at most 25 elements).
DIGEST_ACTION_BUTTONS = 5
BUTTON_TEXT_CHARS = 75


def digest_action_block(services: Services, *, team: Team, keys: Sequence[str]) -> dict[str, Any] | None:
    """*Open action* buttons for the digest's KPIs in breach or below target (the first few), each
    opening the corrective action modal for that KPI (bot/listeners/actions/alert_buttons.py)."""
    if not keys:
        return None
    config, renderer = services.config, services.renderer
    label = renderer.text("alert_ops.open_action", team.language)
    buttons = []
    for key in list(keys)[:DIGEST_ACTION_BUTTONS]:
        text = f"{label}: {config.kpi_by_key[key].name.in_language(team.language)}"
        buttons.append(
            {
                "type": "button",
                "action_id": f"kpi_open_action:{key}",
                "value": f"{team.key}:{key}",
                "text": {
                    "type": "plain_text",
                    "text": text[: BUTTON_TEXT_CHARS - 1] + "…" if len(text) > BUTTON_TEXT_CHARS else text,
                },
            }
        )
    return {"type": "actions", "block_id": "kpi_open_action", "elements": buttons}


def digest_followup_blocks(
    services: Services, *, team: Team, period: Period, off_target: Sequence[str]
) -> list[dict[str, Any]]:
    """What a team's digest adds before its legend: the follow-up line, and *Open action* buttons for
    ``off_target`` (its KPIs in breach or below target)."""
    blocks = [
        digest_followup_block(services, team=team, period=period),
        digest_action_block(services, team=team, keys=off_target),
    ]
    return [block for block in blocks if block is not None]
