"""What the people side shows in Slack (issue 11): the personal targets modal, the superior's proposal DM,
the team check's note and the personal scorecard, rendered from templates."""

from __future__ import annotations

import json
from typing import Any

from bot.mrkdwn import Mrkdwn, mention
from bot.render import Renderer, format_value
from bot.services import Services
from kpi_core.config_schema import Config, Language, Person
from kpi_core.goals import TargetGap
from kpi_core.periods import Period
from kpi_core.person_scorecard import PersonCard
from kpi_core.targets import targets_of_team


def goals_modal(
    services: Services,
    language: Language,
    *,
    person: Person,
    period: Period,
    superior: str,
    initial: dict[str, float],
    adjusting: str | None = None,
) -> dict[str, Any]:
    """The proposal modal of ``person`` (or, with ``adjusting`` = the proposal's stamp, the superior's
    adjustment of it), one input per KPI of their position, hinted with the team's target."""
    config, renderer = services.config, services.renderer
    position = config.position_by_key[person.position]
    kpis = [config.kpi_by_key[key] for key in position.kpis]
    hints = {}
    team_targets = targets_of_team(services.engine, config=config, period=period, team=person.team)
    for kpi in kpis:
        target = team_targets[kpi.key]
        if target is not None:
            hints[kpi.key] = renderer.text(
                "people.team_target_hint", language, target=format_value(target, kpi.unit, no_data="")
            )
    intro = renderer.mrkdwn(
        "people.goals_intro",
        language,
        period=period.label,
        position=position.name.in_language(language),
        superior=mention(superior),
    )
    metadata: dict[str, Any] = {"period": period.label}
    if adjusting is not None:
        metadata |= {"person": person.user, "stamp": adjusting}
    return renderer.view(
        "goals",
        language=language,
        adjusting=adjusting is not None,
        metadata=metadata,
        intro=intro,
        kpis=kpis,
        hints=hints,
        initial={key: f"{value:g}" for key, value in initial.items()},
    )


def decision_value(person: str, period: Period, stamp: str) -> str:
    """What the Approve / Adjust buttons carry (read back by bot.goal_forms.decision_of)."""
    return json.dumps({"person": person, "period": period.label, "stamp": stamp}, separators=(",", ":"))


def proposal_blocks(
    services: Services, language: Language, *, person: Person, period: Period, values: dict[str, float], stamp: str
) -> list[dict[str, Any]]:
    in_force = targets_of_team(services.engine, config=services.config, period=period, team=person.team)
    team_targets = {key: target for key in values if (target := in_force.get(key)) is not None}
    return services.renderer.blocks(
        "goals_proposal",
        language=language,
        person=person.user,
        period=period.label,
        values=values,
        team_targets=team_targets,
        button_value=decision_value(person.user, period, stamp),
    )


def gaps_text(
    renderer: Renderer, config: Config, language: Language, *, team: str, period: Period, gaps: list[TargetGap]
) -> Mrkdwn:
    """The note to a superior whose team's personal targets do not add up (empty when they do)."""
    if not gaps:
        return Mrkdwn("")
    team_name = config.team(team).name.in_language(language)
    lines: list[str] = [renderer.mrkdwn("people.gaps_title", language, team=team_name, period=period.label)]
    for gap in gaps:
        kpi = config.kpi_by_key[gap.kpi]
        lines.append(
            "• "
            + renderer.mrkdwn(
                f"people.gap_{gap.combination}",
                language,
                kpi=kpi.name.in_language(language),
                combined=format_value(gap.combined, kpi.unit, no_data=""),
                target=format_value(gap.team_target, kpi.unit, no_data=""),
                people=gap.people,
            )
        )
    return Mrkdwn("\n".join(lines))


def card_text(renderer: Renderer, config: Config, language: Language, card: PersonCard) -> Mrkdwn:
    """The personal scorecard as mrkdwn (for /kpi me, the CLI and the App Home)."""
    person = card.person
    scheme = config.scorecards.get(card.team_scheme or "")
    return renderer.render(
        "person_scorecard.txt.j2",
        language=language,
        card=card,
        person_name=person.name or mention(person.user),
        position_name=config.position_by_key[person.position].name.in_language(language),
        weights=config.person_scorecard,
        scheme_name=scheme.name.in_language(language) if scheme else "",
        competency_names={competency.key: competency.name.in_language(language) for competency in config.competencies},
    )
