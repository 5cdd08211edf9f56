"""The config checks of people, positions, competencies and the personal scorecard: references to teams,
positions, KPIs and users, weights, and cycles in the superior chain (kpi_core.config runs them with the rest)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping

from kpi_core.config_problems import did_you_mean
from kpi_core.config_schema import Config
from kpi_core.errors import ConfigProblem
from kpi_core.people import superior_of

__all__ = ["check_people"]


def check_people(config: Config, declared: Mapping[str, Collection[str]]) -> list[ConfigProblem]:
    """Every problem of the ``competencies``, ``positions``, ``people`` and ``person_scorecard`` sections."""
    problems = _duplicates("competencies", [competency.key for competency in config.competencies])
    problems += _duplicates("positions", [position.key for position in config.positions])
    problems += _duplicates("people", [person.user for person in config.people], what="user")
    problems += _check_positions(config, declared)
    problems += _check_persons(config, declared)
    problems += _check_cycles(config)
    problems += _check_person_scorecard(config, declared)
    return problems


def _duplicates(section: str, keys: list[str], *, what: str = "key") -> list[ConfigProblem]:
    return [
        ConfigProblem(f"{section}.{key}", f"duplicate {what} {key!r} ({count} times)")
        for key, count in Counter(keys).items()
        if count > 1
    ]


def _check_positions(config: Config, declared: Mapping[str, Collection[str]]) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    kpis, competencies = declared["kpis"], declared["competencies"]
    for position in config.positions:
        where = f"positions.{position.key}"
        for kpi in position.kpis:
            if kpi not in kpis:
                problems.append(ConfigProblem(f"{where}.kpis.{kpi}", f"unknown KPI {kpi!r}{did_you_mean(kpi, kpis)}"))
        total = sum(position.kpis.values())
        if not position.kpis:
            problems.append(ConfigProblem(f"{where}.kpis", "a position needs at least one KPI with its weight"))
        elif any(weight <= 0 for weight in position.kpis.values()):
            problems.append(ConfigProblem(f"{where}.kpis", "every weight must be above 0"))
        elif abs(total - 100) > 1e-6:
            problems.append(ConfigProblem(f"{where}.kpis", f"weights sum to {total:g} %, they must sum to 100 %"))
        for key in position.competencies or []:
            if key not in competencies:
                message = f"unknown competency {key!r}{did_you_mean(key, competencies)}"
                problems.append(ConfigProblem(f"{where}.competencies", message))
    return problems


def _known_users(config: Config, declared: Mapping[str, Collection[str]]) -> set[str]:
    """Everyone the config names: people, team leads and members, and the roles."""
    users = set(declared["people"])
    for team in config.teams:
        users.update(team.leads, team.members)
    users.update(config.roles.admins, config.roles.management, config.roles.hr)
    return users


def _check_persons(config: Config, declared: Mapping[str, Collection[str]]) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    teams, positions = declared["teams"], declared["positions"]
    users = _known_users(config, declared)
    for person in config.people:
        where = f"people.{person.user}"
        if person.team not in teams:
            message = f"unknown team {person.team!r}{did_you_mean(person.team, teams)}"
            problems.append(ConfigProblem(f"{where}.team", message))
        if person.position not in positions:
            message = f"unknown position {person.position!r}{did_you_mean(person.position, positions)}"
            problems.append(ConfigProblem(f"{where}.position", message))
        superior = person.superior
        if superior == person.user:
            problems.append(ConfigProblem(f"{where}.superior", "a person cannot be their own superior"))
        elif superior is not None and superior not in users:
            message = (
                f"unknown user {superior!r}{did_you_mean(superior, users)}"
                " (a superior must be a person, a team lead or member, or in roles)"
            )
            problems.append(ConfigProblem(f"{where}.superior", message))
    return problems


def _check_cycles(config: Config) -> list[ConfigProblem]:
    """A superior chain that comes back to where it started; each loop reported once, at its first person."""
    problems: list[ConfigProblem] = []
    reported: set[str] = set()
    for person in config.people:
        chain = [person.user]
        current = superior_of(config, person.user)
        while current is not None and current not in chain:
            chain.append(current)
            current = superior_of(config, current)
        if current != person.user or person.user in reported or len(chain) == 1:  # a self-loop: said above
            continue
        reported.update(chain)
        loop = " -> ".join([*chain, person.user])
        problems.append(ConfigProblem(f"people.{person.user}.superior", f"the superior chain loops: {loop}"))
    return problems


def _check_person_scorecard(config: Config, declared: Mapping[str, Collection[str]]) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    scheme = config.person_scorecard
    total = scheme.position + scheme.personal + scheme.team
    if abs(total - 100) > 1e-6:
        message = f"position + personal + team weights sum to {total:g} %, they must sum to 100 %"
        problems.append(ConfigProblem("person_scorecard", message))
    if scheme.team_scorecard is not None and scheme.team_scorecard not in declared["scorecards"]:
        hint = did_you_mean(scheme.team_scorecard, declared["scorecards"])
        problems.append(
            ConfigProblem("person_scorecard.team_scorecard", f"unknown scorecard {scheme.team_scorecard!r}{hint}")
        )
    elif scheme.team > 0 and config.people and not declared["scorecards"]:
        message = "the team part needs a team scorecard: configure one in scorecards, or set team: 0"
        problems.append(ConfigProblem("person_scorecard.team", message))
    return problems
