"""What annual plans show in Slack and the CLI (issue 12): the plan modal, the reject modal, the approval
DM's text and the plan in force described in words, rendered from templates and strings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.mrkdwn import Mrkdwn, escape, mention
from bot.render import format_value
from bot.services import Services
from kpi_core.annual_plan import YearPlan, from_row
from kpi_core.config_schema import Language
from kpi_core.plan_approval import Draft
from kpi_core.plan_models import AnnualPlan
from kpi_core.plan_schema import MONTHS, is_additive

TOTAL = "total"
MONTH_PREFIX = "month:"
REASON = "reason"


def month_block(number: int) -> str:
    return f"{MONTH_PREFIX}{number:02d}"


def input_number(value: float) -> str:
    """A number as the modal prefills it: every cent kept (``format_number``'s ``%g`` would round 12,820.51
    to 12,820.5, and the prefilled months would no longer add up to the year)."""
    text = f"{round(value, 6):.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def in_languages(language: Language, build: Callable[[Language], Mrkdwn]) -> Mrkdwn:
    """``build`` in ``language``; for "both", the English and the Chinese sentence on two lines, each with
    its own words (a sentence whose parameters are sentences would otherwise repeat both languages twice)."""
    if language == "both":
        return Mrkdwn(f"{build('en')}\n{build('zh')}")
    return build(language)


def source_text(services: Services, language: Language, plan: YearPlan | None, *, zone_of: str) -> Mrkdwn:
    """The plan in force in words: approved by whom and when, the config's default and how it is split,
    or none (the KPI's own targets). Use it in one language (see ``in_languages``)."""
    renderer = services.renderer
    if plan is None:
        return renderer.mrkdwn("plans.source_kpi", language)
    if plan.source == "approved":
        day = local_day(plan.decided_at, services, zone_of)
        return renderer.mrkdwn("plans.source_approved", language, user=mention(plan.decided_by or "-"), day=day)
    method = renderer.text(f"plans.method.{plan.method}", language)
    if plan.months_with_data is not None:
        key = "plans.fallback_total" if plan.months_with_data == MONTHS else "plans.fallback"
        method = renderer.text(key, language, year=plan.year - 1, months=plan.months_with_data)
    return renderer.mrkdwn("plans.source_config", language, method=method)


def plan_modal(
    services: Services, language: Language, *, team: str, kpi: str, year: int, draft: Draft
) -> dict[str, Any]:
    config, renderer = services.config, services.renderer
    definition = config.kpi_by_key[kpi]
    additive = is_additive(definition, config.measure_by_key)
    intro = in_languages(
        language,
        lambda one: renderer.mrkdwn(
            "plans.intro_additive" if additive else "plans.intro_same",
            one,
            kpi=definition.name.in_language(one),
            team=config.team(team).name.in_language(one),
            year=year,
            unit=definition.unit,
            source=source_text(services, one, draft.plan, zone_of=team),
        ),
    )
    initial = [input_number(value) for value in draft.months] if draft.months else [None] * MONTHS
    months = [(month_block(number), f"{year:04d}-{number:02d}", initial[number - 1]) for number in range(1, MONTHS + 1)]
    return renderer.view(
        "plan",
        language=language,
        metadata={"team": team, "kpi": kpi, "year": year},
        intro=intro,
        year=year,
        total=input_number(draft.total) if draft.total is not None else None,
        months=months,
    )


def reject_modal(services: Services, language: Language, *, row: AnnualPlan) -> dict[str, Any]:
    return services.renderer.view(
        "plan_reject", language=language, metadata={"plan": row.id}, summary=plan_summary(services, language, row)
    )


def plan_summary(services: Services, language: Language, row: AnnualPlan | YearPlan) -> Mrkdwn:
    """``Year 12,000,000 CNY · Q1 … · Q4 …`` and the 12 months, as the approval DM shows a proposal."""
    config, renderer = services.config, services.renderer
    unit = config.kpi_by_key[row.kpi].unit
    plan = row if isinstance(row, YearPlan) else from_row(services.config, row)
    quarters = " · ".join(
        f"Q{number} {format_value(value, unit, no_data='-')}" for number, value in enumerate(plan.quarters(), start=1)
    )
    year = renderer.text("plans.show_year", language)  # "Year / 全年" in both languages: the figures once
    line = escape(f"{year} {format_value(plan.total, unit, no_data='-')} · {quarters}")
    months = ", ".join(
        f"{number:02d}: {format_value(value, unit, no_data='-')}" for number, value in enumerate(plan.months, start=1)
    )
    return Mrkdwn(f"{line}\n{months}")


def proposal_text(services: Services, language: Language, *, row: AnnualPlan, in_force: YearPlan | None) -> Mrkdwn:
    head = in_languages(
        language,
        lambda one: services.renderer.mrkdwn(
            "plans.proposal",
            one,
            proposer=mention(row.proposed_by),
            source=source_text(services, one, in_force, zone_of=row.team),
            **names(services, one, row),
        ),
    )
    return Mrkdwn(f"{head}\n{plan_summary(services, language, row)}")


def names(services: Services, language: Language, row: AnnualPlan) -> dict[str, Any]:
    """The words every plan message names a plan by: its year, KPI and team."""
    config = services.config
    return {
        "year": row.year,
        "kpi": config.kpi_by_key[row.kpi].name.in_language(language),
        "team": config.team(row.team).name.in_language(language),
    }


def local_day(moment: datetime | None, services: Services, team: str) -> str:
    return moment.astimezone(services.config.team(team).tz).date().isoformat() if moment else "-"
