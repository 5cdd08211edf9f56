"""Portable SQL pieces: durations between timestamps or dates, percentiles with linear interpolation,
and bulk inserts.

SQLite has neither interval arithmetic nor ``percentile_cont``; these constructs compile to the native
form on PostgreSQL and to an equivalent on SQLite, so the aggregation always runs in the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class hours_between(FunctionElement[float]):  # noqa: N801 - reads like the SQL function it renders
    """Hours from the first timestamp to the second, as a float (NULL when either is NULL)."""

    type = sa.Float()
    inherit_cache = True
    name = "hours_between"


@compiles(hours_between, "postgresql")
def _hours_between_postgresql(element: hours_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    # date_part is double precision; EXTRACT returns numeric since PostgreSQL 14, several times slower
    # over a quarter's cases and no more exact once divided into hours.
    return f"(date_part('epoch', {end} - {start}) / 3600.0)"


@compiles(hours_between, "sqlite")
def _hours_between_sqlite(element: hours_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    # julianday() carries ~10 µs of float noise; rounding to whole milliseconds gives exact hours.
    return f"(ROUND((julianday({end}) - julianday({start})) * 86400000.0) / 3600000.0)"


class days_between(FunctionElement[float]):  # noqa: N801
    """Whole days from the first date to the second (NULL when either is NULL)."""

    type = sa.Float()
    inherit_cache = True
    name = "days_between"


@compiles(days_between, "postgresql")
def _days_between_postgresql(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(({end} - {start}) AS DOUBLE PRECISION)"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(julianday({end}) - julianday({start}))"


def interpolated_percentile(
    fraction: float,
    *,
    value: sa.ColumnElement[Any],
    rank: sa.ColumnElement[Any],
    count: sa.ColumnElement[Any],
) -> sa.ColumnElement[float]:
    """An aggregate giving the ``fraction`` percentile of ``value`` from its 1-based ``rank`` among
    ``count`` ranked values (window columns), interpolating linearly between the two closest ranks,
    exactly as numpy's default and PostgreSQL's ``percentile_cont`` do. Unranked rows (rank > count)
    contribute nothing."""
    position = (count - 1) * fraction
    lower = sa.cast(position, sa.Integer)  # positions are >= 0, so truncation is floor
    weight_upper = position - lower
    return sa.func.sum(sa.case((rank == lower + 1, value * (1 - weight_upper)), else_=0.0)) + sa.func.sum(
        sa.case((rank == lower + 2, value * weight_upper), else_=0.0)
    )


def bulk_insert(session: Session, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Inserts ``rows`` (dicts keyed by column, all with the same keys) in the session's transaction; see
    ``bulk_inserter``."""
    with bulk_inserter(session, table) as insert:
        insert(rows)


@contextmanager
def bulk_inserter(session: Session, table: sa.Table) -> Iterator[Callable[[list[dict[str, Any]]], None]]:
    """A function that inserts rows (dicts keyed by column, all with the same keys) in the session's
    transaction, for as long as the block lasts; nothing else may use the session inside it.

    On PostgreSQL with psycopg every row of the block goes into one COPY: an executemany INSERT there
    costs a statement and a round trip per row, which made a 1,000,000-row CSV import take over 30 s, and
    a COPY per batch makes the database wait while the caller prepares the next batch and the caller wait
    while the database stores it; one COPY open across the batches lets both work at once. The COPY
    stores the same values as the INSERT would: each column's bind processing (UTCDateTime's checks) and
    scalar Python default are applied, and a database error surfaces as the same SQLAlchemy exception
    class. Elsewhere each call is an executemany INSERT.
    """
    with ExitStack() as stack:
        copy: Any = None
        fields: list[tuple[str, Any]] = []
        default_values: list[Any] = []

        def insert(rows: list[dict[str, Any]]) -> None:
            nonlocal copy, fields, default_values
            if not rows:
                return
            if copy is None:
                if session.autoflush:
                    session.flush()  # as session.execute would: pending ORM changes reach the database first
                connection = session.connection()
                dialect = connection.dialect
                defaults = _copy_defaults(table, rows[0])
                if dialect.name != "postgresql" or dialect.driver != "psycopg" or defaults is None:
                    session.execute(sa.insert(table), rows)
                    return
                keys = list(rows[0])
                columns = [table.c[key] for key in [*keys, *defaults]]
                processors = [column.type.bind_processor(dialect) or _unchanged for column in columns]
                default_values = [
                    process(value) for process, value in zip(processors[len(keys) :], defaults.values(), strict=True)
                ]
                fields = list(zip(keys, processors, strict=False))  # the row's own keys; defaults follow
                quote = dialect.identifier_preparer
                names = ", ".join(quote.quote(column.name) for column in columns)
                statement = f"COPY {quote.format_table(table)} ({names}) FROM STDIN"
                driver_connection = connection.connection.driver_connection
                assert driver_connection is not None
                stack.enter_context(_as_sqlalchemy_errors(dialect, statement))
                copy = stack.enter_context(stack.enter_context(driver_connection.cursor()).copy(statement))
            with _as_sqlalchemy_errors(session.connection().dialect, "COPY"):
                for row in rows:
                    copy.write_row([process(row[key]) for key, process in fields] + default_values)

        yield insert


@contextmanager
def _as_sqlalchemy_errors(dialect: Any, statement: str) -> Iterator[None]:
    """A driver error reported as the INSERT's error would have been."""
    try:
        yield
    except dialect.loaded_dbapi.Error as error:
        raise sa.exc.DBAPIError.instance(statement, None, error, dialect.loaded_dbapi.Error, dialect=dialect) from error


def _unchanged(value: Any) -> Any:
    return value


def _copy_defaults(table: sa.Table, row: dict[str, Any]) -> dict[str, Any] | None:
    """Scalar Python-side defaults of the columns ``row`` leaves out (an INSERT would send them); None
    when one of them is computed in Python, which only an INSERT does."""
    defaults = {}
    for column in table.columns:
        if column.key in row or column.default is None:
            continue
        if not isinstance(column.default, sa.ColumnDefault) or not column.default.is_scalar:
            return None
        defaults[column.key] = column.default.arg
    return defaults
