"""Corrective actions (持续改进): a root cause, an action, an owner and a due date for a KPI off target.
An action is closed only when its KPI has been met for two periods in a row since it was opened;
asked to close earlier, it stays open with a note saying why. Every change is audited."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlmodel import Session, col, select

from kpi_core import store
from kpi_core.config import Config
from kpi_core.db import transaction
from kpi_core.models import AuditEntry, CorrectiveAction
from kpi_core.periods import Period, PeriodKind
from kpi_core.reporting import build_reports

#: How many periods in a row the KPI must be met before its action may be closed.
MET_IN_A_ROW = 2
OPEN, CLOSED = "open", "closed"


@dataclass(frozen=True)
class ActionInput:
    """A validated corrective action from the modal (bot/action_form.py)."""

    team: str
    kpi: str
    alert_id: int | None
    root_cause: str
    action: str
    owner: str
    due_on: date


@dataclass(frozen=True)
class PeriodCheck:
    label: str
    value: float | None
    status: str  # met, missed, breach, no_data (kpi_core.kpis)


@dataclass(frozen=True)
class Closing:
    """``closed``; ``reopened`` (not met two periods in a row yet: ``periods`` says which were checked,
    fewer than two when not enough periods have ended since the action was opened); ``refused`` (not
    an action of a team the user may act for); ``gone`` (unknown, or closed already)."""

    outcome: Literal["closed", "reopened", "refused", "gone"]
    action: CorrectiveAction | None = None
    periods: tuple[PeriodCheck, ...] = ()


def open_action(
    engine: sa.Engine, *, request_key: str, data: ActionInput, user: str, now: datetime
) -> CorrectiveAction | None:
    """Stores the action (None when the same modal submission was stored already), audited."""

    def write(session: Session) -> CorrectiveAction:
        action = CorrectiveAction(
            team=data.team,
            kpi=data.kpi,
            alert_id=data.alert_id,
            root_cause=data.root_cause,
            action=data.action,
            owner=data.owner,
            due_on=data.due_on,
            status=OPEN,
            opened_by=user,
            opened_at=now,
        )
        session.add(action)
        session.flush()
        session.add(_audit(action, "action_open", user=user, now=now, old=None))
        return action

    return store.write_once(engine, request_key=request_key, now=now, write=write)


def actions_of(engine: sa.Engine, *, teams: Sequence[str] | None, status: str | None = OPEN) -> list[CorrectiveAction]:
    """The actions of ``teams`` (None: all) with ``status`` (None: any), by due date."""
    with transaction(engine) as session:
        query = select(CorrectiveAction).order_by(col(CorrectiveAction.due_on), col(CorrectiveAction.id))
        if teams is not None:
            query = query.where(col(CorrectiveAction.team).in_(teams))
        if status is not None:
            query = query.where(CorrectiveAction.status == status)
        return list(session.exec(query))


def is_overdue(action: CorrectiveAction, *, config: Config, now: datetime) -> bool:
    """Open past its due date in the team's own calendar."""
    return action.status == OPEN and action.due_on < now.astimezone(config.team(action.team).tz).date()


def watched_period(config: Config, kpi: str) -> PeriodKind:
    """The period a KPI's action is checked over: the one its alert watches, else the week."""
    alert = config.kpi_by_key[kpi].alert
    return alert.period if alert is not None else PeriodKind.WEEK


def close_action(
    engine: sa.Engine, *, action_id: int, teams: Sequence[str], config: Config, user: str, now: datetime
) -> Closing:
    """Closes the action when its KPI was met in each of the last two periods that ended since it was
    opened; otherwise keeps it open with a note naming the periods checked. Audited either way."""
    with transaction(engine) as session:
        action = session.exec(
            select(CorrectiveAction).where(CorrectiveAction.id == action_id).with_for_update()
        ).first()
        if action is None or action.status != OPEN:
            return Closing("gone", action)
        if action.team not in teams or action.kpi not in config.kpi_by_key or action.team not in config.team_by_key:
            return Closing("refused", action)
        tz = config.team(action.team).tz
        opened_on = action.opened_at.astimezone(tz).date()
        periods: list[Period] = []
        period = Period.current(watched_period(config, action.kpi), now=now, tz=tz).previous()
        while len(periods) < MET_IN_A_ROW and period.end > opened_on:
            periods.append(period)
            period = period.previous()
        checks = []
        for checked in reversed(periods):
            [report] = build_reports(session, config=config, period=checked, teams=[action.team])
            result = report.kpis.get(action.kpi)
            checks.append(
                PeriodCheck(checked.label, result.value if result else None, result.status if result else "no_data")
            )
        before = _snapshot(action)
        if len(checks) == MET_IN_A_ROW and all(check.status == "met" for check in checks):
            action.status, action.closed_at, action.note = CLOSED, now, None
            outcome: Literal["closed", "reopened"] = "closed"
        else:
            action.note = "; ".join(f"{check.label} {check.status}" for check in checks)[:500] or "too_early"
            outcome = "reopened"
        session.add(action)
        session.add(
            _audit(action, f"action_{'close' if outcome == 'closed' else 'reopen'}", user=user, now=now, old=before)
        )
        return Closing(outcome, action, tuple(checks))


def _snapshot(action: CorrectiveAction) -> dict[str, Any]:
    return {
        "status": action.status,
        "owner": action.owner,
        "due_on": action.due_on.isoformat(),
        "note": action.note,
    }


def _audit(action: CorrectiveAction, what: str, *, user: str, now: datetime, old: dict[str, Any] | None) -> AuditEntry:
    new = _snapshot(action) | {"kpi": action.kpi, "root_cause": action.root_cause, "action": action.action}
    return AuditEntry(
        at=now,
        user=user,
        team=action.team,
        action=what,
        entity="corrective_action",
        entity_id=action.id,
        old=old,
        new=new,
    )


def action_counts(
    engine: sa.Engine, *, config: Config, teams: Sequence[str], now: datetime
) -> dict[str, tuple[int, int]]:
    """Each team's open corrective actions, and how many of them are overdue."""
    counts = {team: (0, 0) for team in teams}
    for action in actions_of(engine, teams=teams):
        open_count, overdue = counts[action.team]
        counts[action.team] = (open_count + 1, overdue + is_overdue(action, config=config, now=now))
    return counts
