"""The scheduled messages, built from kpi_core reports and the templates: weekly digests with a trend
chart, the management summary, the quarterly scorecard with a bar chart, and submission reminders."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from bot.charts import score_bars, trend_chart
from bot.delivery import Chart, Outgoing
from bot.render import text_blocks
from bot.services import Services
from kpi_core.config import Team
from kpi_core.db import transaction
from kpi_core.models import Submission
from kpi_core.periods import Period, PeriodKind
from kpi_core.reporting import build_reports, rank_teams

TREND_WEEKS = 12


def last_week(team: Team, services: Services) -> Period:
    """The latest complete ISO week in the team's time zone."""
    return Period.current(PeriodKind.WEEK, now=services.clock(), tz=team.tz).previous()


def weekly_digests(services: Services, *, teams: list[Team], period: Period | None = None) -> list[Outgoing]:
    """One digest per team, for ``period`` or each team's last complete week; reports computed in bulk."""
    by_period: dict[Period, list[Team]] = defaultdict(list)
    for team in teams:
        by_period[period or last_week(team, services)].append(team)
    messages = []
    for shown, group in by_period.items():
        keys = [team.key for team in group]
        weeks = [shown]
        while len(weeks) < TREND_WEEKS:
            weeks.insert(0, weeks[0].previous())
        with transaction(services.engine) as session:
            history = [build_reports(session, config=services.config, period=week, teams=keys) for week in weeks]
        for index, team in enumerate(group):
            series = [reports[index] for reports in history]
            messages.append(_digest(services, team, series))
    return messages


def _digest(services: Services, team: Team, series: list[dict[str, Any]]) -> Outgoing:
    current, previous = series[-1], series[-2]
    text = services.renderer.digest(team=team, report=current, previous=previous)
    config = services.config
    png = trend_chart(
        title=services.renderer.text("chart_title", "en", team=team.name.en, weeks=len(series)),
        labels=[report["period"] for report in series],
        series={
            config.kpi_by_key[key].name.en: [report["kpis"][key]["value"] for report in series]
            for key in current["kpis"]
        },
        targets={config.kpi_by_key[key].name.en: kpi["target"] for key, kpi in current["kpis"].items()},
    )
    chart = Chart(png, f"kpi-trend-{team.key}-{current['period']}.png", current["period"]) if png else None
    return Outgoing(
        kind="weekly_digest",
        team=team.key,
        subject=current["period"],
        channel=team.channel,
        text=text.splitlines()[0],
        blocks=text_blocks(text),
        chart=chart,
    )


def management_summary(services: Services, *, channel: str, period: Period) -> Outgoing:
    """Every team for one week, the worst breaches first."""
    with transaction(services.engine) as session:
        reports = build_reports(session, config=services.config, period=period)
    rows = []
    for report in reports:
        statuses = {key: kpi["status"] for key, kpi in report["kpis"].items()}
        rows.append(
            {
                "team": report["team"],
                "report": report,
                "breaches": [key for key, status in statuses.items() if status == "breach"],
                "misses": [key for key, status in statuses.items() if status == "missed"],
                "reported": any(status != "no_data" for status in statuses.values()),
            }
        )
    rows.sort(key=lambda row: (-len(row["breaches"]), -len(row["misses"]), row["team"]))
    text = services.renderer.render("management.txt.j2", language="both", period=period.label, rows=rows)
    return Outgoing(
        kind="management_summary",
        team=None,
        subject=period.label,
        channel=channel,
        text=text.splitlines()[0],
        blocks=text_blocks(text),
    )


def quarterly_scorecards(services: Services, *, channel: str, period: Period) -> list[Outgoing]:
    """Each scheme of the period's kind: the weighted scores and ranking, with a bar chart."""
    with transaction(services.engine) as session:
        rankings = rank_teams(session, config=services.config, period=period)
    messages = []
    for scheme_key, ranking in rankings.items():
        text = services.renderer.scorecard(scheme_key=scheme_key, period=period.label, ranking=ranking, language="both")
        png = score_bars(
            title=f"{services.config.scorecards[scheme_key].name.en} {period.label}",
            teams=[services.config.team(row.team).name.en for row in ranking],
            scores=[row.score for row in ranking],
        )
        messages.append(
            Outgoing(
                kind=f"scorecard_{scheme_key}",
                team=None,
                subject=period.label,
                channel=channel,
                text=text.splitlines()[0],
                blocks=text_blocks(text),
                chart=Chart(png, f"scorecard-{scheme_key}-{period.label}.png", period.label),
            )
        )
    return messages


def reminders(services: Services, *, team: Team) -> list[Outgoing]:
    """A DM to each lead of ``team`` when it has submitted nothing yet in the current week."""
    period = Period.current(PeriodKind.WEEK, now=services.clock(), tz=team.tz)
    start, end = period.utc_bounds(team.tz)
    with Session(services.engine) as session:
        submitted = session.exec(
            select(sa.func.count())
            .select_from(Submission)
            .where(
                Submission.team == team.key,
                Submission.withdrawn_at.is_(None),  # type: ignore[union-attr]
                Submission.submitted_at >= start,
                Submission.submitted_at < end,
            )
        ).one()
    if submitted:
        return []
    return [
        Outgoing(
            kind="reminder",
            team=team.key,
            subject=f"{period.label}:{lead}",
            channel=lead,
            text=services.renderer.text(
                "reminder", team.language, team=team.name.in_language(team.language), period=period.label
            ),
        )
        for lead in team.leads
    ]
