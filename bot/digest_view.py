"""What a digest shows, decided before any template runs: the KPIs of each group with their status and
basis, the KPIs without data folded into one list, and the forms nobody submitted."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from kpi_core.config import Config, Team
from kpi_core.config_schema import CaseDurationFormula, MilestoneFormula, RatioFormula, SurveyFormula
from kpi_core.expressions import names_in
from kpi_core.isolation import ComputeFailure
from kpi_core.kpis import KpiResult
from kpi_core.periods import Period
from kpi_core.reporting import Report


@dataclass(frozen=True)
class Basis:
    """What a value rests on: ``count`` of ``unit`` (a unit key of strings.yaml ``units``, or a config unit)."""

    count: float
    unit: str


@dataclass(frozen=True)
class KpiLine:
    key: str
    result: KpiResult
    status: str  # the result's status, or "breach" for cases still open past their threshold
    previous: float | None
    period: Period
    basis: Basis | None
    open_cases: int
    unverified: bool = False  # the value includes data no verifier has verified yet (marked)


@dataclass(frozen=True)
class GroupView:
    group: str
    period: Period
    lines: list[KpiLine]


@dataclass(frozen=True)
class DigestView:
    team: Team
    period: Period
    groups: list[GroupView]
    not_reported: list[str]  # KPI keys without data
    missing_forms: list[str]  # form keys whose figures are all missing
    failure: ComputeFailure | None = None  # a period that could not be computed: its digest says so instead

    @property
    def has_data(self) -> bool:
        return any(group.lines for group in self.groups)

    @property
    def has_unverified(self) -> bool:
        return any(line.unverified for group in self.groups for line in group.lines)


@dataclass(frozen=True)
class Section:
    """The reports of one period and the KPIs shown from them."""

    report: Report
    previous: Report
    keys: list[str]


def digest_view(
    config: Config,
    team: Team,
    sections: list[Section],
    *,
    now: datetime | None = None,
    unverified: Mapping[Period, Collection[str]] | None = None,
) -> DigestView:
    """The view of ``sections`` (the first one's period names the digest); ``now`` tells open cases that are
    past their threshold (a breach) from those that may still be answered in time (None: never past);
    ``unverified``: per period, the KPIs whose values include data not verified yet."""
    lines: dict[tuple[str, Period], list[KpiLine]] = {}
    not_reported: list[str] = []
    for section in sections:
        period = section.report.period
        for key in section.keys:
            result = section.report.kpis[key]
            open_cases = int(result.details.get("open_cases") or 0)
            status = result.status
            if result.value is None and open_cases and _overdue(result, period, team, now):
                status = "breach"
            if result.value is None and status != "breach":
                not_reported.append(key)
                continue
            before = section.previous.kpis.get(key)  # None when the previous period could not be computed
            previous = before.value if before is not None else None
            basis = basis_of(config, key, result)
            group = config.kpi_by_key[key].group
            marked = key in (unverified or {}).get(period, ())
            lines.setdefault((group, period), []).append(
                KpiLine(key, result, status, previous, period, basis, open_cases, marked)
            )
    order = list(dict.fromkeys([*config.groups, *(kpi.group for kpi in config.kpis)]))
    groups = [
        GroupView(group, period, kpi_lines)
        for (group, period), kpi_lines in sorted(lines.items(), key=lambda item: (order.index(item[0][0]),))
    ]
    return DigestView(
        team=team,
        period=sections[0].report.period,
        groups=groups,
        not_reported=not_reported,
        missing_forms=_missing_forms(config, [line.key for group in groups for line in group.lines], not_reported),
        failure=next((section.report.failure for section in sections if section.report.failure is not None), None),
    )


def basis_of(config: Config, key: str, result: KpiResult) -> Basis | None:
    """The count a value rests on, named: the denominator measure (209 orders), survey responses, cases,
    milestones; None where the record count says nothing (a sum or a growth)."""
    formula = config.kpi_by_key[key].formula
    details = result.details
    if isinstance(formula, RatioFormula):
        measure = config.measure_by_key.get(formula.denominator.strip())
        denominator = details.get("denominator")
        if measure is None or not isinstance(denominator, int | float) or measure.unit in {"CNY", "EUR", "USD"}:
            return None
        return Basis(denominator, measure.unit)
    if isinstance(formula, SurveyFormula):
        return Basis(result.n, "responses")
    if isinstance(formula, CaseDurationFormula):
        return Basis(result.n, "cases")
    if isinstance(formula, MilestoneFormula):
        return Basis(result.n, "milestones")
    return None


def _overdue(result: KpiResult, period: Period, team: Team, now: datetime | None) -> bool:
    """Whether every case left open in ``period`` is past the KPI's limit by ``now``: the youngest was
    raised before the period's end."""
    if now is None:
        return False
    hours = result.details.get("within_hours") or result.threshold or result.target
    if not isinstance(hours, int | float):
        return True  # no limit: open after its period is open too long
    return now - period.utc_bounds(team.tz)[1] >= timedelta(hours=hours)


def _missing_forms(config: Config, reported: list[str], not_reported: list[str]) -> list[str]:
    """Measure and survey forms that feed some KPI without data and none with data."""
    feeds: dict[str, set[str]] = {}
    for form in config.forms:
        if form.kind == "survey":
            feeds[form.key] = {kpi.key for kpi in config.kpis if isinstance(kpi.formula, SurveyFormula)}
        elif form.kind == "measures":
            feeds[form.key] = {
                kpi.key
                for kpi in config.kpis
                if any(set(form.measures) & names_in(expression) for _, expression in kpi.formula.expressions())
            }
    return [form for form, kpis in feeds.items() if kpis & set(not_reported) and not kpis & set(reported)]
