"""The alert queue (bot/alert_queue.py): writes' evaluations off the listener threads, merged per team."""

import threading

from bot.alert_queue import AlertQueue
from kpi_core.alert_sweep import Change


def test_changes_put_while_a_batch_is_evaluated_come_next_merged_per_team():
    batches: list[list[Change]] = []
    started, release = threading.Event(), threading.Event()

    def evaluate(batch: list[Change]) -> None:
        batches.append(batch)
        started.set()
        release.wait(10)

    queue = AlertQueue(evaluate)
    queue.put(Change("berlin_ops", measures=frozenset({"orders"})))
    assert started.wait(10)
    # the thread is busy: these wait, and the queue holds one entry per team
    queue.put(Change("berlin_ops", measures=frozenset({"on_time_orders"})))
    queue.put(Change("shanghai_ops", surveys=True))
    queue.put(Change("berlin_ops", case_kinds=frozenset({"after_sales"})))
    release.set()
    assert queue.wait_idle(10)
    queue.close()
    assert batches == [
        [Change("berlin_ops", measures=frozenset({"orders"}))],
        [
            Change("berlin_ops", measures=frozenset({"on_time_orders"}), case_kinds=frozenset({"after_sales"})),
            Change("shanghai_ops", surveys=True),
        ],
    ]


def test_a_failing_batch_is_logged_and_the_next_is_evaluated(caplog):
    seen: list[str] = []

    def evaluate(batch: list[Change]) -> None:
        seen.extend(change.team for change in batch)
        if batch[0].team == "berlin_ops":
            raise RuntimeError("database gone")

    queue = AlertQueue(evaluate)
    queue.put(Change("berlin_ops", everything=True))
    assert queue.wait_idle(10)
    queue.put(Change("shanghai_ops", everything=True))
    queue.close()
    assert seen == ["berlin_ops", "shanghai_ops"]
    assert "alert evaluation of berlin_ops failed" in caplog.text


def test_close_evaluates_what_is_queued_and_later_puts_are_dropped():
    seen: list[str] = []
    queue = AlertQueue(lambda batch: seen.extend(change.team for change in batch))
    queue.put(Change("berlin_ops", everything=True))
    queue.close()
    queue.put(Change("shanghai_ops", everything=True))
    assert seen == ["berlin_ops"]
