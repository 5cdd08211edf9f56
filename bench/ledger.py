"""The delivery ledger's cost per message on SQLite: a claim and a "sent" mark, each its own transaction,
as bot.sender does around every post (no Slack: the ledger alone).

    python bench/ledger.py [--messages 1000] [--runs 3]

Each run uses a fresh database file under bench/out; prints each run's wall and CPU time, then min and
median. Run it from a copy of the code before a change to compare (the file imports its own tree).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bench.common import OUT  # noqa: E402
from kpi_core import ledger  # noqa: E402
from kpi_core.db import make_engine, migrate  # noqa: E402

NOW = datetime(2026, 10, 5, 12, 0, tzinfo=UTC)


def one_run(messages: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(dir=OUT) as folder:
        engine = make_engine(f"sqlite:///{folder}/ledger.db")
        migrate(engine)
        started, cpu = time.perf_counter(), time.process_time()
        for number in range(messages):
            claim = ledger.claim(
                engine,
                kind="weekly_digest",
                team=f"team_{number:04d}",
                subject="2026-W39",
                owner="bench",
                now=NOW,
                stale_after=timedelta(minutes=5),
            )
            assert claim is not None
            ledger.mark_sent(engine, key=claim.key, now=NOW, channel="C1", ts=f"{number}.000100")
        figures = time.perf_counter() - started, time.process_time() - cpu
        engine.dispose()
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    walls = []
    for number in range(args.runs):
        wall, cpu = one_run(args.messages)
        walls.append(wall)
        print(
            f"  run {number + 1}: {args.messages} claims and marks {wall:.2f} s "
            f"({wall / args.messages * 1000:.2f} ms a message, CPU {cpu:.2f} s); load {os.getloadavg()[0]:.1f}"
        )
    print(f"  min {min(walls):.2f} s  median {statistics.median(walls):.2f} s")


if __name__ == "__main__":
    main()
