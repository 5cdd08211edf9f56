"""Renders many charts at once in a pool of processes: a chart is CPU-bound matplotlib work (tens of
milliseconds), so 500 digests' charts in one thread take minutes while the cores sit idle."""

from __future__ import annotations

import multiprocessing
import os
import pickle
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from functools import partial

from bot.sender import Chart, Outgoing

#: Below this many charts, starting the workers (each imports matplotlib, about a second) costs more
#: than it saves.
POOL_FROM = 16
MAX_WORKERS = 4


def prerendered(messages: list[Outgoing]) -> list[Outgoing]:
    """``messages`` whose charts are rendered already, in parallel (a chart whose render cannot be sent
    to another process, e.g. a closure over the database, is left to render lazily as before)."""
    portable = [index for index, message in enumerate(messages) if message.chart and _portable(message.chart)]
    if len(portable) < POOL_FROM:
        return messages
    workers = min(MAX_WORKERS, os.cpu_count() or 1)
    # spawn, not fork: the serving process has threads (Bolt, the scheduler) a fork would copy mid-lock
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        renders = [messages[index].chart.render for index in portable]  # type: ignore[union-attr]
        pngs = list(pool.map(_call, renders, chunksize=max(1, len(renders) // (workers * 4))))
    done = list(messages)
    for index, png in zip(portable, pngs, strict=True):
        chart = messages[index].chart
        assert chart is not None
        done[index] = replace(messages[index], chart=replace(chart, render=partial(_given, png)))
    return done


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
