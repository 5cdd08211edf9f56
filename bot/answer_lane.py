"""Where slow answers run (a report, a scorecard, a person's card, the Home tab): off the threads that ack.

Computing a report is CPU work in Python; on a thread of the serving process it holds the interpreter
lock the acking threads need, and at 200 teams x 1M cases a burst of reports doubled the acks' p99.
``kpi-bot serve`` therefore runs these answers in worker processes (``start_processes``): each worker has
its own database pool and shared-report cache, and answers through Slack itself (response_url, or the
Home tab); the serving process only hands over a small picklable task. A task is routed by its period,
so one worker computes a period once and serves every team's report and the ranks from its cache. The
workers run at a lower CPU priority than the server, so on a busy machine an ack never waits for them.
Without processes (tests, the CLI) tasks run on one thread of this process, the same code.

The lane is bounded: while the oldest unfinished task has waited more than ``max_wait`` seconds (the
lane no longer keeps up), or ``max_pending`` tasks wait, a request is told at once that the bot is busy
(nothing was done, try again) instead of waiting behind the queue for ever.
"""

from __future__ import annotations

import itertools
import logging
import os
import pickle
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING

from slack_sdk import WebClient

from bot.worker_pool import WorkerPool

if TYPE_CHECKING:
    from bot.services import Services
    from bot.settings import Settings
    from kpi_core.config import Config

logger = logging.getLogger(__name__)

#: A task: a module-level function with picklable arguments bound (functools.partial), called with the
#: services and the Slack client of the process that runs it.
Task = Callable[["Services", WebClient], None]

#: A task refused as "busy" while the oldest unfinished one has waited longer than this, in seconds: an
#: answer comes within about a minute, or the user is told at once to try again.
MAX_WAIT = 60.0
#: ...or while this many wait (the memory of the queue).
MAX_PENDING = 5_000
MAX_WORKERS = 4
#: The workers yield the CPU to the serving process (acks, listeners): nice 10 gets about a tenth of a
#: core that the server also wants.
WORKER_NICENESS = 10
#: Seconds a worker has, when the server stops, to finish the answer it is computing.
CLOSE_GRACE = 2.0


class AnswerLane:
    def __init__(self, *, max_pending: int = MAX_PENDING, max_wait: float = MAX_WAIT) -> None:
        self._max_pending, self._max_wait = max_pending, max_wait
        self._pending: OrderedDict[int, float] = OrderedDict()  # ticket -> when submitted, oldest first
        self._tickets = itertools.count()
        self._lock = threading.Lock()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="answers")
        self._processes: WorkerPool | None = None
        self._closing = False

    def start_processes(self, settings: Settings, config: Config, *, workers: int | None = None) -> None:
        """From now on tasks run in ``workers`` worker processes (default one a core, at most
        ``MAX_WORKERS``; bot/worker_pool.py), started at once so that the first answer is unlikely to
        wait for their imports. This does not wait for them: the server answers acks meanwhile, and
        tasks queue until a worker is ready (see ``wait_ready``). Each worker leaves by itself when this
        process dies (bot/worker_guard.py); ``close`` stops them."""
        workers = workers or min(MAX_WORKERS, os.cpu_count() or 1)
        # pickled here, unpickled in the worker only once it watches this process
        self._processes = WorkerPool(workers, pickle.dumps((_start_worker, (settings, config))))

    def wait_ready(self) -> None:
        """Returns once every worker has started (raises what one failed to start with)."""
        if self._processes is not None:
            self._processes.wait_ready()

    def submit(
        self,
        task: Task,
        *,
        services: Services,
        client: WebClient,
        route: Hashable,
        before: Callable[[], object],
        on_error: Callable[[Exception], None],
    ) -> bool:
        """Runs ``task`` later, after calling ``before`` (the ack); False, having called nothing, when
        the lane is full. A failure of the task goes to ``on_error`` (which tells the user who asked)."""
        now = time.monotonic()
        with self._lock:
            oldest = next(iter(self._pending.values()), now)
            if len(self._pending) >= self._max_pending or now - oldest > self._max_wait:
                return False
            ticket = next(self._tickets)
            self._pending[ticket] = now
        try:
            before()
            future = self._submit(task, services, client, route)
        except BaseException:
            self._release(ticket)
            raise
        future.add_done_callback(partial(self._done, ticket, on_error))
        return True

    def _submit(self, task: Task, services: Services, client: WebClient, route: Hashable) -> Future[None]:
        if self._processes is None:
            return self._thread.submit(task, services, client)
        slot = zlib.crc32(repr(route).encode()) % len(self._processes)
        return self._processes.submit(slot, partial(_run_in_worker, task))

    def _release(self, ticket: int) -> None:
        with self._lock:
            del self._pending[ticket]

    def _done(self, ticket: int, on_error: Callable[[Exception], None], future: Future[None]) -> None:
        self._release(ticket)
        if future.cancelled() or self._closing:  # dropped as the server stops: nothing went wrong
            return
        error = future.exception()
        if error is None:
            return
        try:
            on_error(error if isinstance(error, Exception) else RuntimeError(repr(error)))
        except Exception:
            logger.exception("an answer failed, and so did reporting it")

    def close(self, *, grace: float = CLOSE_GRACE) -> None:
        """Stops the workers and returns once they are gone: answers still queued are dropped (the
        process is stopping), one being computed has ``grace`` seconds to finish; a worker still
        starting, or not done by then, is terminated, so that none outlives the server."""
        self._closing = True
        self._thread.shutdown(wait=False, cancel_futures=True)
        if self._processes is not None:
            self._processes.close(grace)
            self._processes = None


# In a worker process: its own services and Slack client, built once by the initializer.
_worker: tuple[Services, WebClient] | None = None


def _start_worker(settings: Settings, config: Config) -> None:
    global _worker
    os.nice(WORKER_NICENESS)
    from bot.app import build_client
    from bot.render import Renderer
    from bot.services import Services
    from kpi_core.db import make_engine

    # no migration: the serving process brought the database up to date before it started the workers
    services = Services(
        config=config,
        engine=make_engine(settings.database_url),
        renderer=Renderer(templates_dir=settings.templates_dir, config=config),
    )
    _worker = (services, build_client(settings))


def _run_in_worker(task: Task) -> None:
    assert _worker is not None, "the worker's set-up did not run"
    task(*_worker)
