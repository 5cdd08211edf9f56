"""``/kpi report`` and ``/kpi scorecard`` over signed HTTP: acked at once, answered through response_url."""

from datetime import date

import pytest
from sqlmodel import Session, col, select

from bot.mrkdwn import escape, unescape
from bot.render import blocks_text
from kpi_core.models import Submission
from tests import factories
from tests.bot_harness import ADMIN, LEAD_BEIJING, LEAD_SHANGHAI_AND_BERLIN, MANAGER, STRANGER
from tests.test_slack_submissions import open_form, weekly_answers

LEAD_BERLIN = "U0LEADBE"
LEAD_NEW_YORK = "U0LEADNY"

W40 = date(2026, 9, 28)  # the Monday that starts 2026-W40 (the harness clock's week)
W39 = date(2026, 9, 21)


def store_weeks(bot, team, *, w40=(200, 190), w39=(200, 180), sales=250000):
    """On-time delivery of 95 % in W40 and 90 % in W39 (by default), and W40's sales."""
    orders, on_time = w40
    rows = factories.measures(team, W40, orders=orders, on_time_orders=on_time, sales=sales)
    orders, on_time = w39
    rows += factories.measures(team, W39, orders=orders, on_time_orders=on_time)
    factories.add(bot.engine, *rows)


def report_of(bot, text, *, user_id):
    """Sends ``/kpi text``; asserts the empty ack and returns the one message posted to the response_url."""
    status, body = bot.command(text, user_id=user_id, name="report")
    assert (status, body) == (200, "")  # acked at once, with nothing: the report follows
    (call,) = bot.fake.wait_for("response")
    assert call.path == "/response/report"
    assert call.params["response_type"] == "ephemeral"
    return call.params


def report_text(message):
    """The answer's blocks as Slack shows them; the fallback text is its header."""
    blocks = message["blocks"]
    assert blocks[0]["type"] == "header" and message["text"] == escape(blocks[0]["text"]["text"])
    return unescape(blocks_text(blocks))


def sections_text(message):
    blocks = message["blocks"]
    assert blocks and {block["type"] for block in blocks} == {"section"}
    return "\n".join(block["text"]["text"] for block in blocks)


def assert_nothing_posted(bot):
    bot.fake.assert_no_call("response")


@pytest.mark.parametrize(
    ("team", "user", "title", "line", "sales"),
    [
        pytest.param(
            "beijing_service",
            LEAD_BEIJING,
            "KPI报告 · 北京客户服务部 · 2026-W40\n2026-09-28 – 2026-10-04\n",
            "✅ *准时交付率*\n*95.0 %* · 目标 ≥ 95.0 %\n上周 90.0 % · 200 个订单\n",
            "✅ *销售额*\n*250,000 CNY*",
            id="beijing-in-chinese",
        ),
        pytest.param(
            "berlin_ops",
            LEAD_BERLIN,
            "KPI report · Berlin Operations · 2026-W40\n2026-09-28 – 2026-10-04\n",
            "✅ *On-time delivery rate*\n*95.0 %* · target ≥ 95.0 %\nlast week 90.0 % · 200 orders\n",
            "✅ *Sales*\n*250,000 CNY*",
            id="berlin-in-english",
        ),
        pytest.param(
            "shanghai_ops",
            LEAD_SHANGHAI_AND_BERLIN,
            "KPI report / KPI报告 · Shanghai Operations / 上海运营中心 · 2026-W40\n",
            "✅ *On-time delivery rate / 准时交付率*\n*95.0 %* · target / 目标 ≥ 95.0 %\nlast week / 上周 90.0 % · ",
            "✅ *Sales / 销售额*\n*250,000 CNY*",
            id="shanghai-in-both",
        ),
    ],
)
def test_report_defaults_to_the_users_team_and_current_week_in_its_language(bot, team, user, title, line, sales):
    store_weeks(bot, team)
    message = report_of(bot, "report", user_id=user)
    assert message["text"] == title.split("\n")[0]
    text = report_text(message)
    assert text.startswith(title)
    assert line in text
    assert sales in text


def test_report_names_team_and_period_in_any_order(bot):
    store_weeks(bot, "berlin_ops")
    message = report_of(bot, "report 2026-09 berlin_ops", user_id=LEAD_SHANGHAI_AND_BERLIN)
    text = report_text(message)
    assert text.startswith("KPI report · Berlin Operations · 2026-09\n2026-09-01 – 2026-09-30\n")
    # September holds both weeks: (190 + 180) / (200 + 200), against the monthly targets
    assert "⚠️ *On-time delivery rate*\n*92.5 %* · target ≥ 95.0 %\nlast month no data · 400 orders\n" in text
    assert "⚠️ *Sales*\n*250,000 CNY* · target ≥ 780,000 CNY\n" in text
    assert "\n▫️ *Not reported this month*: Customer satisfaction, " in text


def test_a_period_may_be_typed_in_lower_case(bot):
    store_weeks(bot, "berlin_ops")
    message = report_of(bot, "report berlin_ops 2026-w40", user_id=LEAD_BERLIN)
    assert "Berlin Operations · 2026-W40" in message["text"]
    assert "*On-time delivery rate*\n*95.0 %*" in report_text(message)


def test_a_report_shows_new_and_withdrawn_data_at_once(bot):
    """Reports may be cached, but never across a write: each answer below reflects the data just stored."""
    store_weeks(bot, "shanghai_ops", w40=(200, 190))
    assert "*On-time delivery rate / 准时交付率*\n*95.0 %*" in report_text(
        report_of(bot, "report", user_id=LEAD_SHANGHAI_AND_BERLIN)
    )

    view = open_form(bot, "weekly", LEAD_SHANGHAI_AND_BERLIN)
    _, body = bot.submit(view, weekly_answers(orders="100", on_time_orders="80"), user_id=LEAD_SHANGHAI_AND_BERLIN)
    assert bot.submit(body["view"] | {"id": "V0CONFIRM"}, {}, user_id=LEAD_SHANGHAI_AND_BERLIN) == (200, "")
    bot.fake.reset()
    assert "🔴 *On-time delivery rate / 准时交付率*\n*80.0 %*" in report_text(
        report_of(bot, "report", user_id=LEAD_SHANGHAI_AND_BERLIN)
    )

    with Session(bot.engine) as session:
        latest = session.exec(select(Submission).order_by(col(Submission.id).desc())).first()
    bot.fake.reset()
    reply = bot.slack.action(
        action_id="withdraw_submission",
        value=str(latest.id),
        user_id=LEAD_SHANGHAI_AND_BERLIN,
        response_url=bot.fake.response_url("click"),
        channel_id="C0TEST",
    )
    assert reply.status == 200
    bot.fake.wait_for("response")
    bot.fake.reset()
    text = report_text(report_of(bot, "report", user_id=LEAD_SHANGHAI_AND_BERLIN))
    not_reported = "\n▫️ *Not reported this week / 本周未报告*: On-time delivery rate / 准时交付率, "
    assert not_reported in text and "*On-time delivery rate / 准时交付率*" not in text


def test_a_report_without_data_says_so_rather_than_failing(bot):
    message = report_of(bot, "report newyork_delivery 2026-W40", user_id=LEAD_NEW_YORK)
    text = report_text(message)
    assert text.startswith("KPI report · New York Delivery · 2026-W40\n")
    assert "\n▫️ *Not reported this week*: On-time delivery rate, Customer satisfaction, " in text
    assert "*no data*" not in text and "0.0" not in text


@pytest.mark.parametrize(
    ("user", "team"),
    [
        pytest.param(MANAGER, "berlin_ops", id="management-sees-berlin"),
        pytest.param(MANAGER, "beijing_service", id="management-sees-beijing"),
        pytest.param(ADMIN, "berlin_ops", id="admin-sees-berlin"),
    ],
)
def test_management_and_admins_may_see_any_team(bot, user, team):
    store_weeks(bot, team)
    text = report_text(report_of(bot, f"report {team} 2026-W40", user_id=user))
    assert "95.0 %" in text and "250,000 CNY" in text


def test_a_lead_may_not_see_another_teams_report(bot):
    store_weeks(bot, "berlin_ops")
    status, body = bot.command("report berlin_ops", user_id=LEAD_BEIJING)
    assert status == 200
    assert body == {"text": "抱歉，您无权查看 berlin_ops 的 KPI。", "response_type": "ephemeral"}
    assert_nothing_posted(bot)


@pytest.mark.parametrize(
    "text", [pytest.param("report", id="own-team"), pytest.param("report berlin_ops", id="named-team")]
)
def test_a_stranger_sees_no_report(bot, text):
    store_weeks(bot, "berlin_ops")
    status, body = bot.command(text, user_id=STRANGER)
    assert status == 200
    assert body["response_type"] == "ephemeral"
    assert body["text"].startswith("Sorry, you have no KPI Bot role yet.")
    assert_nothing_posted(bot)


def test_a_period_at_the_edge_of_the_calendar_gets_a_clear_message(bot):
    status, body = bot.command("report 0001-01", user_id=LEAD_BERLIN)
    assert status == 200
    assert body["response_type"] == "ephemeral" and "is not a period" in body["text"]


@pytest.mark.parametrize(
    ("text", "user", "message"),
    [
        pytest.param(
            "report 2026-W99",
            LEAD_BERLIN,
            "`2026-W99` is not a period; use e.g. 2026-W40, 2026-09, 2026-Q3 or 2026.",
            id="week-99",
        ),
        pytest.param("report berlin_ops 2026-13", LEAD_BERLIN, "`2026-13` is not a period;", id="month-13"),
        pytest.param("report 2026-Q3x", LEAD_BERLIN, "`2026-Q3x` is not a period;", id="garbled"),
        pytest.param("report 2026-W99", LEAD_BEIJING, "`2026-W99` 不是有效周期", id="in-chinese"),
        pytest.param(
            "report paris",
            LEAD_BERLIN,
            "There is no team called `paris`. Teams: shanghai_ops, beijing_service, berlin_ops, newyork_delivery.",
            id="unknown-team",
        ),
    ],
)
def test_bad_arguments_get_a_clear_ephemeral_message(bot, text, user, message):
    status, body = bot.command(text, user_id=user)
    assert status == 200
    assert body["response_type"] == "ephemeral"
    assert body["text"].startswith(message)
    assert_nothing_posted(bot)


# The week starts at local midnight (bot_on_sunday_evening: Monday in Shanghai, still Sunday in Berlin).


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        pytest.param(LEAD_BEIJING, "北京客户服务部 · 2026-W41", id="shanghai-time-is-monday"),
        pytest.param(LEAD_BERLIN, "Berlin Operations · 2026-W40", id="berlin-time-is-sunday"),
    ],
)
def test_the_default_week_is_the_current_week_in_the_teams_time_zone(bot_on_sunday_evening, user, expected):
    message = report_of(bot_on_sunday_evening, "report", user_id=user)
    assert expected in message["text"]


def store_quarter_sales(bot):
    """Q3 sales against the quarterly targets (3,000,000; Berlin 2,300,000): 100 %, 50 %, 25 %, 10 %."""
    factories.add(
        bot.engine,
        *factories.measures("shanghai_ops", date(2026, 8, 10), sales=3_000_000),
        *factories.measures("berlin_ops", date(2026, 7, 6), sales=1_000_000),
        *factories.measures("berlin_ops", date(2026, 9, 28), sales=150_000),
        *factories.measures("beijing_service", date(2026, 9, 1), sales=750_000),
        *factories.measures("newyork_delivery", date(2026, 8, 31), sales=300_000),
        *factories.measures("shanghai_ops", date(2026, 10, 1), sales=9_000_000),  # Q4: must not count
    )


def test_scorecard_ranks_every_team(bot):
    store_quarter_sales(bot)
    message = report_of(bot, "scorecard 2026-Q3", user_id=MANAGER)
    text = sections_text(message)
    assert message["text"] == ("*Quarterly operations scorecard / 季度绩效考核 · 2026-Q3* (4 teams / 个团队)")
    ranking = [line for line in text.splitlines() if line[:1].isdigit()]
    assert ranking == [
        "1. *Shanghai Operations / 上海运营中心*: 40.0 / 100",  # sales weigh 40 %
        "2. *Berlin Operations / 柏林运营部*: 20.0 / 100",
        "3. *Beijing Customer Service / 北京客户服务部*: 10.0 / 100",
        "4. *New York Delivery / 纽约交付部*: 4.0 / 100",
    ]
    assert "Sales / 销售额 (40 %): 1,150,000 CNY → 50.0" in text


def test_scorecard_is_in_the_users_language_and_defaults_to_the_current_quarter(bot):
    store_quarter_sales(bot)
    text = sections_text(report_of(bot, "scorecard", user_id=LEAD_BEIJING))
    assert text.startswith("*季度绩效考核 · 2026-Q3* (4 个团队)")
    assert "1. *上海运营中心*: 40.0 / 100" in text
    assert "4. *纽约交付部*: 4.0 / 100" in text


def test_scorecard_with_a_bad_period_gets_a_clear_message(bot):
    status, body = bot.command("scorecard 2026-Q5", user_id=MANAGER)
    assert status == 200
    assert body["response_type"] == "ephemeral"
    assert "`2026-Q5` is not a period" in body["text"]
    assert_nothing_posted(bot)


def test_a_stranger_sees_no_scorecard(bot):
    status, body = bot.command("scorecard 2026-Q3", user_id=STRANGER)
    assert status == 200 and body["text"].startswith("Sorry, you have no KPI Bot role yet.")
    assert_nothing_posted(bot)
