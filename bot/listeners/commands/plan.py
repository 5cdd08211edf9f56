"""``/kpi plan 2027 [team] [kpi]`` (issue 12): management and admins open a team's year plan of a KPI,
prefilled with the plan in force; anyone else is refused ephemerally."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.plan_forms import plan_year, plannable
from bot.plan_views import plan_modal
from kpi_core.plan_approval import approvers, draft_plan, may_plan

if TYPE_CHECKING:
    from bot.listeners.commands.kpi import Invocation


def plan(invocation: Invocation) -> None:
    services, user = invocation.services, invocation.access.user
    config = services.config
    if not may_plan(config, user):
        invocation.reply(invocation.localize("plans.refused"))
        return
    if not approvers(config, user):
        invocation.reply(invocation.localize("plans.no_approver"))
        return
    team = next(iter(invocation.access.view_teams), config.teams[0].key)
    kpi = next(iter(config.plans), None) or next(key for key in config.kpi_by_key if plannable(config, key))
    year_text = None
    for word in invocation.args:  # the year, a team and a KPI, in any order
        if word in config.team_by_key:
            team = word
        elif word in config.kpi_by_key:
            kpi = word
        elif year_text is None and any(character.isdigit() for character in word):
            year_text = word
        else:
            teams = ", ".join(config.team_by_key)
            invocation.reply(invocation.localize("plans.unknown_word", word=word, teams=teams))
            return
    if year_text is None:
        invocation.reply(invocation.localize("plans.usage"))
        return
    if not plannable(config, kpi):
        invocation.reply(invocation.localize("plans.band_kpi", kpi=kpi))
        return
    year = plan_year(config, year_text, team=team, now=services.clock())
    if not isinstance(year, int):
        key, params = year
        invocation.reply(invocation.localize(key, **params))
        return
    invocation.ack()  # trigger_id lives 3 s: the modal reads one small table
    draft = draft_plan(services.engine, config=config, kpi=kpi, year=year, team=team)
    view = plan_modal(services, invocation.access.language, team=team, kpi=kpi, year=year, draft=draft)
    invocation.client.views_open(trigger_id=invocation.trigger_id, view=view)
