"""Period close for the Slack listeners, the jobs and the CLI: each call one transaction, permissions
checked (an operator at the command line may do everything)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from kpi_core.close_guard import closed_periods
from kpi_core.close_scoring import ClosedResult
from kpi_core.config_schema import Config
from kpi_core.db import transaction
from kpi_core.errors import PeriodCloseError
from kpi_core.period_close import (
    Revision,
    close_period,
    closed_results,
    current_revision,
    may_close,
    may_reopen,
    reopen_period,
)
from kpi_core.periods import Period


def close(
    engine: sa.Engine, *, config: Config, period_label: str, user: str, now: datetime, operator: bool = False
) -> tuple[Revision, list[ClosedResult]]:
    """Closes the period (PeriodCloseError says why not); returns its new revision and frozen results."""
    if not operator and not may_close(config, user):
        raise PeriodCloseError("only management and admins may close a period", period=period_label)
    period = Period.parse(period_label)
    with transaction(engine) as session:
        results = close_period(session, config=config, period=period, by=user, now=now)
        revision = current_revision(session, period.label)
    assert revision is not None  # just closed
    return revision, results


def reopen(
    engine: sa.Engine,
    *,
    config: Config,
    period_label: str,
    reason: str,
    user: str,
    now: datetime,
    operator: bool = False,
) -> Revision:
    if not operator and not may_reopen(config, user):
        raise PeriodCloseError("only admins may reopen a period", period=period_label)
    label = Period.parse(period_label).label
    with transaction(engine) as session:
        return reopen_period(session, period_label=label, reason=reason, by=user, now=now)


def frozen(engine: sa.Engine, *, period_label: str) -> tuple[Revision, list[ClosedResult]] | None:
    """The closed period's revision and results; None while it is open."""
    with transaction(engine) as session:
        revision = current_revision(session, period_label)
        results = closed_results(session, period_label)
    if revision is None or results is None:
        return None
    return revision, results


def closed_labels(engine: sa.Engine) -> list[str]:
    with transaction(engine) as session:
        return [period.label for period in closed_periods(session)]
