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
    person: str | None = None,
) -> dict[str, Any]:
    """The modal of one of the config's forms, for the teams ``access`` may submit for (a measures form
    reopened to correct it: with its team, period, values and ``person``)."""
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
            **_person_menu(services, access, person),
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


def _person_menu(services: Services, access: Access, person: str | None) -> dict[str, Any]:
    """The menu of the person a measures form's values are recorded for (none chosen: the team's own
    figures): the configured people of the teams ``access`` may submit for, or (more than a static menu
    holds) only the chosen one, the rest served as the user types."""
    options = person_menu_options(services, access, limit=None)
    if person is not None and person not in dict(options):
        # a correction of values recorded for someone no longer among these people: shown, so that
        # submitting says why instead of silently making them the team's own figures
        options.insert(0, (person, option_text(person)))
    if len(options) <= MENU_OPTIONS_MAX:
        return {"person_menu": bool(options), "person_options": options, "person": person, "person_external": False}
    chosen = [(user, text) for user, text in options if user == person]
    return {"person_menu": True, "person_options": chosen, "person": person, "person_external": True}


def person_menu_options(
    services: Services, access: Access, *, typed: str = "", limit: int | None = MENU_OPTIONS_MAX
) -> list[tuple[str, str]]:
    """(user id, menu text) of the configured people of the teams ``access`` may submit for whose name,
    user id or team holds ``typed``: "Zhang Min · Shanghai Operations"."""
    config, needle = services.config, typed.strip().casefold()
    teams = set(access.submit_teams)
    options = []
    for person in config.people:
        if person.team not in teams:
            continue
        text = f"{person.name or person.user} · {config.team(person.team).name.in_language(access.language)}"
        if needle in person.user.casefold() or needle in text.casefold():
            options.append((person.user, option_text(text)))
    return options if limit is None else options[:limit]


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
    person: str | None = None,
) -> dict[str, Any]:
    """Asks to replace the values already stored for ``team`` in ``period``: those of ``person``, or the
    team's own figures; the metadata carries all it takes to store them once confirmed."""
    config = services.config
    whose = config.team(team).name.in_language(access.language)
    if person is not None and person in config.person_by_user:
        whose = f"{config.person_by_user[person].name or person} ({whose})"
    changes = [
        f"• {config.measure_by_key[key].name.in_language(access.language)}: {stored[key]:g} → {values[key]:g}"
        for key in values
        if key in stored
    ]
    return services.renderer.view(
        "confirm_replace",
        language=access.language,
        metadata={"form": form.key, "team": team, "period": period.label, "values": values, "person": person},
        team_name=whose,
        period=period.label,
        changes=changes,
    )


def notice_modal(services: Services, access: Access, *, title_key: str, text: str) -> dict[str, Any]:
    """A modal that only tells ``text``: what a confirmation becomes when it cannot be carried out."""
    return services.renderer.view("notice", language=access.language, title_key=title_key, text=text)
