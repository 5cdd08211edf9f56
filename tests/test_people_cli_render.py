"""The personal scorecard on the command line (`kpi-bot demo`, `kpi-bot me`) and rendered with review results
(the reviews work fills kpi_core/review_hook.py; the template shows what it gives)."""

from __future__ import annotations

import pytest

from bot.people_views import card_text
from bot.render import Renderer
from kpi_core.config import Config
from kpi_core.kpis import KpiResult
from kpi_core.periods import Period
from kpi_core.person_scorecard import PersonCard, PositionItem
from kpi_core.review_hook import ReviewSummary
from tests.test_cli import Env, demo, failed, invoke, succeeded  # noqa: F401  (demo is a fixture)
from tests.test_render import renderer  # noqa: F401  (a fixture)


def test_the_demo_prints_a_personal_scorecard(demo: tuple[Env, str]) -> None:  # noqa: F811
    _, output = demo
    card = output[output.index("*Personal scorecard: Li Wei / 个人绩效：Li Wei · 2026-Q3*") :]
    assert "Team lead / 团队负责人 · Shanghai Operations / 上海运营中心" in card
    assert "After-sales response time / 售后服务响应时间 (40 %): " in card and "target / 目标 ≤ 4.0 h" in card
    assert "*Composite score / 综合得分*: " in card
    # the demo's finished 360° review (kpi_core/review_demo.py) is the personal part
    assert "*Personal performance / 个人绩效* (30 %): " in card and "(2026-Q3)" in card
    assert "Without personal performance" not in card


def test_kpi_bot_me_prints_one_persons_card_and_refuses_someone_not_configured(demo: tuple[Env, str]) -> None:  # noqa: F811
    env, _ = demo
    output = succeeded(invoke(env, "me", "--user", "U0AGENTBJ1", "--period", "2026-Q3"))
    assert output.startswith("*个人绩效：Sun Li · 2026-Q3*")  # Beijing reads Chinese
    assert "售后服务响应时间 (40 %)" in output
    assert "U0NOBODY is not in the config's people" in failed(invoke(env, "me", "--user", "U0NOBODY"), code=2)


def test_review_ratings_show_by_rater_group_and_competency(
    renderer: Renderer,  # noqa: F811
    example_config: Config,
) -> None:
    person = example_config.person_by_user["U0OPSSH1"]
    result = KpiResult("sales", 800_000.0, 12, 750_000.0, None, "met")
    review = ReviewSummary(
        cycle="2026", score=72.5, ratings={"superior": {"quality": 4.0, "teamwork": 3.5}, "peer": {"quality": 3.67}}
    )
    card = PersonCard(
        person=person,
        period=Period.parse("2026-Q3"),
        items=(PositionItem("sales", 50, result, 100.0),),
        position_score=50.0,
        review=review,
        team_scheme="quarterly",
        team_period=Period.parse("2026-Q3"),
        team_score=80.0,
        composite=63.8,
        missing=(),
    )
    text = card_text(renderer, example_config, "en", card)
    assert "*Personal performance* (30 %): 72.5 / 100 (2026)" in text
    assert "    Superior: Quality of work 4.0, Teamwork 3.5" in text
    assert "    Peers: Quality of work 3.7" in text
    assert "*Composite score*: 63.8 / 100" in text and "Without" not in text


@pytest.mark.parametrize("name", ["*bold* <!channel>", "Zhang & <@U0ADMIN>"])
def test_a_persons_name_is_shown_literally(renderer: Renderer, example_config: Config, name: str) -> None:  # noqa: F811
    person = example_config.person_by_user["U0OPSSH1"].model_copy(update={"name": name})
    card = PersonCard(person, Period.parse("2026-Q3"), (), None, None, None, None, None, None, ("position",))
    text = card_text(renderer, example_config, "en", card)
    assert "<!channel>" not in text and "<@U0ADMIN>" not in text and "&lt;" in text
