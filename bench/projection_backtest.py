"""Back-test of the year-to-date projection (kpi_core/projection.py) on the demo data: at the end of each
month, project the current quarter and the year as the digest would, then compare with what the data
turned out to be. Prints the error per scorecard item, horizon and method; figures only.

    python bench/projection_backtest.py [--database-url URL]

The demo (kpi_core/demo.py) has six months, 2026-04 to 2026-09: no year is complete and there is no last
year, so on it alone only quarter ends can be checked, by run rate. With ``load_demo_history`` (the same
generators, from 2024-01, sales following its SALES_SEASON) 2024 and 2025 are complete: year ends can be
checked, and from 2025 on both methods, on the same cases (seasonal needs last year's twelve months).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, date, datetime

import sqlalchemy as sa
from common import default_url, describe_url, table

from bot.resources import EXAMPLE_CONFIG
from kpi_core.config import Config, load_config
from kpi_core.db import make_engine, migrate, transaction
from kpi_core.demo import DEMO_END, DEMO_START, load_demo_data, load_demo_history
from kpi_core.kpis import KpiResult, compute_reports
from kpi_core.models import MeasureValue
from kpi_core.periods import Period, PeriodKind
from kpi_core.plan_progress import scorecard_items
from kpi_core.plan_schema import is_additive
from kpi_core.projection import combine, months_of, project_item, year_of

HISTORY_SINCE = date(2024, 1, 1)
NOW = datetime(2026, 10, 1, tzinfo=UTC)

Series = dict[Period, KpiResult]  # one team's one KPI, by month
#: (data set, KPI, horizon, method) -> absolute errors, and absolute percentage errors where the outcome is not 0
Errors = dict[tuple[str, str, str, str], list[tuple[float, float | None]]]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=default_url("projection_backtest.db"))
    args = parser.parse_args(argv)
    config = load_config(EXAMPLE_CONFIG)
    engine = make_engine(args.database_url)
    migrate(engine)
    with transaction(engine) as session:
        if session.execute(sa.select(sa.func.count()).select_from(MeasureValue)).scalar_one():
            sys.exit(f"{describe_url(args.database_url)} has data already: give an empty database")
        load_demo_data(session, config=config, now=NOW)
        load_demo_history(session, config=config, now=NOW, since=HISTORY_SINCE)
    months = months_between(HISTORY_SINCE, DEMO_END)
    series = monthly_series(engine, config, months)
    errors: Errors = defaultdict(list)
    for (_team, kpi_key), by_month in series.items():
        demo_only = {month: result for month, result in by_month.items() if month.start >= DEMO_START}
        backtest(config, kpi_key, demo_only, months, "demo only", errors, seasonal=False)
        backtest(config, kpi_key, by_month, months, "with history", errors, seasonal=True)
    print(f"projection back-test: {len(config.teams)} demo teams, {describe_url(args.database_url)}")
    rows = []
    for (data, kpi, horizon, method), found in sorted(errors.items()):
        percentages = [error for _, error in found if error is not None]
        rows.append(
            (
                f"{data}: {kpi}",
                horizon,
                method,
                len(found),
                f"{statistics.fmean(percentages) * 100:.1f} %" if percentages else "-",
                f"{statistics.fmean(error for error, _ in found):,.3g}",
            )
        )
    print(table(rows, ("data: KPI", "horizon", "method", "cases", "MAPE", "MAE")))


def months_between(start: date, end: date) -> list[Period]:
    month, found = Period.containing(PeriodKind.MONTH, start), []
    while month.start < end:
        found.append(month)
        month = month.next()
    return found


def monthly_series(engine: sa.Engine, config: Config, months: list[Period]) -> dict[tuple[str, str], Series]:
    """Every team's scorecard items, month by month, in the team's time zone."""
    keys = [kpi.key for kpi, _ in scorecard_items(config)]
    found: dict[tuple[str, str], Series] = defaultdict(dict)
    with transaction(engine) as session:
        for month in months:
            for team, report in compute_reports(session, config=config, period=month).items():
                for key in keys:
                    found[(team, key)][month] = report.results[key]
    return found


def backtest(
    config: Config,
    kpi_key: str,
    by_month: Mapping[Period, KpiResult],
    months: list[Period],
    data: str,
    errors: Errors,
    *,
    seasonal: bool,
) -> None:
    """At each month end (December's year is complete: nothing to project), each method available on the
    case; a horizon counts when its outcome is in the data and some of it was still to come."""
    kpi = config.kpi_by_key[kpi_key]
    item = next(item for found, item in scorecard_items(config) if found.key == kpi_key)
    additive = is_additive(kpi, config.measure_by_key)
    last = months[-1]
    for as_of in months:
        year = year_of(as_of)
        if as_of.start.month == 12 or not any(month <= as_of and month in by_month for month in months_of(year)):
            continue
        actual = {month: by_month[month] for month in months_of(year) if month <= as_of and month in by_month}
        previous = {month: by_month[month] for month in months_of(year.previous()) if month in by_month}
        has_history = sum(1 for result in previous.values() if result.value is not None) == 12
        if seasonal and not has_history:
            continue  # compare the methods on the same cases only
        methods: dict[str, Mapping[Period, KpiResult]] = {"run_rate": {}}
        if seasonal:
            methods["seasonal"] = previous
        for method, last_year in methods.items():
            projection = project_item(
                config, kpi, item, as_of=as_of, actual=actual, last_year=last_year, plan=_no_plan, tolerance_pct=5
            )
            assert projection.method == method, (kpi_key, as_of, projection.method)
            for horizon, outlook in (("quarter end", projection.quarter), ("year end", projection.year)):
                period = outlook.period
                if period.end > last.end or outlook.method in (None, "actual"):
                    continue
                outcome = combine(kpi, [by_month[m] for m in months_of(period) if m in by_month], additive=additive)
                if outcome is None or outlook.projected is None:
                    continue
                error = abs(outlook.projected - outcome)
                errors[(data, kpi_key, horizon, method)].append((error, error / abs(outcome) if outcome else None))


def _no_plan(period: Period) -> float | None:
    return None  # the error is against the outcome, not the plan


if __name__ == "__main__":
    main()
