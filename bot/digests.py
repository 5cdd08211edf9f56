"""The scheduled messages, built from kpi_core reports and the templates: weekly digests with a trend
chart, the management summary, the quarterly scorecard with a bar chart, and submission reminders."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from bot.anomaly_alerts import anomaly_blocks, team_anomalies
from bot.charts import TrendSpec, render_trend, score_bars
from bot.digest_view import Section, digest_view
from bot.followup_summary import digest_followup_blocks, summary_followup_text
from bot.mrkdwn import Mrkdwn, escape
from bot.plan_progress_view import month_before, progress_blocks, progress_of, weekly_progress_blocks
from bot.render import message_parts
from bot.sender import Chart, Outgoing
from bot.services import Services
from bot.trends import Series, chart_title, coarser_history, trend_spec
from kpi_core.absence import team_recipients
from kpi_core.config import Team
from kpi_core.db import transaction
from kpi_core.isolation import ComputeFailure
from kpi_core.periods import Period, PeriodKind
from kpi_core.plan_progress import TeamProgress
from kpi_core.reporting import Report, build_reports, rank_teams
from kpi_core.store import has_submitted
from kpi_core.verification_use_cases import unverified_of

TREND_WEEKS = 12


@dataclass(frozen=True)
class SummaryRow:
    """One team's line in the management summary: the KPIs in breach and those that missed target."""

    report: Report
    breaches: list[str]
    misses: list[str]
    not_reported: list[str]
    reported: bool  # some KPI has data

    @property
    def team(self) -> str:
        return self.report.team


def last_week(team: Team, services: Services) -> Period:
    """The latest complete ISO week in the team's time zone."""
    return Period.current(PeriodKind.WEEK, now=services.clock(), tz=team.tz).previous()


def weekly_digests(
    services: Services, *, teams: list[Team], period: Period | None = None, charts: bool = True
) -> list[Outgoing]:
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
        config, cache = services.config, services.reports
        with transaction(services.engine) as session:
            # the week and the one before in full (the digest compares them), computed afresh; the weeks
            # before only for the chart's weekly panels: their weekly KPIs alone, from the report cache's
            # entries that the anomaly scan reads too (so each is computed once, and ten weeks of 500
            # teams' monthly and quarterly KPIs are neither computed nor kept)
            current, previous = (
                build_reports(session, config=config, period=week, teams=keys) for week in weeks[-1:-3:-1]
            )
            weekly = [kpi.key for kpi in config.kpis if config.cadences[kpi.key] is PeriodKind.WEEK]
            older = cache.results(session, config=config, periods=weeks[:-2], teams=keys, kpis=weekly)
        anomalies = team_anomalies(services, teams=group, period=shown)
        progress = progress_of(services, teams=group, as_of=month_before(shown))
        for index, team in enumerate(group):
            before = [older[week][team.key] for week in weeks[:-2]]
            latest = [previous[index], current[index]]
            # the weekly KPIs' panels; monthly and quarterly KPIs are charted with the monthly digest
            trends = {
                PeriodKind.WEEK: [(week.period, week.results) for week in before]
                + [(report.period, report.kpis) for report in latest]
            }
            failures = tuple(week.failure for week in before if week.failure is not None) + _failures(latest)
            unusual = anomaly_blocks(services, team=team, anomalies=anomalies[team.key])
            # the year to date vs plan: one context line at most, with the unusual KPIs before the legend
            unusual += weekly_progress_blocks(services, team=team, progress=progress[team.key])
            messages.append(
                _digest(
                    services,
                    team,
                    current[index],
                    previous[index],
                    trends=trends,
                    failures=failures,
                    chart=charts,
                    unusual=unusual,
                )
            )
    return messages


def _digest(
    services: Services,
    team: Team,
    current: Report,
    previous: Report,
    *,
    trends: Mapping[PeriodKind, Series],
    failures: tuple[ComputeFailure, ...],
    chart: bool,
    unusual: list[dict[str, Any]],
) -> Outgoing:
    cadences = services.config.cadences
    weekly = [key for key in current.kpis if cadences[key] is PeriodKind.WEEK]
    marks = unverified_of(services.engine, config=services.config, team=team.key, periods=[current.period])
    view = digest_view(
        services.config, team, [Section(current, previous, weekly)], now=services.clock(), unverified=marks
    )
    # one digest's blocks are bounded by the config's KPIs (ten fields a section), not by the number of teams
    blocks = services.renderer.digest_blocks(view)
    if current.failure is None:  # before the legend: the week's alert follow-up, Open action buttons
        off_target = [line.key for group in view.groups for line in group.lines if line.status in ("breach", "missed")]
        blocks[-1:-1] = digest_followup_blocks(services, team=team, period=current.period, off_target=off_target)
    chart = chart and current.failure is None  # no trend to draw to a week that could not be computed
    # the KPIs unusual for the team, before the legend that closes the digest
    blocks[-1:-1] = unusual
    return Outgoing(
        # A week that could not be computed is posted once under its own kind, so the digest itself stays
        # due: the next catch-up after the data is corrected posts it.
        kind="weekly_digest" if current.failure is None else "weekly_digest_unavailable",
        team=team.key,
        subject=current.period.label,
        channel=team.channel,
        text=escape(blocks[0]["text"]["text"]),  # the notification text is mrkdwn; the header plain text
        blocks=blocks,
        chart=Chart(
            # a partial of plain data, so bot.chart_pool can render it in another process
            partial(render_trend, _trend_spec(services, team, trends, current.period)),
            f"kpi-trend-{team.key}-{current.period.label}.png",
            f"{team.name.en}: KPI trend to {current.period.label}",
        )
        if chart
        else None,
        failures=failures,
    )


def last_month(team: Team, services: Services) -> Period:
    """The latest complete month in the team's time zone."""
    return Period.current(PeriodKind.MONTH, now=services.clock(), tz=team.tz).previous()


def monthly_digests(
    services: Services, *, teams: list[Team], period: Period | None = None, charts: bool = True
) -> list[Outgoing]:
    """One digest per team of its monthly KPIs for ``period`` (default: each team's last complete month);
    after a quarter's last month, its quarterly KPIs for that quarter too; with a chart of the monthly
    and quarterly KPIs' recent periods."""
    config = services.config
    months = {team.key: period or last_month(team, services) for team in teams}
    history = _coarser_history(services, months) if charts else {}
    progress = _year_to_date(services, teams, months)
    messages = []
    for team in teams:
        month = months[team.key]
        quarter = Period.containing(PeriodKind.QUARTER, month.start)
        wanted = [(month, PeriodKind.MONTH)]
        if quarter.end == month.end:
            wanted.append((quarter, PeriodKind.QUARTER))
        sections = []
        with transaction(services.engine) as session:
            for shown, cadence in wanted:
                [current] = build_reports(session, config=config, period=shown, teams=[team.key])
                [before] = build_reports(session, config=config, period=shown.previous(), teams=[team.key])
                keys = [key for key in current.kpis if config.cadences[key] is cadence]
                sections.append(Section(current, before, keys))
        marks = unverified_of(services.engine, config=config, team=team.key, periods=[shown for shown, _ in wanted])
        view = digest_view(config, team, sections, now=services.clock(), unverified=marks)
        blocks = services.renderer.digest_blocks(view, title="monthly_digest")
        blocks[-1:-1] = progress_blocks(services, team=team, progress=progress[team.key])  # before the legend
        failed = tuple(section.report.failure for section in sections if section.report.failure is not None)
        messages.append(
            Outgoing(
                # as the weekly digest: a month that could not be computed leaves the digest itself due
                kind="monthly_digest_unavailable" if failed else "monthly_digest",
                team=team.key,
                subject=month.label,
                channel=team.channel,
                text=escape(blocks[0]["text"]["text"]),  # the notification text is mrkdwn; the header plain text
                blocks=blocks,
                failures=failed,
                chart=Chart(
                    partial(render_trend, _trend_spec(services, team, history[team.key], month)),
                    f"kpi-trend-{team.key}-{month.label}.png",
                    f"{team.name.en}: KPI trend to {month.label}",
                )
                if charts and not failed
                else None,
            )
        )
    return messages


def _coarser_history(services: Services, months: dict[str, Period]) -> dict[str, dict[PeriodKind, Series]]:
    """Each team's monthly and quarterly results up to its month, computed for all teams of a month at once."""
    by_month: dict[Period, list[str]] = defaultdict(list)
    for key, month in months.items():
        by_month[month].append(key)
    history: dict[str, dict[PeriodKind, Series]] = {}
    with transaction(services.engine) as session:
        for month, keys in by_month.items():
            history |= coarser_history(session, config=services.config, teams=keys, ending=month)
    return history


def _year_to_date(services: Services, teams: list[Team], months: dict[str, Period]) -> dict[str, TeamProgress]:
    """Each team's scorecard items against plan to its digest's month, for all teams of a month at once."""
    by_month: dict[Period, list[Team]] = defaultdict(list)
    for team in teams:
        by_month[months[team.key]].append(team)
    progress: dict[str, TeamProgress] = {}
    for month, month_teams in by_month.items():
        progress |= progress_of(services, teams=month_teams, as_of=month)
    return progress


def _failures(reports: list[Report]) -> tuple[ComputeFailure, ...]:
    return tuple(report.failure for report in reports if report.failure is not None)


def _trend_spec(services: Services, team: Team, trends: Mapping[PeriodKind, Series], shown: Period) -> TrendSpec:
    """Each KPI with data, at its own cadence, labelled in the team's language (see bot.trends)."""
    title = chart_title(services.renderer, "chart.title", team, period=shown.label)
    return trend_spec(services.config, services.renderer, team=team, history=trends, title=title)


def management_summary(services: Services, *, channel: str, period: Period) -> Outgoing:
    """Every team's weekly KPIs for one week, the most severe first; the teams without data listed last."""
    with transaction(services.engine) as session:
        reports = build_reports(session, config=services.config, period=period)
    weekly = [kpi.key for kpi in services.config.kpis if services.config.cadences[kpi.key] is PeriodKind.WEEK]
    rows = []
    for report in reports:
        statuses = {key: report.kpis[key].status for key in weekly if key in report.kpis}  # none if it failed
        rows.append(
            SummaryRow(
                report=report,
                breaches=[key for key, status in statuses.items() if status == "breach"],
                misses=[key for key, status in statuses.items() if status == "missed"],
                not_reported=[key for key, status in statuses.items() if status == "no_data"],
                reported=any(status != "no_data" for status in statuses.values()),
            )
        )
    # a team that could not be computed comes first: it needs attention more than any breach
    rows.sort(
        key=lambda row: (
            row.report.failure is None,
            -len(row.breaches),
            -len(row.misses),
            len(row.not_reported),
            row.team,
        )
    )
    channels = {team.key: team.channel for team in services.config.teams}
    text = services.renderer.render(
        "management.txt.j2", language="both", period=period.label, rows=rows, channels=channels
    )
    followup = summary_followup_text(services, period=period)  # response times, open and overdue actions
    if followup:
        text = Mrkdwn(f"{text}\n\n{followup}")
    first, *more = message_parts(text)  # 200 teams make two or three parts
    return Outgoing(
        kind="management_summary",
        team=None,
        subject=period.label,
        channel=channel,
        text=text.splitlines()[0],
        blocks=first,
        continued=more,
        failures=_failures(reports),
    )


def quarterly_scorecards(services: Services, *, channel: str, period: Period) -> list[Outgoing]:
    """Each scheme of the period's kind: the weighted scores and ranking, with a bar chart."""
    with transaction(services.engine) as session:
        rankings = rank_teams(session, config=services.config, period=period)
    messages = []
    for scheme_key, ranking in rankings.schemes.items():
        text = services.renderer.scorecard(
            scheme_key=scheme_key, period=period.label, ranking=ranking, language="both", failures=rankings.failures
        )
        first, *more = message_parts(text)
        bars = partial(
            score_bars,
            # for management, as the scorecard's text: both languages (Chinese drawn with the CJK font)
            title=f"{services.config.scorecards[scheme_key].name.in_language('both')} {period.label}",
            teams=[services.config.team(row.team).name.in_language("both") for row in ranking],
            scores=[row.score for row in ranking],
            cjk=True,
        )
        messages.append(
            Outgoing(
                kind=f"scorecard_{scheme_key}",
                team=None,
                subject=period.label,
                channel=channel,
                text=text.splitlines()[0],
                blocks=first,
                continued=more,
                chart=Chart(bars, f"scorecard-{scheme_key}-{period.label}.png", period.label),
                failures=rankings.failures,
            )
        )
    return messages


def reminders(services: Services, *, team: Team) -> list[Outgoing]:
    """A DM to each lead of ``team`` (a stand-in for a lead away) when it has submitted nothing yet in the
    current week."""
    period = Period.current(PeriodKind.WEEK, now=services.clock(), tz=team.tz)
    start, end = period.utc_bounds(team.tz)
    with transaction(services.engine) as session:
        submitted = has_submitted(session, team=team.key, start=start, end=end)
    if submitted:
        return []
    return [
        Outgoing(
            kind="reminder",
            team=team.key,
            subject=f"{period.label}:{lead}",
            channel=lead,
            text=services.renderer.mrkdwn(
                "reminder", team.language, team=team.name.in_language(team.language), period=period.label
            ),
        )
        for lead in team_recipients(services.engine, config=services.config, team=team, now=services.clock())
    ]
