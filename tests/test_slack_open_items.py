"""``/kpi case`` and ``/kpi milestone``: closing open items from a list, with field errors and audit."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from kpi_core.models import AuditEntry, CustomerCase, Milestone
from tests import factories
from tests.bot_harness import LEAD_BEIJING, LEAD_SHANGHAI_AND_BERLIN, MANAGER, NOW, STRANGER
from tests.slack_requests import datepicker_value, datetimepicker_value, static_select_value, text_value

RAISED = factories.at("2026-09-29 10:00", "Asia/Shanghai")  # 02:00 UTC


def epoch(moment):
    return int(moment.timestamp())


def store(bot, *rows):
    """Stores ``rows`` and returns their ids, in order."""
    factories.add(bot.engine, *rows)
    return [row.id for row in rows]


def open_modal(bot, subcommand, user):
    bot.fake.reset()
    status, body = bot.command(subcommand, user_id=user)
    assert (status, body) == (200, "")
    return bot.opened_view()


def options(view, block_id):
    (block,) = [block for block in view["blocks"] if block["block_id"] == block_id]
    assert block["element"]["type"] == "static_select"
    return [(option["value"], option["text"]["text"]) for option in block["element"]["options"]]


def load(bot, table, row_id):
    with Session(bot.engine) as session:
        return session.get(table, row_id)


def audit(bot):
    with Session(bot.engine) as session:
        return session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all()


def assert_refused_without_a_modal(bot, body, message):
    assert body["response_type"] == "ephemeral"
    assert body["text"].startswith(message)
    bot.fake.assert_no_call("views.open")


# cases


@pytest.fixture
def cases(bot):
    """Two open Beijing cases (one already answered), a closed one, and an open one of Shanghai."""
    return store(
        bot,
        factories.case("beijing_service", RAISED + timedelta(hours=1)),
        factories.case("beijing_service", RAISED, response_hours=1),
        factories.case("beijing_service", RAISED, response_hours=1, resolve_hours=2),
        factories.case("shanghai_ops", RAISED, kind="feedback"),
    )


def test_case_lists_the_users_open_cases_oldest_first(bot, cases):
    later, answered, _closed, _shanghai = cases
    view = open_modal(bot, "case", LEAD_BEIJING)
    assert view["callback_id"] == "update_case"
    assert options(view, "case") == [
        (str(answered), f"#{answered} 北京客户服务部 · 售后问题 · 2026-09-29 10:00"),
        (str(later), f"#{later} 北京客户服务部 · 售后问题 · 2026-09-29 11:00"),
    ]
    assert [block["block_id"] for block in view["blocks"]] == ["case", "first_response_at", "resolved_at"]


def test_a_lead_of_two_teams_sees_the_open_cases_of_both(bot, cases):
    *_, shanghai = cases
    store(bot, factories.case("berlin_ops", factories.at("2026-09-29 09:00", "Europe/Berlin")))
    view = open_modal(bot, "case", LEAD_SHANGHAI_AND_BERLIN)
    labels = [label for _, label in options(view, "case")]
    assert len(labels) == 2
    assert all(len(label) <= 75 for label in labels)  # Slack's limit for an option's text
    assert labels[0].startswith(f"#{shanghai} Shanghai Operations / 上海运营中心 · Customer feedback / 客户反馈")
    assert "Berlin Operations / 柏林运营部 · After-sales issue / 售后问题" in labels[1]


def test_a_first_response_is_recorded_and_audited(bot, cases):
    later, *_ = cases
    view = open_modal(bot, "case", LEAD_BEIJING)
    response = RAISED + timedelta(hours=3)
    answers = {
        "case": static_select_value(str(later)),
        "first_response_at": datetimepicker_value(epoch(response)),
    }
    status, body = bot.submit(view, answers, user_id=LEAD_BEIJING)
    assert (status, body) == (200, "")

    case = load(bot, CustomerCase, later)
    assert case.first_response_at == response and case.resolved_at is None
    (entry,) = audit(bot)
    assert (entry.action, entry.entity, entry.entity_id) == ("update", "customer_case", later)
    assert (entry.user, entry.team, entry.at) == (LEAD_BEIJING, "beijing_service", NOW)
    assert entry.old["first_response_at"] is None
    assert datetime.fromisoformat(entry.new["first_response_at"]) == response
    assert entry.old["raised_at"] == entry.new["raised_at"]
    thanks = bot.fake.wait_for("chat.postMessage")
    assert thanks[0].params["channel"] == LEAD_BEIJING
    assert thanks[0].params["text"] == f"已保存，谢谢：beijing_service #{later}。"


def test_a_resolution_keeps_the_first_response_and_closes_the_case(bot, cases):
    _, answered, *_ = cases
    view = open_modal(bot, "case", LEAD_BEIJING)
    resolved = RAISED + timedelta(hours=5)
    answers = {
        "case": static_select_value(str(answered)),
        "resolved_at": datetimepicker_value(epoch(resolved)),
    }
    status, body = bot.submit(view, answers, user_id=LEAD_BEIJING)
    assert (status, body) == (200, "")
    case = load(bot, CustomerCase, answered)
    assert (case.first_response_at, case.resolved_at) == (RAISED + timedelta(hours=1), resolved)
    (entry,) = audit(bot)
    assert entry.old["resolved_at"] is None and entry.new["first_response_at"] == entry.old["first_response_at"]
    # the closed case is no longer offered
    view = open_modal(bot, "case", LEAD_BEIJING)
    assert str(answered) not in [value for value, _ in options(view, "case")]


@pytest.mark.parametrize(
    ("answers", "errors"),
    [
        pytest.param(
            {"first_response_at": RAISED - timedelta(minutes=1)},
            {"first_response_at": "不能早于案例提出时间。"},
            id="response-before-raised",
        ),
        pytest.param(
            {"resolved_at": RAISED - timedelta(days=1)},
            {"resolved_at": "不能早于案例提出时间。"},
            id="resolved-before-raised",
        ),
        pytest.param(
            {"first_response_at": NOW + timedelta(hours=1)},
            {"first_response_at": "不能是将来的时间。"},
            id="response-in-future",
        ),
        pytest.param(
            {"resolved_at": NOW + timedelta(minutes=1)},
            {"resolved_at": "不能是将来的时间。"},
            id="resolved-in-future",
        ),
        pytest.param({}, {"first_response_at": "请填写首次响应或解决时间。"}, id="nothing-given"),
    ],
)
def test_bad_case_updates_come_back_as_field_errors_and_change_nothing(bot, cases, answers, errors):
    later, *_ = cases
    view = open_modal(bot, "case", LEAD_BEIJING)
    states = {"case": static_select_value(str(later))}
    states |= {block_id: datetimepicker_value(epoch(moment)) for block_id, moment in answers.items()}
    status, body = bot.submit(view, states, user_id=LEAD_BEIJING)
    assert status == 200
    assert body == {"response_action": "errors", "errors": errors}
    case = load(bot, CustomerCase, later)
    assert (case.first_response_at, case.resolved_at) == (None, None)
    assert audit(bot) == []


@pytest.mark.parametrize(
    "forged",
    [
        pytest.param("shanghai", id="another-teams-case"),
        pytest.param("999", id="no-such-case"),
        pytest.param("closed", id="already-closed-case"),
    ],
)
def test_a_forged_case_id_comes_back_as_a_field_error(bot, cases, forged):
    _, _, closed, shanghai = cases
    case_id = {"shanghai": str(shanghai), "closed": str(closed)}.get(forged, forged)
    before = load(bot, CustomerCase, closed)
    view = open_modal(bot, "case", LEAD_BEIJING)
    answers = {
        "case": static_select_value(case_id),
        "first_response_at": datetimepicker_value(epoch(RAISED + timedelta(minutes=30))),
        "resolved_at": datetimepicker_value(epoch(RAISED + timedelta(hours=4))),
    }
    status, body = bot.submit(view, answers, user_id=LEAD_BEIJING)
    assert body == {"response_action": "errors", "errors": {"case": "该条目已不存在或已关闭。"}}
    assert load(bot, CustomerCase, shanghai).first_response_at is None
    after = load(bot, CustomerCase, closed)
    assert (after.first_response_at, after.resolved_at) == (before.first_response_at, before.resolved_at)
    assert audit(bot) == []


@pytest.mark.parametrize(
    ("which", "answers", "errors"),
    [
        pytest.param(
            "answered",
            {"resolved_at": RAISED + timedelta(minutes=30)},  # its first response came 1 h after raising
            {"resolved_at": "解决时间不能早于首次响应时间。"},
            id="resolution-before-the-stored-response",
        ),
        pytest.param(
            "later",
            {"first_response_at": RAISED + timedelta(hours=4), "resolved_at": RAISED + timedelta(hours=3)},
            {"resolved_at": "解决时间不能早于首次响应时间。"},
            id="resolution-before-the-response-given-with-it",
        ),
        pytest.param(
            "resolved",
            {"first_response_at": RAISED + timedelta(hours=3)},  # it was resolved 2 h after raising
            {"first_response_at": "解决时间不能早于首次响应时间。"},
            id="response-after-the-stored-resolution",
        ),
    ],
)
def test_a_case_is_not_resolved_before_its_first_response(bot, cases, which, answers, errors):
    later, answered, *_ = cases
    (resolved,) = store(bot, factories.case("beijing_service", RAISED, resolve_hours=2))
    case_id = {"later": later, "answered": answered, "resolved": resolved}[which]
    before = load(bot, CustomerCase, case_id)
    view = open_modal(bot, "case", LEAD_BEIJING)
    states = {"case": static_select_value(str(case_id))}
    states |= {block_id: datetimepicker_value(epoch(moment)) for block_id, moment in answers.items()}
    status, body = bot.submit(view, states, user_id=LEAD_BEIJING)
    assert status == 200
    assert body == {"response_action": "errors", "errors": errors}
    after = load(bot, CustomerCase, case_id)
    assert (after.first_response_at, after.resolved_at) == (before.first_response_at, before.resolved_at)
    assert audit(bot) == []


def test_a_resolution_at_the_moment_of_the_first_response_is_accepted(bot, cases):
    _, answered, *_ = cases
    view = open_modal(bot, "case", LEAD_BEIJING)
    answers = {
        "case": static_select_value(str(answered)),
        "resolved_at": datetimepicker_value(epoch(RAISED + timedelta(hours=1))),
    }
    assert bot.submit(view, answers, user_id=LEAD_BEIJING) == (200, "")
    assert load(bot, CustomerCase, answered).resolved_at == RAISED + timedelta(hours=1)


def test_the_same_case_update_submitted_twice_is_audited_once(bot, cases):
    later, *_ = cases
    view = open_modal(bot, "case", LEAD_BEIJING)
    answers = {
        "case": static_select_value(str(later)),
        "first_response_at": datetimepicker_value(epoch(RAISED + timedelta(hours=2))),
    }
    for _ in range(2):
        assert bot.submit(view, answers, user_id=LEAD_BEIJING) == (200, "")
    assert len(audit(bot)) == 1


def test_no_open_cases_gets_an_ephemeral_message(bot):
    store(bot, factories.case("beijing_service", RAISED, response_hours=1, resolve_hours=2))
    store(bot, factories.case("shanghai_ops", RAISED))  # open, but not theirs
    status, body = bot.command("case", user_id=LEAD_BEIJING)
    assert status == 200
    assert_refused_without_a_modal(bot, body, "您的团队没有未处理的案例。")


@pytest.mark.parametrize(
    ("user", "message"),
    [
        pytest.param(STRANGER, "Sorry, you have no KPI Bot role yet.", id="stranger"),
        pytest.param(MANAGER, "Sorry, only the team's leads (or an admin) may submit", id="management-leads-no-team"),
    ],
)
@pytest.mark.parametrize("subcommand", [pytest.param("case", id="case"), pytest.param("milestone", id="milestone")])
def test_open_items_are_not_offered_to_those_who_submit_for_no_team(bot, cases, milestones, subcommand, user, message):
    bot.fake.reset()
    status, body = bot.command(subcommand, user_id=user)
    assert status == 200
    assert_refused_without_a_modal(bot, body, message)


# milestones


@pytest.fixture
def milestones(bot):
    """Two open Beijing milestones, a completed one, and an open one of Shanghai."""
    return store(
        bot,
        factories.milestone("beijing_service", date(2026, 10, 20), project="CRM", name="Go-live", budget=9000),
        factories.milestone("beijing_service", date(2026, 9, 25), project="CRM", name="Pilot", budget=5000),
        factories.milestone("beijing_service", date(2026, 9, 1), date(2026, 9, 2), project="CRM", name="Plan"),
        factories.milestone("shanghai_ops", date(2026, 9, 20), project="WMS", name="Pilot"),
    )


def test_milestone_lists_the_users_open_milestones_by_due_date(bot, milestones):
    go_live, pilot, *_ = milestones
    view = open_modal(bot, "milestone", LEAD_BEIJING)
    assert view["callback_id"] == "complete_milestone"
    assert options(view, "milestone") == [
        (str(pilot), f"#{pilot} CRM · Pilot · 2026-09-25"),
        (str(go_live), f"#{go_live} CRM · Go-live · 2026-10-20"),
    ]
    (completed_on,) = [block for block in view["blocks"] if block["block_id"] == "completed_on"]
    assert completed_on["element"]["initial_date"] == "2026-09-30"


def test_a_milestone_is_completed_and_audited(bot, milestones):
    _, pilot, *_ = milestones
    view = open_modal(bot, "milestone", LEAD_BEIJING)
    answers = {
        "milestone": static_select_value(str(pilot)),
        "completed_on": datepicker_value("2026-09-29"),
        "actual_cost": text_value("5400"),
    }
    status, body = bot.submit(view, answers, user_id=LEAD_BEIJING)
    assert (status, body) == (200, "")
    milestone = load(bot, Milestone, pilot)
    assert (milestone.completed_on, milestone.actual_cost, milestone.budget) == (
        date(2026, 9, 29),
        5400,
        5000,
    )
    (entry,) = audit(bot)
    assert (entry.action, entry.entity, entry.entity_id, entry.user) == (
        "update",
        "milestone",
        pilot,
        LEAD_BEIJING,
    )
    assert (entry.old["completed_on"], entry.old["actual_cost"]) == (None, None)
    assert (entry.new["completed_on"], entry.new["actual_cost"]) == ("2026-09-29", 5400)
    thanks = bot.fake.wait_for("chat.postMessage")
    assert thanks[0].params["text"] == "已保存，谢谢：beijing_service CRM · Pilot。"
    view = open_modal(bot, "milestone", LEAD_BEIJING)
    assert str(pilot) not in [value for value, _ in options(view, "milestone")]


def test_a_milestone_completed_without_a_cost_keeps_no_cost(bot, milestones):
    go_live, *_ = milestones
    view = open_modal(bot, "milestone", LEAD_BEIJING)
    answers = {"milestone": static_select_value(str(go_live)), "completed_on": datepicker_value("2026-09-30")}
    assert bot.submit(view, answers, user_id=LEAD_BEIJING) == (200, "")
    milestone = load(bot, Milestone, go_live)
    assert (milestone.completed_on, milestone.actual_cost) == (date(2026, 9, 30), None)


@pytest.mark.parametrize(
    ("answers", "errors"),
    [
        pytest.param(
            {"completed_on": datepicker_value("2026-10-01")},
            {"completed_on": "不能是将来的时间。"},
            id="in-future",
        ),
        pytest.param({"completed_on": datepicker_value(None)}, {"completed_on": "请填写此项。"}, id="missing-date"),
        pytest.param({"actual_cost": text_value("-5")}, {"actual_cost": "不能小于 0。"}, id="negative-cost"),
        pytest.param(
            {"actual_cost": text_value("lots")},
            {
                "actual_cost": "请输入由 0-9、可选的负号和小数点组成的数字，"
                + "例如 120、-3 或 3.5（不要千位分隔符，不要指数）。"
            },
            id="cost-not-a-number",
        ),
    ],
)
def test_bad_completions_come_back_as_field_errors_and_change_nothing(bot, milestones, answers, errors):
    _, pilot, *_ = milestones
    view = open_modal(bot, "milestone", LEAD_BEIJING)
    states = {"milestone": static_select_value(str(pilot)), "completed_on": datepicker_value("2026-09-29")}
    status, body = bot.submit(view, states | answers, user_id=LEAD_BEIJING)
    assert status == 200
    assert body == {"response_action": "errors", "errors": errors}
    milestone = load(bot, Milestone, pilot)
    assert (milestone.completed_on, milestone.actual_cost) == (None, None)
    assert audit(bot) == []


@pytest.mark.parametrize(
    "forged",
    [
        pytest.param("shanghai", id="another-teams-milestone"),
        pytest.param("999", id="no-such-milestone"),
        pytest.param("completed", id="already-completed-milestone"),
    ],
)
def test_a_forged_milestone_id_comes_back_as_a_field_error(bot, milestones, forged):
    _, _, completed, shanghai = milestones
    milestone_id = {"shanghai": str(shanghai), "completed": str(completed)}.get(forged, forged)
    view = open_modal(bot, "milestone", LEAD_BEIJING)
    answers = {"milestone": static_select_value(milestone_id), "completed_on": datepicker_value("2026-09-29")}
    status, body = bot.submit(view, answers, user_id=LEAD_BEIJING)
    assert body == {"response_action": "errors", "errors": {"milestone": "该条目已不存在或已关闭。"}}
    assert load(bot, Milestone, shanghai).completed_on is None
    assert load(bot, Milestone, completed).completed_on == date(2026, 9, 2)
    assert audit(bot) == []


def test_no_open_milestones_gets_an_ephemeral_message(bot):
    store(bot, factories.milestone("beijing_service", date(2026, 9, 1), date(2026, 9, 2)))
    status, body = bot.command("milestone", user_id=LEAD_BEIJING)
    assert status == 200
    assert_refused_without_a_modal(bot, body, "您的团队没有未完成的里程碑。")


# "today" is the milestone's team's date: at 2026-09-30 20:00 UTC it is already 1 October in Shanghai,
# still 30 September in Berlin.
LATE_EVENING_UTC = datetime(2026, 9, 30, 20, 0, tzinfo=UTC)


@pytest.fixture
def late_bot(start_bot):
    return start_bot(now=LATE_EVENING_UTC)


@pytest.mark.parametrize(
    ("team", "errors"),
    [
        pytest.param("shanghai_ops", None, id="shanghai-is-on-1-october"),
        pytest.param(
            "berlin_ops",
            {"completed_on": "Cannot be in the future. / 不能是将来的时间。"},
            id="berlin-is-on-30-september",
        ),
    ],
)
def test_a_completion_date_is_checked_against_the_teams_own_date(late_bot, team, errors):
    (milestone_id,) = store(late_bot, factories.milestone(team, date(2026, 9, 28)))
    view = open_modal(late_bot, "milestone", LEAD_SHANGHAI_AND_BERLIN)
    answers = {
        "milestone": static_select_value(str(milestone_id)),
        "completed_on": datepicker_value("2026-10-01"),
    }
    status, body = late_bot.submit(view, answers, user_id=LEAD_SHANGHAI_AND_BERLIN)
    if errors is None:
        assert (status, body) == (200, "")
        assert load(late_bot, Milestone, milestone_id).completed_on == date(2026, 10, 1)
    else:
        assert body == {"response_action": "errors", "errors": errors}
        assert load(late_bot, Milestone, milestone_id).completed_on is None
