"""Verified data through the real app and the fake Slack: who may verify and query, the verify / query /
correct round trip with its thread, the daily list (once a day per verifier, in their zone, two replicas),
many waiting submissions, hostile input and field errors in the query modal, and the digest's marks."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from sqlmodel import Session, select

from bot.digests import weekly_digests
from bot.resources import EXAMPLE_CONFIG
from bot.settings import Settings
from bot.verification import VerificationMessenger
from bot.wiring import build
from kpi_core import use_cases
from kpi_core.config import Config, parse_config
from kpi_core.db import transaction
from kpi_core.models import AuditEntry, Delivery, Submission
from kpi_core.periods import Period
from kpi_core.verification import verification_blockers
from kpi_core.verification_models import SubmissionVerification
from tests.bot_harness import ADMIN, LEAD_BEIJING, LEAD_SHANGHAI_AND_BERLIN, MANAGER, NOW, STRANGER, Bot, running_bot
from tests.mrkdwn import as_slack_shows, mrkdwn_problems
from tests.slack_calls import wait_for_posts
from tests.slack_requests import text_value
from tests.test_slack_history import click, clicked_response
from tests.test_slack_submissions import weekly_answers

VERIFIER, OTHER_VERIFIER = "U0VERIFY", "U0VERIFY2"
LEAD = LEAD_SHANGHAI_AND_BERLIN
HOSTILE = "R&D <!channel> <https://evil.example|click here>"


def verifying_config(*verifiers: str) -> Config:
    raw = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    raw["roles"]["verifiers"] = list(verifiers or (VERIFIER, OTHER_VERIFIER))
    return parse_config(raw)


@pytest.fixture
def vbot(database_url, fake_slack):
    with running_bot(config=verifying_config(), database_url=database_url, fake=fake_slack) as running:
        yield running


def stored(engine, *, team="shanghai_ops", period="2026-W40", user=LEAD, key="v1", **values: float) -> Submission:
    """A submission stored as the weekly form stores it (the data a test starts from)."""
    submission = use_cases.submit_measures(
        engine,
        request_key=key,
        team=team,
        form="weekly",
        period=Period.parse(period),
        values=values or {"orders": 120.0, "on_time_orders": 114.0},
        user=user,
        now=NOW,
    )
    assert submission is not None
    return submission


def command_answer(bot: Bot) -> dict[str, Any]:
    """The one answer a command posted to its response_url."""
    (call,) = bot.fake.wait_for("response")
    assert call.path == "/response/cmd"
    params: dict[str, Any] = call.params
    return params


def state(bot: Bot, submission_id: int | None) -> str:
    with Session(bot.engine) as session:
        row = session.get(SubmissionVerification, submission_id)
    return "pending" if row is None else row.state


def blocks_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = message["blocks"]
    return blocks if isinstance(blocks, list) else json.loads(blocks)


def listed(message: dict[str, Any]) -> list[str]:
    """The submission ids a list offers Verify / Query for (a button's value carries the list after it)."""
    return [
        element["value"].partition("|")[0]
        for block in blocks_of(message)
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == "verify_submission"
    ]


def open_query(bot: Bot, submission_id: int, *, user: str = VERIFIER) -> dict[str, Any]:
    click(bot, "query_submission", submission_id, user=user)
    view = bot.opened_view() | {"id": "V0QUERY"}
    assert view["callback_id"] == "verification_query"
    return view


# the permission matrix


@pytest.mark.parametrize(
    "user",
    [
        pytest.param(LEAD, id="lead"),
        pytest.param(ADMIN, id="admin"),
        pytest.param(MANAGER, id="management"),
        pytest.param("U0HR", id="hr"),
        pytest.param(STRANGER, id="nobody"),
    ],
)
def test_only_verifiers_may_list_verify_or_query(vbot, user):
    submission = stored(vbot.engine, user=LEAD_BEIJING, team="beijing_service")
    status, body = vbot.command("verify", user_id=user)
    assert status == 200 and "only verifiers" in body["text"]
    click(vbot, "verify_submission", submission.id, user=user)
    assert "only verifiers" in clicked_response(vbot)["text"]
    click(vbot, "query_submission", submission.id, user=user)
    assert "only verifiers" in clicked_response(vbot)["text"]
    vbot.fake.assert_no_call("views.open")
    assert state(vbot, submission.id) == "pending"


def test_a_forged_query_modal_from_a_non_verifier_stores_nothing(vbot):
    submission = stored(vbot.engine, user=LEAD_BEIJING, team="beijing_service")
    view = open_query(vbot, submission.id)
    status, body = vbot.submit(view, {"question": text_value("Why?")}, user_id=LEAD_BEIJING)
    assert status == 200 and "roles.verifiers" in body["errors"]["question"]  # in the lead's language (zh)
    assert state(vbot, submission.id) == "pending"


def test_a_verifier_cannot_verify_or_query_their_own_submission(vbot):
    own = stored(vbot.engine, user=VERIFIER)
    click(vbot, "verify_submission", own.id, user=VERIFIER)
    assert "another verifier" in clicked_response(vbot)["text"]
    click(vbot, "query_submission", own.id, user=VERIFIER)
    assert "another verifier" in clicked_response(vbot)["text"]
    vbot.fake.reset()
    status, body = vbot.command("verify", user_id=VERIFIER)
    assert (status, body) == (200, "")
    assert "Nothing waits" in command_answer(vbot)["text"]  # their own is not listed to them
    click(vbot, "verify_submission", own.id, user=OTHER_VERIFIER)
    assert "verified by <@U0VERIFY2>" in clicked_response(vbot)["text"]
    assert state(vbot, own.id) == "verified"


def test_without_verifiers_the_command_says_verification_is_off(bot):
    status, body = bot.command("verify", user_id=ADMIN)
    assert status == 200 and "Verification is off" in body["text"]


# the round trip


def test_verify_query_correct_round_trip_in_one_thread(vbot):
    first = stored(vbot.engine)
    status, body = vbot.command("verify", user_id=VERIFIER)
    assert (status, body) == (200, "")
    listing = command_answer(vbot)
    assert listed(listing) == [str(first.id)]
    assert "1 submission(s) wait" in listing["text"]

    view = open_query(vbot, first.id)
    vbot.fake.reset()
    status, body = vbot.submit(view, {"question": text_value(f"120 orders?\n{HOSTILE}")}, user_id=VERIFIER)
    assert (status, body) == (200, "")
    assert state(vbot, first.id) == "queried"
    (opened,) = vbot.fake.wait_for("conversations.open")
    assert sorted(opened.params["users"].split(",")) == sorted([VERIFIER, LEAD])
    told = wait_for_posts(vbot.fake, VERIFIER)  # after the query was posted and recorded as sent
    assert "was sent" in told[0].params["text"] and "<@U0LEADSH>" in told[0].params["text"]
    channel, ts = query_thread(vbot, first)
    [query] = wait_for_posts(vbot.fake, channel)
    query_text = "\n".join(block["text"]["text"] for block in blocks_of(query.params) if "text" in block)
    assert mrkdwn_problems(query_text) == [] and "<!channel>" not in query_text
    assert HOSTILE in as_slack_shows(query_text)
    [correct] = [
        element for block in blocks_of(query.params) if block["type"] == "actions" for element in block["elements"]
    ]
    assert (correct["action_id"], correct["value"]) == ("correct_submission", str(first.id))

    # the lead corrects through the existing Correct flow (prefilled form, then the replace confirmation)
    click(vbot, "correct_submission", first.id, user=LEAD)
    form = vbot.opened_view() | {"id": "V0CORRECT"}
    status, body = vbot.submit(form, weekly_answers(orders="125", on_time_orders="120"), user_id=LEAD)
    assert body["response_action"] == "update"
    vbot.fake.reset()
    status, body = vbot.submit(body["view"] | {"id": "V0CONFIRM"}, {}, user_id=LEAD)
    assert (status, body) == (200, "")
    reply = vbot.fake.wait_until(
        lambda calls: [call for call in calls if call.method == "chat.postMessage" and call.params.get("thread_ts")]
    )[0]
    assert (reply.params["channel"], reply.params["thread_ts"]) == (channel, ts)
    assert "corrected submission" in reply.params["text"]

    with Session(vbot.engine) as session:
        correction = session.exec(select(Submission).order_by(Submission.id.desc())).first()  # type: ignore[union-attr]
        audit = session.exec(select(AuditEntry).where(AuditEntry.entity == "submission_verification")).all()
    assert state(vbot, first.id) == "pending"  # answered: its values are the correction's now
    assert [(entry.action, entry.user) for entry in audit] == [("query", VERIFIER), ("correct", LEAD)]
    click(vbot, "verify_submission", correction.id, user=VERIFIER)
    assert "verified" in clicked_response(vbot)["text"]
    with transaction(vbot.engine) as session:
        assert verification_blockers(session, verifying_config(), Period.parse("2026-Q3")) == []


def query_thread(bot: Bot, submission: Submission) -> tuple[str, str]:
    """The conversation and ts of the query the ledger recorded for ``submission``."""
    with Session(bot.engine) as session:
        row = session.exec(select(Delivery).where(Delivery.kind == "verification_query")).one()
    assert row.subject.startswith(f"{submission.id}:") and row.channel and row.ts
    return row.channel, row.ts


# the query modal: field errors and hostile input


@pytest.mark.parametrize(
    ("question", "error"),
    [
        pytest.param(None, "fill this in", id="missing"),
        pytest.param("   ", "fill this in", id="blank"),
        pytest.param("x" * 2001, "2000", id="too-long"),
        pytest.param("bad\x00byte", "control", id="nul"),
        pytest.param("bell\x07", "control", id="control-character"),
    ],
)
def test_bad_questions_come_back_as_field_errors_and_store_nothing(vbot, question, error):
    submission = stored(vbot.engine)
    view = open_query(vbot, submission.id)
    status, body = vbot.submit(view, {"question": text_value(question)}, user_id=VERIFIER)
    assert status == 200 and body["response_action"] == "errors"
    assert error in body["errors"]["question"].lower()
    assert state(vbot, submission.id) == "pending"
    vbot.fake.assert_no_call("conversations.open")


@pytest.mark.parametrize(
    "metadata",
    [
        pytest.param("{}", id="no-submission"),
        pytest.param('{"submission": "1"}', id="a-string"),
        pytest.param('{"submission": true}', id="a-boolean"),
        pytest.param('{"submission": -1}', id="negative"),
        pytest.param('{"submission": 99999999999999999999}', id="too-big"),
        pytest.param('{"submission": 987654}', id="unknown"),
        pytest.param("not json", id="not-json"),
    ],
)
def test_a_tampered_query_modal_queries_nothing(vbot, metadata):
    submission = stored(vbot.engine)
    view = open_query(vbot, submission.id) | {"private_metadata": metadata}
    status, body = vbot.submit(view, {"question": text_value("Why?")}, user_id=VERIFIER)
    assert status == 200 and "withdrawn or no longer exists" in body["errors"]["question"]
    assert state(vbot, submission.id) == "pending"


def test_a_query_submitted_twice_is_stored_and_sent_once(vbot):
    submission = stored(vbot.engine)
    view = open_query(vbot, submission.id)
    for _ in range(2):
        status, body = vbot.submit(view, {"question": text_value("Why?")}, user_id=VERIFIER)
        assert (status, body) == (200, "")
    wait_for_posts(vbot.fake, VERIFIER)
    assert len(vbot.fake.calls("conversations.open")) == 1
    with Session(vbot.engine) as session:
        assert len(session.exec(select(AuditEntry).where(AuditEntry.action == "query")).all()) == 1


# the daily list


def replicas(database_url: str, fake, clock, config: Config):
    settings = Settings(
        SLACK_SIGNING_SECRET="s",
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_API_URL=fake.base_url,
        KPI_DATABASE_URL=database_url,
    )
    processes = [
        build(settings.model_copy(update={"instance": f"replica-{n}"}), clock=clock, config=config) for n in (1, 2)
    ]
    return processes, [VerificationMessenger(process.services, process.sender) for process in processes]


def daily_dms(fake, user: str) -> list[Any]:
    return [call for call in fake.calls("chat.postMessage") if call.params["channel"] == user]


def test_the_daily_list_goes_once_a_day_from_its_time_in_the_verifiers_zone_with_two_replicas(database_url, fake_slack):
    config = verifying_config(VERIFIER, "U0LEADNY")  # the second verifier leads New York: their zone
    now = [datetime(2026, 9, 30, 8, 55, tzinfo=UTC)]
    processes, messengers = replicas(database_url, fake_slack, lambda: now[0], config)
    try:
        stored(processes[0].services.engine)

        def both() -> None:
            threads = [threading.Thread(target=messenger.send_daily) for messenger in messengers]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

        both()
        assert daily_dms(fake_slack, VERIFIER) == []  # before 09:00 in UTC
        now[0] = datetime(2026, 9, 30, 9, 5, tzinfo=UTC)
        both()
        both()
        [dm] = daily_dms(fake_slack, VERIFIER)
        assert "1 submission(s) wait" in dm.params["text"]
        assert daily_dms(fake_slack, "U0LEADNY") == []  # 05:05 in New York
        now[0] = datetime(2026, 9, 30, 13, 5, tzinfo=UTC)
        both()
        assert len(daily_dms(fake_slack, "U0LEADNY")) == 1 and len(daily_dms(fake_slack, VERIFIER)) == 1
        now[0] = datetime(2026, 10, 1, 9, 5, tzinfo=UTC)  # the next day
        both()
        assert len(daily_dms(fake_slack, VERIFIER)) == 2
    finally:
        for process in processes:
            process.close()


def test_no_list_when_nothing_waits(database_url, fake_slack):
    now = datetime(2026, 9, 30, 9, 5, tzinfo=UTC)
    processes, messengers = replicas(database_url, fake_slack, lambda: now, verifying_config(VERIFIER))
    try:
        stored(processes[0].services.engine, user=VERIFIER)  # their own: nothing waits for them
        assert messengers[0].send_daily() == 0
        assert daily_dms(fake_slack, VERIFIER) == []
    finally:
        for process in processes:
            process.close()


def test_many_waiting_submissions_list_the_first_with_a_count_and_the_command_lists_the_rest(vbot):
    weeks = [Period.parse("2026-W40")]
    while len(weeks) < 25:
        weeks.append(weeks[-1].previous())
    ids = [stored(vbot.engine, period=week.label, key=week.label).id for week in weeks]
    messenger = VerificationMessenger(vbot.process.services, vbot.process.sender)  # type: ignore[union-attr]
    message = messenger.daily(VERIFIER, "today")
    assert message is not None
    assert listed({"blocks": message.blocks}) == [str(key) for key in ids[:10]]
    assert (
        "15 more" in message.blocks[-1]["elements"][0]["text"]
        and "/kpi verify" in message.blocks[-1]["elements"][0]["text"]
    )
    vbot.command("verify", user_id=VERIFIER)
    first, second = vbot.fake.wait_for("response", count=2)
    assert listed(first.params) + listed(second.params) == [str(key) for key in ids]


# the digest's marks


def test_the_digest_marks_values_that_include_unverified_data_until_they_are_verified(vbot):
    submission = stored(vbot.engine, period="2026-W39")
    services = vbot.process.services  # type: ignore[union-attr]
    team = services.config.team("shanghai_ops")
    [digest] = weekly_digests(services, teams=[team], period=Period.parse("2026-W39"), charts=False)
    text = json.dumps(digest.blocks, ensure_ascii=False)
    assert "†" in text and "includes data not verified yet" in text
    click(vbot, "verify_submission", submission.id, user=VERIFIER)
    clicked_response(vbot)
    [digest] = weekly_digests(services, teams=[team], period=Period.parse("2026-W39"), charts=False)
    assert "†" not in json.dumps(digest.blocks, ensure_ascii=False)


def test_a_report_marks_unverified_values_and_keeps_the_legend_escaped(vbot):
    stored(vbot.engine, period="2026-W40")
    vbot.command("report shanghai_ops 2026-W40", user_id=LEAD)
    (call,) = vbot.fake.wait_for("response")
    fields = [field["text"] for block in blocks_of(call.params) for field in block.get("fields", [])]
    assert any("†" in field for field in fields)
    legend = blocks_of(call.params)[-1]["elements"]
    assert len(legend) == 2 and mrkdwn_problems(legend[1]["text"]) == []


# the list clicked is redrawn: the item acted on shows its state instead of its buttons


#: the verifiers' language is both (the example config's default)
VERIFIED = f"✅ verified by <@{VERIFIER}> / ✅ 已由 <@{VERIFIER}> 核实"
QUERIED = f"❓ queried by <@{VERIFIER}> / ❓ 已由 <@{VERIFIER}> 质询"


def click_in(bot: Bot, action_id: str, value: str, *, ephemeral: bool, name: str = "click", ts: str = "1.0") -> None:
    """Clicks a button of a list: the ``/kpi verify`` answer (ephemeral: Slack sends no message back, only a
    response_url) or the daily DM (its channel and ts in the container)."""
    container = {"type": "message", "message_ts": ts, "channel_id": VERIFIER, "is_ephemeral": ephemeral}
    reply = bot.slack.action(
        action_id=action_id,
        value=value,
        user_id=VERIFIER,
        block_id=f"verify:{value.partition('|')[0]}",
        response_url=bot.fake.response_url(name),
        channel_id=VERIFIER,
        container=container,
    )
    assert (reply.status, reply.body) == (200, "")


def button_of(message: dict[str, Any], submission: Submission) -> str:
    [value] = [
        element["value"]
        for block in blocks_of(message)
        if block.get("block_id") == f"verify:{submission.id}" and block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == "verify_submission"
    ]
    return str(value)


def states_shown(message: dict[str, Any]) -> dict[str, str]:
    return {
        block["block_id"]: block["elements"][0]["text"]
        for block in blocks_of(message)
        if block["type"] == "context" and block.get("block_id", "").startswith("verify:")
    }


def without(message: dict[str, Any], *submissions: Submission) -> list[dict[str, Any]]:
    """The blocks but those of ``submissions``' buttons or state (the buttons' values name the list only)."""
    return [
        block for block in blocks_of(message) if block.get("block_id") not in {f"verify:{s.id}" for s in submissions}
    ]


def test_verify_and_query_redraw_their_item_in_the_kpi_verify_list(vbot):
    first, second, third = (stored(vbot.engine, period=f"2026-W{week}", key=f"k{week}") for week in (40, 39, 38))
    vbot.command("verify", user_id=VERIFIER)
    listing = command_answer(vbot)
    vbot.fake.reset()
    click_in(vbot, "verify_submission", button_of(listing, first), ephemeral=True)
    (redraw,) = vbot.fake.wait_for("response")
    assert redraw.params["replace_original"] is True and state(vbot, first.id) == "verified"
    assert states_shown(redraw.params) == {f"verify:{first.id}": VERIFIED}
    assert without(redraw.params, first) == without(listing, first)  # the rest unchanged
    assert listed(redraw.params) == [str(second.id), str(third.id)]

    # Query from the redrawn list: the item changes once the question is sent, not when the modal opens
    vbot.fake.reset()
    click_in(vbot, "query_submission", button_of(redraw.params, second), ephemeral=True, name="query")
    view = vbot.opened_view() | {"id": "V0QUERY"}
    vbot.fake.assert_no_call("response")
    status, body = vbot.submit(view, {"question": text_value("120 orders?")}, user_id=VERIFIER)
    assert (status, body) == (200, "")
    (requery,) = vbot.fake.wait_for("response")
    assert requery.path == "/response/query" and requery.params["replace_original"] is True
    assert states_shown(requery.params) == {
        f"verify:{first.id}": VERIFIED,
        f"verify:{second.id}": QUERIED,
    }
    assert without(requery.params, first, second) == without(listing, first, second)


def test_verify_in_the_daily_dm_redraws_that_item_with_chat_update(vbot):
    first, second = (stored(vbot.engine, period=f"2026-W{week}", key=f"k{week}") for week in (40, 39))
    assert vbot.process is not None
    sender = vbot.process.sender
    message = VerificationMessenger(vbot.process.services, sender).daily(VERIFIER, f"{VERIFIER}:2026-10-05")
    assert message is not None and sender.send(message) == "sent"
    channel, ts = sender.sent_ts("verification_daily", None, f"{VERIFIER}:2026-10-05")
    [dm] = daily_dms(vbot.fake, VERIFIER)
    click_in(vbot, "verify_submission", button_of(dm.params, first), ephemeral=False, ts=ts)
    (update,) = vbot.fake.wait_for("chat.update")
    assert (update.params["channel"], update.params["ts"]) == (channel, ts)
    assert states_shown(update.params) == {f"verify:{first.id}": VERIFIED}
    assert without(update.params, first) == without(dm.params, first)
    vbot.fake.assert_no_call("response")  # the DM itself says it: no separate answer

    # a container naming a message that is no list of theirs edits nothing: the click is answered instead
    click_in(vbot, "verify_submission", button_of(dm.params, second), ephemeral=False, ts="99.0")
    assert "verified by" in clicked_response(vbot)["text"]
    assert len(vbot.fake.calls("chat.update")) == 1 and state(vbot, second.id) == "verified"


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("{id}|1|0|", id="no-ids"),
        pytest.param("{id}|1|0|7,x", id="not-ids"),
        pytest.param("{id}|1|0|987654", id="not-in-its-list"),
        pytest.param("{id}|a|0|{id}", id="no-total"),
        pytest.param("{id}|1|0", id="too-few-parts"),
    ],
)
def test_a_forged_list_value_verifies_and_answers_but_redraws_nothing(vbot, value):
    submission = stored(vbot.engine)
    click_in(vbot, "verify_submission", value.format(id=submission.id), ephemeral=True)
    assert "verified by" in clicked_response(vbot)["text"] and state(vbot, submission.id) == "verified"
    assert "replace_original" not in clicked_response(vbot) or not clicked_response(vbot)["replace_original"]
