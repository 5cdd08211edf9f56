"""The App Home tab: an app_home_opened event (signed JSON) publishes the user's teams' KPIs this week."""

import time
from datetime import date

import pytest

from tests import factories
from tests.bot_harness import ADMIN, LEAD_BEIJING, LEAD_SHANGHAI_AND_BERLIN, MANAGER, STRANGER
from tests.slack_requests import JSON, app_home_opened_body, event_callback_body

W40 = date(2026, 9, 28)  # the Monday that starts the harness clock's week


def open_home(bot, user, *, event_id="Ev0001", retry_num=None):
    reply = bot.slack.event(app_home_opened_body(user_id=user, event_id=event_id), retry_num=retry_num)
    assert (reply.status, reply.body) == (200, "")


def published(bot, count=1):
    calls = bot.fake.wait_for("views.publish", count=count)
    return calls


def home_of(bot, user):
    open_home(bot, user)
    (call,) = published(bot)
    assert call.params["user_id"] == user
    view = call.params["view"]
    assert view["type"] == "home"
    assert len(view["blocks"]) <= 100  # Slack's limit for a Home tab
    return view


def team_sections(view):
    """{team heading: KPI lines} from the home view (the personal scorecard below its own header left out)."""
    headers = [index for index, block in enumerate(view["blocks"]) if block["type"] == "header"]
    teams = view["blocks"][: headers[1] if len(headers) > 1 else None]
    sections = [block["text"]["text"] for block in teams if block["type"] == "section"]
    assert all(len(text) <= 3000 for text in sections)
    headings = sections[0::2]
    return {heading: lines.splitlines() for heading, lines in zip(headings, sections[1::2], strict=True)}


def test_home_lists_the_team_kpis_with_values_and_status_icons(bot):
    factories.add(
        bot.engine,
        *factories.measures("beijing_service", W40, orders=200, on_time_orders=190, complaints=10, sales=250000),
    )
    view = home_of(bot, LEAD_BEIJING)
    assert view["blocks"][0] == {"type": "header", "text": {"type": "plain_text", "text": "您的团队本周概况"}}
    sections = team_sections(view)
    assert list(sections) == ["*北京客户服务部* · 2026-W40"]
    lines = sections["*北京客户服务部* · 2026-W40"]
    assert "✅ 准时交付率: 95.0 % (目标 ≥ 95.0 %)" in lines
    assert "🔴 客户投诉率: 5.0 % (目标 ≤ 2.0 %)" in lines  # past the alert threshold of 4 %
    assert "✅ 销售额: 250,000 CNY (目标 ≥ 230,000 CNY)" in lines
    assert "▫️ 客户满意度: 无数据 (目标 ≥ 4.20/5)" in lines
    assert len(lines) == 19  # every KPI of the catalogue


def test_a_target_missed_but_not_breached_shows_a_warning(bot):
    factories.add(bot.engine, *factories.measures("berlin_ops", W40, orders=100, on_time_orders=92))
    view = home_of(bot, "U0LEADBE")
    lines = team_sections(view)["*Berlin Operations* · 2026-W40"]
    assert "⚠️ On-time delivery rate: 92.0 % (target ≥ 95.0 %)" in lines


def test_a_lead_of_two_teams_sees_both(bot):
    factories.add(
        bot.engine,
        *factories.measures("shanghai_ops", W40, orders=100, on_time_orders=99),
        *factories.measures("berlin_ops", W40, orders=100, on_time_orders=80),
    )
    view = home_of(bot, LEAD_SHANGHAI_AND_BERLIN)
    assert view["blocks"][0]["text"]["text"] == "Your teams this week / 您的团队本周概况"
    sections = team_sections(view)
    assert list(sections) == [
        "*Shanghai Operations / 上海运营中心* · 2026-W40",
        "*Berlin Operations / 柏林运营部* · 2026-W40",
    ]
    shanghai, berlin = sections.values()
    assert "✅ On-time delivery rate / 准时交付率: 99.0 % (target / 目标 ≥ 95.0 %)" in shanghai
    assert "🔴 On-time delivery rate / 准时交付率: 80.0 % (target / 目标 ≥ 95.0 %)" in berlin


@pytest.mark.parametrize("user", [pytest.param(MANAGER, id="management"), pytest.param(ADMIN, id="admin")])
def test_management_and_admins_see_every_team(bot, user):
    sections = team_sections(home_of(bot, user))
    assert [heading.split("*")[1] for heading in sections] == [
        "Shanghai Operations / 上海运营中心",
        "Beijing Customer Service / 北京客户服务部",
        "Berlin Operations / 柏林运营部",
        "New York Delivery / 纽约交付部",
    ]


def test_a_stranger_sees_the_refusal(bot):
    factories.add(bot.engine, *factories.measures("beijing_service", W40, orders=200, on_time_orders=190))
    view = home_of(bot, STRANGER)
    texts = [block["text"]["text"] for block in view["blocks"] if block["type"] == "section"]
    assert texts == [
        "Sorry, you have no KPI Bot role yet. Ask an admin to add you to a team in the config. / "
        "抱歉，您还没有 KPI Bot 角色。请管理员在配置中把您加入团队。"
    ]


def test_a_retried_event_still_publishes_the_same_view(bot):
    factories.add(bot.engine, *factories.measures("beijing_service", W40, orders=200, on_time_orders=190))
    open_home(bot, LEAD_BEIJING, event_id="Ev0RETRY")
    open_home(bot, LEAD_BEIJING, event_id="Ev0RETRY", retry_num=1)
    first, retry = published(bot, count=2)
    assert first.params == retry.params
    assert first.params["user_id"] == LEAD_BEIJING


def test_a_retry_whose_original_was_lost_publishes(bot):
    open_home(bot, LEAD_BEIJING, event_id="Ev0LOST", retry_num=2)
    (call,) = published(bot)
    assert call.params["user_id"] == LEAD_BEIJING


def test_the_messages_tab_publishes_nothing(bot):
    event = {
        "type": "app_home_opened",
        "user": LEAD_BEIJING,
        "channel": f"D0{LEAD_BEIJING}",
        "tab": "messages",
        "event_ts": f"{time.time():.6f}",
    }
    reply = bot.slack.event(event_callback_body(event))
    assert reply.status == 200
    bot.fake.assert_no_call("views.publish")


def test_an_unsigned_event_is_rejected(bot):
    reply = bot.slack.post(app_home_opened_body(user_id=LEAD_BEIJING), content_type=JSON, signed=False)
    assert reply.status == 401
    bot.fake.assert_no_call("views.publish")


def test_each_team_shows_its_own_current_week(bot_on_sunday_evening):
    factories.add(
        bot_on_sunday_evening.engine,
        *factories.measures("berlin_ops", W40, orders=100, on_time_orders=97),
        *factories.measures("shanghai_ops", W40, orders=100, on_time_orders=97),  # last week in Shanghai
    )
    sections = team_sections(home_of(bot_on_sunday_evening, LEAD_SHANGHAI_AND_BERLIN))
    assert list(sections) == [
        "*Shanghai Operations / 上海运营中心* · 2026-W41",
        "*Berlin Operations / 柏林运营部* · 2026-W40",
    ]
    shanghai, berlin = sections.values()
    assert "▫️ On-time delivery rate / 准时交付率: no data / 无数据 (target / 目标 ≥ 95.0 %)" in shanghai
    assert "✅ On-time delivery rate / 准时交付率: 97.0 % (target / 目标 ≥ 95.0 %)" in berlin
