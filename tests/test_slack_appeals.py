"""Appeals through the real app and the fake Slack, on both backends: the Confirm / Appeal DMs after a
close, the appeal modal (field errors, hostile input), who may answer and decide, the window, a reason
for every step, and an upheld appeal's correction with the revised scorecard in the final scorecard's
thread."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot.close_delivery import deliver, deliver_closed
from kpi_core.appeal_models import Appeal, AppealEvent
from kpi_core.db import transaction
from kpi_core.models import AuditEntry
from kpi_core.period_close import close_period, closed_results
from kpi_core.periods import Period
from tests.bot_harness import ADMIN, LEAD_BEIJING, LEAD_SHANGHAI_AND_BERLIN, MANAGER, running_bot
from tests.factories import Clock
from tests.mrkdwn import as_slack_shows, mrkdwn_problems
from tests.slack_calls import key_of, posts, wait_for_posts
from tests.slack_requests import static_select_value, text_value
from tests.test_slack_reviews import button, click, dm_with

HR = "U0HR"
LEAD_BERLIN = "U0LEADBE"  # leads berlin_ops (with LEAD_SHANGHAI_AND_BERLIN); messages in English
AGENT = "U0AGENTBJ1"
SCORECARD_CHANNEL, HR_CHANNEL = "C0MANAGEMENT", "C0HR"
Q3 = "2026-Q3"
CLOSED_AT = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
HOSTILE = "R&D <!channel> <https://evil.example|click here>"


@pytest.fixture
def closed(database_url, example_config, fake_slack):
    """The app at a clock the test moves, with 2026-Q3 closed, its final scorecard posted and the appeal
    tick run once (the Confirm / Appeal DMs sent)."""
    clock = Clock(CLOSED_AT)
    with running_bot(config=example_config, database_url=database_url, fake=fake_slack, clock=clock) as bot:
        with transaction(bot.engine) as session:
            close_period(session, config=example_config, period=Period.parse(Q3), by=MANAGER, now=CLOSED_AT)
        deliver(bot.process.services, bot.process.sender, Q3)  # the final scorecard and HR's file
        clock.advance(timedelta(minutes=5))
        bot.process.jobs.appeals.tick()
        yield bot, clock


def opened_after(bot, before):
    return bot.fake.wait_for("views.open", count=before + 1)[-1].params["view"]


def invite_of(bot, user=LEAD_BERLIN, answers=f"{Q3}|team|berlin_ops"):
    """The Confirm / Appeal DM of one result (a lead who is a person too gets one for each)."""
    [invite] = [dm for dm in dm_with(bot, user, "appeal_open") if button(dm, "appeal_open") == answers]
    return invite


def open_appeal(bot, user=LEAD_BERLIN):
    invite = invite_of(bot, user)
    before = len(bot.fake.calls("views.open"))
    click(bot, "appeal_open", button(invite, "appeal_open"), user=user)
    return opened_after(bot, before)


def item_options(view):
    [block] = [block for block in view["blocks"] if block.get("block_id") == "item"]
    return [option["value"] for option in block["element"]["options"]]


def appeal(bot, user=LEAD_BERLIN, *, reason="September orders were counted twice", evidence="", view_id="V0APPEAL"):
    view = open_appeal(bot, user) | {"id": view_id}
    answers = {
        "item": static_select_value(item_options(view)[0]),
        "reason": text_value(reason),
        "evidence": text_value(evidence or None),
    }
    status, body = bot.submit(view, answers, user_id=user)
    if body == "":  # waits for the DMs sent after the answer: none may still be on its way when the test ends
        for decider in (MANAGER, HR):
            dm_with(bot, decider, "appeal_take_up")
    return view, (status, body)


def stored_appeal(bot):
    with Session(bot.engine) as session:
        return session.exec(select(Appeal).where(Appeal.state != "confirmed")).one()


def decide(bot, decision, *, user, reason="checked the order log", value=None, view_id=None):
    appeal_row = stored_appeal(bot)
    [dm, *_] = dm_with(bot, user, f"appeal_{decision}")
    before = len(bot.fake.calls("views.open"))
    click(bot, f"appeal_{decision}", button(dm, f"appeal_{decision}"), user=user)
    view = opened_after(bot, before) | {"id": view_id or f"V0{decision.upper()}"}
    answers = {"reason": text_value(reason)}
    if decision == "uphold":
        answers["corrected_value"] = text_value(value)
    assert str(appeal_row.id) == button(dm, f"appeal_{decision}")
    return bot.submit(view, answers, user_id=user)


def redrawn(bot, kind, subject, *, count=1):
    """The latest chat.update of a delivered DM, found by the channel and ts its ledger entry recorded."""
    channel, ts = bot.process.sender.sent_ts(kind, None, subject)
    updates = bot.fake.wait_until(
        lambda calls: (
            found
            if len(
                found := [
                    call
                    for call in calls
                    if call.method == "chat.update" and (call.params["channel"], call.params["ts"]) == (channel, ts)
                ]
            )
            >= count
            else None
        )
    )
    assert updates, f"the DM {kind}:{subject} was not redrawn"
    return updates[-1]


def buttons_of(call):
    return [
        element["action_id"]
        for block in call.params["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def shown_text(call):
    return as_slack_shows("\n".join(block["text"]["text"] for block in call.params["blocks"] if block.get("text")))


def test_each_assessed_lead_and_person_gets_one_confirm_appeal_dm(closed, example_config):
    bot, _ = closed
    results = closed_results_of(bot)
    leads = {lead for r in results if r.subject_kind == "team" for lead in example_config.team(r.subject).leads}
    people = {r.subject for r in results if r.subject_kind == "person"}
    expected = {
        f"appeal_invite:*:{Q3}:team:{r.subject}:{lead}"
        for r in results
        if r.subject_kind == "team"
        for lead in example_config.team(r.subject).leads
    } | {f"appeal_invite:*:{Q3}:person:{user}:{user}" for user in people}
    bot.process.jobs.appeals.tick()  # again: nothing twice
    sent = [key_of(call) for call in posts(bot.fake) if key_of(call).startswith("appeal_invite:")]
    assert sorted(sent) == sorted(expected)
    assert leads and people and {MANAGER, HR, ADMIN}.isdisjoint(leads | people)
    [invite] = dm_with(bot, LEAD_SHANGHAI_AND_BERLIN, "appeal_confirm", count=1)[:1]
    assert "2026-Q3" in invite.params["text"]


def closed_results_of(bot):
    with transaction(bot.engine) as session:
        return closed_results(session, Q3)


def test_confirm_then_the_result_cannot_be_appealed(closed):
    bot, _ = closed
    invite = invite_of(bot)
    click(bot, "appeal_confirm", button(invite, "appeal_confirm"), user=LEAD_BERLIN, name="confirm")
    [answer] = bot.fake.wait_for("response", count=1)
    assert "confirmed" in answer.params["text"]
    for lead in (LEAD_BERLIN, LEAD_SHANGHAI_AND_BERLIN):  # every lead's DM of the result, without its buttons
        dm = redrawn(bot, "appeal_invite", f"{Q3}:team:berlin_ops:{lead}")
        assert buttons_of(dm) == [] and f"confirmed by <@{LEAD_BERLIN}>" in shown_text(dm)
    click(bot, "appeal_open", button(invite, "appeal_open"), user=LEAD_BERLIN, name="again")
    [refused] = [call for call in bot.fake.wait_for("response", count=2) if call.path.endswith("/again")]
    assert "confirmed already" in refused.params["text"]
    assert bot.fake.calls("views.open") == []
    with transaction(bot.engine) as session:
        from kpi_core.appeals import appeal_states

        assert appeal_states(session, Q3) == {("team", "berlin_ops"): "confirmed"}


@pytest.mark.parametrize(
    "user",
    [
        pytest.param(LEAD_BEIJING, id="another-teams-lead"),
        pytest.param(MANAGER, id="management"),
        pytest.param(HR, id="hr"),
        pytest.param(ADMIN, id="admin"),
        pytest.param(AGENT, id="a-person-of-another-team"),
    ],
)
def test_only_the_assessed_may_confirm_or_appeal(closed, user):
    bot, _ = closed
    invite = invite_of(bot)
    for action_id in ("appeal_confirm", "appeal_open"):
        click(bot, action_id, button(invite, action_id), user=user, name=action_id)
    refusals = bot.fake.wait_for("response", count=2)
    said = [call.params["text"] for call in refusals]
    assert all("Only the assessed lead or person" in text or "只有被考核的负责人" in text for text in said), said
    assert bot.fake.calls("views.open") == []
    assert bot.count(Appeal) == 0


def test_the_window_closes_after_appeal_days(closed, example_config):
    bot, clock = closed
    view = open_appeal(bot) | {"id": "V0LATE"}
    clock.set("2026-10-12 09:00")  # the close + 7 days
    answers = {
        "item": static_select_value(item_options(view)[0]),
        "reason": text_value("late"),
        "evidence": text_value(None),
    }
    status, body = bot.submit(view, answers, user_id=LEAD_BERLIN)
    assert status == 200 and body["response_action"] == "update"
    assert "appeal window of 2026-Q3 closed on 2026-10-12 09:00" in str(body["view"])
    assert bot.count(Appeal) == 0
    invite = invite_of(bot)
    click(bot, "appeal_confirm", button(invite, "appeal_confirm"), user=LEAD_BERLIN)
    [refused] = bot.fake.wait_for("response", count=1)
    assert "closed on" in refused.params["text"]


@pytest.mark.parametrize(
    ("answers", "errors"),
    [
        pytest.param({"reason": None}, {"reason"}, id="no-reason"),
        pytest.param({"reason": "x" * 1001}, {"reason"}, id="reason-too-long"),
        pytest.param({"reason": "nul\x00"}, {"reason"}, id="reason-with-nul"),
        pytest.param({"item": None}, {"item"}, id="no-item"),
        pytest.param({"item": "salary"}, {"item"}, id="forged-item"),
        pytest.param({"evidence": "javascript:alert(1)"}, {"evidence"}, id="javascript-link"),
        pytest.param({"evidence": "https://evil.example|click here"}, {"evidence"}, id="disguised-link"),
        pytest.param({"evidence": "example.com/report"}, {"evidence"}, id="no-scheme"),
        pytest.param({"evidence": "\n".join(f"https://x.example/{n}" for n in range(6))}, {"evidence"}, id="six"),
    ],
)
def test_the_appeal_modal_gives_field_errors_and_stores_nothing(closed, answers, errors):
    bot, _ = closed
    view = open_appeal(bot) | {"id": "V0BAD"}
    fields = {"item": item_options(view)[0], "reason": "counted twice", "evidence": None} | answers
    submitted = {
        "item": static_select_value(fields["item"]),
        "reason": text_value(fields["reason"]),
        "evidence": text_value(fields["evidence"]),
    }
    status, body = bot.submit(view, submitted, user_id=LEAD_BERLIN)
    assert status == 200 and body["response_action"] == "errors"
    assert set(body["errors"]) == errors
    assert bot.count(Appeal) == 0


def test_a_hostile_appeal_reaches_the_deciders_literally(closed):
    bot, _ = closed
    _, (status, body) = appeal(bot, reason=HOSTILE, evidence="https://example.com/a?b=1&c=2")
    assert (status, body) == (200, "")
    [dm] = dm_with(bot, MANAGER, "appeal_take_up")
    texts = [block["text"]["text"] for block in dm.params["blocks"] if block.get("text")]
    assert texts and all(mrkdwn_problems(text) == [] for text in texts)
    shown = as_slack_shows("\n".join(texts))
    assert HOSTILE in shown and "https://example.com/a?b=1&c=2" in shown
    assert "<!channel>" not in "".join(texts)


def test_the_whole_appeal_upheld_with_the_revised_scorecard_in_the_thread(closed, example_config):
    bot, _ = closed
    _, (status, body) = appeal(bot, evidence="https://example.com/orders.xlsx")
    assert (status, body) == (200, "")
    thanks = wait_for_posts(bot.fake, LEAD_BERLIN, count=2)
    assert "sent to management and HR" in thanks[-1].params["text"]
    for lead in (LEAD_BERLIN, LEAD_SHANGHAI_AND_BERLIN):  # answered: the Confirm / Appeal DMs lose their buttons
        invite = redrawn(bot, "appeal_invite", f"{Q3}:team:berlin_ops:{lead}")
        assert buttons_of(invite) == [] and f"appealed by <@{LEAD_BERLIN}>" in shown_text(invite)
    for decider in (MANAGER, HR):
        [dm] = dm_with(bot, decider, "appeal_take_up")
        assert "orders.xlsx" in str(dm.params["blocks"])

    # deciding before taking up is refused, and a reason is required
    [dm] = dm_with(bot, HR, "appeal_uphold")
    click(bot, "appeal_uphold", button(dm, "appeal_uphold"), user=HR, name="early")
    [refused] = bot.fake.wait_for("response", count=1)
    assert "An appeal that is submitted cannot become upheld" in refused.params["text"]
    assert "处于“已提交”的申诉不能变为“已支持”" in refused.params["text"]  # the states in Chinese too
    assert bot.fake.calls("views.open")[1:] == []  # the appeal modal only
    status, body = decide(bot, "take_up", user=MANAGER, reason=None, view_id="V0NOREASON")
    assert body == {"response_action": "errors", "errors": {"reason": "Please fill this in. / 请填写此项。"}}
    assert (status, decide(bot, "take_up", user=MANAGER)[1]) == (200, "")
    assert stored_appeal(bot).state == "under_review"
    appeal_id = stored_appeal(bot).id
    for decider in (MANAGER, HR):  # taken up: only Uphold / Reject remain, and who took it up
        dm = redrawn(bot, "appeal_decide", f"{appeal_id}:{decider}")
        assert buttons_of(dm) == ["appeal_uphold", "appeal_reject"]
        assert f"taken up by <@{MANAGER}>" in shown_text(dm) and "checked the order log" in shown_text(dm)
    [told] = dm_with_text(bot, LEAD_BERLIN, "is under review")
    assert "checked the order log" in str(told.params["blocks"])

    # upheld: a corrected value is required, then the result is corrected as a new revision
    status, body = decide(bot, "uphold", user=HR, reason="double count confirmed", value=None, view_id="V0NOVAL")
    assert set(body["errors"]) == {"corrected_value"}
    status, body = decide(bot, "uphold", user=HR, reason="double count confirmed", value="abc", view_id="V0ABC")
    assert set(body["errors"]) == {"corrected_value"}
    item = stored_appeal(bot).item
    before = {r.subject: r for r in closed_results_of(bot) if r.subject_kind == "team"}
    assert decide(bot, "uphold", user=HR, reason="double count confirmed", value="97.5")[1] == ""
    upheld = stored_appeal(bot)
    after = {r.subject: r for r in closed_results_of(bot) if r.subject_kind == "team"}
    assert (upheld.state, upheld.corrected_value, upheld.decided_by) == ("upheld", 97.5, HR)
    for decider in (MANAGER, HR):  # decided: no buttons left
        dm = redrawn(bot, "appeal_decide", f"{appeal_id}:{decider}", count=2)
        assert buttons_of(dm) == [] and f"upheld by <@{HR}>" in shown_text(dm)
    assert after["berlin_ops"].items[item].value == 97.5
    assert after["berlin_ops"].revision == before["berlin_ops"].revision + 1 == upheld.revision

    # the revised scorecard, once, in the final scorecard's thread; HR's file of the revision says upheld
    channel, final_ts = bot.process.sender.sent_ts("period_close", None, Q3)
    revised = wait_for_posts(bot.fake, SCORECARD_CHANNEL, count=2)[-1]
    assert key_of(revised) == f"period_close:*:{Q3}:r{upheld.revision}"
    assert (revised.params["channel"], revised.params["thread_ts"]) == (channel, final_ts)
    shown = as_slack_shows(str(revised.params["blocks"]))
    assert f"appeal #{upheld.id} upheld" in shown and "double count confirmed" in shown
    bot.process.jobs.appeals.tick()
    deliver_closed(bot.process.services, bot.process.sender)  # the catch-up of close: nothing twice
    assert len(posts(bot.fake, SCORECARD_CHANNEL)) == 2
    files = bot.fake.wait_until(lambda calls: [c for c in calls if c.method == "upload"][1:] or None)
    rows = list(csv.DictReader(io.StringIO(files[-1].body.decode("utf-8"))))
    assert {row["subject"]: row["appeal_state"] for row in rows if row["subject"] == "berlin_ops"} == {
        "berlin_ops": "upheld"
    }
    dm_with_text(bot, LEAD_BERLIN, "was upheld")

    with Session(bot.engine) as session:
        steps = session.exec(select(AppealEvent.state, AppealEvent.by_user).order_by(AppealEvent.id)).all()
        audited = session.exec(select(AuditEntry.action).where(AuditEntry.entity == "appeal")).all()
    assert [tuple(step) for step in steps] == [
        ("submitted", LEAD_BERLIN),
        ("under_review", MANAGER),
        ("upheld", HR),
    ]
    assert audited == ["appeal", "appeal_under_review", "appeal_upheld"]


@pytest.mark.parametrize(
    "user",
    [
        pytest.param(ADMIN, id="admin"),
        pytest.param(LEAD_BEIJING, id="another-lead"),
        pytest.param(LEAD_BERLIN, id="the-appellant"),
        pytest.param(AGENT, id="a-person"),
    ],
)
def test_only_management_and_hr_may_decide(closed, user):
    bot, _ = closed
    appeal(bot)
    [dm] = dm_with(bot, MANAGER, "appeal_take_up")
    for action_id in ("appeal_take_up", "appeal_uphold", "appeal_reject"):
        click(bot, action_id, button(dm, action_id), user=user, name=action_id)
    refusals = bot.fake.wait_for("response", count=3)
    said = [call.params["text"] for call in refusals]
    assert all("management or HR" in text or "只有管理层或人力行政部" in text for text in said), said
    assert stored_appeal(bot).state == "submitted"


def test_a_rejected_appeal_changes_nothing_and_the_appellant_hears_why(closed):
    bot, _ = closed
    appeal(bot)
    before = closed_results_of(bot)
    decide(bot, "take_up", user=HR)
    assert decide(bot, "reject", user=MANAGER, reason=HOSTILE)[1] == ""
    assert stored_appeal(bot).state == "rejected"
    assert closed_results_of(bot) == before
    dm = redrawn(bot, "appeal_decide", f"{stored_appeal(bot).id}:{HR}", count=2)
    assert buttons_of(dm) == [] and f"rejected by <@{MANAGER}>" in shown_text(dm)
    [told] = dm_with_text(bot, LEAD_BERLIN, "was rejected")
    text = "\n".join(block["text"]["text"] for block in told.params["blocks"] if block.get("text"))
    assert mrkdwn_problems(text) == [] and HOSTILE in as_slack_shows(text)


def dm_with_text(bot, user, fragment):
    found = bot.fake.wait_until(
        lambda calls: (
            [
                call
                for call in calls
                if call.method == "chat.postMessage"
                and call.params.get("channel") == user
                and fragment in call.params.get("text", "")
            ]
            or None
        )
    )
    assert found, f"no DM to {user} saying {fragment!r}"
    return found
