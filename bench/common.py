"""Shared by the benchmarks: a many-team config built from the example, database URLs, memory figures."""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa

from bot.resources import EXAMPLE_CONFIG
from kpi_core.config import Config, check_consistency, load_config

REPO_ROOT = Path(__file__).resolve().parent.parent
OUT = REPO_ROOT / "bench" / "out"


#: The generated teams cycle through five zones (with and without DST, one half-hour offset), so the
#: aggregates, which query teams in groups sharing a time zone, run one group per zone.
ZONES = ("Asia/Shanghai", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "America/Los_Angeles")
#: Each zone's country, for the business-clock variant's calendars (public holidays from ``holidays``).
COUNTRIES = {"Asia/Shanghai": "CN", "Europe/Berlin": "DE", "America/New_York": "US", "Asia/Kolkata": "IN"}

T = TypeVar("T")


def bench_config(team_count: int, *, business_clock: bool = False) -> Config:
    """The example config with ``team_count`` teams: the example's own four first (their per-team
    targets and thresholds stay valid), then copies of them with new keys spread over ``ZONES``.
    ``business_clock``: every case-duration KPI counts working time, and every team has the calendar of
    its zone's country (09:00-18:00), so case alerts fall due by each team's business clock."""
    example = load_config(EXAMPLE_CONFIG)
    teams = []
    for index in range(team_count):
        template = example.teams[index % len(example.teams)]
        if index < len(example.teams):
            teams.append(template.model_dump())
            continue
        teams.append(
            template.model_dump()
            | {
                "key": f"team_{index:04d}",
                "name": {"en": f"Team {index}", "zh": f"团队 {index}"},
                "channel": f"C{index:08d}",
                "timezone": ZONES[index % len(ZONES)],
            }
        )
    dumped = example.model_dump()
    if business_clock:
        for team in teams:
            team["calendar"] = {"country": COUNTRIES.get(team["timezone"], "US"), "hours": "09:00-18:00"}
        for kpi in dumped["kpis"]:
            if kpi["formula"]["kind"] == "case_duration":
                kpi["formula"]["clock"] = "business"
    # Validated afresh (not model_copy): Config caches its team lookups, which a copy would carry over.
    config = Config.model_validate(dumped | {"teams": teams})
    problems = check_consistency(config)
    if problems:
        raise SystemExit(f"bench config is inconsistent: {problems}")
    return config


def default_url(sqlite_name: str) -> str:
    """$KPI_DATABASE_URL, else a SQLite file under bench/out/."""
    url = os.environ.get("KPI_DATABASE_URL")
    if url:
        return url
    OUT.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{OUT / sqlite_name}"


def peak_rss_mib() -> float:
    """The process's peak resident set so far (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def current_rss_mib() -> float:
    """The resident set right now (Linux /proc; falls back to the peak elsewhere). The kernel updates
    ru_maxrss lazily, so this may read up to a MiB or so above the peak noted at the same moment."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return peak_rss_mib()
    return pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


def timed(function: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def describe_url(url: str) -> str:
    return sa.make_url(url).render_as_string(hide_password=True)


def table(rows: list[tuple[Any, ...]], headers: tuple[str, ...]) -> str:
    """A plain text table, right-aligning everything but the first column."""
    cells = [tuple(str(cell) for cell in headers)] + [tuple(str(cell) for cell in row) for row in rows]
    widths = [max(len(row[column]) for row in cells) for column in range(len(headers))]
    lines = []
    for row in cells:
        parts = [row[0].ljust(widths[0])] + [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(parts))
    return "\n".join(lines)
