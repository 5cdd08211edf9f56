"""Slow answers off the acking threads (bot/answer_lane.py): in worker processes as ``kpi-bot serve`` runs
them, bounded (a full lane answers "busy" at once), and every failure is still answered."""

import os
import threading
from functools import partial

import sqlalchemy as sa

from bot.answer_lane import MAX_PENDING, AnswerLane
from bot.services import SlowLane
from tests.bot_harness import ADMIN, LEAD_BEIJING, LEAD_SHANGHAI_AND_BERLIN, MANAGER
from tests.test_slack_home import home_of, team_sections
from tests.test_slack_reports import report_of, report_text, sections_text, store_quarter_sales, store_weeks
from tests.test_slack_submissions import open_form, weekly_answers


def in_worker_processes(bot):
    process = bot.process
    lane = process.services.answers
    lane.start_processes(process.settings, process.services.config, workers=1)
    lane.wait_ready()  # its imports can take longer than a test waits for an answer
    return lane


def test_in_a_worker_process_reports_scorecards_and_the_home_tab_are_answered_and_see_each_write(bot):
    in_worker_processes(bot)
    store_weeks(bot, "shanghai_ops", w40=(200, 190))
    assert "准时交付率*\n*95.0 %*" in report_text(report_of(bot, "report", user_id=LEAD_SHANGHAI_AND_BERLIN))
    # a write after the worker cached the week: the change log tells the other process what moved
    view = open_form(bot, "weekly", LEAD_SHANGHAI_AND_BERLIN)
    _, body = bot.submit(view, weekly_answers(orders="100", on_time_orders="80"), user_id=LEAD_SHANGHAI_AND_BERLIN)
    assert bot.submit(body["view"] | {"id": "V0CONFIRM"}, {}, user_id=LEAD_SHANGHAI_AND_BERLIN) == (200, "")
    bot.fake.reset()
    text = report_text(report_of(bot, "report", user_id=LEAD_SHANGHAI_AND_BERLIN))
    assert "🔴 *On-time delivery rate / 准时交付率*\n*80.0 %*" in text
    bot.fake.reset()
    store_quarter_sales(bot)
    text = sections_text(report_of(bot, "scorecard 2026-Q3", user_id=MANAGER))
    assert "1. *Shanghai Operations / 上海运营中心*: 40.0 / 100" in text
    sections = team_sections(home_of(bot, ADMIN))
    assert len(sections) == 4


def test_a_report_failing_in_a_worker_process_is_answered_and_the_admins_are_told(bot):
    in_worker_processes(bot)
    with bot.engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE measure_value"))  # a bug, as far as the worker can tell
    message = report_of(bot, "report beijing_service", user_id=LEAD_BEIJING)
    assert "出了问题" in message["text"]  # "something went wrong", in the lead's language
    (notice,) = [call for call in bot.fake.wait_for("chat.postMessage") if call.params["channel"] == ADMIN]
    assert "/kpi report" in notice.params["text"] and "no such table: measure_value" in notice.params["text"]


def exit_at_once(services, client):
    os._exit(1)  # a worker killed mid-task (out of memory, kill -9)


def test_a_worker_that_died_is_replaced_and_its_task_answered_as_a_failure(bot):
    lane = in_worker_processes(bot)
    failures = []
    failed = threading.Event()

    def on_error(error):
        failures.append(error)
        failed.set()

    services = bot.process.services
    accepted = lane.submit(
        exit_at_once, services=services, client=None, route="any", before=lambda: None, on_error=on_error
    )
    assert accepted
    assert failed.wait(timeout=60)
    assert "terminated abruptly" in str(failures[0])
    store_weeks(bot, "beijing_service")
    assert bot.command("report beijing_service", user_id=LEAD_BEIJING, name="report") == (200, "")
    (answer,) = bot.fake.wait_for("response", timeout=60)  # a new worker starts (its imports take a while)
    assert "*95.0 %*" in report_text(answer.params)


def wait_for(event, services, client):
    event.wait(timeout=60)


def test_a_full_answer_lane_answers_busy_at_once_and_runs_nothing_until_there_is_room(bot):
    lane = bot.process.services.answers
    go_on = threading.Event()
    try:
        for _ in range(MAX_PENDING):  # the first waits, the others queue behind it
            assert lane.submit(
                partial(wait_for, go_on),
                services=bot.process.services,
                client=None,
                route="any",
                before=lambda: None,
                on_error=lambda error: None,
            )
        status, body = bot.command("report beijing_service", user_id=LEAD_BEIJING, name="report")
        assert status == 200 and body["response_type"] == "ephemeral"
        assert body["text"] == "KPI Bot 当前请求过多，/kpi report 未执行。请一分钟后再试。"
    finally:
        go_on.set()
    bot.fake.assert_no_call("response")
    store_weeks(bot, "beijing_service")
    for _ in range(100):  # the waiting tasks run off as soon as they may; the lane has room again after them
        status, body = bot.command("report beijing_service", user_id=LEAD_BEIJING, name="report")
        if body == "":
            break
        assert "当前请求过多" in body["text"]
        go_on.wait(0.1)
    assert "*95.0 %*" in report_text(bot.fake.wait_for("response")[0].params)


def test_a_full_slow_lane_refuses_more_work_until_there_is_room():
    lane = SlowLane(max_pending=2)
    go_on, ran = threading.Event(), []
    assert lane.run(lambda: go_on.wait(timeout=60))
    assert lane.run(lambda: ran.append("second"))
    assert not lane.run(lambda: ran.append("refused"))
    go_on.set()
    done = threading.Event()
    while not lane.run(done.set):  # room again once the waiting work has run
        pass
    assert done.wait(timeout=10)
    assert ran == ["second"]


def test_a_lane_that_no_longer_keeps_up_refuses_until_it_has_caught_up(bot):
    lane = AnswerLane(max_wait=0.2)
    go_on, done = threading.Event(), threading.Event()
    services = bot.process.services

    def submit(task):
        return lane.submit(task, services=services, client=None, route="any", before=lambda: None, on_error=print)

    try:
        assert submit(partial(wait_for, go_on))
        assert submit(partial(wait_for, go_on))  # the first has waited less than max_wait yet
        go_on.wait(0.3)  # (it has not been set: this only lets max_wait pass)
        assert not submit(partial(wait_for, go_on))
    finally:
        go_on.set()
    while not submit(partial(wait_for, done)):  # accepted again once the old ones are done
        go_on.wait(0.05)
    done.set()
    lane.close()
