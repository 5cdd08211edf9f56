"""The App Home tab: the user's own personal scorecard (when they are a configured person), then their teams'
KPIs for the current week, with status against target."""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient

from bot.listeners.context import access_of, services_of
from bot.people_views import card_text
from bot.render import message_parts
from kpi_core import people_use_cases, use_cases
from kpi_core.people import person_of
from kpi_core.periods import Period, PeriodKind
from kpi_core.person_scorecard import default_period

HOME_TEAMS = 12  # a management user sees the first dozen teams; the tab has a 100-block limit


def handle_app_home_opened(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    if event.get("tab", "home") != "home":
        return
    services, access = services_of(context), access_of(context)
    teams = list(access.view_teams[:HOME_TEAMS])
    now = services.clock()
    wanted = [(Period.current(PeriodKind.WEEK, now=now, tz=services.config.team(key).tz), [key]) for key in teams]
    by_team = use_cases.reports(services.engine, config=services.config, wanted=wanted, cache=services.reports)
    reports = [report for team_reports in by_team for report in team_reports]
    view = services.renderer.view(
        "home", language=access.language, reports=reports, role=access.role, person_blocks=_person_blocks(context)
    )
    client.views_publish(user_id=access.user, view=view)


def _person_blocks(context: BoltContext) -> list[dict[str, Any]]:
    """The user's own personal scorecard (issue 11) for the current period; none for someone not configured.
    The Home tab is the user's own, so nobody else sees it."""
    services, access = services_of(context), access_of(context)
    person = person_of(services.config, access.user)
    if person is None:
        return []
    period = default_period(services.config, person, now=services.clock())
    card = people_use_cases.scorecard_of(services.engine, config=services.config, person=person, period=period)
    return message_parts(card_text(services.renderer, services.config, access.language, card))[0]
