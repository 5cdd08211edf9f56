"""The answer lane's worker processes (bot/answer_lane.py), with a hand-over that costs the acking thread
one write.

``concurrent.futures.ProcessPoolExecutor`` hands a task over through two threads of the server (its
manager thread, woken through a pipe, and its queue's feeder thread, which pickles and writes): about
0.5 ms of the server's CPU and two turns of its interpreter lock a request, measured with
bench/ack_cpu.py, as much as the rest of an ack. Here the submitting thread pickles the task and writes
it to the worker's pipe itself, without blocking: a worker reads its pipe on a thread of its own from
the moment it starts (before its heavy imports), so the pipe is normally empty; when it is full (a worker
starting or starved of CPU) or a task is larger than one atomic pipe write, the task waits in a backlog
that one thread of the server (``answer-workers``) writes on. That thread also reads the results and
watches each worker's death: a worker that died (killed, out of memory) fails its unfinished tasks
(their users are told) and a new one takes its place.

Children are spawned (the server has threads a fork would copy mid-lock) and watch the server from
their first import (bot/worker_guard.py), so none outlives it; ``close`` stops and joins them.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import multiprocessing
import os
import pickle
import queue
import select
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from bot.worker_guard import watch_server

logger = logging.getLogger(__name__)

#: multiprocessing's frame header (``Connection.send_bytes``), so the worker reads with ``recv_bytes``.
_HEADER = struct.Struct("!i")
#: A write to a pipe up to this size is atomic: it is all written, or (non-blocking) nothing is.
_ATOMIC = select.PIPE_BUF
_READY = -1  # the ticket of a worker's "set up" message
#: Seconds before a worker that died setting up is replaced (not a process a millisecond for ever).
RESTART_PAUSE = 1.0


class WorkerDied(RuntimeError):
    """A worker process ended while it held the task (killed, out of memory)."""

    def __init__(self) -> None:
        super().__init__("the answer worker process was terminated abruptly while it held this task")


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    tasks: Connection  # written raw (non-blocking) by the server; the worker reads it with recv_bytes
    results: Connection
    ready: Future[None] = field(default_factory=Future)
    pending: dict[int, Future[None]] = field(default_factory=dict)
    backlog: deque[memoryview] = field(default_factory=deque)


class WorkerPool:
    """``count`` worker processes, each set up by ``setup`` (a pickled ``(function, args)``, run in the
    worker once it watches the server); ``submit(slot, function)`` runs ``function()`` in worker ``slot``."""

    def __init__(self, count: int, setup: bytes) -> None:
        self._context = multiprocessing.get_context("spawn")
        self._setup = setup
        self._lock = threading.Lock()
        self._tickets = itertools.count()
        self._closing = False
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_write, False)
        self._workers = [self._start() for _ in range(count)]
        self._loop = threading.Thread(target=self._run, name="answer-workers", daemon=True)
        self._loop.start()

    def __len__(self) -> int:
        return len(self._workers)

    def wait_ready(self) -> None:
        """Returns once every worker is set up (raises what one failed to set up with)."""
        for worker in list(self._workers):
            worker.ready.result()

    def submit(self, slot: int, function: Callable[[], None]) -> Future[None]:
        future: Future[None] = Future()
        with self._lock:
            worker = self._workers[slot]
            ticket = next(self._tickets)
            worker.pending[ticket] = future
            payload = pickle.dumps((ticket, function))
            frame = memoryview(_HEADER.pack(len(payload)) + payload)
            if worker.backlog or len(frame) > _ATOMIC or not _write(worker, frame):
                worker.backlog.append(frame)
                self._wake()
        return future

    def close(self, grace: float) -> None:
        """Stops the workers and returns once they are gone: a worker finishes the task it holds within
        ``grace`` seconds or is terminated; tasks not begun are dropped (their futures cancelled)."""
        with self._lock:
            self._closing = True
            workers, self._workers = self._workers, []
            for worker in workers:
                worker.tasks.close()  # the worker's reader sees the end and the worker leaves after its task
        self._wake()
        self._loop.join()
        deadline = time.monotonic() + grace
        for worker in workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
        for worker in workers:
            if worker.process.is_alive():
                worker.process.terminate()
                worker.process.join(grace)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.results.close()
            for future in worker.pending.values():
                future.cancel()
        os.close(self._wake_read)
        os.close(self._wake_write)

    def _start(self) -> _Worker:
        tasks_read, tasks_write = self._context.Pipe(duplex=False)
        results_read, results_write = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=_serve, args=(self._setup, tasks_read, results_write), name="answer-worker", daemon=True
        )
        process.start()
        tasks_read.close()  # (the worker has its own copies now)
        results_write.close()
        os.set_blocking(tasks_write.fileno(), False)
        return _Worker(process, tasks_write, results_read)

    def _wake(self) -> None:
        with contextlib.suppress(BlockingIOError):  # (woken already)
            os.write(self._wake_write, b"!")

    def _run(self) -> None:
        """The server's one helper thread: writes backlogs, reads results, replaces dead workers."""
        while True:
            with self._lock:
                if self._closing:
                    return
                workers = list(self._workers)
            poller = select.poll()
            poller.register(self._wake_read, select.POLLIN)
            by_fd: dict[int, tuple[_Worker, str]] = {}
            for worker in workers:
                by_fd[worker.results.fileno()] = (worker, "result")
                poller.register(worker.results.fileno(), select.POLLIN)
                by_fd[worker.process.sentinel] = (worker, "died")
                poller.register(worker.process.sentinel, select.POLLIN)
                if worker.backlog:
                    by_fd[worker.tasks.fileno()] = (worker, "writable")
                    poller.register(worker.tasks.fileno(), select.POLLOUT)
            for fd, _ in poller.poll():
                if self._closing:  # (close has closed the workers' pipes: nothing more to read or write)
                    return
                if fd == self._wake_read:
                    os.read(self._wake_read, 4096)
                    continue
                worker, what = by_fd[fd]
                if what == "result":
                    self._result(worker)
                elif what == "writable":
                    with self._lock:
                        _flush(worker)
                else:
                    self._replace(worker)

    def _result(self, worker: _Worker) -> None:
        try:
            ticket, error = worker.results.recv()
        except (EOFError, OSError):
            self._replace(worker)
            return
        if ticket == _READY:
            _settle(worker.ready, error)
            return
        with self._lock:
            future = worker.pending.pop(ticket, None)
        if future is not None:
            _settle(future, error)

    def _replace(self, worker: _Worker) -> None:
        """A worker died: its unfinished tasks fail, and a new worker takes its slot."""
        worker.process.join()
        if not worker.ready.done():
            # it died setting up (its log says why): the next one would likely too, so not at once
            time.sleep(RESTART_PAUSE)
        with self._lock:
            if self._closing or worker not in self._workers:
                return
            logger.warning("an answer worker had died (exit code %s); starting a new one", worker.process.exitcode)
            self._workers[self._workers.index(worker)] = self._start()
            failed = list(worker.pending.values())
        worker.tasks.close()
        worker.results.close()
        if not worker.ready.done():
            worker.ready.set_exception(WorkerDied())
        for future in failed:
            future.set_exception(WorkerDied())


def _write(worker: _Worker, frame: memoryview) -> bool:
    """Writes a whole frame of at most ``_ATOMIC`` bytes now, or nothing (False: the pipe is full or the
    worker gone; the frame then waits in the backlog, and a dead worker is seen by its sentinel)."""
    try:
        os.write(worker.tasks.fileno(), frame)
    except (BlockingIOError, BrokenPipeError):
        return False
    return True


def _flush(worker: _Worker) -> None:
    """Writes as much of the backlog as the pipe takes now (a large frame possibly in parts)."""
    while worker.backlog:
        frame = worker.backlog[0]
        try:
            written = os.write(worker.tasks.fileno(), frame)
        except (BlockingIOError, BrokenPipeError):
            return
        if written < len(frame):
            worker.backlog[0] = frame[written:]
            return
        worker.backlog.popleft()


def _settle(future: Future[None], error: BaseException | None) -> None:
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


# In the worker process.


def _serve(setup: bytes, tasks: Connection, results: Connection) -> None:
    """A worker's life: watch the server, read tasks from the start (so that the server's writes do not
    wait for this process's imports), set up, then run the tasks in order, sending back each outcome."""
    watch_server()
    inbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
    threading.Thread(target=_read_tasks, args=(tasks, inbox), name="task-reader", daemon=True).start()
    try:
        function, args = pickle.loads(setup)
        function(*args)
    except Exception as error:
        results.send((_READY, _sendable(error)))
        raise
    results.send((_READY, None))
    while (frame := inbox.get()) is not None:
        ticket, task = pickle.loads(frame)
        try:
            task()
        except Exception as error:
            results.send((ticket, _sendable(error)))
        else:
            results.send((ticket, None))


def _read_tasks(tasks: Connection, inbox: queue.SimpleQueue[bytes | None]) -> None:
    try:
        while True:
            inbox.put(tasks.recv_bytes())
    except (EOFError, OSError):  # the server closed its end (it stops): leave after the tasks read
        inbox.put(None)


def _sendable(error: Exception) -> Exception:
    """``error`` if it survives pickling back to the server, else what it says."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error
