"""The "Year to date vs plan" part (kpi_core.plan_progress.year_to_date: up to 21 months of the scorecard's
KPIs) for every team of the config, computed afresh on each call (as before the shared report cache) and
served from a SharedReports cache, both as the CLI's digest asks (all teams at once) and as ``serve``'s
scheduler does (each team's weekly digest job on its own).

    python bench/year_to_date.py --database-url postgresql://.../bench_ytd [--teams 200] [--as-of 2026-08]
                                 [--runs 3]

Run it on a copy of bench/compute.py's data (``createdb -T bench_compute_1m bench_ytd``; it migrates the
copy). Each run builds a fresh cache; the ways are run interleaved, and every way's figures are checked
equal to the uncached ones. Prints the time of each way per run, then min and median; asserts nothing
about timings.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import is_dataclass
from functools import partial
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bench.common import bench_config, describe_url  # noqa: E402
from kpi_core.db import make_engine, migrate, transaction  # noqa: E402
from kpi_core.periods import Period  # noqa: E402
from kpi_core.plan_progress import TeamProgress, year_to_date  # noqa: E402
from kpi_core.shared_reports import SharedReports  # noqa: E402

Progress = dict[str, TeamProgress]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--teams", type=int, default=200)
    parser.add_argument("--as-of", default="2026-08", help="the month the year to date runs to (a digest of W39)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    config = bench_config(args.teams)
    engine = make_engine(args.database_url)
    migrate(engine)
    teams = [team.key for team in config.teams]
    as_of = Period.parse(args.as_of)

    def ytd(keys: list[str], cache: SharedReports | None) -> Progress:
        with transaction(engine) as session:
            return year_to_date(session, config=config, teams=keys, as_of=as_of, cache=cache)

    def at_once(cache: SharedReports | None) -> Progress:
        return ytd(teams, cache)

    def one_by_one(cache: SharedReports | None) -> Progress:
        found: Progress = {}
        for key in teams:
            found |= ytd([key], cache)
        return found

    print(f"database: {describe_url(args.database_url)}; {args.teams} teams' year to date to {as_of}, {args.runs} runs")
    ways: dict[str, Callable[[], Progress]] = {
        "all teams at once, uncached": partial(at_once, None),
        "each team on its own, uncached": partial(one_by_one, None),
    }
    times: dict[str, list[float]] = {}
    for number in range(args.runs):
        # each a fresh process's cache: its first call computes, the next ones read it (all called in this run)
        cache, fresh = SharedReports(), SharedReports()
        run = {
            **ways,
            "all teams at once, cache cold": partial(at_once, cache),
            "all teams at once, again": partial(at_once, cache),
            "each team on its own, cache cold": partial(one_by_one, fresh),
        }
        expected: Progress | None = None
        for name, way in run.items():
            started = time.perf_counter()
            found = way()
            times.setdefault(name, []).append(time.perf_counter() - started)
            expected = expected or found
            _check(found, expected, name)
        print(f"  run {number + 1}: " + ", ".join(f"{name} {spent[-1]:.2f} s" for name, spent in times.items()))
    for name, spent in times.items():
        print(f"  {name:34} min {min(spent):6.2f} s  median {statistics.median(spent):6.2f} s")


def _check(found: Progress, expected: Progress, name: str) -> None:
    """Equal, floats to 1e-9 relative: PostgreSQL adds a group's floats in an order that may change with
    the other teams in the statement (a cost variance differs in its last digit between one team computed
    alone and all teams at once, with or without the cache)."""
    wrong = sorted(team for team in expected if not _same(found.get(team), expected[team]))
    if wrong:
        raise SystemExit(f"{name}: the year to date differs from the uncached one for {wrong[:5]}")


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        return math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-9)
    if is_dataclass(left) and is_dataclass(right) and type(left) is type(right):
        return all(_same(getattr(left, name), getattr(right, name)) for name in left.__dataclass_fields__)
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right, strict=True))
    return bool(left == right)


if __name__ == "__main__":
    main()
