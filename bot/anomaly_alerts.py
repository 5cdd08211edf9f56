"""Anomaly flags and alerts (kpi_core.anomaly_scan): a KPI whose weekly value is unusual for its team is
flagged in the weekly digest with how unusual it is; a KPI with ``anomaly: {alert: true}`` is also posted
to the team channel, once per team, KPI and week (delivery ledger)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.render import format_value
from bot.sender import Outgoing
from bot.services import Services
from kpi_core import ledger
from kpi_core.anomalies import Anomaly
from kpi_core.anomaly_scan import flags, scan
from kpi_core.config import Team
from kpi_core.periods import Period, PeriodKind

KIND = "anomaly"
MAX_LINES = 20  # a section holds 3,000 characters; a digest flags a handful at most


def team_anomalies(services: Services, *, teams: list[Team], period: Period) -> dict[str, dict[str, Anomaly]]:
    """Per team, its weekly KPIs' values in the week judged against their history (a KPI measured per
    month or quarter has no weekly value to judge)."""
    config = services.config
    weekly = {key for key, cadence in config.cadences.items() if cadence is PeriodKind.WEEK}
    return scan(
        services.engine,
        config=config,
        period=period,
        teams=[team.key for team in teams],
        kpis=weekly,
        cache=services.reports,
    )


@dataclass(frozen=True)
class UnusualLine:
    name: str
    value: str
    note: str


def anomaly_blocks(services: Services, *, team: Team, anomalies: dict[str, Anomaly]) -> list[dict[str, Any]]:
    """The digest's section of the team's unusual KPIs (none: no block), most unusual first."""
    config, renderer = services.config, services.renderer
    language = team.language
    lines = []
    for flag in flags(config, anomalies):
        kpi = config.kpi_by_key[flag.kpi]
        note = renderer.text(
            "calendars.anomaly",
            language,
            score=f"{abs(flag.anomaly.score):.1f}",
            direction=renderer.text("calendars.above" if flag.anomaly.score > 0 else "calendars.below", language),
            expected=format_value(flag.anomaly.expected, kpi.unit, no_data="-"),
        )
        value = format_value(flag.anomaly.value, kpi.unit, no_data="-")
        lines.append(UnusualLine(kpi.name.in_language(language), value, note))
    if not lines:
        return []
    return renderer.blocks("anomalies", language=language, lines=lines[:MAX_LINES])


def anomaly_alerts_pending(services: Services, *, team: Team, period: Period) -> bool:
    """Whether an anomaly alert of the team's week is still to be posted (a transient Slack error)."""
    return ledger.pending_ending(services.engine, kind=KIND, team=team.key, ending=f":{period.label}")


def anomaly_alerts(services: Services, *, team: Team, period: Period, anomalies: dict[str, Anomaly]) -> list[Outgoing]:
    """The alerts of the team's KPIs that ask for one and are unusual this week."""
    config, renderer = services.config, services.renderer
    language = team.language
    messages = []
    for flag in flags(config, anomalies):
        if not flag.alert:
            continue
        kpi = config.kpi_by_key[flag.kpi]
        anomaly = flag.anomaly
        text = renderer.mrkdwn(
            "calendars.anomaly_alert",
            language,
            team=team.name.in_language(language),
            kpi=kpi.name.in_language(language),
            value=format_value(anomaly.value, kpi.unit, no_data="-"),
            period=period.label,
            score=f"{abs(anomaly.score):.1f}",
            direction=renderer.text("calendars.above" if anomaly.score > 0 else "calendars.below", language),
            expected=format_value(anomaly.expected, kpi.unit, no_data="-"),
            weeks=anomaly.history,
            seasonal=renderer.text("calendars.seasonal", language) if anomaly.seasonal else "",
        )
        messages.append(
            Outgoing(kind=KIND, team=team.key, subject=f"{kpi.key}:{period.label}", channel=team.channel, text=text)
        )
    return messages
