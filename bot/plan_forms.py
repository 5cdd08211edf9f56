"""The year plan modals -> validated input, or field errors keyed by block_id (issue 12). Every number goes
through kpi_core.rules like any other form's; what travelled through the client (the modal's metadata, a
button's value) is checked again, since it may have been edited."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.forms import Errors, Localize, State, _Checker
from bot.plan_views import REASON, TOTAL, month_block
from kpi_core.config_schema import Config
from kpi_core.goals import target_bounds
from kpi_core.periods import Period, PeriodKind
from kpi_core.plan_models import REASON_CHARS
from kpi_core.plan_schema import MONTHS, is_additive

#: how far the months may be from the year's total (float sums of typed cents)
ADD_UP_TOLERANCE = 1e-6


@dataclass(frozen=True)
class PlanInput:
    team: str
    kpi: str
    year: int
    total: float
    months: tuple[float, ...]


def plan_year(config: Config, text: str | None, *, team: str, now: datetime) -> int | tuple[str, dict[str, Any]]:
    """The year a plan may be made for: a year label, not over yet in the team's time zone; else the
    string key and parameters of why not."""
    try:
        period = Period.parse(text or "")
    except ValueError:
        period = None
    if period is None or period.kind is not PeriodKind.YEAR:
        return "plans.bad_year", {"text": text or ""}
    current = Period.current(PeriodKind.YEAR, now=now, tz=config.team(team).tz)
    if period.start < current.start:
        return "plans.past_year", {"year": period.label}
    return period.start.year


def plannable(config: Config, kpi: str) -> bool:
    definition = config.kpi_by_key.get(kpi)
    return definition is not None and definition.better != "band"


def parse_plan(
    view: dict[str, Any], *, config: Config, now: datetime, localize: Localize
) -> tuple[PlanInput | None, Errors]:
    state = State(view)
    check = _Checker(state, localize, config)
    team, kpi, year = (state.metadata.get(key) for key in ("team", "kpi", "year"))
    if not (isinstance(team, str) and team in config.team_by_key and isinstance(kpi, str) and plannable(config, kpi)):
        check.errors[TOTAL] = localize("plans.gone")
        return None, check.errors
    checked_year = plan_year(config, str(year) if isinstance(year, int) else None, team=team, now=now)
    if not isinstance(checked_year, int):
        check.errors[TOTAL] = localize("plans.gone")
        return None, check.errors
    definition = config.kpi_by_key[kpi]
    bounds = target_bounds(definition)
    total = check.number(TOTAL, bounds)
    months = [check.number(month_block(number), bounds) for number in range(1, MONTHS + 1)]
    if check.errors or total is None:
        return None, check.errors
    values = tuple(value for value in months if value is not None)
    if is_additive(definition, config.measure_by_key):
        added = math.fsum(values)
        if not math.isclose(added, total, rel_tol=ADD_UP_TOLERANCE, abs_tol=ADD_UP_TOLERANCE):
            check.errors[TOTAL] = localize(
                "plans.months_over" if added > total else "plans.months_short",
                months=_grouped(added),
                total=_grouped(total),
                difference=_grouped(abs(added - total)),
            )
            return None, check.errors
    return PlanInput(team, kpi, checked_year, total, values), {}


def _grouped(value: float) -> str:
    """12,000,000 or 12,820.51: thousands grouped, every cent kept."""
    return f"{value:,.6f}".rstrip("0").rstrip(".")


def parse_reject(view: dict[str, Any], *, localize: Localize) -> tuple[tuple[int, str] | None, Errors]:
    """The proposal the reject modal is for and the reason given."""
    state = State(view)
    check = _Checker(state, localize)
    reason = check.required_text(REASON, maximum=REASON_CHARS)
    plan_id = plan_id_of(state.metadata.get("plan"))
    if plan_id is None:
        check.errors.setdefault(REASON, localize("plans.decided"))
    if check.errors or plan_id is None:
        return None, check.errors
    return (plan_id, reason), {}


def plan_id_of(value: object) -> int | None:
    """The proposal id a button or the reject modal carries; None for anything forged."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value) or None
    return None
