"""The "Year to date vs plan" part of the monthly digest and of month, quarter and year reports: one line
per scorecard item (kpi_core/plan_progress.py) and the projection method named once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.render import format_value
from bot.services import Services
from kpi_core.config import Language, Team
from kpi_core.db import transaction
from kpi_core.periods import Period, PeriodKind
from kpi_core.plan_progress import TeamProgress, year_to_date
from kpi_core.projection import ItemProjection, Outlook

TRACK_ICONS = {"on_track": "🟢", "at_risk": "🟡", "off_track": "🔴", "no_plan": "•", "no_data": "▫️"}
#: Lines per section: 10 lines of about 150 characters stay far inside a section's 3,000.
LINES_PER_SECTION = 10


@dataclass(frozen=True)
class ProgressLine:
    """One scorecard item, every figure formatted with its unit (the template escapes them)."""

    icon: str
    name: str
    ytd: str
    ytd_plan: str
    quarter: str
    quarter_projected: str
    quarter_plan: str
    year: str
    year_projected: str
    year_plan: str


def as_of_for_report(period: Period, *, now: datetime, team: Team) -> Period | None:
    """The month a report's year to date runs to: the report's last month, or the last complete month
    in the team's time zone when the report's period is still running; None for a week, or when no month
    of the report's year is complete yet."""
    if period.kind is PeriodKind.WEEK:
        return None
    last_complete = Period.current(PeriodKind.MONTH, now=now, tz=team.tz).previous()
    as_of = min(Period.containing(PeriodKind.MONTH, period.end.replace(day=1)).previous(), last_complete)
    return as_of if as_of.start.year == period.start.year else None


def progress_of(services: Services, *, teams: Sequence[Team], as_of: Period) -> dict[str, TeamProgress]:
    """The year to date of ``teams``, its past months served from the shared report cache."""
    keys = [team.key for team in teams]
    with transaction(services.engine) as session:
        return year_to_date(session, config=services.config, teams=keys, as_of=as_of, cache=services.reports)


def report_progress_blocks(services: Services, *, team: Team, period: Period, now: datetime) -> list[dict[str, Any]]:
    """The part for a report of ``period`` at ``now`` (none for a week, or before any month of its year ended)."""
    as_of = as_of_for_report(period, now=now, team=team)
    if as_of is None:
        return []
    return progress_blocks(services, team=team, progress=progress_of(services, teams=[team], as_of=as_of)[team.key])


def progress_blocks(services: Services, *, team: Team, progress: TeamProgress) -> list[dict[str, Any]]:
    """The part as Block Kit blocks in the team's language (none without scorecard items)."""
    if not progress.items:
        return []
    renderer, language = services.renderer, team.language
    lines = [_line(services, item, language) for item in progress.items]
    return renderer.blocks(
        "plan_progress",
        language=language,
        as_of=progress.as_of.label,
        sections=[lines[start : start + LINES_PER_SECTION] for start in range(0, len(lines), LINES_PER_SECTION)],
        methods=_methods(services, progress.items, language),
        tolerance=f"{services.config.projection.at_risk_within_pct:g}",
    )


def weekly_progress_blocks(services: Services, *, team: Team, progress: TeamProgress) -> list[dict[str, Any]]:
    """The weekly digest's one context line: the items by status (none when no item has data)."""
    if all(item.status in ("no_data", "no_plan") for item in progress.items):
        return []
    counts = Counter(item.status for item in progress.items)
    return services.renderer.blocks(
        "plan_progress_weekly", language=team.language, as_of=progress.as_of.label, counts=counts, team_key=team.key
    )


def month_before(week: Period) -> Period:
    """The last month complete when ``week`` ends."""
    return Period.containing(PeriodKind.MONTH, week.end).previous()


def _line(services: Services, item: ItemProjection, language: Language) -> ProgressLine:
    kpi = services.config.kpi_by_key[item.kpi]
    unit = services.renderer.unit(kpi.unit, language)
    no_data = services.renderer.text("no_data", language)
    no_plan = services.renderer.text("plan_progress.no_plan", language)

    def shown(value: float | None, *, empty: str = no_data) -> str:
        return format_value(value, unit, no_data=empty)

    def outlook(found: Outlook) -> tuple[str, str]:
        return shown(found.projected), shown(found.plan, empty=no_plan)

    quarter_projected, quarter_plan = outlook(item.quarter)
    year_projected, year_plan = outlook(item.year)
    return ProgressLine(
        icon=TRACK_ICONS[item.status],
        name=kpi.name.in_language(language),
        ytd=shown(item.ytd),
        ytd_plan=shown(item.ytd_plan, empty=no_plan),
        quarter=item.quarter.period.label,
        quarter_projected=quarter_projected,
        quarter_plan=quarter_plan,
        year=item.year.period.label,
        year_projected=year_projected,
        year_plan=year_plan,
    )


def _methods(services: Services, items: Sequence[ItemProjection], language: Language) -> str:
    """The method named once, in each of the team's languages: alone when every item used it, else each
    with the items that used it."""
    if language == "both":
        return " / ".join(_methods(services, items, one) for one in ("en", "zh"))
    used: dict[str, list[str]] = {}
    for item in items:
        if item.method is not None:
            used.setdefault(item.method, []).append(services.config.kpi_by_key[item.kpi].name.in_language(language))
    text = services.renderer.text
    if not used:
        return text("plan_progress.nothing_to_project", language)
    if len(used) == 1:
        methods = text(f"plan_progress.method_{next(iter(used))}", language)
    else:
        methods = "; ".join(
            text(
                "plan_progress.method_for",
                language,
                method=text(f"plan_progress.method_{method}", language),
                names=", ".join(names),
            )
            for method, names in used.items()
        )
    return text("plan_progress.method", language, methods=methods)
