"""People and positions from the config: who a person is, whom they report to, and who may see their
personal scorecard (the person, their superior chain, HR and admins; nobody else, management included)."""

from __future__ import annotations

from kpi_core.config_schema import Competency, Config, Person, Position

__all__ = [
    "competencies_of",
    "direct_reports",
    "may_see_person",
    "people_of_team",
    "person_of",
    "position_of",
    "superior_chain",
    "superior_of",
    "viewable_people",
]


def person_of(config: Config, user: str) -> Person | None:
    """The configured person with Slack id ``user``, or None for someone who is not assessed."""
    return config.person_by_user.get(user)


def position_of(config: Config, user: str) -> Position | None:
    person = person_of(config, user)
    return config.position_by_key.get(person.position) if person is not None else None


def competencies_of(config: Config, position: Position) -> list[Competency]:
    """The competencies a position's holders are rated on, in the config's order of competencies."""
    if position.competencies is None:
        return list(config.competencies)
    wanted = set(position.competencies)
    return [competency for competency in config.competencies if competency.key in wanted]


def superior_of(config: Config, user: str) -> str | None:
    """The direct superior of ``user``: their configured ``superior``, else their team's first lead (unless
    that is themselves: a lead without a ``superior`` is at the top). None for someone not configured."""
    person = person_of(config, user)
    if person is None:
        return None
    if person.superior is not None:
        return person.superior
    team = config.team_by_key.get(person.team)
    lead = team.leads[0] if team is not None and team.leads else None
    return lead if lead != user else None


def superior_chain(config: Config, user: str) -> list[str]:
    """The superiors of ``user``, direct superior first, up to someone without one. The config check rejects
    cycles; the chain still stops at a repeat so that a config built in code cannot loop forever."""
    chain: list[str] = []
    current = superior_of(config, user)
    while current is not None and current != user and current not in chain:
        chain.append(current)
        current = superior_of(config, current)
    return chain


def direct_reports(config: Config, user: str) -> list[Person]:
    """The people whose direct superior is ``user``, in config order."""
    return [person for person in config.people if superior_of(config, person.user) == user]


def people_of_team(config: Config, team: str) -> list[Person]:
    return [person for person in config.people if person.team == team]


def may_see_person(config: Config, viewer: str, user: str) -> bool:
    """Whether ``viewer`` may see the personal scorecard of ``user``: the person themselves, anyone up their
    superior chain, HR and admins. Management and team members see team figures only."""
    if viewer in config.roles.admins or viewer in config.roles.hr:
        return True
    if person_of(config, user) is None:
        return False
    return viewer == user or viewer in superior_chain(config, user)


def viewable_people(config: Config, viewer: str) -> list[Person]:
    """Every configured person ``viewer`` may see, in config order (themselves first when configured)."""
    visible = [person for person in config.people if may_see_person(config, viewer, person.user)]
    return sorted(visible, key=lambda person: person.user != viewer)
