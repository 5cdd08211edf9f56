"""Benchmark: ``kpi_core.imports.import_csv`` of a large cases CSV: rows/s, wall time, peak memory.

    python bench/import_cases.py [--database-url URL] [--rows 1000000] [--teams 200] [--checkpoint 100000]
                                 [--runs 3] [--keep]

Writes (once; reused while it exists) a seeded CSV of ``--rows`` customer cases under bench/out/ (ISO 8601
times with offsets in each team's zone, a few in UTC with Z, open cases with empty cells), then imports it
the way ``kpi-bot import cases`` does: one ``kpi_core.db.transaction``, committed at the end. While the
import runs, a sampler thread reads how far the importer is into the file (Linux /proc) and notes the
resident and peak memory at every ``--checkpoint`` rows, so a flat line shows that memory does not grow
with the file. The imported rows are deleted after each run (and vacuumed on PostgreSQL, so every run
starts alike) unless --keep, which keeps the last run's. ``--runs`` repeats the import and prints min and
median of the time, rows/s, CPU seconds and resident memory.

Each run also times the baseline, the best plain load of the same rows into the same table with every
check skipped, run in the same run (first in odd runs, second in even ones, so drift in the machine's
load hits both alike): on PostgreSQL psycopg's ``COPY customer_case ... FROM STDIN (FORMAT csv)`` of the
file (the server parses the times), on SQLite ``csv`` + ``datetime.fromisoformat`` + one
``executemany`` INSERT of the rows as SQLAlchemy stores them; one transaction each. The baseline's rows
are then compared with the import's, value by value (every column of every row, as multisets), and
both are deleted. Prints figures, asserts nothing.
Target (issue): 1,000,000 cases under 30 s with flat memory.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from common import OUT, bench_config, current_rss_mib, default_url, describe_url, peak_rss_mib, table

from kpi_core.config import Config
from kpi_core.db import make_engine, migrate, transaction
from kpi_core.imports import import_csv

SEED = 20261001
START = datetime(2025, 10, 1, tzinfo=UTC)
SPAN_SECONDS = 365 * 86400
#: The import's clock: a fixed instant after every generated time (resolutions trail their case by up to
#: months), so that no row is "in the future" whenever the bench runs, and reruns see the same checks.
NOW = START + timedelta(days=2 * 365)


# --- the CSV -----------------------------------------------------------------------------------------


def csv_path(rows: int, teams: int) -> Path:
    return OUT / f"cases_{rows}_{teams}teams_seed{SEED}.csv"


def write_csv(path: Path, rows: int, config: Config) -> None:
    """Streams the rows to disk (memory stays small however many): a tmp file renamed when complete."""
    rng = random.Random(SEED)
    teams = [(team.key, team.tz) for team in config.teams]
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8", newline="") as handle:
        handle.write("team,kind,raised_at,first_response_at,resolved_at\n")
        for _ in range(rows):
            key, zone = teams[rng.randrange(len(teams))]
            raised = START + timedelta(seconds=rng.randrange(SPAN_SECONDS))
            first = raised + timedelta(seconds=round(rng.lognormvariate(9.3, 1.0)))  # median ~3 h
            resolved = first + timedelta(seconds=round(rng.lognormvariate(11.4, 1.0)))  # median ~1 day
            in_utc = rng.random() < 0.05  # a few exports write UTC with Z instead of the local offset
            cells = [
                key,
                "after_sales" if rng.random() < 0.6 else "feedback",
                _stamp(raised, zone, in_utc),
                "" if rng.random() < 0.05 else _stamp(first, zone, in_utc),
                "" if rng.random() < 0.13 else _stamp(resolved, zone, in_utc),
            ]
            if not cells[3]:
                cells[4] = ""  # a case nobody answered is not resolved either
            handle.write(",".join(cells) + "\n")
    partial.replace(path)


def _stamp(instant: datetime, zone: ZoneInfo, in_utc: bool) -> str:
    if in_utc:
        return instant.strftime("%Y-%m-%dT%H:%M:%SZ")
    return instant.astimezone(zone).isoformat()


def line_offsets(path: Path, every: int) -> list[tuple[int, int]]:
    """(rows, byte offset just past that row) for every ``every`` data rows, and the last row."""
    offsets = []
    rows = 0
    position = 0
    with path.open("rb") as handle:
        position = len(handle.readline())  # the header
        for line in handle:
            rows += 1
            position += len(line)
            if rows % every == 0:
                offsets.append((rows, position))
    if not offsets or offsets[-1][0] != rows:
        offsets.append((rows, position))
    return offsets


# --- the sampler -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    rows: int
    seconds: float
    rss_mib: float
    peak_mib: float


class Sampler(threading.Thread):
    """Every few milliseconds: where the importer's handle on ``path`` is, read from /proc/self/fdinfo;
    notes the time and memory when it passes each checkpoint offset (rows read, give or take one buffer)."""

    def __init__(self, path: Path, offsets: list[tuple[int, int]], started: float) -> None:
        super().__init__(daemon=True)
        self.path = path.resolve()
        self.offsets = offsets
        self.pending = list(offsets)
        self.started = started
        self.checkpoints: list[Checkpoint] = []
        self.stop = threading.Event()

    def run(self) -> None:
        descriptor = None
        last = 0
        while not self.stop.wait(0.005):  # until finish(): a later pass may start the checkpoints over
            descriptor = descriptor or self._find_descriptor()
            position = self._position(descriptor) if descriptor else None
            if position is None:
                descriptor = None
                continue
            if position < last:
                # the importer opened the file again: it reads it once to hash it, then to import it, and
                # only the last pass imports, so the checkpoints start over
                self.pending, self.checkpoints = list(self.offsets), []
            last = position
            while self.pending and position >= self.pending[0][1]:
                rows, _ = self.pending.pop(0)
                self._note(rows)

    def finish(self) -> None:
        """Called when import_csv has returned: whatever is left was read since the last sample."""
        self.stop.set()
        self.join()
        for rows, _ in self.pending:
            self._note(rows)
        self.pending = []

    def _note(self, rows: int) -> None:
        seconds = time.perf_counter() - self.started
        self.checkpoints.append(Checkpoint(rows, seconds, current_rss_mib(), peak_rss_mib()))

    def _find_descriptor(self) -> str | None:
        try:
            for name in os.listdir("/proc/self/fd"):
                try:
                    if Path(os.readlink(f"/proc/self/fd/{name}")) == self.path:
                        return name
                except OSError:
                    continue
        except OSError:
            return None
        return None

    @staticmethod
    def _position(descriptor: str) -> int | None:
        try:
            with open(f"/proc/self/fdinfo/{descriptor}") as info:
                for line in info:
                    if line.startswith("pos:"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None


# --- the run -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    submission_id: int
    seconds: float
    rows_per_second: float
    top_rss_mib: float  # the most resident at any checkpoint of this run
    cpu_seconds: float  # this process's (the parsing and checking; the database's own work is not in it)


def run_import(engine: sa.Engine, config: Config, path: Path, offsets: list[tuple[int, int]]) -> Result:
    print(f"memory before the import: {current_rss_mib():.0f} MiB resident, {peak_rss_mib():.0f} MiB peak")
    started = time.perf_counter()
    cpu = time.process_time()
    sampler = Sampler(path, offsets, started)
    sampler.start()
    with transaction(engine) as session:
        summary = import_csv(session, config=config, kind="cases", path=path, submitted_by="bench", now=NOW)
        parsed = time.perf_counter() - started
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    sampler.finish()

    print(
        f"imported {summary.rows:,} rows (submission {summary.submission_id}) in {wall:.1f} s "
        f"= {summary.rows / wall:,.0f} rows/s (commit included; {wall - parsed:.1f} s of it the commit), "
        f"{cpu:.1f} s of this process's CPU"
    )
    print(f"peak RSS: {peak_rss_mib():.0f} MiB")
    print(
        table(
            [
                (f"{point.rows:,}", f"{point.seconds:.1f}", f"{point.rss_mib:.0f}", f"{point.peak_mib:.0f}")
                for point in sampler.checkpoints
            ],
            ("rows read (~)", "seconds", "RSS MiB", "peak RSS MiB"),
        )
    )
    top = max((point.rss_mib for point in sampler.checkpoints), default=current_rss_mib())
    return Result(summary.submission_id, wall, summary.rows / wall, top, cpu)


def delete_import(engine: sa.Engine, submission_id: int) -> None:
    """Removes the imported rows, and on PostgreSQL their dead tuples too, so a rerun starts alike."""
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM customer_case WHERE submission_id = :id"), {"id": submission_id})
        connection.execute(sa.text("DELETE FROM submission WHERE id = :id"), {"id": submission_id})
    vacuum(engine)


def vacuum(engine: sa.Engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM customer_case"))


COLUMNS = ("team", "kind", "raised_at", "first_response_at", "resolved_at")


def baseline_load(engine: sa.Engine, path: Path) -> tuple[float, int]:
    """Seconds the plain load takes, and the id after which its rows (without a submission) start."""
    with engine.connect() as connection:
        mark = connection.execute(sa.text("SELECT coalesce(max(id), 0) FROM customer_case")).scalar_one()
    started = time.perf_counter()
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        if engine.dialect.name == "postgresql":
            statement = f"COPY customer_case ({', '.join(COLUMNS)}) FROM STDIN WITH (FORMAT csv, HEADER)"
            with path.open("rb") as handle, cursor.copy(statement) as copy:
                while block := handle.read(1 << 20):
                    copy.write(block)
        else:
            insert = f"INSERT INTO customer_case ({', '.join(COLUMNS)}) VALUES (?, ?, ?, ?, ?)"
            with path.open(newline="", encoding="utf-8") as handle:
                rows = csv.reader(handle)
                next(rows)
                batch: list[tuple[str | None, ...]] = []
                for team, kind, *times in rows:
                    batch.append((team, kind, *(_sqlite_instant(text) for text in times)))
                    if len(batch) >= 5000:
                        cursor.executemany(insert, batch)
                        batch.clear()
                cursor.executemany(insert, batch)
        connection.commit()
    finally:
        connection.close()
    return time.perf_counter() - started, mark


def _sqlite_instant(text: str) -> str | None:
    """The stored form of an instant on SQLite: naive UTC text as SQLAlchemy's DateTime writes it."""
    if not text:
        return None
    return datetime.fromisoformat(text).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def compare(engine: sa.Engine, submission_id: int, mark: int) -> tuple[int, int, int]:
    """Rows of the import, rows of the baseline, and how many (team, kind, times) rows differ between the
    two, counted with their multiplicity both ways."""
    columns = ", ".join(COLUMNS)
    ours = f"SELECT {columns}, count(*) FROM customer_case WHERE submission_id = :id GROUP BY {columns}"
    theirs = (
        f"SELECT {columns}, count(*) FROM customer_case WHERE id > :mark AND submission_id IS NULL GROUP BY {columns}"
    )
    params = {"id": submission_id, "mark": mark}
    with engine.connect() as connection:
        counted = connection.execute(
            sa.text(
                "SELECT count(*) FILTER (WHERE submission_id = :id), "
                "count(*) FILTER (WHERE id > :mark AND submission_id IS NULL) FROM customer_case"
            )
            if engine.dialect.name == "postgresql"
            else sa.text(
                "SELECT sum(submission_id = :id), sum(id > :mark AND submission_id IS NULL) FROM customer_case"
            ),
            params,
        ).one()
        differ = sum(
            connection.execute(sa.text(f"SELECT count(*) FROM ({a} EXCEPT {b}) AS d"), params).scalar_one()
            for a, b in ((ours, theirs), (theirs, ours))
        )
    return int(counted[0] or 0), int(counted[1] or 0), differ


def delete_baseline(engine: sa.Engine, mark: int) -> None:
    with engine.begin() as connection:
        connection.execute(
            sa.text("DELETE FROM customer_case WHERE id > :mark AND submission_id IS NULL"), {"mark": mark}
        )


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None, help="default: $KPI_DATABASE_URL or bench/out/import.db")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--teams", type=int, default=200)
    parser.add_argument("--checkpoint", type=int, default=100_000, help="note memory every this many rows")
    parser.add_argument("--runs", type=int, default=3, help="imports in a row, each deleted before the next")
    parser.add_argument("--keep", action="store_true", help="keep the last run's rows (default: delete them)")
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> None:
    args = parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    url = args.database_url or default_url("import.db")
    config = bench_config(args.teams)
    path = csv_path(args.rows, args.teams)
    if path.exists():
        print(f"CSV: reusing {path}")
    else:
        started = time.perf_counter()
        write_csv(path, args.rows, config)
        print(f"CSV: wrote {path} in {time.perf_counter() - started:.1f} s")
    print(f"CSV: {args.rows:,} rows, {path.stat().st_size / 2**20:.0f} MiB, {len(config.teams)} teams")
    offsets = line_offsets(path, args.checkpoint)

    engine = make_engine(url)
    print(f"database: {describe_url(url)} ({engine.dialect.name})")
    migrate(engine)
    with engine.connect() as connection:
        before = connection.execute(sa.text("SELECT count(*) FROM customer_case")).scalar_one()
    print(f"customer_case rows already stored: {before:,}")
    results, baselines = [], []
    for number in range(args.runs):
        print(f"\nrun {number + 1} of {args.runs} (load average {os.getloadavg()[0]:.1f})")
        if number % 2 == 0:
            baselines.append(baseline_load(engine, path))
            print(f"baseline (plain load, no checks): {baselines[-1][0]:.1f} s")
        results.append(run_import(engine, config, path, offsets))
        if number % 2 == 1:
            baselines.append(baseline_load(engine, path))
            print(f"baseline (plain load, no checks): {baselines[-1][0]:.1f} s")
        imported, loaded, differ = compare(engine, results[-1].submission_id, baselines[-1][1])
        print(f"cross-check: import {imported:,} rows, baseline {loaded:,} rows, {differ} rows differ")
        delete_baseline(engine, baselines[-1][1])
        if not args.keep or number < args.runs - 1:
            delete_import(engine, results[-1].submission_id)
            print("deleted the imported rows again (--keep keeps the last run's)")
        else:
            vacuum(engine)  # the baseline's rows
    print(f"\n{args.runs} runs, {describe_url(url)}:")
    for label, values, unit, best in (
        ("wall time", [result.seconds for result in results], "s", min),
        ("rows/s", [result.rows_per_second for result in results], "", max),
        ("CPU of the process", [result.cpu_seconds for result in results], "s", min),
        ("RSS at checkpoints", [result.top_rss_mib for result in results], "MiB", min),
    ):
        print(f"  {label:18} best {best(values):10,.1f} {unit:3}  median {statistics.median(values):10,.1f} {unit}")
    ratios = [result.seconds / baseline for result, (baseline, _) in zip(results, baselines, strict=True)]
    seconds = [baseline for baseline, _ in baselines]
    print(f"  baseline           best {min(seconds):10,.1f} s    median {statistics.median(seconds):10,.1f} s")
    print(f"  import / baseline  best {min(ratios):10,.2f} x    median {statistics.median(ratios):10,.2f} x")
    print("  runs: import   " + " ".join(f"{result.seconds:.1f}" for result in results))
    print("  runs: baseline " + " ".join(f"{baseline:.1f}" for baseline in seconds))
    print(f"  peak RSS of the process over all runs: {peak_rss_mib():.0f} MiB")
    engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1:])
