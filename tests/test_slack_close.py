"""``/kpi close`` and ``/kpi reopen`` through the real Bolt app (signed requests, fake Slack): who may, the
refusal while data waits for verification, the final scorecard and HR's results file posted once (also
by two replicas catching up after a crash), the frozen snapshot, and writes into a closed period refused."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.close_delivery import deliver_closed, reopen_notice
from bot.mrkdwn import unescape
from kpi_core import close_use_cases, ledger
from kpi_core.config import Config
from kpi_core.db import transaction
from kpi_core.period_close import Revision, correct_closed_result
from kpi_core.periods import Period
from kpi_core.store import submit_measures
from tests import factories
from tests.bot_harness import ADMIN, LEAD_SHANGHAI_AND_BERLIN, MANAGER, STRANGER, Bot, running_bot
from tests.fake_slack import FakeSlack
from tests.test_slack_submissions import open_form, weekly_answers

AFTER_Q3 = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)  # a Monday: 2026-W41, Q3 over in every team's zone
HR = "U0HR"
MANAGEMENT_CHANNEL, HR_CHANNEL = "C0MANAGEMENT", "C0HR"


def with_verifiers(config: Config) -> Config:
    return config.model_copy(update={"roles": config.roles.model_copy(update={"verifiers": ["U0VERIFIER"]})})


@pytest.fixture
def start(example_config, sqlite_template: Path, tmp_path: Path, fake_slack: FakeSlack) -> Iterator[Callable[..., Bot]]:
    """Starts the app after Q3 on a fresh SQLite file, or on ``database`` (a second replica of the first)."""
    bots: list = []

    def started(*, config: Config = example_config, database: str | None = None) -> Bot:
        if database is None:
            path = tmp_path / f"close-{len(bots)}.db"
            shutil.copyfile(sqlite_template, path)
            database = f"sqlite:///{path}"
        context = running_bot(config=config, database_url=database, fake=fake_slack, now=AFTER_Q3)
        bot = context.__enter__()
        bots.append(context)
        return bot

    yield started
    for context in reversed(bots):
        context.__exit__(None, None, None)


def seed_q3(engine: sa.Engine) -> None:
    factories.add(
        engine,
        *factories.measures("shanghai_ops", date(2026, 8, 3), sales=3_000_000),
        *factories.surveys("shanghai_ops", factories.at("2026-08-04 03:00"), 5, 5),
        *factories.measures("berlin_ops", date(2026, 8, 3), sales=1_150_000),
    )


def close(bot: Bot, text: str, *, user_id: str) -> str:
    """``/kpi <text>`` that acks empty and answers through the response_url; returns that answer's text."""
    bot.fake.reset()
    status, body = bot.command(text, user_id=user_id, name="close")
    assert (status, body) == (200, "")
    (answer,) = bot.fake.wait_for("response")
    assert answer.params["response_type"] == "ephemeral"
    return unescape(answer.params["text"])


REOPEN_KEY = "period_close_reopen:"


def reopen_notices(fake: FakeSlack) -> list:
    """The reopening notices posted so far, once the first arrived (it is sent after the command's ack)."""
    found = fake.wait_until(
        lambda calls: [
            call
            for call in calls
            if call.method == "chat.postMessage"
            and call.params.get("metadata", {}).get("event_payload", {}).get("key", "").startswith(REOPEN_KEY)
        ]
    )
    assert found, "no reopening notice"
    return list(found)


def posts_to(fake: FakeSlack, channel: str) -> list:
    return [call for call in fake.calls("chat.postMessage") if call.params["channel"] == channel and not call.failed]


def close_keys(fake: FakeSlack) -> list[str]:
    keys = [call.params["metadata"]["event_payload"]["key"] for call in fake.calls("chat.postMessage")]
    return [key for key in keys if key.startswith("period_close")]


def uploaded_csv(fake: FakeSlack) -> list[list[dict[str, str]]]:
    """The results files uploaded (charts of other jobs left out)."""
    files = [call.body for call in fake.calls("upload") if call.body.startswith(b"period,revision,")]
    return [list(csv.DictReader(io.StringIO(body.decode("utf-8")))) for body in files]


@pytest.mark.parametrize(
    ("user", "command", "refusal"),
    [
        pytest.param(
            LEAD_SHANGHAI_AND_BERLIN, "close 2026-Q3", "Only management and admins can close", id="lead-close"
        ),
        pytest.param(STRANGER, "close 2026-Q3", "no KPI Bot role", id="stranger-close"),
        pytest.param(HR, "close 2026-Q3", "no KPI Bot role", id="hr-close"),
        pytest.param(MANAGER, "reopen 2026-Q3 late invoices", "Only admins can reopen", id="manager-reopen"),
        pytest.param(LEAD_SHANGHAI_AND_BERLIN, "reopen 2026-Q3 x", "Only admins can reopen", id="lead-reopen"),
        pytest.param(MANAGER, "close", "Usage: `/kpi close 2026-Q3`", id="no-period"),
        pytest.param(MANAGER, "close 2026-Q5", "2026-Q5", id="bad-period"),
        pytest.param(ADMIN, "reopen 2026-Q3", "the reason is required", id="no-reason"),
    ],
)
def test_who_may_close_and_reopen_and_what_others_are_told(start, user, command, refusal):
    bot = start()
    seed_q3(bot.engine)
    status, body = bot.command(command, user_id=user)
    assert status == 200 and isinstance(body, dict)
    assert body["response_type"] == "ephemeral"
    assert refusal.lower() in unescape(body["text"]).lower()
    assert close_use_cases.frozen(bot.engine, period_label="2026-Q3") is None
    bot.fake.assert_no_call("chat.postMessage")


@pytest.mark.parametrize("closer", [MANAGER, ADMIN])
def test_management_and_admins_close_once_and_the_posts_go_out_once(start, closer):
    bot = start()
    seed_q3(bot.engine)
    answer = close(bot, "close 2026-Q3", user_id=closer)
    assert answer.startswith("2026-Q3 is closed (revision 1): 4 teams and 9 persons frozen")
    assert f"<#{MANAGEMENT_CHANNEL}>" in answer

    (final,) = posts_to(bot.fake, MANAGEMENT_CHANNEL)
    assert final.params["metadata"]["event_payload"]["key"] == "period_close:*:2026-Q3"
    text = unescape(final.params["blocks"][0]["text"]["text"])
    assert "*Final scorecard / 最终考核结果 · Quarterly operations scorecard / 季度绩效考核 · 2026-Q3*" in text
    assert "1. *Shanghai Operations / 上海运营中心*: 60.0 / 100 · grade C / 等级 C" in text
    assert "→ Team of the quarter bonus / 季度最佳团队奖" in text
    assert "pay" not in text.lower() and "U0OPSSH1" not in text  # pay factors and persons: HR's file only

    (hr_post,) = posts_to(bot.fake, HR_CHANNEL)
    assert "Results file · 2026-Q3 (revision 1)" in hr_post.params["text"]
    (rows,) = uploaded_csv(bot.fake)
    (shared,) = bot.fake.calls("files.completeUploadExternal")
    hr_message = ledger.find(bot.engine, key="period_close_hr:*:2026-Q3:r1")
    assert hr_message is not None and hr_message.state == "sent"
    assert (shared.params["channel_id"], shared.params["thread_ts"]) == (HR_CHANNEL, hr_message.ts)
    teams = {row["subject"]: row for row in rows if row["subject_kind"] == "team"}
    assert (teams["shanghai_ops"]["grade"], teams["shanghai_ops"]["pay_factor"], teams["shanghai_ops"]["rank"]) == (
        "C",
        "0.8",
        "1",
    )
    assert {row["subject"] for row in rows if row["subject_kind"] == "person"} >= {"U0OPSSH1", "U0LEADSH"}

    # closing again is refused; the catch-up (both replicas' jobs) finds nothing left to send
    assert close(bot, "close 2026-Q3", user_id=closer) == "2026-Q3 is closed already (revision 1)"
    assert bot.process is not None
    bot.process.jobs.catch_up()
    assert close_keys(bot.fake) == []  # the fake was reset by close()
    assert uploaded_csv(bot.fake) == []


def test_closing_is_refused_while_data_waits_for_verification(start, example_config):
    bot = start(config=with_verifiers(example_config))
    ids = []
    for team, monday in (("berlin_ops", date(2026, 8, 3)), ("shanghai_ops", date(2026, 8, 10))):
        with transaction(bot.engine) as session:
            week = Period.containing("week", monday)
            submission = submit_measures(
                session, team=team, form="weekly", period=week, values={"sales": 1.0}, user="U0LEADSH", now=AFTER_Q3
            )
            ids.append(submission.id)

    answer = close(bot, "close 2026-Q3", user_id=MANAGER)
    assert answer == (
        "2026-Q3 cannot be closed: 2 submissions wait for verification or have open queries: "
        f"shanghai_ops weekly #{ids[1]} (pending); berlin_ops weekly #{ids[0]} (pending)"
    )
    assert close_use_cases.frozen(bot.engine, period_label="2026-Q3") is None
    bot.fake.assert_no_call("chat.postMessage")


def test_the_snapshot_stays_and_writes_dated_inside_the_closed_period_get_a_field_error(start):
    bot = start()
    seed_q3(bot.engine)
    close(bot, "close 2026-Q3", user_id=MANAGER)
    before = close_use_cases.frozen(bot.engine, period_label="2026-Q3")

    view = open_form(bot, "weekly", LEAD_SHANGHAI_AND_BERLIN)
    status, body = bot.submit(view, weekly_answers(period="2026-W40"), user_id=LEAD_SHANGHAI_AND_BERLIN)
    assert status == 200 and body["response_action"] == "errors"
    assert body["errors"]["period"].startswith("2026-Q3 is closed: data dated inside it can no longer change")
    factories.add(bot.engine, *factories.measures("berlin_ops", date(2026, 9, 1), sales=9_000_000))  # past the guard

    assert close_use_cases.frozen(bot.engine, period_label="2026-Q3") == before
    bot.fake.reset()
    status, _ = bot.command("scorecard 2026-Q3", user_id=MANAGER, name="scorecard")
    (answer,) = bot.fake.wait_for("response")
    shown = unescape(answer.params["blocks"][0]["text"]["text"])
    assert "Final scorecard" in shown and "2. *Berlin Operations / 柏林运营部*: 20.0 / 100" in shown

    view = open_form(bot, "weekly", LEAD_SHANGHAI_AND_BERLIN)  # the next week is open
    status, body = bot.submit(view, weekly_answers(period="2026-W41"), user_id=LEAD_SHANGHAI_AND_BERLIN)
    assert (status, body) == (200, "")


def test_reopening_with_a_reason_then_closing_again_replies_in_the_first_scorecards_thread(start):
    bot = start()
    seed_q3(bot.engine)
    close(bot, "close 2026-Q3", user_id=MANAGER)
    assert [post.params["channel"] for post in bot.fake.calls("chat.postMessage")] == [MANAGEMENT_CHANNEL, HR_CHANNEL]
    first = ledger.find(bot.engine, key="period_close:*:2026-Q3")
    assert first is not None and first.ts is not None

    status, body = bot.command("reopen 2026-Q3 late   September invoices", user_id=ADMIN)
    reopened = "2026-Q3 is reopened: its live data counts again. Reason: late September invoices"
    assert unescape(body["text"]).startswith(reopened)
    with bot.engine.connect() as connection:
        recorded = connection.execute(sa.text("SELECT reopened_by, reopen_reason FROM period_close")).one()
    assert tuple(recorded) == (ADMIN, "late September invoices")
    (notice,) = reopen_notices(bot.fake)  # who and why, in the final scorecard's thread
    assert (notice.params["channel"], notice.params["thread_ts"]) == (MANAGEMENT_CHANNEL, first.ts)
    assert notice.params["metadata"]["event_payload"]["key"] == "period_close_reopen:*:2026-Q3:r1"
    assert f"2026-Q3 (revision 1) was reopened by <@{ADMIN}>" in notice.params["text"]
    assert (
        "Reason: late September invoices" in notice.params["text"]
        and "原因：late September invoices" in (notice.params["text"])
    )
    assert bot.process is not None  # the ledger lets the notice through once, whoever sends it again
    again = Revision("2026-Q3", 1, "close", "quarterly", ADMIN, AFTER_Q3, "late September invoices")
    assert reopen_notice(bot.process.services, bot.process.sender, again) == "skipped"

    factories.add(bot.engine, *factories.measures("berlin_ops", date(2026, 9, 1), sales=1_150_000))
    answer = close(bot, "close 2026-Q3", user_id=MANAGER)
    assert answer.startswith("2026-Q3 is closed (revision 2)")
    (revised,) = posts_to(bot.fake, MANAGEMENT_CHANNEL)
    sent = close_use_cases.frozen(bot.engine, period_label="2026-Q3")
    assert sent is not None and sent[0].revision == 2
    assert revised.params["metadata"]["event_payload"]["key"] == "period_close:*:2026-Q3:r2"
    assert revised.params["thread_ts"] == first.ts
    assert "2. *Berlin Operations / 柏林运营部*: 40.0 / 100" in unescape(revised.params["blocks"][0]["text"]["text"])
    (rows,) = uploaded_csv(bot.fake)
    assert {row["revision"] for row in rows} == {"2"}


def test_two_replicas_catching_up_after_a_crash_post_once(start, database_url):
    """Two processes on one database (SQLite, PostgreSQL), each with its own engine and sender."""
    first = start(database=database_url)
    second = start(database=database_url)
    seed_q3(first.engine)
    # the closing process died right after its commit: nothing was posted
    close_use_cases.close(
        first.engine, config=first.process.services.config, period_label="2026-Q3", user=MANAGER, now=AFTER_Q3
    )
    first.fake.reset()

    for bot in (first, second, first):
        assert bot.process is not None
        deliver_closed(bot.process.services, bot.process.sender)

    assert close_keys(first.fake) == ["period_close:*:2026-Q3", "period_close_hr:*:2026-Q3:r1"]
    assert len(uploaded_csv(first.fake)) == 1


def test_a_hostile_reopen_reason_is_shown_literally_and_stored_as_typed(start):
    bot = start()
    seed_q3(bot.engine)
    close(bot, "close 2026-Q3", user_id=MANAGER)
    status, body = bot.command("reopen 2026-Q3 <!channel> see <https://evil.example|the memo> & more", user_id=ADMIN)
    assert status == 200 and isinstance(body, dict)
    assert "<!channel>" not in body["text"] and "&lt;!channel&gt;" in body["text"]
    assert "&lt;https://evil.example|the memo&gt; &amp; more" in body["text"]
    (notice,) = reopen_notices(bot.fake)
    assert "<!channel>" not in notice.params["text"] and "<https://" not in notice.params["text"]
    assert "Reason: &lt;!channel&gt; see &lt;https://evil.example|the memo&gt; &amp; more" in notice.params["text"]
    with bot.engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT reopen_reason FROM period_close")).scalar_one()
    assert stored == "<!channel> see <https://evil.example|the memo> & more"


def test_a_corrected_result_is_posted_as_a_revised_scorecard_in_the_original_thread(start):
    bot = start()
    seed_q3(bot.engine)
    close(bot, "close 2026-Q3", user_id=MANAGER)
    original = ledger.find(bot.engine, key="period_close:*:2026-Q3")
    assert original is not None
    with transaction(bot.engine) as session:
        correct_closed_result(
            session,
            period_label="2026-Q3",
            subject_kind="team",
            subject="berlin_ops",
            item="sales",
            value=2_300_000,
            reason="appeal upheld: <September> invoices",
            by=HR,
            now=AFTER_Q3,
        )
    bot.fake.reset()
    assert bot.process is not None
    deliver_closed(bot.process.services, bot.process.sender)
    deliver_closed(bot.process.services, bot.process.sender)  # a second catch-up sends nothing more

    assert close_keys(bot.fake) == ["period_close:*:2026-Q3:r2", "period_close_hr:*:2026-Q3:r2"]
    (revised,) = posts_to(bot.fake, MANAGEMENT_CHANNEL)
    assert revised.params["thread_ts"] == original.ts
    text = revised.params["blocks"][0]["text"]["text"]
    assert "2. *Berlin Operations / 柏林运营部*: 40.0 / 100" in text
    assert f"<@{HR}> · revised on 2026-10-05: appeal upheld: &lt;September&gt; invoices" in text
    (rows,) = uploaded_csv(bot.fake)
    assert {(row["subject"], row["score"], row["revision"]) for row in rows if row["subject"] == "berlin_ops"} == {
        ("berlin_ops", "40.0", "2")
    }
