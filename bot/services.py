"""What listeners and jobs share: the config, the database, the renderer and the clock (built once, by
bot/wiring.py)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from bot.answer_lane import AnswerLane
from bot.render import Renderer
from kpi_core.config import Config
from kpi_core.shared_reports import SharedReports

logger = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


class SlowLane:
    """Work a listener hands off after its ack that sends messages rather than computes (review DMs, an
    admin notice; reports go to the answer lane, bot/answer_lane.py). One thread runs it all, so a burst
    of such work takes turns for the interpreter with the acks of the requests still arriving instead of
    crowding them out. At most ``max_pending`` pieces wait: past that ``run`` refuses (the caller says
    so) rather than queueing for ever."""

    def __init__(self, *, workers: int = 1, max_pending: int = 200) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="slow-lane")
        self._room = threading.BoundedSemaphore(max_pending)

    def run(self, work: Callable[[], None], *, on_error: Callable[[Exception], None] | None = None) -> bool:
        """Runs ``work`` later; its failure goes to ``on_error`` (which tells the user who asked). False
        when ``max_pending`` pieces of work wait already: ``work`` will not run."""
        if not self._room.acquire(blocking=False):
            logger.warning("the slow lane is full: work handed off after an ack was refused")
            return False
        self._pool.submit(self._reported, work, on_error)
        return True

    def _reported(self, work: Callable[[], None], on_error: Callable[[Exception], None] | None) -> None:
        # nobody waits on the future: a failure must reach the log, and the user through on_error
        try:
            self._run(work, on_error)
        finally:
            self._room.release()

    @staticmethod
    def _run(work: Callable[[], None], on_error: Callable[[Exception], None] | None) -> None:
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
    answers: AnswerLane = field(default_factory=AnswerLane)
