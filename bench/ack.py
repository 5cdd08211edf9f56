"""Ack latency of ``/kpi report`` against ``kpi-bot serve``, next to a bare Bolt app with a no-op command.

    python bench/ack.py [--concurrency 50] [--requests 1000]

Both servers run as subprocesses on loopback with the demo data loaded (kpi-bot with --no-scheduler, so
that its start-up catch-up does not run during the measurement), their Web API and response_url
pointed at the fake Slack server of the tests; each request is signed like Slack's and asks for one of
4 teams x 8 weeks (32 distinct reports). Prints p50/p99 of the time until the ack (HTTP 200) arrives.
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bot.resources import EXAMPLE_CONFIG  # noqa: E402
from tests.fake_slack import FakeSlack  # noqa: E402
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


def measure(url: str, fake: FakeSlack, *, concurrency: int, requests: int) -> list[float]:
    client = SlackClient(url, SECRET)
    bodies = [
        slash_command_body(
            f"report {TEAMS[i % len(TEAMS)]} {WEEKS[i // len(TEAMS) % len(WEEKS)]}",
            user_id=MANAGER,
            response_url=fake.response_url(f"r{i}"),
        )
        for i in range(requests)
    ]

    def send(body: bytes) -> float:
        started = time.perf_counter()
        reply = client.post(body, content_type=FORM)
        elapsed = time.perf_counter() - started
        if reply.status != 200:
            raise SystemExit(f"unexpected status {reply.status}: {reply.body}")
        return elapsed * 1000

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(send, bodies[: concurrency * 2]))  # warm-up
        return list(pool.map(send, bodies))


def percentile(values: list[float], fraction: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    with FakeSlack() as fake, tempfile.TemporaryDirectory() as folder:
        env = os.environ | {
            "KPI_DATABASE_URL": f"sqlite:///{folder}/bench.db",
            "KPI_CONFIG": str(EXAMPLE_CONFIG),
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_API_URL": fake.base_url,
        }
        subprocess.run([sys.executable, "-m", "bot.cli", "demo"], env=env, check=True, capture_output=True)
        results = {}
        for name, command in (
            ("bare Bolt app", [sys.executable, str(REPO_ROOT / "bench" / "bare_app.py")]),
            (
                "kpi-bot serve",
                [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", "0", "--no-scheduler"],
            ),
        ):
            process, url = start(command, env)
            try:
                fake.reset()
                started = time.perf_counter()
                results[name] = measure(url, fake, concurrency=args.concurrency, requests=args.requests)
                if name == "kpi-bot serve":  # every report must also arrive, through its response_url
                    expected = args.requests + args.concurrency * 2  # with the warm-up's
                    fake.wait_for("response", count=expected, timeout=300)
                    answered = time.perf_counter() - started
            finally:
                process.terminate()
                process.wait(timeout=30)
        print(f"{args.requests} signed /kpi report requests, {args.concurrency} concurrent, ack latency in ms")
        for name, latencies in results.items():
            print(f"  {name:14} p50 {percentile(latencies, 0.5):7.1f}   p99 {percentile(latencies, 0.99):7.1f}")
        bare, real = results["bare Bolt app"], results["kpi-bot serve"]
        print(f"  all {args.requests} reports (and the warm-up's) reached their response_url within {answered:.1f} s")
        print(
            f"  ratio          p50 {percentile(real, 0.5) / percentile(bare, 0.5):7.2f}x  "
            f"p99 {percentile(real, 0.99) / percentile(bare, 0.99):7.2f}x  (target p99 <= 50 ms, <= 2x bare)"
        )


if __name__ == "__main__":
    main()
