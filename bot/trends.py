"""What the trend charts show: each KPI at its own cadence over its recent periods, as bot.charts specs.

A weekly KPI is drawn over the last 12 weeks, a monthly one over the last 6 complete months, a quarterly
one over the last 4 quarters; a month's value is never spread over the weeks it contains.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from sqlmodel import Session

from bot.charts import Panel, TrendSpec, render_trend
from bot.render import Renderer, format_value
from bot.services import Services
from kpi_core import use_cases
from kpi_core.config import Config, Kpi, Language, Team
from kpi_core.kpis import KpiResult, compute_reports
from kpi_core.models import Alert
from kpi_core.periods import Period, PeriodKind

#: How many periods of each cadence a chart shows.
WINDOW = {PeriodKind.WEEK: 12, PeriodKind.MONTH: 6, PeriodKind.QUARTER: 4, PeriodKind.YEAR: 3}

#: One team's results at one cadence, oldest period first.
Series = Sequence[tuple[Period, Mapping[str, KpiResult]]]


def window(kind: PeriodKind, *, ending: Period) -> list[Period]:
    """The last ``WINDOW[kind]`` complete periods of ``kind`` that end by the end of ``ending``."""
    last = Period.containing(kind, ending.end - timedelta(days=1))
    if last.end > ending.end:
        last = last.previous()
    periods = [last]
    while len(periods) < WINDOW[kind]:
        periods.insert(0, periods[0].previous())
    return periods


def coarser_history(
    session: Session, *, config: Config, teams: list[str], ending: Period
) -> dict[str, dict[PeriodKind, Series]]:
    """Each team's results at every cadence coarser than a week that some KPI has, up to ``ending``:
    computed for all ``teams`` at once, one period at a time."""
    kinds = set(config.cadences.values()) - {PeriodKind.WEEK}
    history: dict[str, dict[PeriodKind, list[tuple[Period, Mapping[str, KpiResult]]]]] = {key: {} for key in teams}
    for kind in sorted(kinds, key=list(PeriodKind).index):
        for period in window(kind, ending=ending):
            reports = compute_reports(session, config=config, period=period, teams=teams)
            for key in teams:
                history[key].setdefault(kind, []).append((period, reports[key].results))
    return {key: dict(series) for key, series in history.items()}


def trend_spec(
    config: Config, renderer: Renderer, *, team: Team, history: Mapping[PeriodKind, Series], title: str
) -> TrendSpec:
    """A panel for each KPI with data in its cadence's window (config order)."""
    panels = []
    for kpi in config.kpis:
        series = history.get(config.cadences[kpi.key])
        if series:
            panel = kpi_panel(renderer, kpi=kpi, team=team, series=series)
            if panel is not None:
                panels.append(panel)
    return TrendSpec(title=title, panels=tuple(panels), cjk=team.language != "en")


def kpi_panel(renderer: Renderer, *, kpi: Kpi, team: Team, series: Series) -> Panel | None:
    """``kpi`` over ``series``; None when it has no data there."""
    language = team.language
    # a period that could not be computed has no results: a gap, like a period without data
    found = [results.get(kpi.key) for _, results in series]
    values = tuple(None if result is None else result.value for result in found)
    if all(value is None for value in values):
        return None
    latest = next(value for value in reversed(values) if value is not None)
    targets = [result.target for result in found if result is not None and result.target is not None]
    target = targets[-1] if targets else None
    kind = series[-1][0].kind
    threshold = kpi.alert_threshold_for(team.key) if kpi.alert is not None and kpi.alert.period == kind else None
    labels = tuple(period.label for period, _ in series)
    unit = renderer.unit(kpi.unit, language)
    limits = [limit for limit in (target, threshold) if limit is not None]
    if kpi.better == "band" and kpi.band is not None:
        direction = renderer.text("chart.band", language, low=f"{kpi.band.low:g}", high=f"{kpi.band.high:g}")
    else:
        direction = renderer.text(f"chart.{kpi.better}", language)
    return Panel(
        # a bilingual name on two lines: on one it would run into the next panel
        title=kpi.name.in_language(language).replace(" / ", "\n")
        if language == "both"
        else kpi.name.in_language(language),
        subtitle=f"{unit} · {direction}",
        labels=labels,
        values=values,
        # precise enough to tell the latest value from a target or threshold it is not equal to
        latest=format_value(latest, unit, no_data="–", against=limits),
        target=target,
        target_label=f"{renderer.text('chart.target', _short(language))} {_value(target, unit)}",
        band=(kpi.band.low, kpi.band.high) if kpi.band is not None else None,
        threshold=threshold,
        threshold_label=f"{renderer.text('chart.threshold', _short(language))} {_value(threshold, unit)}",
    )


def alert_trend_png(services: Services, alert: Alert) -> bytes | None:
    """The alert's chart, rendered when its upload is claimed (see ``alert_trend_spec``)."""
    return render_trend(alert_trend_spec(services, alert))


def alert_trend_spec(services: Services, alert: Alert) -> TrendSpec:
    """The alerted KPI over its recent periods of the alert's watch period, up to the period in which the
    alert opened (that one so far), with the alert threshold. The periods' reports come from the shared
    reports (``services.reports``): the charts of many alerts share them (see ``prepare_alert_charts``)."""
    config = services.config
    team = config.team(alert.team)
    kpi = config.kpi_by_key[alert.kpi]
    periods = alert_chart_periods(config, alert)
    reports = use_cases.reports(
        services.engine, config=config, wanted=[(period, [team.key]) for period in periods], cache=services.reports
    )
    series = [(period, report.kpis) for period, [report] in zip(periods, reports, strict=True)]
    panel = kpi_panel(services.renderer, kpi=kpi, team=team, series=series)
    title = chart_title(services.renderer, "chart.alert_title", team)
    return TrendSpec(title=title, panels=(panel,) if panel is not None else (), cjk=team.language != "en")


def alert_chart_periods(config: Config, alert: Alert) -> list[Period]:
    """The periods an alert's chart shows, oldest first."""
    team = config.team(alert.team)
    kpi = config.kpi_by_key[alert.kpi]
    kind = kpi.alert.period if kpi.alert is not None and alert.case_id is None else config.cadences[kpi.key]
    current = Period.containing(kind, alert.opened_at.astimezone(team.tz).date())
    periods = [current]
    while len(periods) < WINDOW[kind]:
        periods.insert(0, periods[0].previous())
    return periods


def prepare_alert_charts(services: Services, alerts: Sequence[Alert]) -> None:
    """Computes the reports the charts of ``alerts`` show, each period once for all their teams (one
    computation instead of one per alert and period: 2,000 alerts' charts at 200 teams x 1M cases took
    minutes), into the shared reports the charts then read."""
    teams_by_period: dict[Period, set[str]] = {}
    for alert in alerts:
        for period in alert_chart_periods(services.config, alert):
            teams_by_period.setdefault(period, set()).add(alert.team)
    wanted = [(period, sorted(teams)) for period, teams in teams_by_period.items()]
    use_cases.reports(services.engine, config=services.config, wanted=wanted, cache=services.reports)


def chart_title(renderer: Renderer, key: str, team: Team, **params: str) -> str:
    """A chart's title in one language (a bilingual team's in Chinese) with the team's name as it is
    known: both languages joined would not fit on one line."""
    return renderer.text(key, _short(team.language), team=team.name.in_language(team.language), **params)


def _short(language: Language) -> Language:
    """Small labels in one language: Chinese for a bilingual team (the panel title already has both)."""
    return "zh" if language == "both" else language


def _value(value: float | None, unit: str) -> str:
    return format_value(value, unit, no_data="–")
