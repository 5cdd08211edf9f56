"""Following open alerts up under a moving clock: escalation to management when nobody acknowledged an
alert within ``escalate_after_minutes``, reminders in its thread every ``remind_every_minutes`` once
acknowledged, nothing while snoozed; each message exactly once, through the delivery ledger, also after a
restart and with two replicas on one database.

From bot/config/example.yaml (alert_followup): escalation after 120 min (Beijing: 60) to C0MANAGEMENT,
reminders every 240 min. The teams have no working hours in the config, so escalation counts wall time.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import yaml

from bot.alert_followup import AlertFollowUpJob
from bot.resources import EXAMPLE_CONFIG
from bot.settings import Settings
from bot.wiring import build
from kpi_core import store
from kpi_core.config import parse_config
from kpi_core.db import transaction
from kpi_core.errors import ConfigError
from kpi_core.periods import Period
from tests.alert_ops import WEDNESDAY, Ops, alert_id_of, running_ops
from tests.bot_harness import LEAD_SHANGHAI_AND_BERLIN, MANAGER
from tests.factories import Clock
from tests.fake_slack import FakeSlack
from tests.slack_calls import key_of, posts


def snooze(choice: str) -> dict:
    return {
        "type": "static_select",
        "selected_option": {"text": {"type": "plain_text", "text": choice}, "value": choice},
    }


def escalations(ops: Ops) -> list:
    return posts(ops.fake, "C0MANAGEMENT")


def thread_replies(ops: Ops, channel: str = "C0SHANGHAI") -> list:
    return [call for call in posts(ops.fake, channel) if call.params.get("thread_ts")]


def at_minutes(ops: Ops, minutes: float) -> None:
    ops.clock.now = WEDNESDAY + timedelta(minutes=minutes)


def test_an_alert_nobody_acknowledges_is_escalated_to_management_once_at_its_time(ops):
    alert_id = alert_id_of(ops.breach())
    at_minutes(ops, 119)
    ops.follow_up()
    assert escalations(ops) == []

    at_minutes(ops, 120)
    ops.follow_up()
    ops.follow_up()
    at_minutes(ops, 600)
    ops.follow_up()
    [escalation] = escalations(ops)
    assert key_of(escalation) == f"escalation:shanghai_ops:{alert_id}"
    assert escalation.params["text"].startswith(
        "⏫ Escalated: nobody has acknowledged this alert of <#C0SHANGHAI> for 120 min: "
        "Shanghai Operations: On-time delivery rate is 85.0 %, past the alert threshold 90.0 %."
    )
    assert thread_replies(ops) == []  # not acknowledged: no reminders either


def test_a_teams_own_escalation_time_overrides_the_default(ops):
    ops.breach("beijing_service")
    at_minutes(ops, 60)
    ops.follow_up()
    [escalation] = escalations(ops)
    assert escalation.params["text"].startswith(
        "⏫ 升级：<#C0BEIJING> 的告警 60 分钟内无人确认：北京客户服务部：准时交付率"
    )


def test_an_acknowledged_alert_is_not_escalated_and_is_reminded_in_its_thread_every_interval(ops):
    alert_id = alert_id_of(ops.breach())
    at_minutes(ops, 30)
    ops.click("alert_ack", user=LEAD_SHANGHAI_AND_BERLIN, alert_id=alert_id)
    ops.fake.wait_for("chat.update")

    at_minutes(ops, 30 + 239)
    ops.follow_up()
    assert escalations(ops) == [] and thread_replies(ops) == []

    at_minutes(ops, 30 + 240)
    ops.follow_up()
    ops.follow_up()
    [reminder] = thread_replies(ops)
    alert_ts = ops.bot.process.sender.sent_ts("alert", "shanghai_ops", str(alert_id))
    assert (reminder.params["channel"], reminder.params["thread_ts"]) == alert_ts
    assert key_of(reminder) == f"alert_reminder:shanghai_ops:{alert_id}:1"
    assert reminder.params["text"].startswith(
        f"⏰ Still open, owner <@{LEAD_SHANGHAI_AND_BERLIN}>: Shanghai Operations"
    )

    at_minutes(ops, 30 + 480)
    ops.follow_up()
    # the bot was down from the third interval to past the fifth: only the latest reminder goes out
    at_minutes(ops, 30 + 1250)
    ops.follow_up()
    assert [key_of(call).rsplit(":", 1)[1] for call in thread_replies(ops)] == ["1", "2", "5"]
    assert escalations(ops) == []


def test_a_snoozed_alert_neither_escalates_nor_reminds_until_the_snooze_ends(ops):
    alert_id = alert_id_of(ops.breach())
    at_minutes(ops, 60)
    ops.click("alert_snooze", user=MANAGER, alert_id=alert_id, element=snooze("4h"))  # until minute 300
    ops.fake.wait_for("chat.update")

    at_minutes(ops, 299)
    ops.follow_up()
    assert escalations(ops) == []
    at_minutes(ops, 300)
    ops.follow_up()
    assert len(escalations(ops)) == 1  # due since minute 120, held by the snooze

    # acknowledged, then snoozed: no reminder while snoozed, the latest one once it ends
    ops.click("alert_ack", user=MANAGER, alert_id=alert_id)
    ops.fake.wait_for("chat.update", count=2)
    at_minutes(ops, 310)
    ops.click("alert_snooze", user=MANAGER, alert_id=alert_id, element=snooze("1h"))  # until minute 370
    ops.fake.wait_for("chat.update", count=3)
    at_minutes(ops, 300 + 240)  # the first reminder is due, but the snooze ended: it goes out
    ops.follow_up()
    assert len(thread_replies(ops)) == 1
    ops.click("alert_snooze", user=MANAGER, alert_id=alert_id, element=snooze("4h"))  # until minute 780
    ops.fake.wait_for("chat.update", count=4)
    at_minutes(ops, 300 + 480)
    ops.follow_up()
    assert len(thread_replies(ops)) == 2
    at_minutes(ops, 779)
    ops.follow_up()
    assert len(thread_replies(ops)) == 2


def test_a_resolved_alert_is_not_followed_up(ops):
    ops.breach()
    ops.week("shanghai_ops", orders=100, on_time_orders=96)
    ops.check()
    at_minutes(ops, 1000)
    ops.follow_up()
    assert escalations(ops) == []


def test_without_an_escalation_channel_each_of_management_gets_a_dm_once(
    example_config, sqlite_template, tmp_path, fake_slack
):
    raw = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    del raw["alert_followup"]["channel"]
    raw["roles"]["management"] = ["U0MANAGER", "U0BOSS"]
    with running_ops(parse_config(raw), sqlite_template, tmp_path, fake_slack) as ops:
        alert_id = alert_id_of(ops.breach())
        at_minutes(ops, 120)
        ops.follow_up()
        ops.follow_up()
        assert [call.params["channel"] for call in posts(ops.fake) if call.params.get("text", "").startswith("⏫")] == [
            "U0MANAGER",
            "U0BOSS",
        ]
        assert key_of(posts(ops.fake, "U0BOSS")[0]) == f"escalation:shanghai_ops:{alert_id}:U0BOSS"


def test_a_restarted_process_does_not_escalate_or_remind_again(example_config, sqlite_template, tmp_path, fake_slack):
    with running_ops(example_config, sqlite_template, tmp_path, fake_slack) as ops:
        ops.breach()
        at_minutes(ops, 120)
        ops.follow_up()
        database = ops.bot.engine.url.database
    settings = Settings(
        SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=fake_slack.base_url, KPI_DATABASE_URL=f"sqlite:///{database}"
    )
    restarted = build(settings, clock=Clock(WEDNESDAY + timedelta(minutes=200)), config=example_config)
    try:
        AlertFollowUpJob(restarted.services, restarted.sender).run()
    finally:
        restarted.close()
    assert len(posts(fake_slack, "C0MANAGEMENT")) == 1


def test_two_replicas_on_one_database_escalate_once(example_config, database_url):
    """Two processes (each its own app, sender and ledger owner) run the follow-up at the same moment."""
    with FakeSlack() as fake:
        clock = Clock(WEDNESDAY)
        replicas = [
            build(
                Settings(
                    SLACK_BOT_TOKEN="xoxb-test",
                    SLACK_API_URL=fake.base_url,
                    KPI_DATABASE_URL=database_url,
                    KPI_INSTANCE=f"replica-{number}",
                ),
                clock=clock,
                config=example_config,
            )
            for number in (1, 2)
        ]
        try:
            with transaction(replicas[0].services.engine) as session:
                store.submit_measures(
                    session,
                    team="shanghai_ops",
                    form="weekly",
                    period=Period.parse("2026-W40"),
                    values={"orders": 100, "on_time_orders": 85},
                    user="U0LEAD",
                    now=clock(),
                )
            replicas[0].alerts.check()
            replicas[1].alerts.check()
            assert len(posts(fake, "C0SHANGHAI")) == 1
            clock.now = WEDNESDAY + timedelta(minutes=120)
            barrier = threading.Barrier(2)
            errors: list[BaseException] = []

            def run(process):
                try:
                    barrier.wait(timeout=30)
                    AlertFollowUpJob(process.services, process.sender).run()
                except BaseException as error:  # reported below
                    errors.append(error)

            threads = [threading.Thread(target=run, args=(process,)) for process in replicas]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            assert errors == []
            [escalation] = posts(fake, "C0MANAGEMENT")
            assert key_of(escalation).startswith("escalation:shanghai_ops:")
        finally:
            for process in replicas:
                process.close()


@pytest.mark.parametrize("minutes", [0, -5])
def test_a_config_refuses_escalation_times_that_are_not_positive(minutes):
    raw = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    raw["alert_followup"]["teams"]["beijing_service"]["escalate_after_minutes"] = minutes
    with pytest.raises(ConfigError, match="alert_followup.teams.beijing_service.escalate_after_minutes"):
        parse_config(raw)


def test_a_config_refuses_an_override_for_an_unknown_team():
    raw = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    raw["alert_followup"]["teams"]["bejing_service"] = {"remind_every_minutes": 30}
    with pytest.raises(ConfigError) as error:
        parse_config(raw)
    assert [str(problem) for problem in error.value.problems] == [
        "alert_followup.teams.bejing_service: override for unknown team 'bejing_service' "
        "(did you mean 'beijing_service'?)"
    ]
