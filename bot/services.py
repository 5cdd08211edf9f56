"""What listeners and jobs share: the config, the database, the renderer and the clock (built once, by
bot/wiring.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from bot.render import Renderer
from kpi_core.config import Config
from kpi_core.shared_reports import SharedReports

logger = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


class SlowLane:
    """Work a listener hands off after its ack (a report to compute and post). One thread runs it all,
    so a burst of such work takes turns for the interpreter with the acks of the requests still arriving
    instead of crowding them out; Slack allows 30 minutes to answer through response_url."""

    def __init__(self, *, workers: int = 1) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="slow-lane")

    def run(self, work: Callable[[], None], *, on_error: Callable[[Exception], None] | None = None) -> None:
        """Runs ``work`` later; its failure goes to ``on_error`` (which tells the user who asked)."""
        self._pool.submit(self._reported, work, on_error)

    @staticmethod
    def _reported(work: Callable[[], None], on_error: Callable[[Exception], None] | None) -> None:
        # nobody waits on the future: a failure must reach the log, and the user through on_error
        try:
            work()
        except Exception as error:
            if on_error is None:
                logger.exception("work handed off after an ack failed")
                return
            try:
                on_error(error)
            except Exception:
                logger.exception("work handed off after an ack failed, and so did reporting it")


@dataclass(frozen=True)
class Services:
    config: Config
    engine: sa.Engine
    renderer: Renderer
    clock: Callable[[], datetime] = utc_now
    reports: SharedReports = field(default_factory=SharedReports)
    slow_lane: SlowLane = field(default_factory=SlowLane)
