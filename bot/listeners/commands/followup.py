"""``/kpi alerts [team]`` and ``/kpi actions [team]``: the open alerts and corrective actions of the user's
teams (or of the one named), as ephemeral Block Kit answers in parts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from bot.followup_lists import action_pages, alert_pages
from kpi_core.actions import actions_of
from kpi_core.alert_lifecycle import open_alerts

if TYPE_CHECKING:
    from bot.listeners.commands.kpi import Invocation


def list_alerts(invocation: Invocation) -> None:
    def pages(teams: Sequence[str]) -> list[list[dict[str, Any]]]:
        alerts = open_alerts(invocation.services.engine, teams=teams)
        return alert_pages(invocation.services, invocation.access, alerts, teams=teams)

    _list(invocation, pages)


def list_actions(invocation: Invocation) -> None:
    def pages(teams: Sequence[str]) -> list[list[dict[str, Any]]]:
        actions = actions_of(invocation.services.engine, teams=teams)
        return action_pages(invocation.services, invocation.access, actions, teams=teams)

    _list(invocation, pages)


def _list(invocation: Invocation, pages: Callable[[Sequence[str]], list[list[dict[str, Any]]]]) -> None:
    access, config = invocation.access, invocation.services.config
    named = [word for word in invocation.args if word in config.team_by_key]
    unknown = [word for word in invocation.args if word not in config.team_by_key]
    if unknown:
        invocation.reply(invocation.localize("unknown_team", team=unknown[0], teams=", ".join(config.team_by_key)))
        return
    refused = [team for team in named if not access.may_view(team)]
    if refused or not access.view_teams:
        invocation.reply(invocation.localize("refused_view", team=", ".join(refused) or "-"))
        return
    teams = named or list(access.view_teams)
    invocation.ack()
    for blocks in pages(teams):
        title = blocks[0]["text"]["text"].strip("*")
        invocation.respond(text=title, blocks=blocks, response_type="ephemeral")
