"""People, positions and the personal scorecard in the config: the example's, every rejection (all at once,
with did-you-mean), and who may see whose personal scorecard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kpi_core.config import Config, load_config
from kpi_core.config_schema import DEFAULT_COMPETENCIES
from kpi_core.errors import ConfigError
from kpi_core.people import direct_reports, may_see_person, superior_chain, superior_of, viewable_people
from tests.test_config import Writer, _item, mutated


def test_example_config_has_people_positions_and_the_eight_competencies(example_config: Config) -> None:
    assert [competency.name.zh for competency in example_config.competencies] == [
        "工作质量",
        "工作效率",
        "创新能力",
        "责任心",
        "工作态度",
        "团队协作",
        "学习能力",
        "问题解决能力",
    ]
    assert example_config.competencies == list(DEFAULT_COMPETENCIES)
    assert {person.team for person in example_config.people} >= {"shanghai_ops", "beijing_service"}
    for position in example_config.positions:
        assert sum(position.kpis.values()) == pytest.approx(100)
    scheme = example_config.person_scorecard
    assert (scheme.position, scheme.personal, scheme.team) == (50, 30, 20)
    assert "U0HR" in example_config.roles.hr


def test_superior_defaults_to_the_team_lead_and_the_chain_climbs(example_config: Config) -> None:
    assert superior_of(example_config, "U0AGENTBJ1") == "U0LEADBJ"  # no superior given: the team's lead
    assert superior_of(example_config, "U0LEADBJ") == "U0MANAGER"  # given
    assert superior_chain(example_config, "U0AGENTBJ1") == ["U0LEADBJ", "U0MANAGER"]
    assert superior_of(example_config, "U0NOBODY") is None
    assert [person.user for person in direct_reports(example_config, "U0LEADSH")] == [
        "U0OPSSH1",
        "U0OPSSH2",
        "U0PMSH1",
    ]


@pytest.mark.parametrize(
    ("viewer", "allowed"),
    [
        pytest.param("U0AGENTBJ1", True, id="the-person"),
        pytest.param("U0LEADBJ", True, id="direct-superior"),
        pytest.param("U0MANAGER", True, id="superior-of-the-superior"),
        pytest.param("U0HR", True, id="hr"),
        pytest.param("U0ADMIN", True, id="admin"),
        pytest.param("U0AGENTBJ2", False, id="a-peer"),
        pytest.param("U0LEADSH", False, id="another-teams-lead"),
        pytest.param("U0OPSSH1", False, id="someone-elsewhere"),
        pytest.param("U0STRANGER", False, id="not-configured"),
    ],
)
def test_who_may_see_a_personal_scorecard(example_config: Config, viewer: str, allowed: bool) -> None:
    assert may_see_person(example_config, viewer, "U0AGENTBJ1") is allowed


def test_management_alone_sees_no_personal_scorecard(example_config: Config) -> None:
    # U0MANAGER sees the people under them through the chain, not the whole company through the role
    config = example_config.model_copy(
        update={"roles": example_config.roles.model_copy(update={"management": ["U0BOSS"]})}
    )
    assert not any(may_see_person(config, "U0BOSS", person.user) for person in config.people)


def test_viewable_people_puts_the_viewer_first(example_config: Config) -> None:
    users = [person.user for person in viewable_people(example_config, "U0LEADBJ")]
    assert users == ["U0LEADBJ", "U0AGENTBJ1", "U0AGENTBJ2", "U0AGENTBJ3", "U0AGENTBJ4"]


def _person(raw: dict[str, Any], user: str) -> dict[str, Any]:
    return _item(raw["people"], user, field="user")


@pytest.mark.parametrize(
    ("write", "path", "message"),
    [
        pytest.param(
            mutated(lambda raw: _person(raw, "U0AGENTBJ1").update(team="beijing_servic")),
            "people.U0AGENTBJ1.team",
            "unknown team 'beijing_servic' (did you mean 'beijing_service'?)",
            id="unknown-team",
        ),
        pytest.param(
            mutated(lambda raw: _person(raw, "U0AGENTBJ1").update(position="service_agnt")),
            "people.U0AGENTBJ1.position",
            "unknown position 'service_agnt' (did you mean 'service_agent'?)",
            id="unknown-position",
        ),
        pytest.param(
            mutated(lambda raw: _person(raw, "U0AGENTBJ1").update(superior="U0LEADBK")),
            "people.U0AGENTBJ1.superior",
            "unknown user 'U0LEADBK' (did you mean 'U0LEADBJ'?)",
            id="unknown-superior",
        ),
        pytest.param(
            mutated(lambda raw: _person(raw, "U0AGENTBJ1").update(superior="U0AGENTBJ1")),
            "people.U0AGENTBJ1.superior",
            "a person cannot be their own superior",
            id="own-superior",
        ),
        pytest.param(
            mutated(lambda raw: _person(raw, "U0AGENTBJ1").update(user="u0lower")),
            "people.u0lower.user",
            "String should match pattern",
            id="not-a-slack-user-id",
        ),
        pytest.param(
            mutated(lambda raw: _person(raw, "U0LEADBJ").update(superior="U0AGENTBJ4")),
            "people.U0LEADBJ.superior",
            "the superior chain loops: U0LEADBJ -> U0AGENTBJ4 -> U0LEADBJ",
            id="cycle",
        ),
        pytest.param(
            mutated(lambda raw: raw["people"].append(dict(_person(raw, "U0AGENTBJ1")))),
            "people.U0AGENTBJ1",
            "duplicate user 'U0AGENTBJ1' (2 times)",
            id="duplicate-user",
        ),
        pytest.param(
            mutated(lambda raw: _item(raw["positions"], "service_agent")["kpis"].update(response_time=50)),
            "positions.service_agent.kpis",
            "weights sum to 110 %, they must sum to 100 %",
            id="position-weights",
        ),
        pytest.param(
            mutated(lambda raw: _item(raw["positions"], "service_agent")["kpis"].update(response_time=0)),
            "positions.service_agent.kpis",
            "every weight must be above 0",
            id="zero-weight",
        ),
        pytest.param(
            mutated(lambda raw: _item(raw["positions"], "project_manager").update(kpis={"milestone_ontime": 100})),
            "positions.project_manager.kpis.milestone_ontime",
            "unknown KPI 'milestone_ontime' (did you mean 'milestone_on_time'?)",
            id="unknown-kpi",
        ),
        pytest.param(
            mutated(lambda raw: _item(raw["positions"], "project_manager").update(competencies=["teamwrk"])),
            "positions.project_manager.competencies",
            "unknown competency 'teamwrk' (did you mean 'teamwork'?)",
            id="unknown-competency",
        ),
        pytest.param(
            mutated(lambda raw: raw["person_scorecard"].update(team=30)),
            "person_scorecard",
            "position + personal + team weights sum to 110 %, they must sum to 100 %",
            id="composite-weights",
        ),
        pytest.param(
            mutated(lambda raw: raw["person_scorecard"].update(team_scorecard="quartely")),
            "person_scorecard.team_scorecard",
            "unknown scorecard 'quartely' (did you mean 'quarterly'?)",
            id="unknown-team-scorecard",
        ),
    ],
)
def test_people_config_rejected(tmp_path: Path, write: Writer, path: str, message: str) -> None:
    file = tmp_path / "bad.yaml"
    write(file)
    with pytest.raises(ConfigError) as caught:
        load_config(file)
    assert [problem.path for problem in caught.value.problems] == [path], caught.value.problems
    assert caught.value.problems[0].message.startswith(message), caught.value.problems[0].message


def test_every_people_problem_is_reported_at_once(tmp_path: Path) -> None:
    def mistakes(raw: dict[str, Any]) -> None:
        _item(raw["positions"], "team_lead")["name"] = {"zh": "负责人"}  # schema: the position fails alone
        _person(raw, "U0AGENTBJ1")["team"] = "nowhere"
        _person(raw, "U0AGENTBJ2")["superior"] = "U0GHOST"
        raw["person_scorecard"]["personal"] = 40

    file = tmp_path / "bad.yaml"
    mutated(mistakes)(file)
    with pytest.raises(ConfigError) as caught:
        load_config(file)
    # the lead's position failed the schema but is still declared: the leads are not "unknown position"
    assert [problem.path for problem in caught.value.problems] == [
        "positions.team_lead.name.en",
        "people.U0AGENTBJ1.team",
        "people.U0AGENTBJ2.superior",
        "person_scorecard",
    ]


def test_a_config_without_people_is_still_valid_and_keeps_the_default_competencies(tmp_path: Path) -> None:
    def without_people(raw: dict[str, Any]) -> None:
        for section in ("people", "positions", "person_scorecard", "competencies"):
            raw.pop(section, None)
        for plan in raw.get("plans", {}).values():  # personal plans name people
            plan.pop("people", None)

    file = tmp_path / "teams-only.yaml"
    mutated(without_people)(file)
    config = load_config(file)
    assert config.people == [] and len(config.competencies) == 8
