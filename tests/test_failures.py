"""Every user action gets an answer that says what happened when the database is unavailable or a bug
strikes, and the server recovers by itself when the database returns.

PostgreSQL is really stopped (a private cluster, so the shared test server stays up); SQLite really runs
out of disk. Every assertion reads what the user sees: the ack, the response_url post, the Home tab.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from kpi_core.config import Config
from kpi_core.db import make_engine
from kpi_core.models import MeasureValue
from tests import factories
from tests.bot_harness import ADMIN, LEAD_BEIJING, Bot, running_bot
from tests.fake_slack import FakeSlack
from tests.slack_requests import app_home_opened_body, datepicker_value, datetimepicker_value, static_select_value
from tests.test_slack_history import submit, submit_case, submit_milestone
from tests.test_slack_submissions import WEEKLY, open_form, weekly_answers
from tests.throwaway_postgres import ThrowawayPostgres, postgres_bin

LEAD_BERLIN = "U0LEADBE"  # reads English
UNAVAILABLE = {
    LEAD_BERLIN: "The database is unavailable right now, so nothing was stored or changed. "
    "Please try again in a few minutes.",
    LEAD_BEIJING: "数据库暂时不可用，因此没有保存或更改任何内容。请过几分钟再试。",
}
UNEXPECTED = (
    "Something went wrong on our side, so this was not done and nothing was stored; the admins were told. "
    "Please try again later."
)


# PostgreSQL, stopped and started


@pytest.fixture(scope="module")
def cluster() -> Iterator[ThrowawayPostgres]:
    bin_dir = postgres_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL outage tests skipped: no PostgreSQL binaries (initdb, pg_ctl) installed")
    server = ThrowawayPostgres(bin_dir)
    try:
        server.start()
        yield server
    finally:
        server.remove()


@contextmanager
def database_down(cluster: ThrowawayPostgres) -> Iterator[None]:
    cluster.stop()
    try:
        yield
    finally:
        cluster.start()


def fresh_database(cluster: ThrowawayPostgres, name: str) -> str:
    admin = make_engine(cluster.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return sa.make_url(cluster.url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def outage_bot(cluster: ThrowawayPostgres, example_config: Config) -> Iterator[tuple[Bot, dict[str, Any]]]:
    """The app on the private cluster, with one of everything a user can act on, and the modals open."""
    url = fresh_database(cluster, "kpi_outage")
    with FakeSlack() as fake, running_bot(config=example_config, database_url=url, fake=fake) as bot:
        weekly = submit(bot, "weekly", weekly_answers("berlin_ops"), user=LEAD_BERLIN, view_id="V0W")
        case = submit_case(bot)
        milestone = submit_milestone(bot)
        again = open_form(bot, "weekly", LEAD_BERLIN) | {"id": "V0AGAIN"}
        _, asked = bot.submit(again, weekly_answers("berlin_ops", orders="130"), user_id=LEAD_BERLIN)
        assert isinstance(asked, dict) and asked["response_action"] == "update"
        prepared = {
            "weekly": weekly.id,
            "case": case.id,
            "milestone": milestone.id,
            "weekly_form": open_form(bot, "weekly", LEAD_BERLIN) | {"id": "V0NEW"},
            "case_form": open_form(bot, "case", LEAD_BEIJING) | {"id": "V0NEWCASE"},
            "confirm_replace": asked["view"] | {"id": "V0CONFIRM"},
            "update_case": open_form_of(bot, "case", LEAD_BEIJING) | {"id": "V0UPDATE"},
            "complete_milestone": open_form_of(bot, "milestone", LEAD_BEIJING) | {"id": "V0COMPLETE"},
        }
        yield bot, prepared


def open_form_of(bot: Bot, subcommand: str, user: str) -> dict[str, Any]:
    """The modal ``/kpi case`` or ``/kpi milestone`` opens."""
    bot.fake.reset()
    assert bot.command(subcommand, user_id=user) == (200, "")
    return bot.opened_view()


Action = Callable[[Bot, dict[str, Any], str], str]  # (bot, prepared, user) -> the text the user sees


def answered_in_ack(text: str) -> Action:
    def act(bot: Bot, prepared: dict[str, Any], user: str) -> str:
        status, body = bot.command(text, user_id=user)
        assert status == 200 and isinstance(body, dict) and body["response_type"] == "ephemeral"
        return str(body["text"])

    return act


def answered_later(text: str) -> Action:
    def act(bot: Bot, prepared: dict[str, Any], user: str) -> str:
        assert bot.command(text, user_id=user, name="later") == (200, "")
        (call,) = bot.fake.wait_for("response")
        assert call.path == "/response/later" and call.params["response_type"] == "ephemeral"
        return str(call.params["text"])

    return act


def field_error(view: str, answers: Callable[[dict[str, Any]], dict[str, Any]]) -> Action:
    def act(bot: Bot, prepared: dict[str, Any], user: str) -> str:
        status, body = bot.submit(prepared[view], answers(prepared), user_id=user)
        assert status == 200 and isinstance(body, dict) and body["response_action"] == "errors"
        first_input = next(iter(answers(prepared)))
        assert list(body["errors"]) == [first_input]  # what the user typed stays; submitting again retries
        return str(body["errors"][first_input])

    return act


def confirm_replace(bot: Bot, prepared: dict[str, Any], user: str) -> str:
    status, body = bot.submit(prepared["confirm_replace"], {}, user_id=user)
    assert status == 200 and isinstance(body, dict) and body["response_action"] == "update"
    (block,) = body["view"]["blocks"]  # the confirmation has no input to show a field error on
    return str(block["text"]["text"])


def clicked(action_id: str, item: str) -> Action:
    def act(bot: Bot, prepared: dict[str, Any], user: str) -> str:
        reply = bot.slack.action(
            action_id=action_id,
            value=str(prepared[item]),
            user_id=user,
            block_id=f"actions:{prepared[item]}",
            response_url=bot.fake.response_url("click"),
            channel_id="C0TEST",
        )
        assert (reply.status, reply.body) == (200, "")
        (call,) = bot.fake.wait_for("response")
        assert call.path == "/response/click"
        return str(call.params["text"])

    return act


def home(bot: Bot, prepared: dict[str, Any], user: str) -> str:
    reply = bot.slack.event(app_home_opened_body(user_id=user))
    assert reply.status == 200
    (call,) = bot.fake.wait_for("views.publish")
    assert call.params["user_id"] == user and call.params["view"]["type"] == "home"
    return str(call.params["view"]["blocks"][0]["text"]["text"])


def case_answers(prepared: dict[str, Any]) -> dict[str, Any]:
    return {
        "team": static_select_value("beijing_service"),
        "case_kind": static_select_value("after_sales"),
        "raised_at": datetimepicker_value(int(datetime.fromisoformat("2026-09-29T11:00:00+08:00").timestamp())),
    }


def case_update_answers(prepared: dict[str, Any]) -> dict[str, Any]:
    response = int(datetime.fromisoformat("2026-09-29T12:00:00+08:00").timestamp())
    return {"case": static_select_value(str(prepared["case"])), "first_response_at": datetimepicker_value(response)}


def completion_answers(prepared: dict[str, Any]) -> dict[str, Any]:
    return {
        "milestone": static_select_value(str(prepared["milestone"])),
        "completed_on": datepicker_value("2026-09-29"),
    }


@pytest.mark.parametrize(
    ("action", "user"),
    [
        pytest.param(answered_in_ack("case"), LEAD_BEIJING, id="kpi-case-in-chinese"),
        pytest.param(answered_in_ack("milestone"), LEAD_BERLIN, id="kpi-milestone"),
        pytest.param(answered_later("report"), LEAD_BERLIN, id="kpi-report"),
        pytest.param(answered_later("scorecard"), LEAD_BERLIN, id="kpi-scorecard"),
        pytest.param(answered_later("history"), LEAD_BERLIN, id="kpi-history"),
        pytest.param(answered_later("undo"), LEAD_BERLIN, id="kpi-undo"),
        pytest.param(field_error("weekly_form", lambda _: weekly_answers("berlin_ops")), LEAD_BERLIN, id="form"),
        pytest.param(confirm_replace, LEAD_BERLIN, id="replace-confirmation"),
        pytest.param(field_error("case_form", case_answers), LEAD_BEIJING, id="case-form"),
        pytest.param(field_error("update_case", case_update_answers), LEAD_BEIJING, id="case-update"),
        pytest.param(field_error("complete_milestone", completion_answers), LEAD_BEIJING, id="milestone-completion"),
        pytest.param(clicked("withdraw_submission", "weekly"), LEAD_BERLIN, id="withdraw-button"),
        pytest.param(clicked("correct_submission", "weekly"), LEAD_BERLIN, id="correct-button"),
        pytest.param(home, LEAD_BERLIN, id="app-home"),
    ],
)
def test_with_postgresql_stopped_every_action_says_the_database_is_unavailable(
    outage_bot: tuple[Bot, dict[str, Any]], cluster: ThrowawayPostgres, action: Action, user: str
) -> None:
    bot, prepared = outage_bot
    bot.fake.reset()
    with database_down(cluster):
        seen = action(bot, prepared, user)
    assert seen == UNAVAILABLE[user]


def test_nothing_was_stored_during_the_outage_and_the_same_view_stores_once_the_database_is_back(
    outage_bot: tuple[Bot, dict[str, Any]], cluster: ThrowawayPostgres
) -> None:
    bot, prepared = outage_bot
    answers = weekly_answers("berlin_ops", period="2026-W39")
    with database_down(cluster):
        status, body = bot.submit(prepared["weekly_form"], answers, user_id=LEAD_BERLIN)
        assert isinstance(body, dict) and body["response_action"] == "errors"
    bot.fake.reset()
    status, body = bot.submit(prepared["weekly_form"], answers, user_id=LEAD_BERLIN)
    assert (status, body) == (200, "")
    (thanks,) = bot.fake.wait_for("chat.postMessage")
    assert thanks.params["text"].startswith("Stored, thank you: berlin_ops 2026-W39")


def test_the_server_recovers_by_itself_when_postgresql_returns(
    cluster: ThrowawayPostgres, example_config: Config
) -> None:
    """A restart with no request in between: the pooled connections died with the server, and the first
    request afterwards is answered anyway."""
    url = fresh_database(cluster, "kpi_recovery")
    with FakeSlack() as fake, running_bot(config=example_config, database_url=url, fake=fake) as bot:
        assert answered_later("history")(bot, {}, LEAD_BERLIN) != UNAVAILABLE[LEAD_BERLIN]
        with database_down(cluster):
            pass
        bot.fake.reset()
        assert answered_later("history")(bot, {}, LEAD_BERLIN).startswith("Recent submissions of berlin_ops")
        bot.fake.reset()
        with database_down(cluster):
            assert answered_later("report")(bot, {}, LEAD_BERLIN) == UNAVAILABLE[LEAD_BERLIN]
        bot.fake.reset()
        assert answered_later("report")(bot, {}, LEAD_BERLIN).startswith("*KPI report · Berlin Operations")


# SQLite, out of disk


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MiB tmpfs: a real disk that a test can fill (mounting needs root)."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount_point)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"SQLite disk-full test skipped: cannot mount a tmpfs ({mounted.stderr.decode().strip()})")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=True)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    # unbuffered: a buffered file would keep the last partial block and fail again when closed
    with filler.open("wb", buffering=0) as file:
        try:
            while True:
                file.write(b"\0" * 65536)
        except OSError:  # ENOSPC: the disk is full
            pass
    return filler


def test_with_the_sqlite_disk_full_a_form_and_a_withdrawal_say_so_and_work_once_there_is_room(
    small_disk: Path, sqlite_template: Path, example_config: Config, fake_slack: FakeSlack
) -> None:
    path = small_disk / "kpi.db"
    shutil.copyfile(sqlite_template, path)
    with running_bot(config=example_config, database_url=f"sqlite:///{path}", fake=fake_slack) as bot:
        weekly = submit(bot, "weekly", weekly_answers("berlin_ops"), user=LEAD_BERLIN, view_id="V0W")
        view = open_form(bot, "weekly", LEAD_BERLIN) | {"id": "V0FULL"}
        answers = weekly_answers("berlin_ops", period="2026-W39")
        filler = fill(small_disk)

        status, body = bot.submit(view, answers, user_id=LEAD_BERLIN)
        assert (status, body) == (200, {"response_action": "errors", "errors": {"team": UNAVAILABLE[LEAD_BERLIN]}})
        assert (
            clicked("withdraw_submission", "weekly")(bot, {"weekly": weekly.id}, LEAD_BERLIN)
            == (UNAVAILABLE[LEAD_BERLIN])
        )

        filler.unlink()
        bot.fake.reset()
        assert bot.submit(view, answers, user_id=LEAD_BERLIN) == (200, "")
        assert bot.count(MeasureValue, MeasureValue.team == "berlin_ops") == 2 * len(WEEKLY)
        assert clicked("withdraw_submission", "weekly")(bot, {"weekly": weekly.id}, LEAD_BERLIN).startswith(
            "Withdrawn: "
        )


# bugs


def test_an_unexpected_failure_after_the_ack_is_answered_and_the_admins_are_told(bot: Bot) -> None:
    bot.fake.fail_next("views.open", status=200, error="invalid_arguments")
    assert answered_later("submit weekly")(bot, {}, LEAD_BERLIN) == UNEXPECTED
    notices = [call for call in bot.fake.wait_for("chat.postMessage") if call.params["channel"] == ADMIN]
    (notice,) = notices
    assert "/kpi submit" in notice.params["text"] and "invalid_arguments" in notice.params["text"]


def test_a_bug_in_storage_is_not_called_an_outage(bot: Bot) -> None:
    """SQLite reports a missing table as an OperationalError too; it is a bug, and the user is not told to
    wait for the database."""
    with bot.engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE milestone"))
    status, body = bot.command("milestone", user_id=LEAD_BERLIN)
    assert (status, body) == (200, {"response_type": "ephemeral", "text": UNEXPECTED})
    (notice,) = [call for call in bot.fake.wait_for("chat.postMessage") if call.params["channel"] == ADMIN]
    assert "/kpi milestone" in notice.params["text"] and "no such table: milestone" in notice.params["text"]


def test_a_report_whose_sums_overflow_is_answered_with_what_could_not_be_computed(
    cluster: ThrowawayPostgres, example_config: Config, fake_slack: FakeSlack
) -> None:
    """The issue's case: two huge weekly sales overflow PostgreSQL's SUM (stored past the form's rules).
    It is no bug any more: the team's report says what could not be computed (kpi_core/isolation.py), not
    "something went wrong". On the private cluster: the rows would break later tests on a shared database."""
    url = fresh_database(cluster, "kpi_overflow")
    with running_bot(config=example_config, database_url=url, fake=fake_slack) as bot:
        monday = datetime(2026, 9, 28).date()
        factories.add(bot.engine, *factories.measures("berlin_ops", monday, sales=1e308))
        factories.add(bot.engine, *factories.measures("berlin_ops", monday, sales=1e308))
        assert bot.command("report berlin_ops 2026-09", user_id=LEAD_BERLIN, name="later") == (200, "")
        (answer,) = bot.fake.wait_for("response")
        assert answer.params["text"] != UNEXPECTED
        assert "could not be computed" in json.dumps(answer.params["blocks"], ensure_ascii=False)


def test_a_form_waiting_on_a_locked_sqlite_database_past_slacks_3_s_is_answered_by_dm(bot: Bot, tmp_path: Path) -> None:
    """Another process holds SQLite's write lock; the write waits out busy_timeout (10 s), longer than
    Slack waits for the ack, so the answer goes by DM."""
    view = open_form(bot, "weekly", LEAD_BERLIN) | {"id": "V0LOCKED"}
    answers = weekly_answers("berlin_ops")
    locker = sqlite3.connect(tmp_path / "bot.db", isolation_level=None)  # the `bot` fixture's database file
    try:
        locker.execute("BEGIN IMMEDIATE")
        bot.fake.reset()
        bot.submit(view, answers, user_id=LEAD_BERLIN)  # answered after 3 s, when Slack has stopped waiting
        (dm,) = bot.fake.wait_for("chat.postMessage", timeout=30)
        assert (dm.params["channel"], dm.params["text"]) == (LEAD_BERLIN, UNAVAILABLE[LEAD_BERLIN])
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    bot.fake.reset()
    assert bot.submit(view, answers, user_id=LEAD_BERLIN) == (200, "")
    assert bot.count(MeasureValue, MeasureValue.team == "berlin_ops") == len(WEEKLY)
