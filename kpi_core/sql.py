"""Portable SQL pieces: durations between timestamps or dates, and percentiles with linear interpolation.

SQLite has neither interval arithmetic nor ``percentile_cont``; these constructs compile to the native
form on PostgreSQL and to an equivalent on SQLite, so the aggregation always runs in the database.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
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
    return f"(CAST(EXTRACT(EPOCH FROM ({end} - {start})) AS DOUBLE PRECISION) / 3600.0)"


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
