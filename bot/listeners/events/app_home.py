"""The App Home tab: the user's teams' KPIs for the current week, with status against target."""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient

from bot.listeners.context import access_of, services_of
from kpi_core import use_cases
from kpi_core.periods import Period, PeriodKind

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
    view = services.renderer.view("home", language=access.language, reports=reports, role=access.role)
    client.views_publish(user_id=access.user, view=view)
