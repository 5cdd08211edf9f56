"""Two `kpi-bot` processes on one database, each with its own name in the ledger, at a clock the test
moves, and a way to run a job body in both at the same moment (the exactly-once tests of the ticks)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from bot.settings import Settings
from bot.wiring import Process, build
from kpi_core.config import Config
from tests.fake_slack import FakeSlack


@contextmanager
def two_replicas(
    *, database_url: str, config: Config, fake: FakeSlack, now: datetime
) -> Iterator[tuple[list[Process], dict[str, datetime]]]:
    """The processes and the clock (``clock["now"]``, which the test moves)."""
    clock = {"now": now}
    processes = [
        build(
            Settings(
                SLACK_SIGNING_SECRET="secret",
                SLACK_BOT_TOKEN="xoxb-test",
                SLACK_API_URL=fake.base_url,
                KPI_DATABASE_URL=database_url,
                KPI_INSTANCE=f"replica-{number}",
            ),
            clock=lambda: clock["now"],
            config=config,
        )
        for number in (1, 2)
    ]
    try:
        yield processes, clock
    finally:
        for process in processes:
            process.close()


def run_together(processes: list[Process], body: Callable[[Process], Any]) -> None:
    """Runs ``body`` in every process at the same moment; fails if any run raised."""
    start = threading.Barrier(len(processes))
    failures: list[Exception] = []

    def run(process: Process) -> None:
        start.wait()
        try:
            body(process)
        except Exception as error:  # reported below: a thread's exception would otherwise vanish
            failures.append(error)

    threads = [threading.Thread(target=run, args=(process,)) for process in processes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
