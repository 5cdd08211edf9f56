"""360° reviews and the review interview through the real app and the fake Slack: who launches and sees
what, the rating, peer and interview modals (hostile input in each), the DMs through the ledger."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot.mrkdwn import escape
from kpi_core import review_use_cases as use
from kpi_core.models import AuditEntry
from kpi_core.review_cycles import parse_launch
from kpi_core.review_models import ReviewAnswer, ReviewAssignment, ReviewInterview
from tests.bot_harness import ADMIN, LEAD_BEIJING, LEAD_SHANGHAI_AND_BERLIN, MANAGER, NOW
from tests.mrkdwn import HOSTILE, as_slack_shows, mrkdwn_problems
from tests.slack_calls import posts, wait_for_posts
from tests.slack_requests import datepicker_value, static_select_value, text_value

HR = "U0HR"
AGENT = "U0AGENTBJ1"  # Beijing: messages in Chinese
RATER = "U0OPSSH1"  # Shanghai: messages in English and Chinese
PEOPLE = 9
COMPETENCIES = [
    "quality",
    "efficiency",
    "innovation",
    "responsibility",
    "attitude",
    "teamwork",
    "learning",
    "problem_solving",
]
TRIGGER_ID = "1234567890.0987654321.0123456789abcdef0123456789abcdef"


def reply_text(body):
    assert isinstance(body, dict), body
    return body["text"]


def launch(bot, user=ADMIN):
    """Launches the 2026 cycle; once launched, waits for the invitations and rating requests it sends
    after its answer (so that none is still on its way when the test moves on, or ends)."""
    status, body = bot.command("review launch 2026", user_id=user)
    assert status == 200
    asked = bot.count(ReviewAssignment)
    if asked:
        assert bot.fake.wait_until(lambda calls: len(ledger_keys(calls, "review_")) >= asked + PEOPLE, timeout=20)
    return reply_text(body)


def ledger_keys(calls, prefix):
    keys = [call.params["metadata"]["event_payload"]["key"] for call in calls if call.params.get("metadata")]
    return [key for key in keys if key.startswith(prefix)]


def wait_for_packets(bot):
    """Waits for every review packet a close sends after its answer (the test's Slack stops with the test)."""
    holders = 2 * bot.count(ReviewInterview) - bot.count(ReviewInterview, ReviewInterview.second_superior.is_(None))
    assert bot.fake.wait_until(lambda calls: len(ledger_keys(calls, "review_packet")) >= holders, timeout=20)


def button(call, action_id):
    """The value of the DM's button ``action_id``."""
    for block in call.params.get("blocks") or []:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return element["value"]
    raise AssertionError(f"no {action_id} button in {call.params}")


def dm_with(bot, user, action_id, *, count=1):
    """The DMs to ``user`` carrying a ``action_id`` button, once ``count`` of them arrived."""
    found = bot.fake.wait_until(
        lambda calls: (
            matching
            if len(
                matching := [
                    call
                    for call in calls
                    if call.method == "chat.postMessage"
                    and call.params.get("channel") == user
                    and any(
                        element.get("action_id") == action_id
                        for block in call.params.get("blocks") or []
                        for element in block.get("elements", [])
                    )
                ]
            )
            >= count
            else None
        )
    )
    assert found, f"no DM with {action_id} to {user}: {[c.params.get('channel') for c in posts(bot.fake)]}"
    return found


def click(bot, action_id, value, *, user, name="click"):
    reply = bot.slack.action(
        action_id=action_id,
        value=value,
        user_id=user,
        block_id="review_actions",
        response_url=bot.fake.response_url(name),
        channel_id=user,
        trigger_id=TRIGGER_ID,
    )
    assert (reply.status, reply.body) == (200, "")


def responses(bot, name="click"):
    return [call for call in bot.fake.calls("response") if call.path.endswith(f"/{name}")]


def open_rating(bot, user=AGENT):
    [request, *_] = dm_with(bot, user, "review_rate")
    before = len(bot.fake.calls("views.open"))
    click(bot, "review_rate", button(request, "review_rate"), user=user)
    return bot.fake.wait_for("views.open", count=before + 1)[-1].params["view"]


def ratings(score="4", comment="solid work"):
    answers = {f"score:{key}": static_select_value(score) for key in COMPETENCIES}
    return answers | {"comment": text_value(comment)}


@pytest.mark.parametrize(
    ("user", "allowed"),
    [
        pytest.param(ADMIN, True, id="admin"),
        pytest.param(HR, True, id="hr-without-a-team"),
        pytest.param(MANAGER, False, id="management"),
        pytest.param(LEAD_BEIJING, False, id="lead"),
        pytest.param(AGENT, False, id="person-without-a-team-role"),
    ],
)
def test_who_may_launch_close_and_see_the_status_of_a_cycle(bot, user, allowed):
    text = launch(bot, user)
    if not allowed:
        assert text == "Only admins or HR may do this." or "只有管理员" in text
        assert bot.count(ReviewAssignment) == 0
        launch(bot, ADMIN)
    else:
        assert "Review 2026 launched: 9 people" in text
    status, body = bot.command("review status 2026", user_id=user)
    assert ("Review 2026" in reply_text(body)) is allowed
    status, body = bot.command("review close 2026", user_id=user)
    assert ("is closed" in reply_text(body)) is allowed
    assert (bot.count(ReviewInterview) > 0) is allowed
    if allowed:  # the packets go out after the answer: wait for them, the test's Slack stops with it
        wait_for_packets(bot)


def test_a_rater_gets_one_dm_rates_in_the_modal_and_may_replace_the_answer(bot):
    launch(bot)
    view = open_rating(bot, RATER)
    assert view["callback_id"] == "review_rating"
    assert [block["block_id"] for block in view["blocks"][1:]] == [f"score:{key}" for key in COMPETENCIES] + ["comment"]

    sent = len(posts(bot.fake, RATER))
    status, body = bot.submit(view | {"id": "V1"}, ratings("4"), user_id=RATER)
    assert (status, body) == (200, "")
    assert "is stored" in wait_for_posts(bot.fake, RATER, count=sent + 1)[-1].params["text"]
    view = open_rating(bot, RATER)  # the answer so far is preselected
    assert view["blocks"][1]["element"]["initial_option"]["value"] == "4"
    status, body = bot.submit(view | {"id": "V2"}, ratings("5", "better"), user_id=RATER)
    assert (status, body) == (200, "")
    assert "replaces your earlier one" in wait_for_posts(bot.fake, RATER, count=sent + 2)[-1].params["text"]
    with Session(bot.engine) as session:
        assert session.exec(select(ReviewAnswer.comment)).all() == ["better"]
    # one DM per rating asked (their own, and their superior's as a subordinate), each once
    requests = ledger_keys(posts(bot.fake, RATER), "review_request")
    assert len(requests) == len(set(requests)) == 2


@pytest.mark.parametrize(
    ("answers", "block", "message"),
    [
        pytest.param({"score:quality": static_select_value("9")}, "score:quality", "Choose a rating", id="score-9"),
        pytest.param({"score:teamwork": static_select_value(None)}, "score:teamwork", "Choose a rating", id="no-score"),
        pytest.param({"comment": text_value("x" * 3001)}, "comment", "at most 3000", id="comment-too-long"),
        pytest.param({"comment": text_value("nul\x00here")}, "comment", "control", id="comment-nul"),
    ],
)
def test_hostile_ratings_get_field_errors_and_store_nothing(bot, answers, block, message):
    launch(bot)
    view = open_rating(bot, RATER)
    status, body = bot.submit(view, ratings() | answers, user_id=RATER)
    assert status == 200 and body["response_action"] == "errors"
    assert message in body["errors"][block]
    assert bot.count(ReviewAnswer) == 0


@pytest.mark.parametrize(
    "metadata",
    [
        pytest.param('{"assignment": 1}', id="someone-elses"),
        pytest.param('{"assignment": "1 OR 1=1"}', id="not-a-number"),
        pytest.param("not json", id="garbage"),
    ],
)
def test_a_forged_rating_form_is_refused_with_a_notice(bot, metadata):
    launch(bot)
    view = open_rating(bot, RATER) | {"private_metadata": metadata}
    status, body = bot.submit(view, ratings(), user_id=RATER)
    assert status == 200 and body["response_action"] == "update"
    assert "not yours" in body["view"]["blocks"][0]["text"]["text"]
    assert bot.count(ReviewAnswer) == 0


def test_a_rating_after_the_deadline_is_refused_with_a_notice(start_bot, example_config):
    early = start_bot()
    launch(early)
    view = open_rating(early, RATER)
    late = start_bot(now=NOW + timedelta(days=20))
    # the same cycle in the late app's database (the same ids), launched at NOW: its deadline has passed
    request = parse_launch(["2026"], today=NOW.date(), deadline_days=14)
    use.launch(late.engine, config=example_config, request=request, user=ADMIN, now=NOW)

    status, body = late.submit(view, ratings(), user_id=RATER)
    assert body["response_action"] == "update"
    assert "deadline of cycle 2026 has passed" in body["view"]["blocks"][0]["text"]["text"]
    assert late.count(ReviewAnswer) == 0


def test_peers_are_nominated_approved_by_the_superior_and_then_asked(bot):
    launch(bot)
    lead, peer = LEAD_SHANGHAI_AND_BERLIN, "U0OPSSH2"
    [invite] = dm_with(bot, RATER, "review_nominate")
    click(bot, "review_nominate", button(invite, "review_nominate"), user=RATER)
    view = bot.fake.wait_for("views.open")[-1].params["view"]
    assert view["callback_id"] == "review_peers"

    hostile = [
        ({"type": "multi_users_select", "selected_users": peer}, "fill this in"),
        ({"type": "multi_users_select", "selected_users": [lead]}, "cannot be your peer"),
        ({"type": "multi_users_select", "selected_users": [f"U0X{n}" for n in range(9)]}, "at most 8"),
        ({"type": "multi_users_select", "selected_users": ["U0NOBODY"]}, "not among the people"),
    ]
    for state, message in hostile:
        status, body = bot.submit(view, {"peers": state}, user_id=RATER)
        assert body["response_action"] == "errors" and message in body["errors"]["peers"], (state, body)
    status, body = bot.submit(view, {"peers": {"type": "multi_users_select", "selected_users": [peer]}}, user_id=RATER)
    assert (status, body) == (200, "")

    [ask] = dm_with(bot, lead, "review_peers_approve")
    click(bot, "review_peers_decline", button(ask, "review_peers_approve"), user=MANAGER, name="forged")
    assert "not yours" in bot.fake.wait_until(lambda calls: responses(bot, "forged"))[0].params["text"]
    click(bot, "review_peers_approve", button(ask, "review_peers_approve"), user=lead)
    approved = bot.fake.wait_until(lambda calls: responses(bot))[0].params["text"]
    assert approved.startswith(f"Approved: <@{peer}> are asked to rate <@{RATER}>.")
    # asked for their own rating and their lead's at the launch, then for their nominated peer's
    dm_with(bot, peer, "review_rate", count=3)


def test_the_interview_is_recorded_confirmed_and_acknowledged_through_slack(bot):
    launch(bot)
    status, body = bot.command("review close 2026", user_id=HR)
    [packet] = dm_with(bot, LEAD_BEIJING, "interview_record") and [
        call for call in dm_with(bot, LEAD_BEIJING, "interview_record", count=4) if f"<@{AGENT}>" in call.params["text"]
    ]
    dm_with(bot, MANAGER, "interview_record", count=5)  # the second superior of the four agents, and the lead's own
    interview_id = button(packet, "interview_record")

    click(bot, "interview_record", interview_id, user=AGENT, name="subject")  # the person may not record it
    assert "这不是您可以回答的内容" in bot.fake.wait_until(lambda calls: responses(bot, "subject"))[0].params["text"]
    click(bot, "interview_record", interview_id, user=LEAD_BEIJING)
    view = bot.fake.wait_for("views.open")[-1].params["view"]
    record = {
        "held_on": datepicker_value("2026-09-29"),
        "rating": static_select_value("4"),
        "strengths": text_value("calm <!channel> & kind\nreliable"),
        "development_plan": text_value("lead a project"),
    }
    for hostile, block in (
        ({"held_on": datepicker_value("2026-10-30")}, "held_on"),
        ({"held_on": datepicker_value("2026-02-30")}, "held_on"),
        ({"rating": static_select_value("0")}, "rating"),
        ({"strengths": text_value(None)}, "strengths"),
        ({"development_plan": text_value("\x00")}, "development_plan"),
    ):
        status, body = bot.submit(view, record | hostile, user_id=LEAD_BEIJING)
        assert body["response_action"] == "errors" and block in body["errors"], (hostile, body)
    status, body = bot.submit(view | {"id": "VINT"}, record, user_id=LEAD_BEIJING)
    assert (status, body) == (200, "")

    [confirm] = dm_with(bot, MANAGER, "interview_confirm")
    shown = "\n".join(block["text"]["text"] for block in confirm.params["blocks"] if block["type"] == "section")
    assert "calm &lt;!channel&gt; &amp; kind" in shown and "<!channel>" not in shown
    click(bot, "interview_acknowledge", button(confirm, "interview_confirm"), user=AGENT, name="early")
    assert "面谈尚未经两位上级确认" in bot.fake.wait_until(lambda calls: responses(bot, "early"))[0].params["text"]
    click(bot, "interview_confirm", button(confirm, "interview_confirm"), user=MANAGER)
    [ack] = dm_with(bot, AGENT, "interview_acknowledge")
    click(bot, "interview_acknowledge", button(ack, "interview_acknowledge"), user=AGENT, name="ack")
    assert "您已确认绩效面谈" in bot.fake.wait_until(lambda calls: responses(bot, "ack"))[0].params["text"]

    with Session(bot.engine) as session:
        trail = session.exec(select(AuditEntry.user, AuditEntry.action).where(AuditEntry.entity == "review_interview"))
        assert [tuple(row) for row in trail] == [(LEAD_BEIJING, "record"), (MANAGER, "confirm"), (AGENT, "acknowledge")]


def test_hostile_comments_reach_the_review_packet_escaped_and_unnamed(bot, example_config):
    launch(bot)
    cycle = use.cycles(bot.engine)[0]
    use.default_peers(bot.engine, config=example_config, now=cycle.nominations_due_at)
    with Session(bot.engine) as session:
        peers = session.exec(
            select(ReviewAssignment).where(ReviewAssignment.subject == AGENT, ReviewAssignment.relation == "peer")
        ).all()
    for number, (assignment, comment) in enumerate(zip(peers, HOSTILE, strict=False)):
        use.submit_answer(
            bot.engine,
            config=example_config,
            request_key=f"hostile:{number}",
            assignment_id=assignment.id,
            rater=assignment.rater,
            scores=dict.fromkeys(COMPETENCIES, 3),
            comment=comment,
            now=NOW,
        )
    status, body = bot.command("review close 2026", user_id=HR)
    packet = next(
        call for call in dm_with(bot, LEAD_BEIJING, "interview_record", count=4) if f"<@{AGENT}>" in call.params["text"]
    )
    shown = "\n".join(block["text"]["text"] for block in packet.params["blocks"] if block["type"] == "section")
    for comment in HOSTILE[: len(peers)]:
        assert as_slack_shows(escape(comment)) in as_slack_shows(shown)
    assert mrkdwn_problems(shown) == []
    assert not any(f"<@{assignment.rater}>" in shown for assignment in peers)  # comments name nobody
    wait_for_packets(bot)


@pytest.mark.parametrize(
    ("viewer", "sees"),
    [
        pytest.param(AGENT, True, id="the-person"),
        pytest.param(LEAD_BEIJING, True, id="direct-superior"),
        pytest.param(MANAGER, True, id="superiors-superior"),
        pytest.param(HR, True, id="hr"),
        pytest.param(ADMIN, True, id="admin"),
        pytest.param("U0AGENTBJ2", False, id="a-peer"),
        pytest.param(LEAD_SHANGHAI_AND_BERLIN, False, id="another-teams-lead"),
        pytest.param("U0NOBODY", False, id="a-stranger"),
    ],
)
def test_who_sees_a_persons_review_results(bot, viewer, sees):
    launch(bot)
    assert "is closed" in reply_text(bot.command("review close 2026", user_id=ADMIN)[1])
    wait_for_packets(bot)

    status, body = bot.command(f"review results 2026 <@{AGENT}|sun.li>", user_id=viewer)
    text = reply_text(body)
    assert ("Sun Li" in text) is sees  # the results title names the person
    if not sees:
        assert "not yours" in text or "这不是您可以回答的内容" in text


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("review launch <!channel>", id="hostile-cycle"),
        pytest.param("review launch 2026 <https://evil.example|soon>", id="hostile-deadline"),
        pytest.param("review status <@U0ADMIN>&", id="hostile-status"),
        pytest.param("review", id="nothing"),
        pytest.param("review close", id="close-without-cycle"),
    ],
)
def test_hostile_review_commands_are_answered_escaped_and_change_nothing(bot, text):
    status, body = bot.command(text, user_id=ADMIN)
    answer = reply_text(body)
    assert status == 200 and mrkdwn_problems(answer) == []
    assert bot.count(ReviewAssignment) == 0
