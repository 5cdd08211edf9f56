"""32 different teams ask for their monthly report at once: ``/kpi report TEAM 2026-09`` against
``kpi-bot serve`` on the compute benchmark's data (200 teams, PostgreSQL).

    python bench/reports.py --database-url postgresql://.../bench_compute_1m [--teams 32] [--runs 3]

Run bench/compute.py on the same database first (it generates the data). Each run starts a fresh server
(nothing cached, no scheduler), sends the signed requests concurrently, and waits until every report has
reached its response_url at the fake Slack server; it prints the time to the first and to the last
answer, then min and median over the runs. It asserts nothing about timings.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from ack import SECRET, start  # noqa: E402
from common import bench_config, describe_url  # noqa: E402

from tests.fake_slack import Call, FakeSlack  # noqa: E402
from tests.slack_requests import FORM, SlackClient, slash_command_body  # noqa: E402

MANAGER = "U0MANAGER"  # may see every team
PERIOD = "2026-09"


def one_run(env: dict[str, str], fake: FakeSlack, teams: list[str]) -> tuple[float, float]:
    command = [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", "0", "--no-scheduler"]
    process, url = start(command, env)
    try:
        fake.reset()
        client = SlackClient(url, SECRET)
        bodies = [
            slash_command_body(f"report {team} {PERIOD}", user_id=MANAGER, response_url=fake.response_url(team))
            for team in teams
        ]
        started = time.time()

        def send(body: bytes) -> None:
            reply = client.post(body, content_type=FORM)
            if reply.status != 200:
                raise SystemExit(f"unexpected status {reply.status}: {reply.body}")

        with ThreadPoolExecutor(len(bodies)) as pool:
            list(pool.map(send, bodies))
        answers = fake.wait_until(lambda calls: _answered(calls, teams), timeout=300)
        arrivals = sorted(answers.values())
        return arrivals[0] - started, arrivals[-1] - started
    finally:
        process.terminate()
        process.wait(timeout=30)


def _answered(calls: list[Call], teams: list[str]) -> dict[str, float] | None:
    """Each team's first answer through its response_url (a long report comes in parts), once all arrived."""
    first: dict[str, float] = {}
    for call in calls:
        for team in teams:
            if call.path.endswith(f"/{team}") and team not in first:
                first[team] = call.time
    return first if len(first) == len(teams) else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--config-teams", type=int, default=200, help="teams in the config (as bench/compute.py)")
    parser.add_argument("--teams", type=int, default=32, help="how many different teams ask at once")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    config = bench_config(args.config_teams)
    teams = [team.key for team in config.teams][-args.teams :]
    with FakeSlack() as fake, tempfile.TemporaryDirectory() as folder:
        config_file = Path(folder) / "config.yaml"
        config_file.write_text(yaml.safe_dump(config.model_dump(mode="json", exclude_none=True), allow_unicode=True))
        env = os.environ | {
            "KPI_DATABASE_URL": args.database_url,
            "KPI_CONFIG": str(config_file),
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_API_URL": fake.base_url,
        }
        print(f"database: {describe_url(args.database_url)}; {args.teams} teams ask for {PERIOD} at once")
        firsts, lasts = [], []
        for number in range(args.runs):
            first, last = one_run(env, fake, teams)
            firsts.append(first)
            lasts.append(last)
            print(f"  run {number + 1}: first answer after {first:.2f} s, last after {last:.2f} s")
        print(
            f"last answer: min {min(lasts):.2f} s, median {statistics.median(lasts):.2f} s "
            f"(first answer: min {min(firsts):.2f} s, median {statistics.median(firsts):.2f} s)"
        )


if __name__ == "__main__":
    main()
