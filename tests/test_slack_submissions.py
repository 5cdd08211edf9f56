import json
from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, select

from kpi_core.models import AuditEntry, CustomerCase, MeasureValue, Milestone, SurveyResponse
from tests.bot_harness import LEAD_BEIJING, LEAD_SHANGHAI_AND_BERLIN
from tests.factories import WEEKLY_ANSWERS
from tests.slack_requests import datepicker_value, datetimepicker_value, static_select_value, text_value

WEEKLY = WEEKLY_ANSWERS


def weekly_answers(team="shanghai_ops", period="2026-W40", **overrides):
    values = WEEKLY | overrides
    answers = {"team": static_select_value(team), "period": static_select_value(period)}
    answers |= {f"measure:{key}": text_value(value) for key, value in values.items()}
    return answers


def epoch(text):
    return int(datetime.fromisoformat(text).timestamp())


def open_form(bot, form, user):
    bot.fake.reset()
    status, _ = bot.command(f"submit {form}", user_id=user)
    assert status == 200
    return bot.opened_view()


def stored_weekly(bot, team="shanghai_ops"):
    with Session(bot.engine) as session:
        rows = session.exec(select(MeasureValue).where(MeasureValue.team == team)).all()
    return {row.measure: row.value for row in rows}


def test_weekly_measures_are_stored_and_the_lead_is_thanked(bot):
    view = open_form(bot, "weekly", LEAD_SHANGHAI_AND_BERLIN)
    status, body = bot.submit(view, weekly_answers(), user_id=LEAD_SHANGHAI_AND_BERLIN)
    assert (status, body) == (200, "")
    assert stored_weekly(bot) == {key: float(value) for key, value in WEEKLY.items()}
    with Session(bot.engine) as session:
        dates = {row.on_date for row in session.exec(select(MeasureValue))}
    assert dates == {date(2026, 9, 28)}  # the Monday that starts 2026-W40
    thanks = bot.fake.wait_for("chat.postMessage")
    assert thanks[0].params["channel"] == LEAD_SHANGHAI_AND_BERLIN


def test_the_same_view_submitted_twice_is_stored_once(bot):
    view = open_form(bot, "weekly", LEAD_SHANGHAI_AND_BERLIN)
    for _ in range(2):
        status, _ = bot.submit(view, weekly_answers(), user_id=LEAD_SHANGHAI_AND_BERLIN)
        assert status == 200
    assert bot.count(MeasureValue) == len(WEEKLY)


def test_a_second_submission_for_the_period_asks_to_replace_and_is_audited(bot):
    first = open_form(bot, "weekly", LEAD_SHANGHAI_AND_BERLIN)
    bot.submit(first, weekly_answers(), user_id=LEAD_SHANGHAI_AND_BERLIN)
    second = open_form(bot, "weekly", LEAD_SHANGHAI_AND_BERLIN) | {"id": "V0SECOND"}
    status, body = bot.submit(second, weekly_answers(orders="130"), user_id=LEAD_SHANGHAI_AND_BERLIN)
    assert status == 200 and body["response_action"] == "update"
    confirm = body["view"]
    assert confirm["callback_id"] == "confirm_replace"
    assert "120 → 130" in confirm["blocks"][0]["text"]["text"]
    assert stored_weekly(bot)["orders"] == 120  # nothing replaced before the lead confirms

    status, body = bot.submit(confirm | {"id": "V0CONFIRM"}, {}, user_id=LEAD_SHANGHAI_AND_BERLIN)
    assert (status, body) == (200, "")
    assert stored_weekly(bot)["orders"] == 130
    assert bot.count(MeasureValue) == len(WEEKLY)
    with Session(bot.engine) as session:
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == "replace")).all()
    orders = next(entry for entry in audit if entry.new["measure"] == "orders")
    assert orders.user == LEAD_SHANGHAI_AND_BERLIN
    assert orders.old["rows"][0]["value"] == 120 and orders.new["value"] == 130
    assert len(audit) == len(WEEKLY)


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param({"values": {"orders": float("nan")}}, id="nan"),
        pytest.param({"values": {"on_time_orders": -500}}, id="negative"),
        pytest.param({"values": {"complaints": 1e308}}, id="huge"),
        pytest.param({"values": {"orderz": 1}}, id="unknown-measure"),
        pytest.param({"period": "2098-W01"}, id="period-in-2098"),
    ],
)
def test_a_replace_confirmation_with_edited_metadata_stores_nothing(bot, edit):
    first = open_form(bot, "weekly", LEAD_SHANGHAI_AND_BERLIN)
    bot.submit(first, weekly_answers(), user_id=LEAD_SHANGHAI_AND_BERLIN)
    second = open_form(bot, "weekly", LEAD_SHANGHAI_AND_BERLIN) | {"id": "V0SECOND"}
    _, body = bot.submit(second, weekly_answers(orders="130"), user_id=LEAD_SHANGHAI_AND_BERLIN)
    confirm = body["view"]
    metadata = json.loads(confirm["private_metadata"]) | edit  # signed by us, edited by the client
    forged = confirm | {"id": "V0CONFIRM", "private_metadata": json.dumps(metadata)}
    status, body = bot.submit(forged, {}, user_id=LEAD_SHANGHAI_AND_BERLIN)
    # the confirmation has no input block to carry a field error: it turns into a notice without a submit
    assert status == 200 and body["response_action"] == "update"
    notice = body["view"]
    assert "submit" not in notice and notice["blocks"][0]["text"]["text"]
    assert stored_weekly(bot) == {key: float(value) for key, value in WEEKLY.items()}  # the first values, untouched
    with Session(bot.engine) as session:
        assert session.exec(select(MeasureValue).where(MeasureValue.on_date > date(2027, 1, 1))).all() == []


def test_a_lead_cannot_submit_for_another_team_even_by_forging_the_form(bot):
    view = open_form(bot, "weekly", LEAD_BEIJING)
    status, body = bot.submit(view, weekly_answers(team="berlin_ops"), user_id=LEAD_BEIJING)
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"team"}
    assert bot.count(MeasureValue) == 0


def test_survey_scores_are_stored(bot):
    view = open_form(bot, "survey", LEAD_BEIJING)
    answers = {
        "team": static_select_value("beijing_service"),
        "survey_date": datepicker_value("2026-09-29"),
        "scores": text_value("5 4, 4 3\n5"),
    }
    status, body = bot.submit(view, answers, user_id=LEAD_BEIJING)
    assert (status, body) == (200, "")
    with Session(bot.engine) as session:
        rows = session.exec(select(SurveyResponse)).all()
    assert sorted(row.score for row in rows) == [3, 4, 4, 5, 5]
    # an earlier day's answers are dated at its local noon (Shanghai, UTC+8)
    assert {row.submitted_at for row in rows} == {datetime(2026, 9, 29, 4, 0, tzinfo=UTC)}


def test_a_case_is_stored_in_utc(bot):
    view = open_form(bot, "case", LEAD_BEIJING)
    answers = {
        "team": static_select_value("beijing_service"),
        "case_kind": static_select_value("after_sales"),
        "raised_at": datetimepicker_value(epoch("2026-09-29T10:00:00+08:00")),
        "first_response_at": datetimepicker_value(epoch("2026-09-29T13:30:00+08:00")),
    }
    status, body = bot.submit(view, answers, user_id=LEAD_BEIJING)
    assert (status, body) == (200, "")
    with Session(bot.engine) as session:
        case = session.exec(select(CustomerCase)).one()
    assert case.raised_at == datetime(2026, 9, 29, 2, 0, tzinfo=UTC)
    assert case.first_response_at == datetime(2026, 9, 29, 5, 30, tzinfo=UTC)
    assert case.resolved_at is None


def test_a_milestone_is_stored(bot):
    view = open_form(bot, "milestone", LEAD_BEIJING)
    answers = {
        "team": static_select_value("beijing_service"),
        "project": text_value("CRM rollout"),
        "milestone_name": text_value("Pilot"),
        "due_on": datepicker_value("2026-10-15"),
        "budget": text_value("50000"),
    }
    status, body = bot.submit(view, answers, user_id=LEAD_BEIJING)
    assert (status, body) == (200, "")
    with Session(bot.engine) as session:
        milestone = session.exec(select(Milestone)).one()
    assert (milestone.project, milestone.name, milestone.due_on) == (
        "CRM rollout",
        "Pilot",
        date(2026, 10, 15),
    )
    assert milestone.budget == 50000 and milestone.completed_on is None


@pytest.mark.parametrize(
    ("overrides", "block_id", "message"),
    [
        pytest.param({"orders": "many"}, "measure:orders", "Enter a number", id="not-a-number"),
        pytest.param({"orders": "1,5"}, "measure:orders", "no thousands separators", id="decimal-comma"),
        pytest.param({"sales": "1e308"}, "measure:sales", "no exponents", id="exponent"),
        pytest.param({"sales": "10000000000000"}, "measure:sales", "at most 1000000000000", id="above-the-ceiling"),
        pytest.param({"orders": "-5"}, "measure:orders", "at least 0", id="negative"),
        pytest.param({"orders": "12.5"}, "measure:orders", "whole number", id="count-not-whole"),
        pytest.param({"on_time_orders": "121"}, "measure:on_time_orders", "Orders (120)", id="part-above-total"),
        pytest.param({"sales": ""}, "measure:sales", "fill this in", id="required"),
        pytest.param({"actual_capacity": "1200"}, "measure:actual_capacity", "more than", id="above-design"),
    ],
)
def test_bad_measures_come_back_as_field_errors(bot, overrides, block_id, message):
    view = open_form(bot, "weekly", LEAD_SHANGHAI_AND_BERLIN)
    status, body = bot.submit(view, weekly_answers(**overrides), user_id=LEAD_SHANGHAI_AND_BERLIN)
    assert status == 200 and body["response_action"] == "errors"
    assert list(body["errors"]) == [block_id]
    assert message in body["errors"][block_id]
    assert bot.count(MeasureValue) == 0


def test_a_future_period_is_refused(bot):
    view = open_form(bot, "weekly", LEAD_SHANGHAI_AND_BERLIN)
    status, body = bot.submit(view, weekly_answers(period="2026-W41"), user_id=LEAD_SHANGHAI_AND_BERLIN)
    assert body["errors"] == {"period": "Cannot be in the future. / 不能是将来的时间。"}


def test_errors_are_in_the_users_language(bot):
    view = open_form(bot, "survey", LEAD_BEIJING)  # Beijing's team speaks Chinese
    answers = {
        "team": static_select_value("beijing_service"),
        "survey_date": datepicker_value("2026-09-29"),
        "scores": text_value("5 6"),
    }
    status, body = bot.submit(view, answers, user_id=LEAD_BEIJING)
    assert body["errors"] == {"scores": "评分必须是 1 到 5 的整数，`6` 不是。"}


@pytest.mark.parametrize(
    ("answers", "errors"),
    [
        pytest.param(
            {
                "raised_at": epoch("2026-09-29T10:00:00+08:00"),
                "first_response_at": epoch("2026-09-29T09:00:00+08:00"),
            },
            {"first_response_at"},
            id="response-before-raised",
        ),
        pytest.param(
            {
                "raised_at": epoch("2026-09-29T10:00:00+08:00"),
                "resolved_at": epoch("2026-09-28T10:00:00+08:00"),
            },
            {"resolved_at"},
            id="resolved-before-raised",
        ),
        pytest.param({"raised_at": epoch("2026-10-01T10:00:00+08:00")}, {"raised_at"}, id="raised-in-future"),
        pytest.param({}, {"raised_at"}, id="raised-missing"),
    ],
)
def test_bad_cases_come_back_as_field_errors(bot, answers, errors):
    view = open_form(bot, "case", LEAD_BEIJING)
    states = {"team": static_select_value("beijing_service"), "case_kind": static_select_value("after_sales")}
    states |= {block: datetimepicker_value(value) for block, value in answers.items()}
    status, body = bot.submit(view, states, user_id=LEAD_BEIJING)
    assert body["response_action"] == "errors" and set(body["errors"]) == errors
    assert bot.count(CustomerCase) == 0


@pytest.mark.parametrize(
    ("answers", "errors"),
    [
        pytest.param({"completed_on": datepicker_value("2026-10-02")}, {"completed_on"}, id="completed-in-future"),
        pytest.param({"project": text_value(None)}, {"project"}, id="project-missing"),
        pytest.param({"budget": text_value("-1")}, {"budget"}, id="negative-budget"),
        pytest.param({"due_on": datepicker_value(None)}, {"due_on"}, id="due-missing"),
    ],
)
def test_bad_milestones_come_back_as_field_errors(bot, answers, errors):
    view = open_form(bot, "milestone", LEAD_BEIJING)
    states = {
        "team": static_select_value("beijing_service"),
        "project": text_value("CRM"),
        "milestone_name": text_value("Pilot"),
        "due_on": datepicker_value("2026-10-15"),
    } | answers
    status, body = bot.submit(view, states, user_id=LEAD_BEIJING)
    assert body["response_action"] == "errors" and set(body["errors"]) == errors
    assert bot.count(Milestone) == 0


@pytest.mark.parametrize(
    ("scores", "survey_date"),
    [
        pytest.param("5 4 0", "2026-09-29", id="score-zero"),
        pytest.param("five", "2026-09-29", id="not-a-score"),
        pytest.param("", "2026-09-29", id="no-scores"),
        pytest.param("4.5", "2026-09-29", id="half-score"),
    ],
)
def test_bad_survey_scores_come_back_as_field_errors(bot, scores, survey_date):
    view = open_form(bot, "survey", LEAD_BEIJING)
    answers = {
        "team": static_select_value("beijing_service"),
        "survey_date": datepicker_value(survey_date),
        "scores": text_value(scores or None),
    }
    status, body = bot.submit(view, answers, user_id=LEAD_BEIJING)
    assert set(body["errors"]) == {"scores"}
    assert bot.count(SurveyResponse) == 0


def test_a_survey_dated_in_the_future_is_refused(bot):
    view = open_form(bot, "survey", LEAD_BEIJING)
    answers = {
        "team": static_select_value("beijing_service"),
        "survey_date": datepicker_value("2026-10-01"),
        "scores": text_value("5"),
    }
    status, body = bot.submit(view, answers, user_id=LEAD_BEIJING)
    assert set(body["errors"]) == {"survey_date"}


@pytest.mark.parametrize(
    ("block_id", "text"),
    [
        pytest.param("project", "P" * 256, id="project"),
        pytest.param("milestone_name", "名" * 256, id="milestone-name"),
    ],
)
def test_milestone_text_longer_than_its_column_is_a_field_error(bot, block_id, text):
    """PostgreSQL refuses longer text (StringDataRightTruncation): it must not reach the database."""
    view = open_form(bot, "milestone", LEAD_BEIJING)
    states = {
        "team": static_select_value("beijing_service"),
        "project": text_value("CRM"),
        "milestone_name": text_value("Pilot"),
        "due_on": datepicker_value("2026-10-15"),
    } | {block_id: text_value(text)}
    status, body = bot.submit(view, states, user_id=LEAD_BEIJING)
    assert status == 200 and body["response_action"] == "errors"
    assert body["errors"] == {block_id: "太长：最多 255 个字符。"}  # Beijing's team speaks Chinese
    assert bot.count(Milestone) == 0


def test_milestone_text_of_exactly_the_column_length_is_stored(bot):
    view = open_form(bot, "milestone", LEAD_SHANGHAI_AND_BERLIN)
    states = {
        "team": static_select_value("berlin_ops"),
        "project": text_value("P" * 255),
        "milestone_name": text_value("名" * 255),
        "due_on": datepicker_value("2026-10-15"),
    }
    status, body = bot.submit(view, states, user_id=LEAD_SHANGHAI_AND_BERLIN)
    assert (status, body) == (200, "")
    with Session(bot.engine) as session:
        milestone = session.exec(select(Milestone)).one()
    assert (len(milestone.project), len(milestone.name)) == (255, 255)
