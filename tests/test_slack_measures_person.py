"""A measures form's values recorded for a person (issue 11), through the real app and the fake Slack: the
person menu, per-person replacement and its confirmation, Correct and Withdraw keeping the person, hostile
input, and a personal KPI built on measures reaching /kpi me."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlmodel import Session, col, select

from kpi_core.config import Config
from kpi_core.models import AuditEntry, MeasureValue, Submission
from tests.bot_harness import LEAD_BEIJING, LEAD_SHANGHAI_AND_BERLIN, Bot, running_bot
from tests.mrkdwn import as_slack_shows, mrkdwn_problems
from tests.slack_calls import wait_for_posts
from tests.test_slack_history import TRIGGER_ID, click, listing
from tests.test_slack_submissions import WEEKLY, open_form, weekly_answers

LEAD = LEAD_SHANGHAI_AND_BERLIN
AGENT = "U0OPSSH1"  # Zhang Min, ops_specialist of shanghai_ops: `sales` is half of her position performance
PEER = "U0OPSSH2"  # Wang Fang, of the same team
TEAM_SALES = float(WEEKLY["sales"])


def person_value(user: str | None) -> dict[str, Any]:
    """A static select as Slack sends it: no option chosen is ``selected_option: null``."""
    option = None if user is None else {"value": user, "text": {"type": "plain_text", "text": user}}
    return {"type": "static_select", "selected_option": option}


def answers_for(person: str | None, **values: str) -> dict[str, dict[str, Any]]:
    return weekly_answers(**values) | {"person": person_value(person)}


def submit_for(bot: Bot, person: str | None, *, view_id: str, **values: str) -> tuple[int, Any]:
    view = open_form(bot, "weekly", LEAD) | {"id": view_id}
    return bot.submit(view, answers_for(person, **values), user_id=LEAD)


def store_for(bot: Bot, person: str | None, *, view_id: str, **values: str) -> Submission:
    """Submits the weekly form for ``person`` (None: the team) where nothing of theirs is stored yet."""
    status, body = submit_for(bot, person, view_id=view_id, **values)
    assert (status, body) == (200, "")
    wait_for_posts(bot.fake, LEAD)
    with Session(bot.engine) as session:
        submission = session.exec(select(Submission).order_by(col(Submission.id).desc())).first()
    assert submission is not None
    return submission


def sales_by_person(bot: Bot) -> dict[str | None, float]:
    with Session(bot.engine) as session:
        rows = session.exec(select(MeasureValue).where(MeasureValue.measure == "sales")).all()
    found: dict[str | None, float] = {}
    for row in rows:
        assert row.person not in found, f"two sales rows of {row.person} in one week"
        found[row.person] = row.value
    return found


def test_the_weekly_form_offers_the_people_of_the_leads_teams(bot: Bot) -> None:
    view = open_form(bot, "weekly", LEAD)
    [block] = [block for block in view["blocks"] if block.get("block_id") == "person"]
    assert block["type"] == "input" and block["optional"] is True
    assert block["element"]["type"] == "static_select" and "initial_option" not in block["element"]
    options = {option["value"]: option["text"]["text"] for option in block["element"]["options"]}
    # Shanghai's four people; Berlin (also the lead's) has none configured, Beijing is not the lead's
    assert options == {
        "U0LEADSH": "Li Wei · Shanghai Operations / 上海运营中心",
        AGENT: "Zhang Min · Shanghai Operations / 上海运营中心",
        PEER: "Wang Fang · Shanghai Operations / 上海运营中心",
        "U0PMSH1": "Chen Jie · Shanghai Operations / 上海运营中心",
    }


def test_a_team_without_configured_people_gets_no_person_menu(bot: Bot, example_config: Config) -> None:
    config = Config.model_validate(example_config.model_dump() | {"people": []})
    with running_bot(config=config, database_url=str(bot.engine.url), fake=bot.fake) as plain:
        view = open_form(plain, "weekly", LEAD)
    assert "person" not in {block.get("block_id") for block in view["blocks"]}


def test_values_for_a_person_reach_their_personal_scorecard(bot: Bot) -> None:
    store_for(bot, None, view_id="V0TEAM")  # the team's own figures
    store_for(bot, AGENT, view_id="V0AGENT", sales="150000")
    assert sales_by_person(bot) == {None: TEAM_SALES, AGENT: 150000}
    thanks = wait_for_posts(bot.fake, LEAD)[-1].params["text"]
    assert "shanghai_ops (Zhang Min) 2026-W40" in thanks

    bot.fake.reset()
    status, body = bot.command("me", user_id=AGENT, name="me")
    assert (status, body) == (200, "")
    [answer] = bot.fake.wait_for("response")
    card = json.dumps(answer.params["blocks"], ensure_ascii=False)
    # 2026-W40 starts on Monday 28 September: in 2026-Q3, the card's period; only her own row counts
    assert "Personal scorecard: Zhang Min" in card and "2026-Q3" in card
    # her own orders and on-time orders too: 114 of 120
    assert "Sales / 销售额 (50 %): 150,000 CNY" in card and "On-time delivery rate / 准时交付率 (30 %): 95.0 %" in card

    bot.fake.reset()
    bot.command("me", user_id=PEER, name="me")
    [answer] = bot.fake.wait_for("response")
    assert "150,000" not in json.dumps(answer.params["blocks"], ensure_ascii=False)  # hers, not her peer's


def test_a_second_submission_for_the_same_person_replaces_only_their_values(bot: Bot) -> None:
    store_for(bot, None, view_id="V0TEAM")
    store_for(bot, AGENT, view_id="V0AGENT", sales="150000")
    store_for(bot, PEER, view_id="V0PEER", sales="90000")  # another person: nothing to replace, no question
    assert sales_by_person(bot) == {None: TEAM_SALES, AGENT: 150000, PEER: 90000}

    status, body = submit_for(bot, AGENT, view_id="V0AGAIN", sales="160000")
    assert status == 200 and body["response_action"] == "update"
    confirm = body["view"]
    assert confirm["callback_id"] == "confirm_replace"
    text = confirm["blocks"][0]["text"]["text"]
    assert "Zhang Min (Shanghai Operations / 上海运营中心) already has values" in text and "150000 → 160000" in text
    assert "240000" not in text and "90000" not in text  # the team's and Wang Fang's values are not hers
    assert json.loads(confirm["private_metadata"])["person"] == AGENT
    assert sales_by_person(bot)[AGENT] == 150000  # nothing replaced before the lead confirms

    status, body = bot.submit(confirm | {"id": "V0CONFIRM"}, {}, user_id=LEAD)
    assert (status, body) == (200, "")
    assert sales_by_person(bot) == {None: TEAM_SALES, AGENT: 160000, PEER: 90000}
    assert bot.count(MeasureValue) == 3 * len(WEEKLY)
    with Session(bot.engine) as session:
        entries = session.exec(select(AuditEntry).where(AuditEntry.action == "replace")).all()
    assert len(entries) == len(WEEKLY)
    sales = next(entry for entry in entries if entry.new["measure"] == "sales")
    assert sales.new == {"period": "2026-W40", "measure": "sales", "value": 160000, "person": AGENT}
    assert [row["person"] for row in sales.old["rows"]] == [AGENT]

    # the team's own figures again: only the team's row is in question, and replaced
    status, body = submit_for(bot, None, view_id="V0TEAM2", sales="250000")
    confirm = body["view"]
    assert json.loads(confirm["private_metadata"])["person"] is None
    assert "240000 → 250000" in confirm["blocks"][0]["text"]["text"]
    assert bot.submit(confirm | {"id": "V0CONFIRM2"}, {}, user_id=LEAD) == (200, "")
    assert sales_by_person(bot) == {None: 250000, AGENT: 160000, PEER: 90000}


def test_correct_and_withdraw_keep_the_person(bot: Bot) -> None:
    store_for(bot, None, view_id="V0TEAM")
    agents = store_for(bot, AGENT, view_id="V0AGENT", sales="150000")

    # /kpi history says whose values each submission holds
    lines = [block["text"]["text"] for block in listing(bot, "history", user=LEAD)["blocks"][1:] if "text" in block]
    assert [line.split(" · ")[2] for line in lines] == ["measures (for Zhang Min / 记录对象：Zhang Min)", "measures"]

    click(bot, "correct_submission", agents.id, user=LEAD, trigger_id=TRIGGER_ID)
    view = bot.opened_view() | {"id": "V0CORRECT"}
    [block] = [block for block in view["blocks"] if block.get("block_id") == "person"]
    assert block["element"]["initial_option"]["value"] == AGENT
    # Slack sends the initial option back as chosen
    status, body = bot.submit(view, answers_for(AGENT, sales="155000"), user_id=LEAD)
    confirm = body["view"]
    assert json.loads(confirm["private_metadata"])["person"] == AGENT
    assert bot.submit(confirm | {"id": "V0CONFIRM"}, {}, user_id=LEAD) == (200, "")
    assert sales_by_person(bot) == {None: TEAM_SALES, AGENT: 155000}

    with Session(bot.engine) as session:
        correction = session.exec(select(Submission).order_by(col(Submission.id).desc())).first()
    assert correction is not None
    click(bot, "withdraw_submission", correction.id, user=LEAD)
    bot.fake.wait_for("response")
    assert sales_by_person(bot) == {None: TEAM_SALES}  # the team's own figures stay
    with Session(bot.engine) as session:
        withdrawn = session.exec(select(AuditEntry).where(AuditEntry.action == "withdraw")).all()
    assert len(withdrawn) == len(WEEKLY) and {entry.old["person"] for entry in withdrawn} == {AGENT}


@pytest.mark.parametrize(
    ("chosen", "message"),
    [
        pytest.param("U0AGENTBJ1", "belongs to team beijing_service", id="a-person-of-another-team"),
        pytest.param("U0OPSSH9", "not in the config's people", id="not-a-person"),
        pytest.param("<!channel>", "not in the config's people", id="a-mention"),
        pytest.param("U" * 5000, "not in the config's people", id="five-thousand-characters"),
        pytest.param("U0OPS\x00SH1", "not in the config's people", id="nul"),
        pytest.param("", "not in the config's people", id="empty-value"),
    ],
)
def test_a_forged_person_is_a_field_error_and_stores_nothing(bot: Bot, chosen: str, message: str) -> None:
    view = open_form(bot, "weekly", LEAD)
    status, body = bot.submit(view, answers_for(None) | {"person": person_value(chosen)}, user_id=LEAD)
    assert status == 200 and body["response_action"] == "errors"
    assert set(body["errors"]) == {"person"} and message in body["errors"]["person"]
    assert bot.count(MeasureValue) == 0 and bot.count(Submission) == 0


def test_a_lead_of_another_team_cannot_record_values_for_this_teams_person(bot: Bot) -> None:
    view = open_form(bot, "weekly", LEAD_BEIJING)
    answers = answers_for(AGENT) | {"team": weekly_answers(team="beijing_service")["team"]}
    status, body = bot.submit(view, answers, user_id=LEAD_BEIJING)
    assert status == 200 and "此人属于团队 shanghai_ops" in body["errors"]["person"]  # Beijing reads Chinese
    assert bot.count(MeasureValue) == 0


@pytest.mark.parametrize(
    "person",
    [
        pytest.param("U0AGENTBJ1", id="a-person-of-another-team"),
        pytest.param("U0GHOST", id="not-a-person"),
        pytest.param(7, id="a-number"),
        pytest.param("", id="empty"),
        pytest.param(["U0OPSSH1"], id="a-list"),
    ],
)
def test_a_replace_confirmation_with_a_forged_person_stores_nothing(bot: Bot, person: Any) -> None:
    store_for(bot, AGENT, view_id="V0AGENT", sales="150000")
    store_for(bot, PEER, view_id="V0PEER", sales="90000")
    _, body = submit_for(bot, AGENT, view_id="V0AGAIN", sales="1")
    confirm = body["view"]
    metadata = json.loads(confirm["private_metadata"]) | {"person": person}
    status, body = bot.submit(confirm | {"id": "V0CONFIRM", "private_metadata": json.dumps(metadata)}, {}, user_id=LEAD)
    # the confirmation has no input block to carry a field error: it turns into a notice without a submit
    assert status == 200 and body["response_action"] == "update" and "submit" not in body["view"]
    assert sales_by_person(bot) == {AGENT: 150000, PEER: 90000}
    assert bot.count(MeasureValue, col(MeasureValue.person).is_(None)) == 0


def test_the_person_menu_is_served_as_the_user_types_when_it_holds_more_than_100(
    bot: Bot, example_config: Config
) -> None:
    extra = [
        {"user": f"U0MANY{number:03d}", "name": f"Agent {number}", "team": "shanghai_ops", "position": "ops_specialist"}
        for number in range(120)
    ]
    people = [person.model_dump() for person in example_config.people] + extra
    config = Config.model_validate(example_config.model_dump() | {"people": people})
    with running_bot(config=config, database_url=str(bot.engine.url), fake=bot.fake) as many:
        view = open_form(many, "weekly", LEAD)
        [block] = [block for block in view["blocks"] if block.get("block_id") == "person"]
        assert block["element"]["type"] == "external_select" and "options" not in block["element"]
        served = many.options(view, "person", "agent 11", user_id=LEAD)
        assert [option["value"] for option in served] == ["U0MANY011"] + [f"U0MANY{n}" for n in range(110, 120)]
        assert len(many.options(view, "person", "", user_id=LEAD)) == 100
        assert many.options(view, "person", "zhang", user_id=LEAD_BEIJING) == []  # not a person of his team
        status, body = many.submit(view, answers_for("U0MANY011", sales="5"), user_id=LEAD)
        assert (status, body) == (200, "")
    assert sales_by_person(bot) == {"U0MANY011": 5}


def test_a_person_named_like_an_attack_reaches_slack_escaped(bot: Bot, example_config: Config) -> None:
    hostile = "R&D <!channel> <https://evil.example|click here>"
    people = [
        person.model_dump() | ({"name": hostile} if person.user == AGENT else {}) for person in example_config.people
    ]
    config = Config.model_validate(example_config.model_dump() | {"people": people})
    with running_bot(config=config, database_url=str(bot.engine.url), fake=bot.fake) as named:
        view = open_form(named, "weekly", LEAD)
        [block] = [block for block in view["blocks"] if block.get("block_id") == "person"]
        # plain text: Slack shows it as typed, nothing to escape (cut to the 75 characters an option holds)
        [text] = [option["text"] for option in block["element"]["options"] if option["value"] == AGENT]
        assert text["type"] == "plain_text" and text["text"].startswith(hostile) and len(text["text"]) == 75
        assert named.submit(view | {"id": "V0FIRST"}, answers_for(AGENT), user_id=LEAD) == (200, "")
        thanks = wait_for_posts(named.fake, LEAD)[-1].params["text"]
        _, body = submit_for(named, AGENT, view_id="V0AGAIN", sales="1")
        history = listing(named, "history", user=LEAD)["blocks"][1]["text"]["text"]
    confirm = body["view"]["blocks"][0]["text"]["text"]
    for text in (thanks, confirm, history):
        assert mrkdwn_problems(text) == [], text
        assert hostile in as_slack_shows(text)


def test_a_person_may_be_given_only_their_own_figures_the_team_every_one(bot: Bot) -> None:
    view = open_form(bot, "weekly", LEAD)
    measures = [block for block in view["blocks"] if block.get("block_id", "").startswith("measure:")]
    assert measures and all(block["optional"] for block in measures)  # Slack lets either kind through
    only_sales = {key: value for key, value in answers_for(AGENT).items() if not key.startswith("measure:")}
    only_sales["measure:sales"] = answers_for(AGENT)["measure:sales"]

    # the team's own figures: every one is required, on its own field
    status, body = bot.submit(view, only_sales | {"person": person_value(None)}, user_id=LEAD)
    assert status == 200 and set(body["errors"]) == {f"measure:{key}" for key in WEEKLY if key != "sales"}
    # a person with no figure at all
    status, body = bot.submit(
        view, {key: value for key, value in only_sales.items() if key != "measure:sales"}, user_id=LEAD
    )
    assert status == 200 and body["errors"] == {
        "measure:orders": "Give at least one figure for this person. / 请至少为此人填写一项数据。"
    }
    assert bot.count(MeasureValue) == 0

    assert bot.submit(view, only_sales, user_id=LEAD) == (200, "")
    assert sales_by_person(bot) == {AGENT: float(WEEKLY["sales"])} and bot.count(MeasureValue) == 1
    # her own figures still obey the rules across them: 60 on time of her 50 orders is refused
    status, body = submit_for(bot, AGENT, view_id="V0ORDERS", orders="50", on_time_orders="60")
    assert status == 200 and set(body["errors"]) == {"measure:on_time_orders"}
