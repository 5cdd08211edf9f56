"""32 different teams ask for their monthly report at once: ``/kpi report TEAM 2026-09`` against
``kpi-bot serve`` on the compute benchmark's data (200 teams, PostgreSQL).

    python bench/reports.py --database-url postgresql://.../bench_compute_1m [--teams 32] [--runs 3]
                            [--before-repo PATH --before-database-url URL]

Run bench/compute.py on the same database first (it generates the data). Each run starts a fresh server
(nothing cached, no scheduler), sends the signed requests concurrently, and waits until every report has
reached its response_url at the fake Slack server; it prints the time to the first and to the last
answer, then min and median over the runs. ``--before-repo`` (e.g. ``git archive`` of an older commit)
runs the same requests against a server from that checkout, interleaved run by run, on
``--before-database-url`` (a copy of the database at that checkout's schema: ``createdb -T``, then
``kpi_core.db.downgrade``). It asserts nothing about timings.
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


def one_run(env: dict[str, str], fake: FakeSlack, teams: list[str], repo: Path) -> tuple[float, float]:
    command = [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", "0", "--no-scheduler"]
    process, url = start(command, env | {"PYTHONPATH": str(repo)}, cwd=repo)
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
    parser.add_argument("--before-repo", type=Path, help="also run the server from this checkout")
    parser.add_argument("--before-database-url", help="the database for --before-repo")
    args = parser.parse_args()
    servers = {"this tree": (REPO_ROOT, args.database_url)}
    if args.before_repo:
        servers["before"] = (args.before_repo.resolve(), args.before_database_url or args.database_url)
    config = bench_config(args.config_teams)
    teams = [team.key for team in config.teams][-args.teams :]
    with FakeSlack() as fake, tempfile.TemporaryDirectory() as folder:
        config_file = Path(folder) / "config.yaml"
        config_file.write_text(yaml.safe_dump(config.model_dump(mode="json", exclude_none=True), allow_unicode=True))
        env = os.environ | {
            "KPI_CONFIG": str(config_file),
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_API_URL": fake.base_url,
        }
        print(f"database: {describe_url(args.database_url)}; {args.teams} teams ask for {PERIOD} at once")
        firsts: dict[str, list[float]] = {name: [] for name in servers}
        lasts: dict[str, list[float]] = {name: [] for name in servers}
        for number in range(args.runs):
            for name, (repo, url) in servers.items():
                first, last = one_run(env | {"KPI_DATABASE_URL": url}, fake, teams, repo)
                firsts[name].append(first)
                lasts[name].append(last)
                print(f"  run {number + 1}, {name}: first answer after {first:.2f} s, last after {last:.2f} s")
        for name in servers:
            print(
                f"{name}: last answer min {min(lasts[name]):.2f} s, median {statistics.median(lasts[name]):.2f} s "
                f"(first answer min {min(firsts[name]):.2f} s, median {statistics.median(firsts[name]):.2f} s)"
            )


if __name__ == "__main__":
    main()
