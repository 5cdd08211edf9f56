"""Benchmark: every KPI for every team for a quarter (``compute_reports``) next to hand-written raw SQL.

    python bench/compute.py [--database-url URL] [--teams 200] [--cases 1000000] [--measures 200000]
                            [--responses 200000] [--milestones 10000] [--repeat 5] [--profile] [--serial]

Generates one year of data (2025-10-01 .. 2026-10-01, seeded, so reruns see the same rows; generation is
skipped when the database already holds exactly this data set), runs ANALYZE, then times
``compute_reports`` for 2026-Q3 against the hand-written SQL of bench/baseline_sql.py (PostgreSQL only),
run interleaved, and compares every output of the two value by value. It prints figures only; it asserts
nothing about timings. The target on PostgreSQL (200 teams, 1,000,000 cases, 200,000 measure rows):
compute within 1.2x of the baseline, growing linearly from 250,000 to 4,000,000 cases.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import math
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import sqlalchemy as sa
from baseline_sql import Baseline, Outputs
from common import OUT, bench_config, default_url, describe_url, table, timed

from kpi_core.config import Config
from kpi_core.db import make_engine, migrate, transaction
from kpi_core.kpis import TeamReport, compute_reports
from kpi_core.periods import Period

DATA_START = datetime(2025, 10, 1, tzinfo=UTC)
DATA_END = datetime(2026, 10, 1, tzinfo=UTC)  # exclusive: one year, 2026-Q3 is its last quarter
PERIOD = Period.parse("2026-Q3")
T = TypeVar("T")
CHUNK = 100_000
TABLES = ("customer_case", "measure_value", "survey_response", "milestone")


@dataclass(frozen=True)
class Sizes:
    teams: int
    cases: int
    measures: int
    responses: int
    milestones: int
    seed: int

    def signature(self) -> str:
        """Stored as the bench submission's source: equal signature and row counts mean equal data."""
        return (
            f"bench:compute:v1 teams={self.teams} cases={self.cases} measures={self.measures} "
            f"responses={self.responses} milestones={self.milestones} seed={self.seed}"
        )

    def rows(self) -> dict[str, int]:
        return dict(zip(TABLES, (self.cases, self.measures, self.responses, self.milestones), strict=True))


# --- data generation ---------------------------------------------------------------------------------


class Generator:
    """Seeded columns of rows as Python values, in chunks; instants as text in the stored format of the
    dialect (SQLite keeps naive UTC text as SQLAlchemy writes it, PostgreSQL parses ISO with an offset)."""

    def __init__(self, config: Config, sizes: Sizes, *, dialect: str) -> None:
        self.config = config
        self.sizes = sizes
        self.dialect = dialect
        self.teams = np.array([team.key for team in config.teams], dtype=object)
        self.start_s = int(DATA_START.timestamp())
        self.end_s = int(DATA_END.timestamp())
        self.days = (DATA_END - DATA_START).days

    def _rng(self, table_name: str, chunk: int) -> np.random.Generator:
        return np.random.default_rng([self.sizes.seed, TABLES.index(table_name), chunk])

    def _instants(self, seconds: np.ndarray, missing: np.ndarray | None = None) -> list[Any]:
        text = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="us")
        # SQLite: naive UTC text as SQLAlchemy writes it; PostgreSQL: ISO 8601 with the UTC offset.
        text = np.char.replace(text, "T", " ") if self.dialect == "sqlite" else np.char.add(text, "+00")
        values = text.astype(object)
        if missing is not None:
            values[missing] = None
        return values.tolist()

    def _dates(self, day_offsets: np.ndarray, missing: np.ndarray | None = None) -> list[Any]:
        days = np.datetime64(DATA_START.date().isoformat(), "D") + day_offsets
        values = np.datetime_as_string(days, unit="D").astype(object)
        if missing is not None:
            values[missing] = None
        return values.tolist()

    @staticmethod
    def _chunks(total: int) -> Iterator[tuple[int, int]]:
        for index, first in enumerate(range(0, total, CHUNK)):
            yield index, min(CHUNK, total - first)

    def cases(self, submission_id: int) -> Iterator[list[tuple[Any, ...]]]:
        for index, size in self._chunks(self.sizes.cases):
            rng = self._rng("customer_case", index)
            raised = rng.integers(self.start_s, self.end_s, size)
            # Log-normal durations: most answers within hours, a long tail; some cases still open.
            first_hours = np.minimum(rng.lognormal(math.log(3), 1.0, size), 24 * 60)
            resolve_hours = np.minimum(rng.lognormal(math.log(24), 1.0, size), 24 * 90)
            first = raised + np.round(first_hours * 3600).astype(np.int64)
            resolved = first + np.round(resolve_hours * 3600).astype(np.int64)
            unanswered = rng.random(size) < 0.05
            unresolved = unanswered | (rng.random(size) < 0.08)
            yield list(
                zip(
                    self.teams[rng.integers(0, len(self.teams), size)].tolist(),
                    np.where(rng.random(size) < 0.6, "after_sales", "feedback").tolist(),
                    self._instants(raised),
                    self._instants(first, unanswered),
                    self._instants(resolved, unresolved),
                    [submission_id] * size,
                    strict=True,
                )
            )

    def measures(self, submission_id: int) -> Iterator[list[tuple[Any, ...]]]:
        measures = self.config.measures
        integer = np.array([measure.integer for measure in measures])
        for index, size in self._chunks(self.sizes.measures):
            rng = self._rng("measure_value", index)
            which = rng.integers(0, len(measures), size)
            values = np.where(
                integer[which], rng.integers(0, 500, size), np.round(rng.uniform(1e3, 1e6, size), 2)
            ).astype(float)
            yield list(
                zip(
                    self.teams[rng.integers(0, len(self.teams), size)].tolist(),
                    [measures[i].key for i in which.tolist()],
                    self._dates(rng.integers(0, self.days, size)),
                    values.tolist(),
                    [submission_id] * size,
                    strict=True,
                )
            )

    def responses(self, submission_id: int) -> Iterator[list[tuple[Any, ...]]]:
        for index, size in self._chunks(self.sizes.responses):
            rng = self._rng("survey_response", index)
            scores = rng.choice(np.arange(1, 6), size, p=[0.04, 0.06, 0.15, 0.35, 0.40])
            yield list(
                zip(
                    self.teams[rng.integers(0, len(self.teams), size)].tolist(),
                    self._instants(rng.integers(self.start_s, self.end_s, size)),
                    scores.tolist(),
                    [submission_id] * size,
                    strict=True,
                )
            )

    def milestones(self, submission_id: int) -> Iterator[list[tuple[Any, ...]]]:
        for index, size in self._chunks(self.sizes.milestones):
            rng = self._rng("milestone", index)
            due = rng.integers(0, self.days, size)
            completed = due + rng.integers(-10, 21, size)
            budget = np.round(rng.uniform(1e4, 1e6, size), 2)
            actual = np.round(budget * rng.uniform(0.8, 1.3, size), 2)
            uncosted = rng.random(size) < 0.3
            budgets = budget.astype(object)
            actuals = actual.astype(object)
            budgets[uncosted] = None
            actuals[uncosted | (rng.random(size) < 0.2)] = None
            yield list(
                zip(
                    self.teams[rng.integers(0, len(self.teams), size)].tolist(),
                    [f"Project {number % 97}" for number in range(size)],
                    [f"Milestone {number}" for number in range(size)],
                    self._dates(due),
                    self._dates(completed, rng.random(size) < 0.2),
                    budgets.tolist(),
                    actuals.tolist(),
                    [submission_id] * size,
                    strict=True,
                )
            )


COLUMNS = {
    "customer_case": ("team", "kind", "raised_at", "first_response_at", "resolved_at", "submission_id"),
    "measure_value": ("team", "measure", "on_date", "value", "submission_id"),
    "survey_response": ("team", "submitted_at", "score", "submission_id"),
    "milestone": (
        "team",
        "project",
        "name",
        "due_on",
        "completed_on",
        "budget",
        "actual_cost",
        "submission_id",
    ),
}


def data_is_there(engine: sa.Engine, sizes: Sizes) -> bool:
    with engine.connect() as connection:
        marker = connection.execute(
            sa.text("SELECT count(*) FROM submission WHERE kind = 'bench' AND source = :source"),
            {"source": sizes.signature()},
        ).scalar_one()
        if marker != 1:
            return False
        for name, expected in sizes.rows().items():
            if connection.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar_one() != expected:
                return False
    return True


def generate(engine: sa.Engine, config: Config, sizes: Sizes) -> None:
    """Replaces whatever the tables hold with the seeded data set; marks it complete only at the end."""
    dialect = engine.dialect.name
    with engine.begin() as connection:
        if dialect == "postgresql":
            connection.execute(sa.text(f"TRUNCATE {', '.join(TABLES)}, submission RESTART IDENTITY CASCADE"))
        else:
            for name in (*TABLES, "submission"):
                connection.execute(sa.text(f"DELETE FROM {name}"))
        connection.execute(
            sa.text(
                "INSERT INTO submission (kind, source, submitted_by, submitted_at, row_count) "
                "VALUES ('bench', 'bench:compute:incomplete', 'bench', :now, 0)"
            ),
            {"now": "2026-10-01 00:00:00.000000" if dialect == "sqlite" else DATA_END},
        )
        submission_id = connection.execute(sa.text("SELECT id FROM submission")).scalar_one()
    generator = Generator(config, sizes, dialect=dialect)
    sources = {
        "customer_case": generator.cases,
        "measure_value": generator.measures,
        "survey_response": generator.responses,
        "milestone": generator.milestones,
    }
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for name, source in sources.items():
            seconds, _ = timed(lambda name=name, source=source: _load(cursor, dialect, name, source(submission_id)))
            print(f"  generated {sizes.rows()[name]:>9,} {name} rows in {seconds:6.1f} s", flush=True)
        mark = "?" if dialect == "sqlite" else "%s"
        cursor.execute(
            f"UPDATE submission SET source = {mark}, row_count = {mark} WHERE id = {mark}",
            (sizes.signature(), sum(sizes.rows().values()), submission_id),
        )
        raw.commit()
    finally:
        raw.close()
    if dialect == "postgresql":
        # A freshly loaded table has no visibility map yet; production tables are vacuumed by autovacuum.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for name in (*TABLES, "submission"):
                connection.execute(sa.text(f"VACUUM {name}"))


def _load(cursor: Any, dialect: str, name: str, chunks: Iterator[list[tuple[Any, ...]]]) -> None:
    columns = COLUMNS[name]
    if dialect == "postgresql":
        with cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
            for rows in chunks:
                copy.write("".join(_copy_line(row) for row in rows))
        return
    insert = f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    for rows in chunks:
        cursor.executemany(insert, rows)


def _copy_line(row: tuple[Any, ...]) -> str:
    return "\t".join("\\N" if value is None else str(value) for value in row) + "\n"


def analyze(engine: sa.Engine) -> float:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        seconds, _ = timed(lambda: connection.execute(sa.text("ANALYZE")))
    return seconds


def row_counts(engine: sa.Engine, config: Config) -> list[tuple[str, str, str]]:
    """Rows per table, and how many of them fall in the benchmarked quarter (in UTC, roughly)."""
    start, end = PERIOD.utc_bounds(UTC)
    in_period = {
        "customer_case": "raised_at >= :start AND raised_at < :end",
        "measure_value": "on_date >= :start_date AND on_date < :end_date",
        "survey_response": "submitted_at >= :start AND submitted_at < :end",
        "milestone": "due_on >= :start_date AND due_on < :end_date",
    }
    sqlite = engine.dialect.name == "sqlite"
    params = {
        "start": start.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else start,
        "end": end.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else end,
        "start_date": PERIOD.start.isoformat() if sqlite else PERIOD.start,
        "end_date": PERIOD.end.isoformat() if sqlite else PERIOD.end,
    }
    rows = []
    with engine.connect() as connection:
        for name, condition in in_period.items():
            total = connection.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar_one()
            quarter = connection.execute(sa.text(f"SELECT count(*) FROM {name} WHERE {condition}"), params).scalar_one()
            rows.append((name, f"{total:,}", f"{quarter:,}"))
    return rows


# --- the comparison ----------------------------------------------------------------------------------


def agreement(reports: dict[str, TeamReport], baseline: Outputs) -> tuple[int, list[str]]:
    """Every output of the two paths side by side: each team's KPI values, ``n`` and every detail (the
    same detail keys, each value equal). Returns how many values were compared and which differ."""
    checked = 0
    differences: list[str] = []

    def check(where: str, ours: Any, theirs: Any) -> None:
        nonlocal checked
        checked += 1
        same = (ours is None and theirs is None) or (
            ours is not None and theirs is not None and math.isclose(float(ours), float(theirs), rel_tol=1e-9)
        )
        if not same:
            differences.append(f"{where}: compute {ours!r}, baseline {theirs!r}")

    for team, report in reports.items():
        if report.failure is not None:
            differences.append(f"{team}: compute failed ({report.failure.detail})")
            continue
        for key, result in report.results.items():
            value, n, details = baseline[team][key]
            check(f"{team} {key} value", result.value, value)
            check(f"{team} {key} n", result.n, n)
            if set(result.details) != set(details):
                differences.append(
                    f"{team} {key} details: compute {sorted(result.details)}, baseline {sorted(details)}"
                )
            for name in result.details.keys() & details.keys():
                check(f"{team} {key} {name}", result.details[name], details[name])
    return checked, differences


#: CPU seconds of this process and of the database server's process for the connection (PostgreSQL on
#: this machine, read from /proc), noted by the runs when --cpu asks for them
CPU: dict[str, list[float]] = {"compute": [], "baseline": []}


def server_cpu(backend_pid: int) -> float | None:
    """CPU seconds the server process has used so far; None when it is not on this machine."""
    try:
        fields = Path(f"/proc/{backend_pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def cpu_noted(label: str, driver_connection: Any, run: Callable[[], T]) -> T:
    pid = driver_connection.info.backend_pid
    server, client = server_cpu(pid), time.process_time()
    result = run()
    after = server_cpu(pid)
    if server is not None and after is not None:
        CPU[label].append(time.process_time() - client + after - server)
    return result


def time_both(
    engine: sa.Engine, config: Config, repeat: int
) -> tuple[list[float], list[float], dict[str, TeamReport], Outputs | None]:
    """``compute_reports`` and, on PostgreSQL, the baseline, interleaved run by run (so drift in the
    machine's load hits both alike); the first run of each is a warm-up and not counted."""
    baseline = Baseline(config, PERIOD) if engine.dialect.name == "postgresql" else None

    def compute() -> dict[str, TeamReport]:
        with transaction(engine) as session:
            if engine.dialect.name != "postgresql":
                return compute_reports(session, config=config, period=PERIOD)
            driver = session.connection().connection.driver_connection
            return cpu_noted("compute", driver, lambda: compute_reports(session, config=config, period=PERIOD))

    def raw() -> Outputs:
        assert baseline is not None
        connection = engine.raw_connection()
        try:
            return cpu_noted("baseline", connection.driver_connection, lambda: baseline.run(connection))
        finally:
            connection.close()

    first_compute, reports = timed(compute)
    outputs = None
    if baseline is not None:
        first_raw, outputs = timed(raw)
        print(f"first run (warm-up, not counted): compute {first_compute:.3f} s, baseline {first_raw:.3f} s")
    for runs in CPU.values():
        runs.clear()
    compute_times, raw_times = [], []
    for _ in range(repeat):
        compute_times.append(timed(compute)[0])
        if baseline is not None:
            raw_times.append(timed(raw)[0])
    return compute_times, raw_times, reports, outputs


def profile(engine: sa.Engine, config: Config) -> None:
    profiler = cProfile.Profile()
    with transaction(engine) as session:
        profiler.enable()
        compute_reports(session, config=config, period=PERIOD)
        profiler.disable()
    output = io.StringIO()
    pstats.Stats(profiler, stream=output).sort_stats("cumulative").print_stats(30)
    print(output.getvalue())


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None, help="default: $KPI_DATABASE_URL or bench/out/compute.db")
    parser.add_argument("--teams", type=int, default=200)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--measures", type=int, default=200_000)
    parser.add_argument("--responses", type=int, default=200_000)
    parser.add_argument("--milestones", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20261001)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of one compute run")
    parser.add_argument(
        "--serial",
        action="store_true",
        help="PostgreSQL: no parallel workers (max_parallel_workers_per_gather = 0) for both, so that the CPU "
        "figures hold all the work; CPU time, unlike wall time, hardly depends on what else loads the machine",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> None:
    args = parse_args(argv)
    url = args.database_url or default_url("compute.db")
    OUT.mkdir(parents=True, exist_ok=True)
    sizes = Sizes(args.teams, args.cases, args.measures, args.responses, args.milestones, args.seed)
    config = bench_config(sizes.teams)
    engine = make_engine(url)
    if args.serial and engine.dialect.name == "postgresql":

        @sa.event.listens_for(engine, "connect")
        def _serial(connection: Any, _record: Any) -> None:
            with connection.cursor() as cursor:
                cursor.execute("SET max_parallel_workers_per_gather = 0")
            connection.commit()

    zones = len({team.timezone for team in config.teams})
    print(f"database: {describe_url(url)} ({engine.dialect.name})")
    print(f"config: {len(config.teams)} teams in {zones} time zones, {len(config.kpis)} KPIs; period {PERIOD}")
    migrate(engine)
    if data_is_there(engine, sizes):
        print("data: already generated for these sizes, reusing it")
    else:
        print("data: generating")
        seconds, _ = timed(lambda: generate(engine, config, sizes))
        print(f"  done in {seconds:.1f} s")
    print(f"ANALYZE: {analyze(engine):.2f} s")
    print(table(row_counts(engine, config), ("table", "rows", f"in {PERIOD} (UTC)")))

    compute_times, raw_times, reports, outputs = time_both(engine, config, args.repeat)
    rows = [("compute_reports", f"{min(compute_times):.3f}", f"{statistics.median(compute_times):.3f}")]
    if outputs is not None:
        checked, differences = agreement(reports, outputs)
        print(f"agreement: {checked:,} values compared (every team, KPI, n and detail), {len(differences)} differ")
        for line in differences[:10]:
            print(f"  {line}")
        best_c, best_r = min(compute_times), min(raw_times)
        median_c, median_r = statistics.median(compute_times), statistics.median(raw_times)
        rows += [
            ("hand-written SQL", f"{best_r:.3f}", f"{median_r:.3f}"),
            ("ratio", f"{best_c / best_r:.2f}x", f"{median_c / median_r:.2f}x"),
        ]
    if CPU["compute"] and CPU["baseline"]:
        for label, runs in (("CPU: compute_reports", CPU["compute"]), ("CPU: hand-written SQL", CPU["baseline"])):
            rows.append((label, f"{min(runs):.3f}", f"{statistics.median(runs):.3f}"))
        best = min(CPU["compute"]) / min(CPU["baseline"])
        median = statistics.median(CPU["compute"]) / statistics.median(CPU["baseline"])
        rows.append(("CPU ratio", f"{best:.2f}x", f"{median:.2f}x"))
    print(f"\nover {args.repeat} interleaved runs (seconds):")
    print(table(rows, ("", "min", "median")))
    if CPU["compute"]:
        print(
            "CPU: this process's and the database server process's for the connection, added (the parallel "
            "workers a statement starts are not in it: --serial keeps them off)"
        )
    print("runs: compute  " + " ".join(f"{t:.3f}" for t in compute_times))
    if raw_times:
        print("runs: baseline " + " ".join(f"{t:.3f}" for t in raw_times))
    if args.profile:
        profile(engine, config)
    engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1:])
