"""Per-team aggregates of measures over one or more periods, in as few statements as the periods allow.

A report reads this period's measures and, for growth, the previous period's and the year-ago period's
(each only the measures its KPIs compare). Those periods do not overlap, so one statement reads them
all, tagging each row with the index of the period its date falls in; a ``last`` measure's latest value
comes from a second statement, again for every period at once. Measures are dated by the calendar, so
no time zone is involved.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session

from kpi_core.config import Config
from kpi_core.models import MeasureValue
from kpi_core.periods import Period

#: team -> measure -> aggregate
Totals = dict[str, dict[str, "MeasureAggregate"]]


@dataclass(frozen=True)
class MeasureAggregate:
    value: float
    rows: int


def measure_aggregates(
    session: Session,
    *,
    config: Config,
    teams: list[str],
    wanted: Mapping[Period, Collection[str] | None],
    person: str | None = None,
) -> dict[Period, Totals]:
    """Each of ``teams``' aggregate of each measure in ``wanted[period]`` (None: every measure) in each
    period, keyed by period, team and measure; with ``person``, of the rows naming that person only. A
    team or measure without rows in a period is absent."""
    result: dict[Period, Totals] = {period: {} for period in wanted}
    asked = {period: measures for period, measures in wanted.items() if measures is None or measures}
    for group in _disjoint(list(asked)):
        _read(session, config, teams, {period: asked[period] for period in group}, person, result)
    return result


def _disjoint(periods: list[Period]) -> list[list[Period]]:
    """The periods in groups of pairwise disjoint ones (one statement each): a date then falls in at most
    one period of its statement. The periods of one report (of one kind, shifted) make a single group."""
    groups: list[list[Period]] = []
    for period in sorted(periods):
        for group in groups:
            if all(period.end <= other.start or other.end <= period.start for other in group):
                group.append(period)
                break
        else:
            groups.append([period])
    return groups


def _read(
    session: Session,
    config: Config,
    teams: list[str],
    wanted: dict[Period, Collection[str] | None],
    person: str | None,
    result: dict[Period, Totals],
) -> None:
    table = MeasureValue.__table__.c  # type: ignore[attr-defined]
    periods = list(wanted)

    def rows_of(selected: Mapping[Period, Collection[str] | None]) -> list[sa.ColumnElement[bool]]:
        """The rows of the periods in ``selected``, each with only its measures (None: all)."""
        return [
            sa.or_(
                *(
                    sa.and_(
                        _team_in(session, table.team, teams),
                        _dated(period),
                        *(() if measures is None else (table.measure.in_(sorted(measures)),)),
                    )
                    for period, measures in selected.items()
                )
            ),
            *(() if person is None else (table.person == person,)),
        ]

    which = sa.case(*((_dated(period), index) for index, period in enumerate(periods))).label("which")
    tagged = sa.select(which, table.team, table.measure, table.value).where(*rows_of(wanted)).subquery("tagged")
    totals = sa.select(
        tagged.c.which,
        tagged.c.team,
        tagged.c.measure,
        sa.func.sum(tagged.c.value),
        sa.func.avg(tagged.c.value),
        sa.func.count(),
    ).group_by(tagged.c.which, tagged.c.team, tagged.c.measure)
    latest: dict[Period, set[str]] = {}
    measures = config.measure_by_key
    for index, team, key, total, mean, count in session.execute(totals):
        measure = measures.get(key)
        if measure is None:
            continue  # data for a measure the config no longer declares
        period = periods[index]
        if measure.aggregate == "last":
            latest.setdefault(period, set()).add(key)
            value = 0.0  # until the latest row is read below
        else:
            value = float(total if measure.aggregate == "sum" else mean)
        result[period].setdefault(team, {})[key] = MeasureAggregate(value, count)
    if latest:
        _read_latest(session, teams, periods, latest, rows_of(latest), result)


def _read_latest(
    session: Session,
    teams: list[str],
    periods: list[Period],
    latest: dict[Period, set[str]],
    where: list[sa.ColumnElement[bool]],
    result: dict[Period, Totals],
) -> None:
    """The value of each ``last`` measure's latest row (by date, then the later row) in its period."""
    table = MeasureValue.__table__.c  # type: ignore[attr-defined]
    which = sa.case(*((_dated(period), periods.index(period)) for period in latest)).label("which")
    tagged = sa.select(which, table.team, table.measure, table.value, table.on_date, table.id).where(*where).subquery()
    ranked = sa.select(
        tagged.c.which,
        tagged.c.team,
        tagged.c.measure,
        tagged.c.value,
        sa.func.row_number()
        .over(
            partition_by=(tagged.c.which, tagged.c.team, tagged.c.measure),
            order_by=(tagged.c.on_date.desc(), tagged.c.id.desc()),
        )
        .label("recency"),
    ).subquery()
    query = sa.select(ranked.c.which, ranked.c.team, ranked.c.measure, ranked.c.value).where(ranked.c.recency == 1)
    for index, team, key, value in session.execute(query):
        totals = result[periods[index]][team]
        totals[key] = MeasureAggregate(float(value), totals[key].rows)


def _dated(period: Period) -> sa.ColumnElement[bool]:
    table = MeasureValue.__table__.c  # type: ignore[attr-defined]
    return sa.and_(table.on_date >= period.start, table.on_date < period.end)


def _team_in(session: Session, column: Any, teams: list[str]) -> sa.ColumnElement[bool]:
    """``column`` is one of ``teams``: on PostgreSQL one array parameter (one statement whatever the
    teams, and cheaper to bind than a parameter per team), elsewhere an IN list."""
    if session.get_bind().dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam("teams", teams, type_=ARRAY(sa.String)))
    return column.in_(teams)
