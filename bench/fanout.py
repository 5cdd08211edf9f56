"""Weekly digest fan-out: N teams' digests computed, rendered (text and trend chart) and handed to the
sender, which posts them to the fake Slack server of the tests through the delivery ledger.

    python bench/fanout.py [--teams 500] [--database-url URL] [--no-charts] [--runs 3]

Each run is a fresh process (so that its peak RSS is its own) on the same database; prints the time of
each phase and the peak RSS of every run, then min and median over the runs. Each run ends with its
baseline: as many bare ``chat.postMessage`` calls to the same fake Slack (no ledger, no rendering, no
computing), the floor of posting that many messages on the machine as loaded at that moment. Target (issue 5): 500
teams' digests <= 10 s, peak RSS <= 300 MB. It also prints the part of "compute + render" the "Year to
date vs plan" line takes (kpi_core.plan_progress: up to 21 months of the scorecard's KPIs), and that part
again when the same process builds the digests a second time with no write in between, as the next run
of a long-lived ``serve`` does (the months then come from the shared report cache). On a database that
already holds data (e.g. a copy of bench/compute.py's 200 teams x 1M cases: ``--teams 200``) nothing is
generated.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from slack_sdk import WebClient
from sqlmodel import select

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import bot.digests  # noqa: E402
from bench.common import OUT, bench_config, peak_rss_mib  # noqa: E402
from bench.fake_process import FakeSlackProcess  # noqa: E402
from bot.chart_pool import prerendered  # noqa: E402
from bot.digests import weekly_digests  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.wiring import build  # noqa: E402
from kpi_core.config import Config  # noqa: E402
from kpi_core.db import make_engine, migrate, transaction  # noqa: E402
from kpi_core.models import CustomerCase, Delivery, MeasureValue, SurveyResponse  # noqa: E402
from kpi_core.periods import Period  # noqa: E402
from kpi_core.sql import bulk_insert  # noqa: E402

WEEK = Period.parse("2026-W39")
WEEKS = 12


def generate(engine, config: Config) -> None:  # type: ignore[no-untyped-def]
    """Twelve weeks of weekly measures, cases and survey answers per team (skipped when present)."""
    with transaction(engine) as session:
        if session.exec(select(MeasureValue).limit(1)).first() is not None:
            return
        rng = random.Random(500)
        first = WEEK.start - timedelta(weeks=WEEKS - 1)
        measures, cases, answers = [], [], []
        for team in config.teams:
            for week in range(WEEKS):
                day = first + timedelta(weeks=week, days=2)
                orders = rng.randint(100, 200)
                for measure, value in (
                    ("orders", orders),
                    ("on_time_orders", orders - rng.randint(0, 15)),
                    ("complaints", rng.randint(0, 5)),
                    ("output", rng.uniform(150e3, 200e3)),
                    ("headcount", 35),
                    ("actual_capacity", rng.uniform(700, 950)),
                    ("design_capacity", 1000),
                    ("sales", rng.uniform(180e3, 260e3)),
                ):
                    measures.append({"team": team.key, "measure": measure, "on_date": day, "value": value})
                for _ in range(6):
                    raised = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=rng.uniform(0, 120))
                    cases.append(
                        {
                            "team": team.key,
                            "kind": "after_sales",
                            "raised_at": raised,
                            "first_response_at": raised + timedelta(hours=rng.uniform(0.5, 9)),
                            "resolved_at": None,
                        }
                    )
                    answers.append({"team": team.key, "submitted_at": raised, "score": rng.randint(2, 5)})
        for model, rows in ((MeasureValue, measures), (CustomerCase, cases), (SurveyResponse, answers)):
            bulk_insert(session, model.__table__, rows)  # type: ignore[attr-defined]


def one_run(url: str, config: Config, *, charts: bool) -> dict[str, float]:
    """The digests of every team of ``config`` for WEEK, posted to a fake Slack, then their charts."""
    with transaction(make_engine(url)) as session:  # a fresh run: forget the previous run's deliveries
        session.execute(sa.delete(Delivery))
    clock = datetime(2026, 10, 5, 12, 0, tzinfo=UTC)
    # the fake Slack in a process of its own: it keeps every payload and chart it receives, which Slack
    # keeps on its own servers, not in the bot's memory (before 2026-12-03 it ran in this process and its
    # records counted in the peak RSS)
    with FakeSlackProcess() as fake:
        settings = Settings(KPI_DATABASE_URL=url, KPI_INSTANCE="bench")
        client = WebClient(token="xoxb-bench", base_url=fake.base_url)
        process = build(settings, client=client, clock=lambda: clock, config=config)
        services, sender = process.services, process.sender
        ytd = _timed_year_to_date()
        started = time.perf_counter()
        messages = weekly_digests(services, teams=list(config.teams), period=WEEK, charts=charts)
        built = time.perf_counter()
        outcomes = [sender.send(message, with_chart=False) for message in messages]
        sent = time.perf_counter()
        digests_peak = peak_rss_mib()
        first_ytd = sum(ytd)
        ytd.clear()  # the same digests again, in the same process, no write in between (not timed as a
        # phase: before 2026-12-03 it ran between "built" and "sent", so "hand to sender" included it)
        again_started = time.perf_counter()
        weekly_digests(services, teams=list(config.teams), period=WEEK, charts=False)
        again = time.perf_counter() - again_started
        again_ytd = sum(ytd)
        charts_started = time.perf_counter()
        for message in prerendered(messages):  # as Sender.send_all does: rendered in a process pool
            sender.upload_chart(message)
        charted = time.perf_counter()
        # the baseline, in the same run: as many bare chat.postMessage calls to the same fake Slack,
        # without the ledger, rendering or computing: the floor of posting this many messages here
        for message in messages:
            client.chat_postMessage(channel=message.channel, text=message.text[:100])
        bare = time.perf_counter() - charted
        return {
            "baseline: bare posts": bare,
            "compute + render": built - started,
            "of which year to date": first_ytd,
            "year to date again": again_ytd,
            "hand to sender": sent - built,
            "digests total": sent - started,
            "then trend charts": charted - charts_started,
            "compute + render again": again,
            "peak RSS MiB, digests": digests_peak,
            "peak RSS MiB": peak_rss_mib(),
            "sent": outcomes.count("sent"),
            "posts": fake.count("chat.postMessage"),
            "uploads": fake.count("files.completeUploadExternal"),
        }


def _timed_year_to_date() -> list[float]:
    """Times every call of the digests' year to date (bot.plan_progress_view.progress_of) from now on."""
    spent: list[float] = []
    progress_of = bot.digests.progress_of

    def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return progress_of(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - started)

    bot.digests.progress_of = timed
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teams", type=int, default=500)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--no-charts", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--one-run", action="store_true", help=argparse.SUPPRESS)  # a child: print one run as JSON
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{OUT / f'fanout-{args.teams}.db'}"
    config = bench_config(args.teams)
    if args.one_run:
        print(json.dumps(one_run(url, config, charts=not args.no_charts)))
        return
    engine = make_engine(url)
    migrate(engine)
    generate(engine, config)
    engine.dispose()
    kind = "text only" if args.no_charts else "text, then a trend chart in each thread"
    print(f"{args.teams} teams, digests for {WEEK} ({kind}), {url.split(':')[0]}, {args.runs} runs")
    child = [sys.executable, __file__, "--one-run", "--teams", str(args.teams), "--database-url", url]
    runs = []
    for number in range(args.runs):
        done = subprocess.run(child + (["--no-charts"] if args.no_charts else []), check=True, capture_output=True)
        runs.append(json.loads(done.stdout.decode().strip().splitlines()[-1]))
        figures = runs[-1]
        print(
            f"  run {number + 1}: compute + render {figures['compute + render']:.2f} s (year to date "
            f"{figures['of which year to date']:.2f} s; again in the same process "
            f"{figures['year to date again']:.2f} s), hand to sender "
            f"{figures['hand to sender']:.2f} s ({figures['sent']:.0f} digests sent, {figures['posts']:.0f} posts), "
            f"digests total {figures['digests total']:.2f} s, then charts {figures['then trend charts']:.2f} s "
            f"({figures['uploads']:.0f} uploads), peak RSS {figures['peak RSS MiB, digests']:.0f} MiB after the "
            f"digests, {figures['peak RSS MiB']:.0f} MiB in all; "
            f"baseline: bare posts {figures['baseline: bare posts']:.2f} s; load average {os.getloadavg()[0]:.1f}"
        )
    for name, unit, target in (
        ("compute + render", "s", ""),
        ("of which year to date", "s", ""),
        ("year to date again", "s", "   (served from the shared report cache)"),
        ("compute + render again", "s", ""),
        ("hand to sender", "s", ""),
        ("digests total", "s", "   (target <= 10 s)"),
        ("then trend charts", "s", ""),
        ("baseline: bare posts", "s", ""),
        ("peak RSS MiB, digests", "MiB", "   (up to the digests handed to the sender)"),
        ("peak RSS MiB", "MiB", "   (target <= 300 MB = 286 MiB)"),
    ):
        values = [figures[name] for figures in runs]
        label = name.removesuffix(" MiB")
        print(f"  {label:22} min {min(values):7.2f} {unit:3}  median {statistics.median(values):7.2f} {unit}{target}")


if __name__ == "__main__":
    main()
