"""Alert evaluation at scale: the sweep (first over a backlog, then steady) and the evaluation after one
write, timed and with their SQL statements counted, next to a baseline tree.

    python bench/alerts.py --database-url postgresql://…/bench_alerts
        [--baseline-repo DIR --baseline-database-url postgresql://…/bench_alerts_base] [--runs 3]
        [--no-business-clock]

The data is bench/compute.py's (200 teams, 1,000,000 cases, seeded; generated here when the database
does not hold it). The clock stands at 2026-09-24 08:00 UTC, so about 2,100 alerts are due (open cases of
the last 7 days past their target time, and KPI breaches). Each run, in a fresh process with the alert
and delivery tables emptied: the first sweep (evaluates and posts the whole backlog to the fake Slack
server of the tests), then 3 steady sweeps 30 s apart with no write between them, then 3 writes (an
overdue case recorded for a team, then that write's alert evaluation and posting). The baseline runs the
same steps with the code of ``--baseline-repo`` (an export of the commit before the change, e.g.
``git archive <commit> | tar -x -C DIR``) on its own copy of the data (``createdb -T``: its schema is
older); baseline and new runs alternate. ``--sweep-only`` times only the sweep's evaluation (first,
then 3 steady ones; nothing posted, nothing written), a few seconds a run. The new code also runs with
every case-duration KPI on the business clock and every team on its country's calendar
(``bench_config(business_clock=True)``): case deadlines then come from each team's working time (at
08:00 UTC Shanghai and Kolkata are at work, Berlin and the Americas are not). Prints the min and median
over the runs; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
CLOCK = datetime(2026, 9, 24, 8, 0, tzinfo=UTC)
#: Shanghai, Shanghai and Kolkata: at 08:00 UTC their working day has begun, so a case raised 5 hours
#: before is overdue on the business clock too (4 working hours)
WRITE_TEAMS = ("team_0010", "team_0100", "team_0198")


def child(repo: Path, url: str, business_clock: bool) -> dict[str, Any]:
    """One run with the code of ``repo``; the figures as a dict."""
    sys.path[:0] = [str(repo), str(BENCH)]
    import sqlalchemy as sa
    from common import bench_config

    from bot.settings import Settings
    from bot.wiring import build
    from kpi_core import use_cases
    from tests.factories import Clock
    from tests.fake_slack import FakeSlack

    config = bench_config(200, business_clock=True) if business_clock else bench_config(200)
    clock = Clock(CLOCK)
    with FakeSlack() as fake:
        settings = Settings(SLACK_BOT_TOKEN="xoxb-bench", SLACK_API_URL=fake.base_url, KPI_DATABASE_URL=url)
        process = build(settings, clock=clock, config=config)
        engine = process.services.engine
        forget_the_runs(engine, sa)
        statements = [0]
        sa.event.listen(engine, "before_cursor_execute", lambda *_: statements.__setitem__(0, statements[0] + 1))

        def measured(work: Callable[[], object]) -> tuple[float, int]:
            before = statements[0]
            started = time.perf_counter()
            work()
            return time.perf_counter() - started, statements[0] - before

        figures: dict[str, Any] = {}
        figures["first_evaluation_s"], figures["first_evaluation_statements"] = measured(
            lambda: first_evaluation(process, use_cases)
        )
        if os.environ.get("BENCH_SWEEP_ONLY"):
            # the sweep's evaluation alone (what moved, what the clock made due, the next case timer),
            # with the backlog left unposted: the steady sweep's part that grows with the data
            sweeps = []
            for _ in range(3):
                clock.advance(timedelta(seconds=30))
                sweeps.append(measured(lambda: steady_evaluation(process, use_cases)))
            figures["steady_sweep_s"] = [seconds for seconds, _ in sweeps]
            figures["steady_sweep_statements"] = [count for _, count in sweeps]
            forget_the_runs(engine, sa)
            process.close()
            return figures
        posting_started = time.time()  # the fake Slack stamps each call with time.time()
        figures["first_posting_s"], figures["first_posting_statements"] = measured(process.alerts.flush)
        posts = fake.calls("chat.postMessage")
        figures["first_sweep_posts"] = len(posts)
        # every alert message is out before the first chart (each chart computes its KPI's recent periods)
        figures["first_alerts_out_s"] = max(call.time for call in posts) - posting_started
        figures["first_sweep_charts"] = len(fake.calls("upload"))
        with engine.connect() as connection:
            figures["open_alerts"] = connection.execute(
                sa.text("SELECT count(*) FROM alert WHERE resolved_at IS NULL")
            ).scalar_one()
        steady = []
        for _ in range(3):
            clock.advance(timedelta(seconds=30))
            steady.append(measured(process.alerts.check))
        figures["steady_sweep_s"] = [seconds for seconds, _ in steady]
        figures["steady_sweep_statements"] = [count for _, count in steady]
        writes = []
        for number, team in enumerate(WRITE_TEAMS):
            clock.advance(timedelta(seconds=1))
            use_cases.record_case(
                engine,
                request_key=f"bench:alerts:{time.time_ns()}:{number}",
                team=team,
                kind="after_sales",
                raised_at=clock() - timedelta(hours=5),
                first_response_at=None,
                resolved_at=None,
                user="U0BENCH",
                now=clock(),
            )
            before = len(fake.calls("chat.postMessage"))
            writes.append(measured(lambda team=team: after_write(process, team)))
            # (the old code's check also posts other teams' cases that came due meanwhile)
            assert len(fake.calls("chat.postMessage")) > before, "the write's alert was not posted"
        figures["write_s"] = [seconds for seconds, _ in writes]
        figures["write_statements"] = [count for _, count in writes]
        forget_the_runs(engine, sa)
        process.close()
    return figures


def forget_the_runs(engine: Any, sa: Any) -> None:
    """Empties the alerts and deliveries, and removes the cases the writes added (the data set is
    recognised by its row counts)."""
    written = "SELECT id FROM submission WHERE submitted_by = 'U0BENCH'"
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM alert"))
        connection.execute(sa.text("DELETE FROM delivery"))
        connection.execute(sa.text(f"DELETE FROM customer_case WHERE submission_id IN ({written})"))
        connection.execute(sa.text(f"DELETE FROM submission WHERE id IN ({written})"))


def first_evaluation(process: Any, use_cases: Any) -> None:
    """The first sweep's evaluation over the backlog, without posting (the sweep's own code, split)."""
    services = process.services
    if hasattr(use_cases, "sweep_alerts"):
        _, process.alerts.last_sweep, _ = use_cases.sweep_alerts(
            services.engine, config=services.config, now=services.clock(), last=None
        )
    else:
        use_cases.check_alerts(
            services.engine, config=services.config, teams=list(services.config.teams), now=services.clock()
        )


def steady_evaluation(process: Any, use_cases: Any) -> None:
    services = process.services
    _, process.alerts.last_sweep, _ = use_cases.sweep_alerts(
        services.engine, config=services.config, now=services.clock(), last=process.alerts.last_sweep
    )


def after_write(process: Any, team: str) -> None:
    """What a listener's write costs: the new code's queued evaluation of the write's change (run here,
    synchronously), the old code's check of the team."""
    if hasattr(process.alerts, "evaluate"):
        from kpi_core.alert_sweep import Change

        process.alerts.evaluate([Change(team, case_kinds=frozenset({"after_sales"}))])
    else:
        process.alerts.check(teams=[team])


def prepare(url: str) -> None:
    """Generates bench/compute.py's data set unless the database holds it."""
    sys.path[:0] = [str(BENCH.parent), str(BENCH)]
    from common import bench_config
    from compute import Sizes, analyze, data_is_there, generate

    from kpi_core.db import make_engine, migrate

    engine = make_engine(url)
    migrate(engine)
    sizes = Sizes(teams=200, cases=1_000_000, measures=200_000, responses=200_000, milestones=10_000, seed=20261001)
    if not data_is_there(engine, sizes):
        print("generating the data set (about a minute)", flush=True)
        generate(engine, bench_config(200), sizes)
        analyze(engine)
    engine.dispose()


def run(repo: Path, url: str, business_clock: bool) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, __file__, "--child", str(repo), url, "business" if business_clock else "wall"],
        capture_output=True,
        text=True,
        cwd=repo,
        env=os.environ | {"PYTHONPATH": str(repo)},
    )
    if result.returncode != 0:
        raise SystemExit(f"run with {repo} failed:\n{result.stderr[-3000:]}")
    # the shared machine's load when the run ended (other engineers' tests)
    return dict(json.loads(result.stdout.strip().splitlines()[-1])) | {"load": round(os.getloadavg()[0], 1)}


def summary(name: str, values: Sequence[float], unit: str = "") -> str:
    return f"{name:34} min {min(values):9.3f}{unit}  median {statistics.median(values):9.3f}{unit}"


def main(argv: Sequence[str]) -> None:
    if argv[:1] == ["--child"]:
        print(json.dumps(child(Path(argv[1]), argv[2], argv[3] == "business")))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--baseline-repo", type=Path)
    parser.add_argument("--baseline-database-url")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-business-clock", action="store_true", help="skip the business-clock variant")
    parser.add_argument(
        "--sweep-only", action="store_true", help="time the steady sweep's evaluation only (no posting, no writes)"
    )
    args = parser.parse_args(argv)
    if args.sweep_only:
        os.environ["BENCH_SWEEP_ONLY"] = "1"  # the children inherit it
    prepare(args.database_url)
    variants = {"new": (BENCH.parent, args.database_url, False)}
    if not args.no_business_clock:
        variants["new, business clock"] = (BENCH.parent, args.database_url, True)
    if args.baseline_repo is not None:
        variants = {"baseline": (args.baseline_repo.resolve(), args.baseline_database_url, False)} | variants
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    for number in range(args.runs):
        for name, (repo, url, business_clock) in variants.items():  # interleaved
            results[name].append(run(repo, url, business_clock))
            print(f"run {number + 1} {name}: {json.dumps(results[name][-1])}", flush=True)
    for name, runs in results.items():
        if args.sweep_only:
            print(f"\n{name} ({len(runs)} runs, the sweep's evaluation only)")
            print(summary("first evaluation (s)", [run["first_evaluation_s"] for run in runs]))
            print(summary("steady sweep evaluation (s)", [value for run in runs for value in run["steady_sweep_s"]]))
            print(summary("  its statements", [value for run in runs for value in run["steady_sweep_statements"]]))
            print(summary("load average", [run["load"] for run in runs]))
            continue
        print(f"\n{name} ({len(runs)} runs; {runs[0]['open_alerts']} open alerts after the first sweep)")
        print(summary("first sweep: evaluation (s)", [run["first_evaluation_s"] for run in runs]))
        print(summary("  its statements", [run["first_evaluation_statements"] for run in runs]))
        print(summary("first sweep: alerts out (s)", [run["first_alerts_out_s"] for run in runs]))
        print(summary("first sweep: posting + charts (s)", [run["first_posting_s"] for run in runs]))
        print(summary("  its charts", [run["first_sweep_charts"] for run in runs]))
        print(summary("  its statements", [run["first_posting_statements"] for run in runs]))
        print(summary("  its posts", [run["first_sweep_posts"] for run in runs]))
        print(summary("steady sweep (s)", [value for run in runs for value in run["steady_sweep_s"]]))
        print(summary("  its statements", [value for run in runs for value in run["steady_sweep_statements"]]))
        print(summary("one write's evaluation + post (s)", [value for run in runs for value in run["write_s"]]))
        print(summary("  its statements", [value for run in runs for value in run["write_statements"]]))
        print(summary("load average", [run["load"] for run in runs]))


if __name__ == "__main__":
    main(sys.argv[1:])
