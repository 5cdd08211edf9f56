"""Benchmark: every KPI for every team for a quarter (``compute_reports``) next to hand-written raw SQL.

    python bench/compute.py [--database-url URL] [--teams 200] [--cases 1000000] [--measures 200000]
                            [--responses 200000] [--milestones 10000] [--repeat 5] [--profile]

Generates one year of data (2025-10-01 .. 2026-10-01, seeded, so reruns see the same rows; generation is
skipped when the database already holds exactly this data set), runs ANALYZE, then times
``compute_reports`` for 2026-Q3 against a raw DBAPI cursor running the same aggregates as a few GROUP BY
statements. It prints figures only; it asserts nothing about timings. The issue's target on PostgreSQL
(200 teams, 1,000,000 cases, 200,000 measure rows): compute within 1.5x of the raw SQL and under 2 s.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import math
import pstats
import statistics
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import sqlalchemy as sa
from common import OUT, bench_config, default_url, describe_url, table, timed

from kpi_core.config import CaseDurationFormula, Config
from kpi_core.db import make_engine, migrate, transaction
from kpi_core.kpis import TeamReport, compute_reports
from kpi_core.periods import Period

DATA_START = datetime(2025, 10, 1, tzinfo=UTC)
DATA_END = datetime(2026, 10, 1, tzinfo=UTC)  # exclusive: one year, 2026-Q3 is its last quarter
PERIOD = Period.parse("2026-Q3")
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


# --- the raw SQL baseline ----------------------------------------------------------------------------


@dataclass
class RawResults:
    cases: dict[tuple[str, str], tuple[Any, ...]]  # (team, kind) -> count, ended, mean, median, p90, within
    measures: dict[tuple[str, str, str], tuple[float, float, int]]  # (period, team, measure) -> sum, avg, n
    last: dict[tuple[str, str, str], float]  # (period, team, measure) -> latest value
    survey: dict[str, tuple[int, float, int]]  # team -> responses, mean, top answers
    milestones: dict[str, tuple[Any, ...]]  # team -> due, completed, on time, slip, costed, budget, actual


class RawSql:
    """The same aggregates as ``compute_reports`` for the example KPIs, hand-written: one statement per
    kind of data, every team at once (each team's own UTC bounds joined in as a VALUES list)."""

    def __init__(self, config: Config, dialect: str) -> None:
        self.config = config
        self.postgres = dialect == "postgresql"
        self.mark = "%s" if self.postgres else "?"
        self.case_ends = self._case_ends(config)
        self.periods = [("current", PERIOD), ("previous", PERIOD.previous()), ("year_ago", PERIOD.year_ago())]
        self.last_measures = [measure.key for measure in config.measures if measure.aggregate == "last"]
        self.bounds: list[Any] = []
        for team in config.teams:
            start, end = PERIOD.utc_bounds(team.tz)
            self.bounds += [team.key, self._instant(start), self._instant(end)]

    @staticmethod
    def _case_ends(config: Config) -> dict[str, tuple[str, float]]:
        """case kind -> (end column, within hours); the example config asks one duration per case kind."""
        ends: dict[str, tuple[str, float]] = {}
        for kpi in config.kpis:
            formula = kpi.formula
            if isinstance(formula, CaseDurationFormula):
                column = "first_response_at" if formula.until == "first_response" else "resolved_at"
                if formula.case_kind in ends or formula.within_hours is None:
                    raise SystemExit("the raw SQL baseline is written for the example config's case KPIs")
                ends[formula.case_kind] = (column, formula.within_hours)
        return ends

    def _instant(self, value: datetime) -> Any:
        return value if self.postgres else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    def _date(self, value: date) -> Any:
        return value if self.postgres else value.isoformat()

    def _values(self, rows: int, width: int) -> str:
        row = "(" + ", ".join([self.mark] * width) + ")"
        return ", ".join([row] * rows)

    def _hours(self, start: str, end: str) -> str:
        if self.postgres:
            return f"(CAST(EXTRACT(EPOCH FROM ({end} - {start})) AS DOUBLE PRECISION) / 3600.0)"
        return f"(ROUND((julianday({end}) - julianday({start})) * 86400000.0) / 3600000.0)"

    def run(self, connection: Any) -> RawResults:
        cursor = connection.cursor()
        try:
            return RawResults(
                cases=self._cases(cursor),
                measures=self._measures(cursor),
                last=self._last(cursor),
                survey=self._survey(cursor),
                milestones=self._milestones(cursor),
            )
        finally:
            cursor.close()
            connection.rollback()

    def _bounds_cte(self) -> str:
        return f"bounds (team, lo, hi) AS (VALUES {self._values(len(self.config.teams), 3)})"

    def _cases(self, cursor: Any) -> dict[tuple[str, str], tuple[Any, ...]]:
        # Each case kind has its own end event and within-hours limit: one scan serves both kinds.
        end = " ".join(f"WHEN '{kind}' THEN c.{column}" for kind, (column, _) in self.case_ends.items())
        end = f"CASE c.kind {end} END"
        within = " ".join(f"WHEN '{kind}' THEN {hours!r}" for kind, (_, hours) in self.case_ends.items())
        within = f"CASE kind {within} END"
        kinds = ", ".join(f"'{kind}'" for kind in self.case_ends)
        hours_cte = f"""
            hours AS (
                SELECT c.team, c.kind, {self._hours("c.raised_at", end)} AS hours
                FROM bounds b
                JOIN customer_case c ON c.team = b.team AND c.raised_at >= b.lo AND c.raised_at < b.hi
                WHERE c.kind IN ({kinds})
            )"""
        if self.postgres:
            sql = f"""
                WITH {self._bounds_cte()}, {hours_cte}
                SELECT team, kind, count(*), count(hours), avg(hours),
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY hours),
                       percentile_cont(0.9) WITHIN GROUP (ORDER BY hours),
                       count(*) FILTER (WHERE hours <= {within})
                FROM hours GROUP BY team, kind"""
        else:
            sql = f"""
                WITH {self._bounds_cte()}, {hours_cte},
                ranked AS (
                    SELECT team, kind, hours,
                           row_number() OVER (PARTITION BY team, kind ORDER BY hours NULLS LAST) AS rnk,
                           count(hours) OVER (PARTITION BY team, kind) AS n
                    FROM hours
                )
                SELECT team, kind, count(*), count(hours), avg(hours),
                       {self._sqlite_percentile(0.5)}, {self._sqlite_percentile(0.9)},
                       sum(CASE WHEN hours <= {within} THEN 1 ELSE 0 END)
                FROM ranked GROUP BY team, kind"""
        cursor.execute(sql, self.bounds)
        return {(row[0], row[1]): tuple(row[2:]) for row in cursor.fetchall()}

    @staticmethod
    def _sqlite_percentile(fraction: float) -> str:
        """Linear interpolation between the two closest ranks, as percentile_cont does."""
        position = f"((n - 1) * {fraction})"
        lower = f"CAST({position} AS INTEGER)"
        return (
            f"(sum(CASE WHEN rnk = {lower} + 1 THEN hours * (1 - ({position} - {lower})) ELSE 0.0 END)"
            f" + sum(CASE WHEN rnk = {lower} + 2 THEN hours * ({position} - {lower}) ELSE 0.0 END))"
        )

    def _periods_cte(self) -> tuple[str, list[Any]]:
        params: list[Any] = []
        for label, period in self.periods:
            params += [label, self._date(period.start), self._date(period.end)]
        cast = "CAST({} AS DATE)" if self.postgres else "{}"
        row = f"({self.mark}, {cast.format(self.mark)}, {cast.format(self.mark)})"
        return f"periods (label, lo, hi) AS (VALUES {', '.join([row] * len(self.periods))})", params

    def _measures(self, cursor: Any) -> dict[tuple[str, str, str], tuple[float, float, int]]:
        cte, params = self._periods_cte()
        cursor.execute(
            f"""
            WITH {cte}
            SELECT p.label, m.team, m.measure, sum(m.value), avg(m.value), count(*)
            FROM periods p JOIN measure_value m ON m.on_date >= p.lo AND m.on_date < p.hi
            GROUP BY p.label, m.team, m.measure""",
            params,
        )
        return {(row[0], row[1], row[2]): (row[3], row[4], row[5]) for row in cursor.fetchall()}

    def _last(self, cursor: Any) -> dict[tuple[str, str, str], float]:
        cte, params = self._periods_cte()
        measures = ", ".join([self.mark] * len(self.last_measures))
        cursor.execute(
            f"""
            WITH {cte},
            ranked AS (
                SELECT p.label, m.team, m.measure, m.value,
                       row_number() OVER (PARTITION BY p.label, m.team, m.measure
                                          ORDER BY m.on_date DESC, m.id DESC) AS recency
                FROM periods p JOIN measure_value m ON m.on_date >= p.lo AND m.on_date < p.hi
                WHERE m.measure IN ({measures})
            )
            SELECT label, team, measure, value FROM ranked WHERE recency = 1""",
            params + self.last_measures,
        )
        return {(row[0], row[1], row[2]): row[3] for row in cursor.fetchall()}

    def _survey(self, cursor: Any) -> dict[str, tuple[int, float, int]]:
        cursor.execute(
            f"""
            WITH {self._bounds_cte()}
            SELECT s.team, count(*), avg(s.score), sum(CASE WHEN s.score >= 4 THEN 1 ELSE 0 END)
            FROM bounds b
            JOIN survey_response s ON s.team = b.team AND s.submitted_at >= b.lo AND s.submitted_at < b.hi
            GROUP BY s.team""",
            self.bounds,
        )
        return {row[0]: tuple(row[1:]) for row in cursor.fetchall()}

    def _milestones(self, cursor: Any) -> dict[str, tuple[Any, ...]]:
        slip = "(completed_on - due_on)" if self.postgres else "(julianday(completed_on) - julianday(due_on))"
        costed = "actual_cost IS NOT NULL AND budget IS NOT NULL"
        cursor.execute(
            f"""
            SELECT team, count(*), count(completed_on),
                   sum(CASE WHEN completed_on <= due_on THEN 1 ELSE 0 END),
                   sum(CASE WHEN completed_on > due_on THEN {slip} ELSE 0 END),
                   sum(CASE WHEN {costed} THEN 1 ELSE 0 END),
                   sum(CASE WHEN {costed} THEN budget ELSE 0 END),
                   sum(CASE WHEN {costed} THEN actual_cost ELSE 0 END)
            FROM milestone WHERE due_on >= {self.mark} AND due_on < {self.mark}
            GROUP BY team""",
            [self._date(PERIOD.start), self._date(PERIOD.end)],
        )
        return {row[0]: tuple(row[1:]) for row in cursor.fetchall()}


# --- the comparison ----------------------------------------------------------------------------------


def agreement(reports: dict[str, TeamReport], raw: RawResults, config: Config) -> tuple[int, list[str]]:
    """Checks the headline values of the two paths against each other: how many, and which differ."""
    checked = 0
    differences: list[str] = []

    def check(team: str, what: str, ours: Any, theirs: Any) -> None:
        nonlocal checked
        checked += 1
        same = (ours is None and theirs is None) or (
            ours is not None and theirs is not None and math.isclose(float(ours), float(theirs), rel_tol=1e-9)
        )
        if not same:
            differences.append(f"{team} {what}: compute {ours!r}, raw {theirs!r}")

    for team in config.teams:
        results = reports[team.key].results
        for key, kind in (("response_time", "after_sales"), ("feedback_handling", "feedback")):
            row = raw.cases.get((team.key, kind))
            check(team.key, f"{key} cases", results[key].details.get("cases"), row[0] if row else 0)
            check(team.key, f"{key} median", results[key].details.get("median_hours"), row[3] if row else None)
            check(team.key, f"{key} p90", results[key].details.get("p90_hours"), row[4] if row else None)
        survey = raw.survey.get(team.key)
        check(team.key, "csat", results["csat"].value, survey[1] if survey else None)
        sales = raw.measures.get(("current", team.key, "sales"))
        check(team.key, "sales", results["sales"].value, sales[0] if sales else None)
        liabilities = raw.last.get(("current", team.key, "liabilities"))
        assets = raw.last.get(("current", team.key, "assets"))
        ratio = liabilities / assets * 100 if liabilities is not None and assets else None
        check(team.key, "debt_to_asset", results["debt_to_asset"].value, ratio)
        milestones = raw.milestones.get(team.key)
        on_time = milestones[2] / milestones[0] * 100 if milestones else None
        check(team.key, "milestone_on_time", results["milestone_on_time"].value, on_time)
    return checked, differences


def time_both(engine: sa.Engine, config: Config, repeat: int) -> tuple[list[float], list[float], Any]:
    raw_sql = RawSql(config, engine.dialect.name)

    def compute() -> dict[str, TeamReport]:
        with transaction(engine) as session:
            return compute_reports(session, config=config, period=PERIOD)

    def raw() -> RawResults:
        connection = engine.raw_connection()
        try:
            return raw_sql.run(connection)
        finally:
            connection.close()

    first_compute, reports = timed(compute)
    first_raw, raw_results = timed(raw)
    print(f"first run (warm-up, not counted): compute {first_compute:.3f} s, raw SQL {first_raw:.3f} s")
    compute_times, raw_times = [], []
    for _ in range(repeat):  # interleaved, so drift in the machine's load hits both alike
        compute_times.append(timed(compute)[0])
        raw_times.append(timed(raw)[0])
    return compute_times, raw_times, (reports, raw_results)


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
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> None:
    args = parse_args(argv)
    url = args.database_url or default_url("compute.db")
    OUT.mkdir(parents=True, exist_ok=True)
    sizes = Sizes(args.teams, args.cases, args.measures, args.responses, args.milestones, args.seed)
    config = bench_config(sizes.teams)
    engine = make_engine(url)
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

    compute_times, raw_times, (reports, raw_results) = time_both(engine, config, args.repeat)
    checked, differences = agreement(reports, raw_results, config)
    print(f"agreement: {checked} values compared, {len(differences)} differ")
    for line in differences[:10]:
        print(f"  {line}")

    best_c, best_r = min(compute_times), min(raw_times)
    median_c, median_r = statistics.median(compute_times), statistics.median(raw_times)
    print(f"\nover {args.repeat} runs (seconds):")
    print(
        table(
            [
                ("compute_reports", f"{best_c:.3f}", f"{median_c:.3f}"),
                ("raw SQL", f"{best_r:.3f}", f"{median_r:.3f}"),
                ("ratio compute/raw", f"{best_c / best_r:.2f}x", f"{median_c / median_r:.2f}x"),
            ],
            ("", "best", "median"),
        )
    )
    print("runs: compute " + " ".join(f"{t:.3f}" for t in compute_times))
    print("runs: raw     " + " ".join(f"{t:.3f}" for t in raw_times))
    if args.profile:
        profile(engine, config)
    engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1:])
