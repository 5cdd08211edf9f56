"""Threshold alerts: when a KPI crosses into breach, and when it recovers (past a margin, so it does not
flap); and per case, when a case reaches its target time without a response. One open alert per team
and KPI, and per case and KPI, at a time, enforced by partial unique indexes."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from kpi_core.case_deadlines import CASE_LOOKBACK as CASE_LOOKBACK  # where the alert tests know it from
from kpi_core.case_deadlines import case_deadline, case_hours, lookback, next_business_deadline
from kpi_core.config import CaseDurationFormula, Config, Kpi, Team
from kpi_core.isolation import ComputeFailure, per_team
from kpi_core.kpis import compute_reports
from kpi_core.models import Alert, CustomerCase, UTCDateTime
from kpi_core.periods import Period, PeriodKind

#: A recovery resolved longer ago than this is not posted any more (nor looked for).
RECENT = timedelta(days=7)
#: Business-clock cases found overdue are opened this many per statement (a bound on its parameters).
OPEN_BATCH = 5000


@dataclass(frozen=True)
class Transition:
    change: Literal["breach", "recovered"]
    alert: Alert


@dataclass
class Evaluation:
    """What a sweep changed, and the teams it could not evaluate (the others were evaluated)."""

    transitions: list[Transition] = field(default_factory=list)
    failures: list[ComputeFailure] = field(default_factory=list)

    def __iadd__(self, other: Evaluation) -> Evaluation:
        self.transitions += other.transitions
        self.failures += other.failures
        return self


def is_breach(kpi: Kpi, value: float, threshold: float) -> bool:
    return value < threshold if kpi.better == "higher" else value > threshold


def has_recovered(kpi: Kpi, value: float, threshold: float, margin: float) -> bool:
    """Back on the good side of the threshold by at least ``margin``."""
    return value >= threshold + margin if kpi.better == "higher" else value <= threshold - margin


def in_quiet_hours(team: Team, now: datetime) -> bool:
    return team.quiet_hours is not None and team.quiet_hours.contains(now.astimezone(team.tz).time())


def open_alerts(session: Session, *, team: str | None = None) -> list[Alert]:
    query = select(Alert).where(col(Alert.resolved_at).is_(None))
    if team is not None:
        query = query.where(Alert.team == team)
    return list(session.exec(query.order_by(col(Alert.id))))


def _insert(session: Session) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (PostgreSQL and SQLite)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def _open_all(session: Session, alerts: list[Alert]) -> list[Alert]:
    """Inserts the alerts in one statement; one open already (opened by another process meanwhile) is
    skipped by ON CONFLICT DO NOTHING on the open-alert indexes. Returns those inserted, with their ids."""
    if not alerts:
        return []
    table = Alert.__table__  # type: ignore[attr-defined]
    statement = (
        _insert(session)(table)
        .values([alert.model_dump(exclude={"id"}) for alert in alerts])
        .on_conflict_do_nothing()
        .returning(table.c.id, table.c.team, table.c.kpi, table.c.case_id)
    )
    ids = {(team, kpi, case_id): key for key, team, kpi, case_id in session.execute(statement)}
    opened = []
    for alert in alerts:
        alert.id = ids.get((alert.team, alert.kpi, alert.case_id))
        if alert.id is not None:
            opened.append(alert)
    return opened


def evaluate_kpis(
    session: Session, *, config: Config, teams: list[Team], now: datetime, kpis: Collection[str] | None = None
) -> Evaluation:
    """Opens or resolves the teams' KPI alerts from each team's current-period values (only those of
    ``kpis`` when given: the ones a write can have changed); a team whose values cannot be computed is
    skipped and returned as a failure."""
    watched = [kpi for kpi in config.kpis if kpi.alert is not None and (kpis is None or kpi.key in kpis)]
    evaluation = Evaluation()
    if not watched or not teams:
        return evaluation
    current = {
        (alert.team, alert.kpi): alert
        for alert in session.exec(
            select(Alert).where(
                col(Alert.resolved_at).is_(None),
                col(Alert.case_id).is_(None),
                col(Alert.team).in_([team.key for team in teams]),
            )
        )
    }
    steps: list[Transition] = []  # in order; the breaches' alerts are inserted at the end, in one statement
    for kind in sorted({kpi.alert.period for kpi in watched if kpi.alert}):
        of_kind = [kpi for kpi in watched if kpi.alert and kpi.alert.period == kind]
        # only these KPIs are computed: the others' figures would be thrown away (a copy shares the rest)
        narrowed = config.model_copy(update={"kpis": of_kind})
        by_period: dict[Period, list[Team]] = {}
        for team in teams:
            by_period.setdefault(Period.current(kind, now=now, tz=team.tz), []).append(team)
        for period, group in by_period.items():
            reports = compute_reports(session, config=narrowed, period=period, teams=[team.key for team in group])
            for team in group:
                report = reports[team.key]
                if report.failure is not None:
                    evaluation.failures.append(report.failure)
                    continue
                for kpi in of_kind:
                    step = _step(session, kpi, team, report.results[kpi.key].value, current, now)
                    if step is not None:
                        steps.append(step)
    opened = {id(alert) for alert in _open_all(session, [step.alert for step in steps if step.change == "breach"])}
    evaluation.transitions += [step for step in steps if step.change == "recovered" or id(step.alert) in opened]
    session.flush()
    return evaluation


def _step(
    session: Session,
    kpi: Kpi,
    team: Team,
    value: float | None,
    current: dict[tuple[str, str], Alert],
    now: datetime,
) -> Transition | None:
    """A breach (its alert not inserted yet) or a recovery (the alert resolved), or None."""
    threshold = kpi.alert_threshold_for(team.key)
    if value is None or threshold is None or kpi.alert is None:
        return None  # no data is neither a breach nor a recovery
    alert = current.get((team.key, kpi.key))
    if alert is None and is_breach(kpi, value, threshold):
        return Transition("breach", Alert(team=team.key, kpi=kpi.key, value=value, threshold=threshold, opened_at=now))
    if alert is not None and has_recovered(kpi, value, threshold, kpi.alert.recover_margin):
        alert.resolved_at, alert.resolved_value = now, value
        session.add(alert)
        return Transition("recovered", alert)
    return None


def case_kpis(config: Config) -> list[tuple[Kpi, CaseDurationFormula]]:
    """The KPIs that give every case a target time (``within_hours``) and are alerted on."""
    return [
        (kpi, kpi.formula)
        for kpi in config.kpis
        if isinstance(kpi.formula, CaseDurationFormula) and kpi.formula.within_hours and kpi.alert is not None
    ]


def evaluate_cases(
    session: Session,
    *,
    config: Config,
    now: datetime,
    teams: Collection[str] | None = None,
    due_after: datetime | None = None,
) -> Evaluation:
    """Alerts every case of ``teams`` (default all) past its target time without its end event; recovers
    the ones now answered (or withdrawn). With ``due_after`` (when the teams were last evaluated, and their
    data has not moved since) only the cases whose target time passed after it can have changed: those
    are opened, nothing is resolved. Set-based: a few statements per case KPI, however many cases.
    All teams at once; should a team's cases fail to load, team by team (see kpi_core.isolation)."""
    week = Period.current(PeriodKind.WEEK, now=now, tz=ZoneInfo("UTC"))  # a case failure is told once a week
    selected = list(teams) if teams is not None else [team.key for team in config.teams]
    if not selected:
        return Evaluation()
    done, failures = per_team(
        session,
        teams=selected,
        period=week,
        run=lambda keys: _evaluate_cases(session, config=config, teams=keys, now=now, due_after=due_after),
    )
    return Evaluation([transition for transitions in done.values() for transition in transitions], [*failures.values()])


def _evaluate_cases(
    session: Session, *, config: Config, teams: list[str], now: datetime, due_after: datetime | None
) -> dict[str, list[Transition]]:
    transitions: dict[str, list[Transition]] = {team: [] for team in teams}
    for kpi, formula in case_kpis(config):
        for alert in _open_overdue(session, config, kpi, formula, teams=teams, now=now, due_after=due_after):
            transitions[alert.team].append(Transition("breach", alert))
        if due_after is not None:
            continue  # no write since: no case was answered or withdrawn
        end = _end_column(formula)
        answered = session.exec(
            select(Alert, CustomerCase.raised_at, end)
            .outerjoin(CustomerCase, col(CustomerCase.id) == Alert.case_id)
            .where(
                col(Alert.resolved_at).is_(None),
                col(Alert.kpi) == kpi.key,
                col(Alert.case_id).is_not(None),
                col(Alert.team).in_(teams),
                sa.or_(col(CustomerCase.id).is_(None), end.is_not(None)),  # answered, or withdrawn
            )
        ).all()
        for alert, raised_at, ended_at in answered:
            alert.resolved_at = now
            alert.resolved_value = (
                case_hours(config, formula, team=alert.team, start=raised_at, end=ended_at)
                if ended_at and raised_at
                else None
            )
            session.add(alert)
            transitions[alert.team].append(Transition("recovered", alert))
    session.flush()
    return transitions


def _open_overdue(
    session: Session,
    config: Config,
    kpi: Kpi,
    formula: CaseDurationFormula,
    *,
    teams: list[str],
    now: datetime,
    due_after: datetime | None,
) -> list[Alert]:
    """Opens, in one INSERT ... SELECT, an alert for every case of ``teams`` past its target time without
    its end event and never alerted for ``kpi``; an alert another process opened meanwhile is skipped
    (ON CONFLICT DO NOTHING on the open-alert index). Returns the alerts opened. On the business clock
    the database cannot tell working time: the cases overdue on the wall clock are read first (working
    time is never more than wall time, so they include every one overdue), and those whose working-time
    target passed are opened."""
    within = timedelta(hours=formula.within_hours or 0)
    business = formula.clock == "business"
    # a business-clock target can lie any time after its case: only the lookback bounds the cases
    earliest = now - lookback(formula)
    if due_after is not None and not business:
        earliest = max(earliest, due_after - within)
    cases = CustomerCase.__table__.c  # type: ignore[attr-defined]
    alerted = select(Alert.case_id).where(col(Alert.kpi) == kpi.key, col(Alert.case_id).is_not(None))
    lower = cases.raised_at > earliest if due_after is not None and not business else cases.raised_at >= earliest
    where = [
        cases.team.in_(teams),
        cases.kind == formula.case_kind,
        _end_column(formula).is_(None),
        cases.raised_at <= now - within,
        lower,
        cases.id.not_in(alerted),
    ]
    if not business:
        return _insert_overdue(session, kpi, formula, where=where, now=now)
    candidates = session.execute(sa.select(cases.id, cases.team, cases.raised_at).where(*where)).all()
    due = [
        case_id
        for case_id, team, raised_at in candidates
        if case_deadline(config, formula, team=team, raised_at=raised_at) <= now
    ]
    opened = []
    for start in range(0, len(due), OPEN_BATCH):
        batch = due[start : start + OPEN_BATCH]
        opened += _insert_overdue(session, kpi, formula, where=[*where, cases.id.in_(batch)], now=now)
    return sorted(opened, key=lambda alert: alert.id or 0)


def _insert_overdue(
    session: Session, kpi: Kpi, formula: CaseDurationFormula, *, where: list[Any], now: datetime
) -> list[Alert]:
    """Opens an alert for ``kpi`` on every case ``where`` selects, in one statement."""
    cases = CustomerCase.__table__.c  # type: ignore[attr-defined]
    table = Alert.__table__  # type: ignore[attr-defined]
    overdue = sa.select(
        cases.team,
        cases.id,
        sa.literal(kpi.key, sa.String()),
        sa.null(),
        sa.literal(formula.within_hours or 0, sa.Float()),
        sa.literal(now, UTCDateTime()),
    ).where(*where)
    statement = (
        _insert(session)(table)
        .from_select(["team", "case_id", "kpi", "value", "threshold", "opened_at"], overdue)
        .on_conflict_do_nothing()
        .returning(*table.c)
    )
    opened = [Alert.model_validate(dict(row._mapping)) for row in session.execute(statement)]
    return sorted(opened, key=lambda alert: alert.id or 0)


def next_case_deadline(session: Session, *, config: Config, now: datetime) -> datetime | None:
    """When the next open case will reach its target time: the moment the case timer must fire."""
    deadlines = []
    for _, formula in case_kpis(config):
        if formula.clock == "business":
            deadline = next_business_deadline(
                session, config=config, formula=formula, end_column=_end_column(formula), now=now
            )
            deadlines += [deadline] if deadline is not None else []
            continue
        within = timedelta(hours=formula.within_hours or 0)
        earliest = session.exec(
            select(sa.func.min(CustomerCase.raised_at, type_=UTCDateTime())).where(
                CustomerCase.kind == formula.case_kind,
                _end_column(formula).is_(None),
                col(CustomerCase.raised_at) > now - within,
            )
        ).first()
        if earliest is not None:
            deadlines.append(earliest + within)
    return min(deadlines, default=None)


def _end_column(formula: CaseDurationFormula) -> sa.ColumnElement[datetime]:
    table = CustomerCase.__table__.c  # type: ignore[attr-defined]
    column: sa.ColumnElement[datetime] = (
        table.first_response_at if formula.until == "first_response" else table.resolved_at
    )
    return column
