"""The first thing a worker process of ``kpi-bot serve`` runs: it must never outlive the server.

A worker inherits the server's stderr and holds database connections; one that lived on after the
server died (``kill -9``, out of memory) would keep the server's log pipe open, so whoever reads that
log (a supervisor, the tests) would wait for an end that never comes. Each worker therefore watches the
pipe multiprocessing keeps open from the server to every child it spawns (``parent_process().sentinel``):
the kernel closes the server's end when the server dies, however it dies, and the worker leaves at once.
The watch starts before the worker's heavy imports (this module imports only the standard library, and
the worker's own set-up arrives pickled, bot/worker_pool.py), so a server killed while its workers are still starting
leaves none behind either. A server that stops normally terminates and joins them itself
(``AnswerLane.close``).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from multiprocessing.connection import wait


def watch_server() -> None:
    """Called first in a worker: it leaves the moment the process that spawned it is gone."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent.sentinel,), name="server-watch", daemon=True).start()
    # Ctrl-C reaches the whole process group: the server stops its workers itself, without their tracebacks
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _exit_with(sentinel: int) -> None:
    wait([sentinel])  # readable only at end of file: the server's end was closed, so the server is gone
    os._exit(0)
