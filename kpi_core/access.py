"""Who may do what, from the config's roles: admins manage everything, management sees every team,
a lead submits for (and sees) their own teams, a member sees their team. Enforced by the server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from kpi_core.config import Config, Language

Role = Literal["admin", "management", "lead", "member", "none"]


@dataclass(frozen=True)
class Access:
    user: str
    role: Role
    submit_teams: tuple[str, ...]  # config order
    view_teams: tuple[str, ...]
    language: Language

    def may_submit(self, team: str) -> bool:
        return team in self.submit_teams

    def may_view(self, team: str) -> bool:
        return team in self.view_teams

    @property
    def alert_teams(self) -> tuple[str, ...]:
        """The teams whose alerts and corrective actions the user may act on (acknowledge, assign,
        snooze, open or close an action): management and admins every team, a lead their own."""
        return self.view_teams if self.role in ("admin", "management") else self.submit_teams


def access_for(config: Config, user: str) -> Access:
    every_team = tuple(team.key for team in config.teams)
    led = tuple(team.key for team in config.teams if user in team.leads)
    person = config.person_by_user.get(user)  # a configured person is a member of their team
    member_of = tuple(
        team.key
        for team in config.teams
        if user in team.members or user in team.leads or (person is not None and person.team == team.key)
    )
    own_language = config.team(member_of[0]).language if member_of else "en"
    if user in config.roles.admins:
        return Access(user, "admin", every_team, every_team, "both" if not member_of else own_language)
    if user in config.roles.management:
        return Access(user, "management", led, every_team, "both" if not member_of else own_language)
    if led:
        return Access(user, "lead", led, member_of, own_language)
    if member_of:
        return Access(user, "member", (), member_of, own_language)
    return Access(user, "none", (), (), "both")
