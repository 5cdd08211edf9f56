"""Renders many charts at once in a pool of processes: a chart is CPU-bound matplotlib work (tens of
milliseconds), so 500 digests' charts in one thread take half a minute while the other core sits idle."""

from __future__ import annotations

import multiprocessing
import os
import pickle
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from functools import partial

from bot.sender import Chart, Outgoing

#: Below this many charts, starting the workers (each imports matplotlib, about a second) costs more
#: than it saves.
POOL_FROM = 16
MAX_WORKERS = 4


def prerendered(messages: list[Outgoing]) -> Iterator[Outgoing]:
    """``messages`` in order, their charts rendered already, in parallel; each is yielded as soon as its
    chart is ready, so the caller uploads while the pool renders the next ones. A chart whose render
    cannot be sent to another process (e.g. a closure over the database) is left to render lazily."""
    portable = {index for index, message in enumerate(messages) if message.chart and _portable(message.chart)}
    if len(portable) < POOL_FROM:
        yield from messages
        return
    workers = min(MAX_WORKERS, os.cpu_count() or 1)
    # spawn, not fork: the serving process has threads (Bolt, the scheduler) a fork would copy mid-lock
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        renders = [messages[index].chart.render for index in sorted(portable)]  # type: ignore[union-attr]
        # small chunks: the first uploads start early, and a slow chunk does not hold the others back
        pngs = pool.map(_call, renders, chunksize=max(1, min(8, len(renders) // (workers * 4))))
        for index, message in enumerate(messages):
            if index in portable:
                assert message.chart is not None
                message = replace(message, chart=replace(message.chart, render=partial(_given, next(pngs))))
            yield message


def _portable(chart: Chart) -> bool:
    try:
        pickle.dumps(chart.render)
    except (pickle.PicklingError, AttributeError, TypeError):
        return False
    return True


def _call(render: partial[bytes | None]) -> bytes | None:
    return render()


def _given(png: bytes | None) -> bytes | None:
    return png
