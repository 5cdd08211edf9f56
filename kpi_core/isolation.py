"""One team's bad data must not silence the others: work over many teams runs first as one set-based
statement (fast), and only when that fails on data (an overflowing SUM, a date that cannot convert)
again team by team, each in its own savepoint, so the good teams' results stand and the bad team's
failure is returned as a value. Failures of the database itself (connection lost) are not data and
propagate."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import sqlalchemy as sa
from sqlmodel import Session

from kpi_core.periods import Period

logger = logging.getLogger(__name__)

R = TypeVar("R")

#: What a team's stored data can make a computation raise: PostgreSQL's NumericValueOutOfRange and
#: other SQLSTATE class 22 errors (DataError), Python's OverflowError and friends (ArithmeticError), a
#: value a type cannot hold (ValueError, e.g. a date in year 0).
DATA_ERRORS: tuple[type[Exception], ...] = (sa.exc.DataError, ArithmeticError, ValueError)


@dataclass(frozen=True)
class ComputeFailure:
    """Why a team's figures for a period could not be computed. ``kind`` is stable (it keys the admin
    notice, sent once per kind, team and period); ``detail`` says what was found, in one line."""

    team: str
    period: Period
    kind: str  # "out_of_range" (the database refused the arithmetic) | "not_finite" | "bad_value"
    detail: str


class NotFinite(ArithmeticError):
    """A total or KPI value came out as infinity or NaN (stored inf, or an overflow SQLite lets through)."""

    def __init__(self, *, what: str) -> None:
        super().__init__(f"{what} is not a finite number")


def check_finite(what: str, value: float | None) -> None:
    """Raises NotFinite for inf or NaN: such a number must never reach a ranking or a message."""
    if value is not None and not math.isfinite(value):
        raise NotFinite(what=what)


def failure_of(team: str, period: Period, error: Exception) -> ComputeFailure:
    if isinstance(error, sa.exc.DataError):
        return ComputeFailure(team, period, "out_of_range", _first_line(error))
    return ComputeFailure(
        team, period, "not_finite" if isinstance(error, NotFinite) else "bad_value", _first_line(error)
    )


def per_team(
    session: Session,
    *,
    teams: Sequence[str],
    period: Period,
    run: Callable[[list[str]], dict[str, R]],
) -> tuple[dict[str, R], dict[str, ComputeFailure]]:
    """``run(teams)`` in a savepoint; when it raises a data error, ``run([team])`` for each team in a
    savepoint of its own (on PostgreSQL a failed statement aborts the whole transaction otherwise).
    Returns the results of the teams that worked and the failure of each team that did not."""
    try:
        with session.begin_nested():
            return run(list(teams)), {}
    except DATA_ERRORS as error:
        if len(teams) == 1:
            return {}, {teams[0]: _logged(failure_of(teams[0], period, error))}
        logger.warning(
            "computing %d teams for %s failed (%s); one by one now", len(teams), period.label, _first_line(error)
        )
    results: dict[str, R] = {}
    failures: dict[str, ComputeFailure] = {}
    for team in teams:
        try:
            with session.begin_nested():
                results.update(run([team]))
        except DATA_ERRORS as error:
            failures[team] = _logged(failure_of(team, period, error))
    return results, failures


def _logged(failure: ComputeFailure) -> ComputeFailure:
    logger.error("team=%s period=%s could not be computed: %s", failure.team, failure.period.label, failure.detail)
    return failure


def _first_line(error: Exception) -> str:
    """The driver's message without the SQL statement SQLAlchemy appends to it."""
    message = str(error.orig) if isinstance(error, sa.exc.DBAPIError) else str(error)
    return message.splitlines()[0] if message else type(error).__name__


def unique(failures: Iterable[ComputeFailure]) -> list[ComputeFailure]:
    """Each (team, period, kind) once, in first-seen order."""
    seen: dict[tuple[str, Period, str], ComputeFailure] = {}
    for failure in failures:
        seen.setdefault((failure.team, failure.period, failure.kind), failure)
    return list(seen.values())
