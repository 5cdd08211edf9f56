"""The modals users fill in, built from the config's forms and rendered from templates/views/."""

from __future__ import annotations

from typing import Any

from bot.services import Services
from kpi_core.access import Access
from kpi_core.config import Form
from kpi_core.display_limits import form_title
from kpi_core.models import CustomerCase, Milestone
from kpi_core.periods import Period
from kpi_core.rules import CASE_KINDS

PERIOD_CHOICES = 6  # the current period and the five before it
OPTION_TEXT_MAX_CHARS = 75  # Slack refuses a menu whose option text is longer
MENU_OPTIONS_MAX = 100  # a static menu holds at most 100 options; more are served as the user types


def option_text(text: str) -> str:
    """``text`` cut to fit a menu option, marked as cut."""
    return text if len(text) <= OPTION_TEXT_MAX_CHARS else text[: OPTION_TEXT_MAX_CHARS - 1] + "…"


def form_modal(
    services: Services,
    access: Access,
    form: Form,
    *,
    team: str | None = None,
    period: Period | None = None,
    initial: dict[str, float] | None = None,
) -> dict[str, Any]:
    """The modal of one of the config's forms, for the teams ``access`` may submit for."""
    config = services.config
    team = team or access.submit_teams[0]
    now = services.clock()
    context: dict[str, Any] = {
        "form": form,
        "title": form_title(form, access.language),
        "metadata": {"form": form.key},
        "team": team,
        **_team_menu(services, access, team),
        "today": now.astimezone(config.team(team).tz).date().isoformat(),
        # a record may name the person it belongs to once the config has people (issue 11)
        "has_people": bool(config.people),
    }
    if form.kind == "measures":
        current = Period.current(form.period, now=now, tz=config.team(team).tz)
        choices = [current]
        while len(choices) < PERIOD_CHOICES:
            choices.append(choices[-1].previous())
        if period is not None and period not in choices:
            choices.append(period)
        context |= {
            "period": (period or current).label,
            "period_options": [(choice.label, choice.label) for choice in choices],
            "measures": [config.measure_by_key[key] for key in form.measures],
            "initial": {key: f"{value:g}" for key, value in (initial or {}).items()},
        }
    if form.kind == "case":
        context["case_kinds"] = [(kind, services.renderer.text(kind, access.language)) for kind in CASE_KINDS]
    return services.renderer.view(form.kind, language=access.language, **context)


def _team_menu(services: Services, access: Access, team: str) -> dict[str, Any]:
    """The team menu's options: all of them, or (too many for a static menu) only the chosen one, the
    rest served as the user types (bot/listeners/options/)."""
    if len(access.submit_teams) <= MENU_OPTIONS_MAX:
        return {"team_options": team_menu_options(services, access), "team_external": False}
    name = option_text(services.config.team(team).name.in_language(access.language))
    return {"team_options": [(team, name)], "team_external": True}


def team_menu_options(services: Services, access: Access, *, typed: str = "") -> list[tuple[str, str]]:
    """(key, menu text) of the teams ``access`` may submit for whose key or name holds ``typed``, at most
    as many as a menu holds."""
    needle = typed.strip().casefold()
    options = []
    for key in access.submit_teams:
        name = services.config.team(key).name.in_language(access.language)
        if needle in key.casefold() or needle in name.casefold():
            options.append((key, option_text(name)))
    return options[:MENU_OPTIONS_MAX]


def case_update_modal(services: Services, access: Access, cases: list[CustomerCase]) -> dict[str, Any]:
    config = services.config
    options = []
    for case in cases:
        team = config.team(case.team)
        raised = case.raised_at.astimezone(team.tz).strftime("%Y-%m-%d %H:%M")
        kind = services.renderer.text(case.kind, access.language)
        options.append(
            (str(case.id), option_text(f"#{case.id} {team.name.in_language(access.language)} · {kind} · {raised}"))
        )
    return services.renderer.view("update_case", language=access.language, metadata={}, case_options=options)


def milestone_completion_modal(services: Services, access: Access, milestones: list[Milestone]) -> dict[str, Any]:
    config = services.config
    options = [
        (
            str(milestone.id),
            option_text(f"#{milestone.id} {milestone.project} · {milestone.name} · {milestone.due_on}"),
        )
        for milestone in milestones
    ]
    team = config.team(milestones[0].team)
    today = services.clock().astimezone(team.tz).date().isoformat()
    return services.renderer.view(
        "complete_milestone", language=access.language, metadata={}, milestone_options=options, today=today
    )


def confirm_replace_modal(
    services: Services,
    access: Access,
    *,
    form: Form,
    team: str,
    period: Period,
    values: dict[str, float],
    stored: dict[str, float],
) -> dict[str, Any]:
    config = services.config
    changes = [
        f"• {config.measure_by_key[key].name.in_language(access.language)}: {stored[key]:g} → {values[key]:g}"
        for key in values
        if key in stored
    ]
    return services.renderer.view(
        "confirm_replace",
        language=access.language,
        metadata={"form": form.key, "team": team, "period": period.label, "values": values},
        team_name=config.team(team).name.in_language(access.language),
        period=period.label,
        changes=changes,
    )


def notice_modal(services: Services, access: Access, *, title_key: str, text: str) -> dict[str, Any]:
    """A modal that only tells ``text``: what a confirmation becomes when it cannot be carried out."""
    return services.renderer.view("notice", language=access.language, title_key=title_key, text=text)
