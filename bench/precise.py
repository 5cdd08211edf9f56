"""What the shared report cache computes again, as ``serve`` runs it: each team's weekly digest scanning
the anomaly history (kpi_core.anomaly_scan: its week and up to 106 before it, through the cache) and the
month's and quarter's reports; then a submission in week 39 and its withdrawal, each followed by the same
digest work for one team.

    python bench/precise.py --database-url postgresql://.../bench_precise [--teams 200] [--digests 2]
                            [--runs 3] [--before-repo PATH]

Run it on a copy of bench/compute.py's data (``createdb -T bench_compute_1m bench_precise``). Each run is a
fresh process with a fresh cache; with ``--before-repo`` (a checkout of the code before, e.g. ``git worktree
add /tmp/before main``) the same steps run from that code too, interleaved run by run. Prints each step's
time and the KPI data statements it ran, then min and median; asserts nothing about timings. The
submission is withdrawn again in each run, so every run sees the same data.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
STEPS = ("digest scans", "months", "after a write", "after its withdrawal")
DATA_TABLES = ("MEASURE_VALUE", "SURVEY_RESPONSE", "CUSTOMER_CASE", "MILESTONE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--teams", type=int, default=200)
    parser.add_argument("--digests", type=int, default=2, help="teams whose weekly digest scans, one by one")
    parser.add_argument("--week", default="2026-W39")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before-repo", type=Path)
    parser.add_argument("--code", type=Path, help=argparse.SUPPRESS)  # one run, from this checkout
    args = parser.parse_args()
    if args.code:
        print(json.dumps(_one_run(args)))
        return
    codes = {"after": HERE.parent.parent}
    if args.before_repo:
        codes = {"before": args.before_repo.resolve(), **codes}
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in codes}
    for run in range(args.runs):
        for name, code in codes.items():
            command = [sys.executable, str(HERE), *sys.argv[1:], "--code", str(code)]
            env = {**os.environ, "PYTHONPATH": str(code)}
            output = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
            result = json.loads(output.strip().splitlines()[-1])
            results[name].append(result)
            print(f"run {run + 1} {name}: " + ", ".join(f"{step} {result[step][0]:.2f} s" for step in STEPS))
    for name, runs in results.items():
        print(f"\n{name} ({len(runs)} runs): min / median, and the KPI data statements of the last run")
        for step in STEPS:
            seconds = [run[step][0] for run in runs]
            print(f"  {step:22} {min(seconds):7.2f} / {statistics.median(seconds):7.2f} s  {runs[-1][step][1]:6d}")


def _one_run(args: argparse.Namespace) -> dict[str, tuple[float, int]]:
    sys.path.insert(0, str(args.code))
    # an editable install of the other checkout would win over the path: import from ``--code`` only
    editable = [finder for finder in sys.meta_path if getattr(finder, "__module__", "").startswith("__editable__")]
    sys.meta_path[:] = [finder for finder in sys.meta_path if finder not in editable]
    sys.modules.pop("bench", None)
    import sqlalchemy as sa
    from sqlmodel import select

    from bench.common import bench_config
    from kpi_core.anomaly_scan import scan
    from kpi_core.db import make_engine, migrate, transaction
    from kpi_core.models import Submission
    from kpi_core.periods import Period
    from kpi_core.shared_reports import SharedReports
    from kpi_core.store import submit_survey, withdraw_submission

    config = bench_config(args.teams)
    engine = make_engine(args.database_url)
    migrate(engine)
    week = Period.parse(args.week)
    month = Period.parse(f"{week.start:%Y-%m}")
    quarter = Period.parse(f"{week.start.year}-Q{(week.start.month + 2) // 3}")
    teams = [team.key for team in config.teams]
    cache = SharedReports()
    reads = [0]

    def seen(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        text = statement.lstrip().upper()
        reads[0] += text.startswith(("SELECT", "WITH")) and any(table in text for table in DATA_TABLES)

    sa.event.listen(engine, "before_cursor_execute", seen)

    def digest(team: str) -> None:
        scan(engine, config=config, period=week, teams=[team], cache=cache)
        with transaction(engine) as session:
            for period in (month, month.previous(), quarter):
                cache.build(session, config=config, period=period, teams=[team])

    def timed(work: Any) -> tuple[float, int]:
        reads[0] = 0
        start = time.perf_counter()
        work()
        return time.perf_counter() - start, reads[0]

    figures = {"digest scans": timed(lambda: [digest(team) for team in teams[: args.digests]])}
    figures["months"] = timed(lambda: digest(teams[-1]))  # every period is cached by now
    written = week.start.isoformat()

    def write() -> None:
        from datetime import UTC, datetime

        with transaction(engine) as session:
            submit_survey(
                session,
                team=teams[0],
                scores=[1, 2],
                submitted_at=datetime.fromisoformat(f"{written}T12:00:00").replace(tzinfo=UTC),
                user="U0BENCH",
                now=datetime.now(UTC),
            )
        digest(teams[0])

    def withdraw() -> None:
        from datetime import UTC, datetime

        with transaction(engine) as session:
            query = select(Submission).where(Submission.submitted_by == "U0BENCH", Submission.withdrawn_at.is_(None))  # type: ignore[union-attr]
            for submission in session.exec(query).all():
                withdraw_submission(session, submission=submission, user="U0BENCH", now=datetime.now(UTC))
        digest(teams[0])

    figures["after a write"] = timed(write)
    figures["after its withdrawal"] = timed(withdraw)
    return figures


if __name__ == "__main__":
    main()
