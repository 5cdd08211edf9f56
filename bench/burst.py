"""Write -> alert latency and a burst of requests against `kpi-bot serve` at 200 teams x 1M cases.

    python bench/burst.py --database-url postgresql://…/bench_alerts
        [--baseline-repo DIR --baseline-database-url postgresql://…/bench_alerts_base] [--runs 3]

`kpi-bot serve` runs as a subprocess (its scheduler on, the alert sweep every 30 s as by default) on
bench/compute.py's data (run bench/alerts.py once to generate it), its clock starting at 2026-09-24 08:00
UTC, its Web API and response_url pointed at the fake Slack server of the tests; requests are signed
like Slack's. Once the start-up sweep has posted the backlog (about 2,100 alerts) and Slack has been
quiet for a few seconds, each run measures:

- write -> alert: 3 (``--rounds``) rounds of 20 concurrent submissions of an overdue case (20 teams), each timed from
  sending the modal until the fake Slack receives that case's alert in the team channel;
- the burst: 50 case submissions (50 teams) and 100 `/kpi help` sent at once; how many did not get
  HTTP 200 (Bolt answers 404 to a request no listener acked within 3 s) or no answer within 10 s, and
  when the last of the 50 alerts arrived.

The baseline (``--baseline-repo``, an export of the commit before the change, on its own copy of the
data) runs the same, alternating with the new code. Prints figures only.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "bench")]

from ack import SECRET, start  # noqa: E402
from common import bench_config  # noqa: E402

from tests.fake_slack import FakeSlack  # noqa: E402
from tests.slack_requests import (  # noqa: E402
    FORM,
    SlackClient,
    datetimepicker_value,
    slash_command_body,
    static_select_value,
)

CLOCK = datetime(2026, 9, 24, 8, 0, tzinfo=UTC)
LEAD = "U0LEADSH"  # leads shanghai_ops, berlin_ops and their copies: every team whose index is 0 or 2 mod 4
TEAMS = [team.key for index, team in enumerate(bench_config(200).teams) if index % 4 in (0, 2)]
CONCURRENT_WRITES = 20
BURST_WRITES, BURST_HELPS = 50, 100


class Server:
    """One `kpi-bot serve` of ``repo`` against ``fake``; ``now()`` is its clock (it moves in real time)."""

    def __init__(self, repo: Path, url: str, fake: FakeSlack, config_path: Path) -> None:
        env = os.environ | {
            "PYTHONPATH": str(repo),
            "KPI_DATABASE_URL": url,
            "KPI_CONFIG": str(config_path),
            "KPI_CLOCK_START": CLOCK.isoformat(),
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_API_URL": fake.base_url,
        }
        self.started = time.time()
        command = [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", "0"]
        self.process, url = start(command, env, cwd=repo)  # the repo's own code, not this tree's
        self.client = SlackClient(url, SECRET)
        self.fake = fake
        self.cases = 0

    def now(self) -> float:
        return CLOCK.timestamp() + time.time() - self.started

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # still busy (the old code checks alerts on its listener threads)
            self.process.kill()
            self.process.wait(timeout=30)

    def submit_case(self, team: str) -> tuple[int | str, float]:
        """Submits an overdue case for ``team``; the HTTP status (or "timeout") and when it was sent."""
        self.cases += 1
        sent = time.time()
        try:
            reply = self.client.submit_view(
                callback_id="submit_case",
                values={
                    "team": {"value": static_select_value(team)},
                    "case_kind": {"value": static_select_value("after_sales")},
                    "raised_at": {"value": datetimepicker_value(int(self.now()) - 5 * 3600)},
                },
                user_id=LEAD,
                view_id=f"VBURST{time.time_ns()}{self.cases}",
            )
        except TimeoutError:
            return "timeout", sent
        return reply.status, sent

    def help(self, number: int) -> int | str:
        body = slash_command_body("help", user_id=LEAD, response_url=self.fake.response_url(f"help{number}"))
        try:
            return self.client.post(body, content_type=FORM).status
        except TimeoutError:
            return "timeout"


def wait_until_quiet(fake: FakeSlack, since: float, *, quiet: float = 8.0, timeout: float = 900.0) -> int:
    """Waits until the fake Slack has received no call for ``quiet`` seconds (counted from ``since`` when
    none came): the start-up catch-up and alert sweep are done. Returns the posts so far."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        last = max((call.time for call in fake.calls()), default=since)
        if time.time() - max(last, since) >= quiet:
            return len(fake.calls("chat.postMessage"))
        time.sleep(0.5)
    raise SystemExit("Slack never went quiet: the start-up sweep is still posting")


def alert_times(fake: FakeSlack, sent: dict[str, float], *, timeout: float) -> dict[str, float]:
    """For each team in ``sent``: when the alert of the case it submitted (the one its thank-you DM names)
    reached its channel, waiting up to ``timeout`` seconds for all of them."""
    channels = {team.key: team.channel for team in bench_config(200).teams}
    deadline = time.time() + timeout
    found: dict[str, float] = {}
    while time.time() < deadline and len(found) < len(sent):
        posts = fake.calls("chat.postMessage")
        case_ids = {}
        for call in posts:
            match = re.search(r"(team_\d{4}|shanghai_ops|berlin_ops) #(\d+)", str(call.params.get("text", "")))
            if call.params.get("channel") == LEAD and match and match.group(1) in sent:
                case_ids[match.group(1)] = match.group(2)
        for call in posts:
            text, channel = str(call.params.get("text", "")), call.params.get("channel")
            for team, case_id in case_ids.items():
                if team not in found and channel == channels[team] and re.search(rf"#{case_id}\D", text):
                    found[team] = call.time
        time.sleep(0.05)
    return found


def one_run(repo: Path, url: str, config_path: Path, rounds: int) -> dict[str, Any]:
    clean(url)
    with FakeSlack() as fake:
        server = Server(repo, url, fake, config_path)
        try:
            backlog = wait_until_quiet(fake, server.started)
            latencies: list[float] = []
            missing = 0
            for round_number in range(rounds):
                teams = TEAMS[round_number * CONCURRENT_WRITES : (round_number + 1) * CONCURRENT_WRITES]
                with ThreadPoolExecutor(CONCURRENT_WRITES) as pool:
                    replies = dict(zip(teams, pool.map(server.submit_case, teams), strict=True))
                sent = {team: at for team, (status, at) in replies.items() if status == 200}
                arrived = alert_times(fake, sent, timeout=120)
                latencies += [arrived[team] - sent[team] for team in arrived]
                missing += len(teams) - len(arrived)
                time.sleep(2)
            teams = TEAMS[:BURST_WRITES]
            with ThreadPoolExecutor(BURST_WRITES + BURST_HELPS) as pool:
                writes = [pool.submit(server.submit_case, team) for team in teams]
                helps = [pool.submit(server.help, number) for number in range(BURST_HELPS)]
                write_replies = [future.result() for future in writes]
                help_replies = [future.result() for future in helps]
            burst_start = min(at for _, at in write_replies)
            sent = {team: at for team, (status, at) in zip(teams, write_replies, strict=True) if status == 200}
            arrived = alert_times(fake, sent, timeout=180)
        finally:
            server.stop()
            clean(url)
    statuses = [status for status, _ in write_replies] + help_replies
    return {
        "backlog_posts": backlog,
        "latencies": latencies,
        "missing_alerts": missing,
        "burst_not_200": sum(1 for status in statuses if status not in (200, "timeout")),
        "burst_404": sum(1 for status in statuses if status == 404),
        "burst_timeouts": sum(1 for status in statuses if status == "timeout"),
        "burst_alerts": f"{len(arrived)}/{len(teams)}",
        "burst_last_alert_s": max(arrived.values(), default=burst_start) - burst_start,
    }


def clean(url: str) -> None:
    """Removes what earlier runs submitted through Slack (the data set stays as generated)."""
    engine = sa.create_engine(url)
    written = "SELECT id FROM submission WHERE source = 'slack'"
    alerts = f"SELECT id FROM alert WHERE case_id IN (SELECT id FROM customer_case WHERE submission_id IN ({written}))"
    with engine.begin() as connection:
        subjects = f"SELECT CAST(id AS VARCHAR) FROM ({alerts}) a"
        connection.execute(sa.text(f"DELETE FROM delivery WHERE subject IN ({subjects})"))
        connection.execute(sa.text(f"DELETE FROM alert WHERE id IN ({alerts})"))
        connection.execute(sa.text(f"DELETE FROM customer_case WHERE submission_id IN ({written})"))
        connection.execute(sa.text(f"DELETE FROM audit_entry WHERE submission_id IN ({written})"))
        connection.execute(sa.text(f"DELETE FROM submission WHERE id IN ({written})"))
    engine.dispose()


def percentile(values: Sequence[float], fraction: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--baseline-repo", type=Path)
    parser.add_argument("--baseline-database-url")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of 20 concurrent writes per run")
    args = parser.parse_args(argv)
    variants = {"new": (REPO_ROOT, args.database_url)}
    if args.baseline_repo is not None:
        variants = {"baseline": (args.baseline_repo.resolve(), args.baseline_database_url)} | variants
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    with tempfile.TemporaryDirectory() as folder:
        config_path = Path(folder) / "bench.yaml"
        config = bench_config(200).model_dump(mode="json", exclude_none=True)
        config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        for number in range(args.runs):
            for name, (repo, url) in variants.items():  # interleaved
                result = one_run(repo, url, config_path, args.rounds)
                results[name].append(result)
                latencies = result["latencies"]
                print(
                    f"run {number + 1} {name}: write -> alert p50 {percentile(latencies, 0.5):.2f} s "
                    f"p95 {percentile(latencies, 0.95):.2f} s max {max(latencies):.2f} s "
                    f"({len(latencies)} alerts, {result['missing_alerts']} missing); burst: "
                    f"{result['burst_404']} x 404, {result['burst_timeouts']} timeouts, "
                    f"{result['burst_not_200'] - result['burst_404']} other non-200, alerts {result['burst_alerts']}, "
                    f"last alert {result['burst_last_alert_s']:.1f} s after the burst began",
                    flush=True,
                )
    for name, runs in results.items():
        p50 = [percentile(run["latencies"], 0.5) for run in runs]
        p95 = [percentile(run["latencies"], 0.95) for run in runs]
        last = [run["burst_last_alert_s"] for run in runs]
        print(f"\n{name} ({len(runs)} runs)")
        print(f"  write -> alert p50 (s)   min {min(p50):6.2f}  median {statistics.median(p50):6.2f}")
        print(f"  write -> alert p95 (s)   min {min(p95):6.2f}  median {statistics.median(p95):6.2f}  (target <= 1)")
        not_acked = [run["burst_404"] for run in runs], [run["burst_timeouts"] for run in runs]
        print(f"  burst 404s / timeouts    {not_acked[0]} / {not_acked[1]}")
        print(f"  burst last alert (s)     min {min(last):6.1f}  median {statistics.median(last):6.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
