"""Ack latency of ``/kpi report`` against ``kpi-bot serve``, next to a bare Bolt app with a no-op command.

    python bench/ack.py [--database-url postgresql://.../bench_acks] [--config-teams 200] [--runs 3]
                        [--concurrency 50] [--requests 1000] [--before-repo PATH]

Both servers run as subprocesses on loopback (kpi-bot with --no-scheduler, so that its start-up catch-up
does not run during the measurement), their Web API and response_url pointed at the fake Slack server
of the tests (in a process of its own, bench/fake_process.py, so that receiving the reports does not
slow the measuring client); each request is signed like Slack's and asks for one of 4 teams x 8 weeks (32 distinct
reports). The two servers run interleaved, a fresh process each run (bare, kpi-bot, bare, kpi-bot, ...),
so that both see the same load of a shared machine; prints p50/p99 of the time until the ack (HTTP 200)
arrives for each run, then min and median over the runs and their kpi-bot / bare ratios.

``--before-repo`` (e.g. a ``git worktree`` of an older commit) also runs kpi-bot from that checkout, in
the same interleaving (bare, kpi-bot, before, ...), on the same database.

Without --database-url kpi-bot serves the demo data from a fresh SQLite file. With it, kpi-bot serves
that database with bench/compute.py's many-team config (``--config-teams``): run bench/compute.py on it
first (it generates 200 teams x 1,000,000 cases), or copy its database with ``createdb -T``.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bench.common import bench_config, describe_url  # noqa: E402
from bench.fake_process import FakeSlackProcess  # noqa: E402
from bot.resources import EXAMPLE_CONFIG  # noqa: E402
from tests.slack_requests import FORM, SlackClient, slash_command_body  # noqa: E402

SECRET = "bench-signing-secret"
MANAGER = "U0MANAGER"  # may see every team
TEAMS = ("shanghai_ops", "beijing_service", "berlin_ops", "newyork_delivery")
WEEKS = tuple(f"2026-W{week}" for week in range(32, 40))


def start(command: list[str], env: dict[str, str], *, cwd: Path = REPO_ROOT) -> tuple[subprocess.Popen[str], str]:
    """Starts a server from ``cwd`` (``python -m`` imports from there first) and returns it with its URL."""
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True, cwd=cwd)
    assert process.stderr is not None
    for line in process.stderr:
        match = re.search(r"listening on (http://\S+)", line)
        if match:
            # keep draining its log, or a full pipe would block the server mid-run
            threading.Thread(target=process.stderr.read, daemon=True).start()
            return process, match.group(1)
    raise SystemExit(f"{command} did not start")


def measure(url: str, fake: FakeSlackProcess, *, concurrency: int, requests: int) -> tuple[list[float], int]:
    """The ack latencies (ms) of ``requests`` (after a warm-up of ``concurrency * 2``), and how many of all
    were answered "busy" in their ack (so no report follows through their response_url)."""
    client = SlackClient(url, SECRET)
    bodies = [
        slash_command_body(
            f"report {TEAMS[i % len(TEAMS)]} {WEEKS[i // len(TEAMS) % len(WEEKS)]}",
            user_id=MANAGER,
            response_url=fake.response_url(f"r{i}"),
        )
        for i in range(requests)
    ]

    busy = [0]

    def send(body: bytes) -> float:
        started = time.perf_counter()
        reply = client.post(body, content_type=FORM)
        elapsed = time.perf_counter() - started
        if reply.status != 200:
            raise SystemExit(f"unexpected status {reply.status}: {reply.body}")
        if reply.body:  # the bare app's and an accepted report's ack are empty
            busy[0] += 1
        return elapsed * 1000

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(send, bodies[: concurrency * 2]))  # warm-up
        return list(pool.map(send, bodies)), busy[0]


def percentile(values: list[float], fraction: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


BARE, KPI, BEFORE = "bare Bolt app", "kpi-bot serve", "kpi-bot before"


@dataclass(frozen=True)
class Run:
    p50: float  # ms until the ack
    p99: float
    answered: float | None  # s until every report reached its response_url (kpi-bot only)
    busy: int  # requests answered "busy" in their ack


@contextmanager
def served_data(database_url: str | None, config_teams: int) -> Iterator[dict[str, str]]:
    """The environment naming kpi-bot's database and config: the given database with the bench config,
    or a fresh SQLite file with the demo data."""
    with tempfile.TemporaryDirectory() as folder:
        if database_url is None:
            env = {"KPI_DATABASE_URL": f"sqlite:///{folder}/bench.db", "KPI_CONFIG": str(EXAMPLE_CONFIG)}
            subprocess.run(
                [sys.executable, "-m", "bot.cli", "demo"], env=os.environ | env, check=True, capture_output=True
            )
        else:
            config = bench_config(config_teams)
            config_file = Path(folder) / "config.yaml"
            config_file.write_text(
                yaml.safe_dump(config.model_dump(mode="json", exclude_none=True), allow_unicode=True)
            )
            env = {"KPI_DATABASE_URL": database_url, "KPI_CONFIG": str(config_file)}
        yield env


def one_run(
    name: str,
    command: list[str],
    env: dict[str, str],
    fake: FakeSlackProcess,
    args: argparse.Namespace,
    cwd: Path = REPO_ROOT,
) -> Run:
    process, url = start(command, env, cwd=cwd)
    try:
        fake.reset()
        started = time.perf_counter()
        latencies, busy = measure(url, fake, concurrency=args.concurrency, requests=args.requests)
        answered = None
        if name != BARE:  # every report not refused as busy must also arrive, through its response_url
            expected = args.requests + args.concurrency * 2 - busy  # with the warm-up's
            fake.wait_for("response", count=expected, timeout=600)
            answered = time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=30)
    return Run(percentile(latencies, 0.5), percentile(latencies, 0.99), answered, busy)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file with the demo data")
    parser.add_argument("--config-teams", type=int, default=200, help="teams in the config, with --database-url")
    parser.add_argument("--runs", type=int, default=3, help="runs of each server, interleaved")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--before-repo", type=Path, help="also run kpi-bot from this checkout, interleaved")
    args = parser.parse_args()
    serve = [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", "0", "--no-scheduler"]
    commands = {BARE: ([sys.executable, str(REPO_ROOT / "bench" / "bare_app.py")], REPO_ROOT), KPI: (serve, REPO_ROOT)}
    if args.before_repo:
        commands[BEFORE] = (serve, args.before_repo.resolve())
    with FakeSlackProcess() as fake, served_data(args.database_url, args.config_teams) as data:
        env = (
            os.environ
            | data
            | {
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_BOT_TOKEN": "xoxb-bench",
                "SLACK_API_URL": fake.base_url,
                "KPI_ANSWER_WORKERS": "2",  # the default here; said for a --before-repo whose default was 0
            }
        )
        print(f"kpi-bot's database: {describe_url(data['KPI_DATABASE_URL'])}")
        print(f"{args.requests} signed /kpi report requests per run, {args.concurrency} concurrent, ack latency in ms")
        runs: dict[str, list[Run]] = {name: [] for name in commands}
        for number in range(args.runs):
            for name, (command, cwd) in commands.items():
                run = one_run(name, command, env, fake, args, cwd)
                runs[name].append(run)
                answered = f"; every report answered within {run.answered:.1f} s" if run.answered else ""
                answered += f", {run.busy} answered busy" if run.busy else ""
                load = f"; load average {os.getloadavg()[0]:.1f}"  # the shared machine's other work
                print(f"  run {number + 1}, {name:14} p50 {run.p50:7.1f}   p99 {run.p99:7.1f}{answered}{load}")
            bare = runs[BARE][-1]
            for name in [name for name in commands if name != BARE]:
                real = runs[name][-1]
                ratio = f"p50 {real.p50 / bare.p50:5.2f}x  p99 {real.p99 / bare.p99:5.2f}x"
                print(f"  run {number + 1}, ratio {name:15} {ratio}")
        summary = {}
        for name, measured in runs.items():
            p50s, p99s = [run.p50 for run in measured], [run.p99 for run in measured]
            summary[name] = (min(p50s), statistics.median(p50s), min(p99s), statistics.median(p99s))
            print(
                f"{name:14} p50 min {summary[name][0]:6.1f} / median {summary[name][1]:6.1f}   "
                f"p99 min {summary[name][2]:6.1f} / median {summary[name][3]:6.1f}"
            )
        for name in [name for name in commands if name != BARE]:
            ratios = [real / bare for real, bare in zip(summary[name], summary[BARE], strict=True)]
            print(
                f"ratio {name:15} p50 min {ratios[0]:5.2f}x / median {ratios[1]:5.2f}x   "
                f"p99 min {ratios[2]:5.2f}x / median {ratios[3]:5.2f}x   (target p99 <= 1.2x bare)"
            )


if __name__ == "__main__":
    main()
