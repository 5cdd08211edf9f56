"""``/kpi history`` and ``/kpi undo``, and their Withdraw and Correct buttons, over signed HTTP."""

import time

import pytest
from sqlmodel import Session, col, select

from kpi_core.models import (
    Alert,
    AuditEntry,
    CustomerCase,
    Delivery,
    MeasureValue,
    Milestone,
    Submission,
    SurveyResponse,
)
from tests import factories
from tests.bot_harness import ADMIN, LEAD_BEIJING, LEAD_SHANGHAI_AND_BERLIN, MANAGER, NOW
from tests.slack_calls import posts, wait_for_posts
from tests.slack_requests import datepicker_value, datetimepicker_value, static_select_value, text_value
from tests.test_slack_submissions import WEEKLY, epoch, open_form, stored_weekly, weekly_answers

LEAD_BERLIN = "U0LEADBE"
TRIGGER_ID = "1234567890.0987654321.0123456789abcdef0123456789abcdef"


def submit(bot, form, answers, *, user, view_id):
    """Submits the form and waits for the thank-you DM: the listener keeps posting after its ack, and a DM
    arriving later would land among the next step's calls, after its reset."""
    view = open_form(bot, form, user) | {"id": view_id}
    status, body = bot.submit(view, answers, user_id=user)
    assert (status, body) == (200, "")
    wait_for_posts(bot.fake, user)
    with Session(bot.engine) as session:
        return session.exec(select(Submission).order_by(col(Submission.id).desc())).first()


def submit_weekly(bot, *, user=LEAD_SHANGHAI_AND_BERLIN, team="shanghai_ops", period="2026-W40", view_id="V0W"):
    return submit(bot, "weekly", weekly_answers(team, period), user=user, view_id=view_id)


def submit_survey(bot, *, user=LEAD_BEIJING, team="beijing_service", view_id="V0SURVEY"):
    answers = {
        "team": static_select_value(team),
        "survey_date": datepicker_value("2026-09-29"),
        "scores": text_value("5 4 4 3 5"),
    }
    return submit(bot, "survey", answers, user=user, view_id=view_id)


def submit_case(bot, *, user=LEAD_BEIJING, view_id="V0CASE"):
    answers = {
        "team": static_select_value("beijing_service"),
        "case_kind": static_select_value("after_sales"),
        "raised_at": datetimepicker_value(epoch("2026-09-29T10:00:00+08:00")),
    }
    return submit(bot, "case", answers, user=user, view_id=view_id)


def submit_answered_case(bot, *, raised, responded, view_id):
    """An after-sales case of Beijing with its first response, through the case form."""
    answers = {
        "team": static_select_value("beijing_service"),
        "case_kind": static_select_value("after_sales"),
        "raised_at": datetimepicker_value(epoch(raised)),
        "first_response_at": datetimepicker_value(epoch(responded)),
    }
    return submit(bot, "case", answers, user=LEAD_BEIJING, view_id=view_id)


def submit_milestone(bot, *, user=LEAD_BEIJING, view_id="V0MILESTONE"):
    answers = {
        "team": static_select_value("beijing_service"),
        "project": text_value("CRM"),
        "milestone_name": text_value("Pilot"),
        "due_on": datepicker_value("2026-10-15"),
    }
    return submit(bot, "milestone", answers, user=user, view_id=view_id)


def listing(bot, text, *, user):
    """``/kpi history`` or ``/kpi undo``: the empty ack, then the one message posted to the response_url."""
    bot.fake.reset()
    status, body = bot.command(text, user_id=user, name="history")
    assert (status, body) == (200, "")
    (call,) = bot.fake.wait_for("response")
    assert call.params["response_type"] == "ephemeral"
    return call.params


def listed_ids(message):
    return [
        int(block["block_id"].removeprefix("submission:"))
        for block in message["blocks"]
        if block.get("block_id", "").startswith("submission:")
    ]


def buttons(message, submission_id):
    (actions,) = [block for block in message["blocks"] if block.get("block_id") == f"actions:{submission_id}"]
    return {element["action_id"]: element for element in actions["elements"]}


def click(bot, action_id, submission_id, *, user, trigger_id=None):
    """Clicks a button of the listing (an ephemeral message, so Slack sends a response_url)."""
    bot.fake.reset()
    reply = bot.slack.action(
        action_id=action_id,
        value=str(submission_id),
        user_id=user,
        block_id=f"actions:{submission_id}",
        response_url=bot.fake.response_url("click"),
        channel_id="C0TEST",
        trigger_id=trigger_id,
    )
    assert (reply.status, reply.body) == (200, "")


def clicked_response(bot):
    (call,) = bot.fake.wait_for("response")
    assert call.path == "/response/click"
    return call.params


def submission(bot, submission_id):
    with Session(bot.engine) as session:
        return session.get(Submission, submission_id)


def audit(bot, **where):
    with Session(bot.engine) as session:
        query = select(AuditEntry).where(*(getattr(AuditEntry, key) == value for key, value in where.items()))
        return session.exec(query.order_by(col(AuditEntry.id))).all()


# /kpi history


def test_history_lists_a_submission_with_correct_and_withdraw_buttons(bot):
    weekly = submit_weekly(bot)
    message = listing(bot, "history", user=LEAD_SHANGHAI_AND_BERLIN)
    title = "Recent submissions of shanghai_ops, berlin_ops / shanghai_ops, berlin_ops 最近的提交"
    assert message["text"] == title
    assert message["blocks"][0]["text"]["text"] == f"*{title}*"
    assert listed_ids(message) == [weekly.id]
    line = message["blocks"][1]["text"]["text"]
    assert line == (
        f"#{weekly.id} · Shanghai Operations / 上海运营中心 · measures · 8 · <@{LEAD_SHANGHAI_AND_BERLIN}> · "
        "2026-09-30 16:00"  # the harness clock, 08:00 UTC, in Shanghai
    )
    found = buttons(message, weekly.id)
    assert list(found) == ["correct_submission", "withdraw_submission"]
    assert {button["value"] for button in found.values()} == {str(weekly.id)}
    withdraw = found["withdraw_submission"]
    assert withdraw["style"] == "danger"
    assert set(withdraw["confirm"]) == {"title", "text", "confirm", "deny"}
    assert withdraw["confirm"]["text"]["text"].startswith("Withdraw this submission?")


@pytest.mark.parametrize(
    "submit_other",
    [
        pytest.param(submit_survey, id="survey"),
        pytest.param(submit_case, id="case"),
        pytest.param(submit_milestone, id="milestone"),
    ],
)
def test_only_measures_can_be_corrected_everything_can_be_withdrawn(bot, submit_other):
    other = submit_other(bot)
    message = listing(bot, "history", user=LEAD_BEIJING)
    assert listed_ids(message) == [other.id]
    assert list(buttons(message, other.id)) == ["withdraw_submission"]
    assert message["text"] == "beijing_service 最近的提交"  # Beijing's lead reads Chinese


def test_history_shows_only_the_users_teams_newest_first(bot):
    first = submit_weekly(bot, view_id="V0A")
    other_team = submit_survey(bot)
    berlin = submit_weekly(bot, team="berlin_ops", view_id="V0B")
    assert listed_ids(listing(bot, "history", user=LEAD_SHANGHAI_AND_BERLIN)) == [berlin.id, first.id]
    assert listed_ids(listing(bot, "history berlin_ops", user=LEAD_SHANGHAI_AND_BERLIN)) == [berlin.id]
    assert listed_ids(listing(bot, "history", user=LEAD_BEIJING)) == [other_team.id]
    assert listed_ids(listing(bot, "history", user=ADMIN)) == [berlin.id, other_team.id, first.id]


def test_history_without_submissions_says_so(bot):
    message = listing(bot, "history", user=LEAD_BERLIN)
    assert message["blocks"][-1]["elements"][0]["text"] == "No submissions yet."


def test_history_is_refused_to_someone_who_submits_for_no_team(bot):
    submit_weekly(bot)
    bot.fake.reset()
    status, body = bot.command("history", user_id="U0MANAGER")  # management sees, but submits nothing
    assert status == 200
    assert body["response_type"] == "ephemeral" and body["text"].startswith("Sorry, only the team's leads")
    bot.fake.assert_no_call("response")


@pytest.mark.parametrize("text", [pytest.param("history", id="history"), pytest.param("undo", id="undo")])
def test_a_stranger_sees_no_submissions(bot, text):
    submit_weekly(bot)
    bot.fake.reset()
    status, body = bot.command(text, user_id="U0NOBODY")
    assert status == 200
    assert body["response_type"] == "ephemeral" and body["text"].startswith("Sorry, you have no KPI Bot role")
    bot.fake.assert_no_call("response")


def test_undo_is_refused_to_someone_who_submits_for_no_team(bot):
    # management sees every team but submits for none, even with a submission of their own on record
    factories.add(
        bot.engine,
        Submission(
            team="berlin_ops", kind="measures", source="slack", form="weekly", submitted_by=MANAGER, submitted_at=NOW
        ),
    )
    bot.fake.reset()
    status, body = bot.command("undo", user_id=MANAGER)
    assert status == 200
    assert body["response_type"] == "ephemeral" and body["text"].startswith("Sorry, only the team's leads")
    bot.fake.assert_no_call("response")


# Withdraw


def test_withdraw_deletes_the_rows_audits_them_and_replaces_the_listing(bot):
    weekly = submit_weekly(bot)
    click(bot, "withdraw_submission", weekly.id, user=LEAD_SHANGHAI_AND_BERLIN)
    response = clicked_response(bot)
    assert response["replace_original"] is True
    assert response["text"].startswith(f"Withdrawn: #{weekly.id} shanghai_ops measures (8 rows).")

    assert bot.count(MeasureValue) == 0
    withdrawn = submission(bot, weekly.id)
    assert withdrawn.withdrawn_at == NOW
    assert withdrawn.withdrawn_by == LEAD_SHANGHAI_AND_BERLIN
    entries = audit(bot, action="withdraw")
    assert len(entries) == len(WEEKLY)
    assert {entry.user for entry in entries} == {LEAD_SHANGHAI_AND_BERLIN}
    assert {entry.submission_id for entry in entries} == {weekly.id}
    assert {entry.entity for entry in entries} == {"measure_value"}
    assert {entry.old["measure"]: entry.old["value"] for entry in entries} == {
        key: float(value) for key, value in WEEKLY.items()
    }
    assert all(entry.new is None and entry.at == NOW for entry in entries)

    # it no longer shows, and its values no longer count
    assert listed_ids(listing(bot, "history", user=LEAD_SHANGHAI_AND_BERLIN)) == []
    assert stored_weekly(bot) == {}


def test_a_second_withdraw_says_it_is_gone_and_changes_nothing(bot):
    weekly = submit_weekly(bot)
    click(bot, "withdraw_submission", weekly.id, user=LEAD_SHANGHAI_AND_BERLIN)
    clicked_response(bot)
    click(bot, "withdraw_submission", weekly.id, user=LEAD_SHANGHAI_AND_BERLIN)
    response = clicked_response(bot)
    assert response["replace_original"] is False
    assert response["text"] == "This item no longer exists or is already closed. / 该条目已不存在或已关闭。"
    assert len(audit(bot, action="withdraw")) == len(WEEKLY)


@pytest.mark.parametrize(
    ("submit_other", "table", "rows"),
    [
        pytest.param(submit_survey, SurveyResponse, 5, id="survey"),
        pytest.param(submit_case, CustomerCase, 1, id="case"),
        pytest.param(submit_milestone, Milestone, 1, id="milestone"),
    ],
)
def test_withdraw_removes_every_kind_of_row(bot, submit_other, table, rows):
    other = submit_other(bot)
    assert bot.count(table) == rows
    click(bot, "withdraw_submission", other.id, user=LEAD_BEIJING)
    response = clicked_response(bot)
    assert response["text"].startswith(f"已撤回：#{other.id} beijing_service {other.kind}（{rows} 行）")
    assert bot.count(table) == 0
    entries = audit(bot, action="withdraw")
    assert len(entries) == rows and {entry.entity for entry in entries} == {table.__tablename__}
    assert all(entry.old["team"] == "beijing_service" for entry in entries)


@pytest.mark.parametrize(
    ("user", "value", "refusal"),
    [
        pytest.param(
            LEAD_BEIJING,
            None,
            "抱歉，只有 shanghai_ops 的负责人（或管理员）可以提交数据。",
            id="lead-of-another-team",
        ),
        pytest.param("U0MANAGER", None, "Sorry, only the team's leads", id="management-only-views"),
        pytest.param(LEAD_BEIJING, 999, "抱歉，只有 - 的负责人", id="forged-id"),
    ],
)
def test_withdraw_is_refused_to_whoever_may_not_submit_for_the_team(bot, user, value, refusal):
    weekly = submit_weekly(bot)
    click(bot, "withdraw_submission", value or weekly.id, user=user)
    response = clicked_response(bot)
    assert response["replace_original"] is False
    assert response["text"].startswith(refusal)
    assert bot.count(MeasureValue) == len(WEEKLY)
    assert submission(bot, weekly.id).withdrawn_at is None
    assert audit(bot) == []


@pytest.mark.parametrize("user", [pytest.param(LEAD_BERLIN, id="co-lead"), pytest.param(ADMIN, id="admin")])
def test_another_lead_of_the_team_or_an_admin_may_withdraw(bot, user):
    berlin = submit_weekly(bot, team="berlin_ops")
    click(bot, "withdraw_submission", berlin.id, user=user)
    assert clicked_response(bot)["replace_original"] is True
    assert bot.count(MeasureValue) == 0
    assert submission(bot, berlin.id).withdrawn_by == user
    assert {entry.user for entry in audit(bot)} == {user}


def sent_alert(bot, timeout=5.0):
    """The ledger entry of the one alert, once the sender has recorded the ts Slack gave it."""
    deadline = time.monotonic() + timeout
    while True:
        with Session(bot.engine) as session:
            (posted,) = session.exec(select(Delivery).where(Delivery.kind == "alert")).all()
        if posted.ts is not None or time.monotonic() > deadline:
            assert posted.ts is not None, posted
            return posted
        time.sleep(0.02)


@pytest.fixture
def alerting_bot(start_bot):
    return start_bot(alerting=True)


def test_a_withdrawal_that_ends_a_breach_posts_the_recovery_in_the_alerts_thread(alerting_bot):
    # Beijing alerts when the median first response of this week's after-sales cases passes 6 h, and
    # recovers at 5 h (margin 1): 1 h alone is fine, 1 h and 20 h (median 10.5 h) breach
    bot = alerting_bot
    raised = "2026-09-29T10:00:00+08:00"
    submit_answered_case(bot, raised=raised, responded="2026-09-29T11:00:00+08:00", view_id="V0FAST")
    slow = submit_answered_case(bot, raised=raised, responded="2026-09-30T06:00:00+08:00", view_id="V0SLOW")
    # the first submission's alert check may still be running and post the alert itself: read it by channel
    (alert,) = wait_for_posts(bot.fake, "C0BEIJING")
    assert "10.5 h" in alert.params["text"] and "6.0 h" in alert.params["text"]
    posted = sent_alert(bot)
    assert posted.channel == "C0BEIJING"

    click(bot, "withdraw_submission", slow.id, user=LEAD_BEIJING)
    assert clicked_response(bot)["replace_original"] is True
    (recovery,) = wait_for_posts(bot.fake, "C0BEIJING")
    assert posts(bot.fake) == [recovery]
    assert (recovery.params["channel"], recovery.params.get("thread_ts")) == ("C0BEIJING", posted.ts)
    assert recovery.params["text"] == "✅ 已恢复：售后服务响应时间 回到 1.0 h（阈值 6.0 h）。"
    with Session(bot.engine) as session:
        (resolved,) = session.exec(select(Alert)).all()
    assert (resolved.kpi, resolved.case_id, resolved.resolved_at, resolved.resolved_value) == (
        "response_time",
        None,
        NOW,
        1.0,
    )


# /kpi undo


def test_undo_shows_only_the_users_own_latest_submission(bot):
    submit_weekly(bot, view_id="V0A")
    latest = submit_weekly(bot, team="berlin_ops", view_id="V0B")
    submit_weekly(bot, user=LEAD_BERLIN, team="berlin_ops", period="2026-W39", view_id="V0C")  # someone else's
    message = listing(bot, "undo", user=LEAD_SHANGHAI_AND_BERLIN)
    assert message["text"] == "Your latest submission / 您最近的提交"
    assert listed_ids(message) == [latest.id]
    assert list(buttons(message, latest.id)) == ["correct_submission", "withdraw_submission"]


def test_undo_then_withdraw_goes_back_one_submission_at_a_time(bot):
    first = submit_weekly(bot, view_id="V0A")
    second = submit_survey(bot, user=LEAD_SHANGHAI_AND_BERLIN, team="shanghai_ops")
    assert listed_ids(listing(bot, "undo", user=LEAD_SHANGHAI_AND_BERLIN)) == [second.id]
    click(bot, "withdraw_submission", second.id, user=LEAD_SHANGHAI_AND_BERLIN)
    clicked_response(bot)
    assert listed_ids(listing(bot, "undo", user=LEAD_SHANGHAI_AND_BERLIN)) == [first.id]


def test_undo_with_nothing_to_undo_says_so(bot):
    submit_survey(bot)  # someone else's
    message = listing(bot, "undo", user=LEAD_SHANGHAI_AND_BERLIN)
    assert message["text"] == "You have no submission to withdraw. / 您没有可撤回的提交。"
    assert "blocks" not in message or not message["blocks"]


# Correct


@pytest.mark.parametrize(
    ("team", "period"),
    [
        pytest.param("shanghai_ops", "2026-W40", id="current-week"),
        pytest.param("berlin_ops", "2026-W38", id="second-team-earlier-week"),
        pytest.param("shanghai_ops", "2026-W30", id="week-older-than-the-choices"),
    ],
)
def test_correct_opens_the_form_prefilled_with_the_stored_values(bot, team, period):
    weekly = submit_weekly(bot, team=team, period=period)
    click(bot, "correct_submission", weekly.id, user=LEAD_SHANGHAI_AND_BERLIN, trigger_id=TRIGGER_ID)
    (call,) = bot.fake.wait_for("views.open")
    assert call.params["trigger_id"] == TRIGGER_ID
    view = call.params["view"]
    assert view["callback_id"] == "submit_measures"
    blocks = {block["block_id"]: block for block in view["blocks"]}
    assert blocks["team"]["element"]["initial_option"]["value"] == team
    period_select = blocks["period"]["element"]
    assert period_select["initial_option"]["value"] == period
    assert period in [option["value"] for option in period_select["options"]]
    initial = {
        block_id.removeprefix("measure:"): block["element"]["initial_value"]
        for block_id, block in blocks.items()
        if block_id.startswith("measure:")
    }
    assert initial == WEEKLY


def test_a_correction_asks_to_replace_then_stores_the_new_values_with_an_audit_trail(bot):
    weekly = submit_weekly(bot)
    click(bot, "correct_submission", weekly.id, user=LEAD_SHANGHAI_AND_BERLIN, trigger_id=TRIGGER_ID)
    view = bot.opened_view() | {"id": "V0CORRECT"}

    status, body = bot.submit(
        view, weekly_answers(orders="125", on_time_orders="120"), user_id=LEAD_SHANGHAI_AND_BERLIN
    )
    assert status == 200 and body["response_action"] == "update"
    confirm = body["view"]
    assert confirm["callback_id"] == "confirm_replace"
    changes = confirm["blocks"][0]["text"]["text"]
    assert "120 → 125" in changes and "114 → 120" in changes
    assert stored_weekly(bot)["orders"] == 120  # nothing replaced before the lead confirms

    status, body = bot.submit(confirm | {"id": "V0CONFIRM"}, {}, user_id=LEAD_SHANGHAI_AND_BERLIN)
    assert (status, body) == (200, "")
    stored = stored_weekly(bot)
    assert (stored["orders"], stored["on_time_orders"], stored["sales"]) == (125, 120, 240000)
    assert bot.count(MeasureValue) == len(WEEKLY)
    entries = {entry.new["measure"]: entry for entry in audit(bot, action="replace")}
    assert len(entries) == len(WEEKLY)
    orders = entries["orders"]
    assert orders.user == LEAD_SHANGHAI_AND_BERLIN and orders.team == "shanghai_ops"
    assert orders.old["rows"][0]["value"] == 120 and orders.old["rows"][0]["submission_id"] == weekly.id
    assert orders.new == {"period": "2026-W40", "measure": "orders", "value": 125}
    thanks = bot.fake.wait_for("chat.postMessage")
    assert thanks[-1].params["channel"] == LEAD_SHANGHAI_AND_BERLIN


def test_correct_is_refused_to_a_lead_of_another_team(bot):
    weekly = submit_weekly(bot)
    click(bot, "correct_submission", weekly.id, user=LEAD_BEIJING, trigger_id=TRIGGER_ID)
    response = clicked_response(bot)
    assert response["replace_original"] is False
    assert response["text"] == "抱歉，只有 shanghai_ops 的负责人（或管理员）可以提交数据。"
    assert bot.fake.calls("views.open") == []


def test_correcting_a_withdrawn_submission_says_it_is_gone(bot):
    weekly = submit_weekly(bot)
    click(bot, "withdraw_submission", weekly.id, user=LEAD_SHANGHAI_AND_BERLIN)
    clicked_response(bot)
    click(bot, "correct_submission", weekly.id, user=LEAD_SHANGHAI_AND_BERLIN, trigger_id=TRIGGER_ID)
    response = clicked_response(bot)
    assert response["text"] == "This item no longer exists or is already closed. / 该条目已不存在或已关闭。"
    assert bot.fake.calls("views.open") == []


def test_a_corrected_submission_can_still_be_corrected_through_its_replacement(bot):
    original = submit_weekly(bot)
    click(bot, "correct_submission", original.id, user=LEAD_SHANGHAI_AND_BERLIN, trigger_id=TRIGGER_ID)
    view = bot.opened_view() | {"id": "V0CORRECT"}
    _, body = bot.submit(view, weekly_answers(orders="125"), user_id=LEAD_SHANGHAI_AND_BERLIN)
    assert bot.submit(body["view"] | {"id": "V0CONFIRM"}, {}, user_id=LEAD_SHANGHAI_AND_BERLIN) == (200, "")

    # the original's values all belong to the correction now: correcting the original says so
    click(bot, "correct_submission", original.id, user=LEAD_SHANGHAI_AND_BERLIN, trigger_id=TRIGGER_ID)
    assert clicked_response(bot)["text"].startswith("This item no longer exists")
    # while the correction opens with the corrected values
    (correction,) = [
        number for number in listed_ids(listing(bot, "history", user=LEAD_SHANGHAI_AND_BERLIN)) if number != original.id
    ]
    click(bot, "correct_submission", correction, user=LEAD_SHANGHAI_AND_BERLIN, trigger_id=TRIGGER_ID)
    (call,) = bot.fake.wait_for("views.open")
    (orders,) = [block for block in call.params["view"]["blocks"] if block["block_id"] == "measure:orders"]
    assert orders["element"]["initial_value"] == "125"
