"""The writes' alert evaluations, off the threads that ack Slack's requests.

A listener puts what its write changed and returns at once; one background thread evaluates everything
put since its last turn as one batch (kpi_core/alert_sweep.py ``evaluate_changes``), so a burst of
submissions is evaluated in a few set-based statements rather than one check per write, and Bolt's
listener threads are free for the next requests. The queue holds at most one entry per team (a team's
changes are merged), so it is bounded however many writes arrive. A batch that fails is logged; the
sweep evaluates those teams anyway, since their data version moved.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from kpi_core.alert_sweep import Change

logger = logging.getLogger(__name__)


class AlertQueue:
    def __init__(self, evaluate: Callable[[list[Change]], None]) -> None:
        self._evaluate = evaluate
        self._pending: dict[str, Change] = {}
        self._busy = False
        self._closed = False
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def put(self, change: Change) -> None:
        """Queues ``change`` for evaluation; never waits for it."""
        with self._changed:
            if self._closed:
                return
            pending = self._pending.get(change.team)
            self._pending[change.team] = change if pending is None else pending | change
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="alert-queue", daemon=True)
                self._thread.start()
            self._changed.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Waits until everything put so far is evaluated (for tests, benchmarks and a clean stop)."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._pending and not self._busy, timeout)

    def close(self, timeout: float | None = 30) -> None:
        """Evaluates what is queued, then stops the thread."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._pending or self._closed)
                if not self._pending:
                    return  # closed, and nothing left
                batch = list(self._pending.values())
                self._pending.clear()
                self._busy = True
            try:
                self._evaluate(batch)
            except Exception:
                logger.exception("alert evaluation of %s failed", ", ".join(change.team for change in batch))
            finally:
                with self._changed:
                    self._busy = False
                    self._changed.notify_all()
