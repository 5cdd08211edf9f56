"""Threshold alerts: when a KPI crosses into breach, and when it recovers (past a margin, so it does not
flap); and per case, when a case reaches its target time without a response. One open alert per team
and KPI, and per case and KPI, at a time, enforced by partial unique indexes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from kpi_core.case_deadlines import CASE_LOOKBACK as CASE_LOOKBACK  # where the alert tests know it from
from kpi_core.case_deadlines import case_deadline, case_hours, lookback, next_business_deadline
from kpi_core.config import CaseDurationFormula, Config, Kpi, Team
from kpi_core.isolation import ComputeFailure, per_team
from kpi_core.kpis import compute_reports
from kpi_core.models import Alert, CustomerCase, UTCDateTime
from kpi_core.periods import Period, PeriodKind


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


def _open(session: Session, alert: Alert) -> Alert | None:
    """Inserts the alert unless the same one is open already (opened by another process)."""
    try:
        with session.begin_nested():
            session.add(alert)
    except IntegrityError:
        return None
    return alert


def evaluate_kpis(session: Session, *, config: Config, teams: list[Team], now: datetime) -> Evaluation:
    """Opens or resolves the teams' KPI alerts from each team's current-period values; a team whose
    values cannot be computed is skipped and returned as a failure."""
    watched = [kpi for kpi in config.kpis if kpi.alert is not None]
    current = {(alert.team, alert.kpi): alert for alert in open_alerts(session) if alert.case_id is None}
    evaluation = Evaluation()
    for kind in sorted({kpi.alert.period for kpi in watched if kpi.alert}):
        by_period: dict[Period, list[Team]] = {}
        for team in teams:
            by_period.setdefault(Period.current(kind, now=now, tz=team.tz), []).append(team)
        for period, group in by_period.items():
            reports = compute_reports(session, config=config, period=period, teams=[team.key for team in group])
            for team in group:
                report = reports[team.key]
                if report.failure is not None:
                    evaluation.failures.append(report.failure)
                    continue
                for kpi in (kpi for kpi in watched if kpi.alert and kpi.alert.period == kind):
                    transition = _step(session, kpi, team, report.results[kpi.key].value, current, now)
                    if transition is not None:
                        evaluation.transitions.append(transition)
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
    threshold = kpi.alert_threshold_for(team.key)
    if value is None or threshold is None or kpi.alert is None:
        return None  # no data is neither a breach nor a recovery
    alert = current.get((team.key, kpi.key))
    if alert is None and is_breach(kpi, value, threshold):
        opened = _open(
            session,
            Alert(team=team.key, kpi=kpi.key, value=value, threshold=threshold, opened_at=now),
        )
        return Transition("breach", opened) if opened is not None else None
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


def evaluate_cases(session: Session, *, config: Config, now: datetime) -> Evaluation:
    """Alerts every case past its target time without its end event; recovers the ones now answered.
    All teams at once; should a team's cases fail to load, team by team (see kpi_core.isolation)."""
    week = Period.current(PeriodKind.WEEK, now=now, tz=ZoneInfo("UTC"))  # a case failure is told once a week
    done, failures = per_team(
        session,
        teams=[team.key for team in config.teams],
        period=week,
        run=lambda teams: _evaluate_cases(session, config=config, teams=teams, now=now),
    )
    return Evaluation([transition for transitions in done.values() for transition in transitions], [*failures.values()])


def _evaluate_cases(
    session: Session, *, config: Config, teams: list[str], now: datetime
) -> dict[str, list[Transition]]:
    transitions: dict[str, list[Transition]] = {team: [] for team in teams}
    for kpi, formula in case_kpis(config):
        end = _end_column(formula)
        deadline_passed = now - timedelta(hours=formula.within_hours or 0)
        alerted = select(Alert.case_id).where(col(Alert.kpi) == kpi.key, col(Alert.case_id).is_not(None))
        overdue = session.exec(
            select(CustomerCase).where(
                col(CustomerCase.team).in_(teams),
                CustomerCase.kind == formula.case_kind,
                end.is_(None),
                col(CustomerCase.raised_at) <= deadline_passed,
                col(CustomerCase.raised_at) >= now - lookback(formula),
                col(CustomerCase.id).not_in(alerted),
            )
        ).all()
        # working time is never more than wall time: the query's cases include every one overdue in it
        overdue = [
            case for case in overdue if case_deadline(config, formula, team=case.team, raised_at=case.raised_at) <= now
        ]
        for case in overdue:
            alert = Alert(
                team=case.team,
                case_id=case.id,
                kpi=kpi.key,
                value=None,
                threshold=formula.within_hours or 0,
                opened_at=now,
            )
            if _open(session, alert) is not None:
                transitions[case.team].append(Transition("breach", alert))
        for alert in session.exec(
            select(Alert).where(
                col(Alert.resolved_at).is_(None),
                col(Alert.kpi) == kpi.key,
                col(Alert.case_id).is_not(None),
                col(Alert.team).in_(teams),
            )
        ).all():
            answered = session.get(CustomerCase, alert.case_id)
            ended_at = getattr(
                answered, "first_response_at" if formula.until == "first_response" else "resolved_at", None
            )
            if answered is None or ended_at is not None:
                alert.resolved_at = now
                alert.resolved_value = (
                    case_hours(config, formula, team=answered.team, start=answered.raised_at, end=ended_at)
                    if answered and ended_at
                    else None
                )
                session.add(alert)
                transitions[alert.team].append(Transition("recovered", alert))
    session.flush()
    return transitions


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


def recent_alerts(session: Session, *, now: datetime, days: int = 7) -> list[Alert]:
    """Open alerts, and those resolved lately (their recovery message may still be due)."""
    query = select(Alert).where(
        sa.or_(col(Alert.resolved_at).is_(None), col(Alert.resolved_at) >= now - timedelta(days=days))
    )
    return list(session.exec(query.order_by(col(Alert.id))))
