"""What people do with an open alert (acknowledge, assign, snooze), stored and audited, and when it is
followed up: escalated to management when nobody acknowledged it in time, re-reminded in its thread
while it stays open after being acknowledged. Pure of Slack; the bot posts what is due through the
delivery ledger (bot/alert_followup.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from kpi_core.config import Team
from kpi_core.config_schema import FollowUp
from kpi_core.db import transaction
from kpi_core.models import Alert, AlertHandling, AuditEntry, CustomerCase
from kpi_core.work_clock import add_working_time, next_working_morning

AlertAction = Literal["acknowledge", "assign", "snooze"]
#: The snooze menu: an hour, four hours, or until the team's next working morning.
SNOOZES: dict[str, timedelta | None] = {"1h": timedelta(hours=1), "4h": timedelta(hours=4), "morning": None}


@dataclass(frozen=True)
class Handled:
    """What became of an action on an alert: ``done``; ``unchanged`` (acknowledged already, assigned to
    the same person); ``refused`` (not an alert of a team the user may act for); ``gone`` (resolved or
    unknown)."""

    outcome: Literal["done", "unchanged", "refused", "gone"]
    alert: Alert | None = None
    handling: AlertHandling | None = None


@dataclass(frozen=True)
class OpenAlert:
    """An open alert as ``/kpi alerts`` lists it."""

    alert: Alert
    handling: AlertHandling | None
    case: CustomerCase | None


def snooze_until(choice: str, *, team: Team, now: datetime) -> datetime | None:
    """The end of a snooze chosen from the menu; None for a choice the menu does not offer (forged)."""
    if choice not in SNOOZES:
        return None
    duration = SNOOZES[choice]
    return now + duration if duration is not None else next_working_morning(team, now)


def handle_alert(
    engine: sa.Engine,
    *,
    alert_id: int,
    action: AlertAction,
    teams: Sequence[str],
    user: str,
    now: datetime,
    owner: str | None = None,
    until: datetime | None = None,
) -> Handled:
    """Acknowledges, assigns (to ``owner``) or snoozes (``until``) an open alert of one of ``teams``, with
    an audit entry (who, when, the handling before and after). Acknowledging makes the acknowledger the
    owner unless someone owns it; assigning acknowledges it (someone is on it)."""
    with transaction(engine) as session:
        alert = session.get(Alert, alert_id)
        if alert is None:
            return Handled("gone")
        if alert.team not in teams:
            return Handled("refused", alert)
        if alert.resolved_at is not None:
            return Handled("gone", alert)
        handling = _handling_for_update(session, alert)
        before = _state(handling)
        if action == "acknowledge":
            if handling.acknowledged_at is not None:
                return Handled("unchanged", alert, handling)
            handling.acknowledged_by, handling.acknowledged_at = user, now
            handling.owner = handling.owner or user
        elif action == "assign":
            if owner is None or owner == handling.owner:
                return Handled("unchanged", alert, handling)
            handling.owner = owner
            if handling.acknowledged_at is None:
                handling.acknowledged_by, handling.acknowledged_at = user, now
        else:
            handling.snoozed_until, handling.snoozed_by = until, user
        session.add(handling)
        session.add(
            AuditEntry(
                at=now,
                user=user,
                team=alert.team,
                action=f"alert_{action}",
                entity="alert",
                entity_id=alert.id,
                old=before,
                new=_state(handling),
            )
        )
        return Handled("done", alert, handling)


def _handling_for_update(session: Session, alert: Alert) -> AlertHandling:
    """The alert's handling row, created if it has none, locked until the transaction ends (PostgreSQL:
    two people clicking at once take turns; SQLite serialises writers anyway)."""
    table = AlertHandling.__table__  # type: ignore[attr-defined]
    insert = (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(table)
    session.execute(insert.values(alert_id=alert.id, team=alert.team).on_conflict_do_nothing())
    handling = session.exec(select(AlertHandling).where(AlertHandling.alert_id == alert.id).with_for_update()).one()
    session.refresh(handling)
    return handling


def _state(handling: AlertHandling) -> dict[str, Any]:
    def instant(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "acknowledged_by": handling.acknowledged_by,
        "acknowledged_at": instant(handling.acknowledged_at),
        "owner": handling.owner,
        "snoozed_until": instant(handling.snoozed_until),
    }


def handling_of(engine: sa.Engine, *, alert_id: int) -> tuple[Alert | None, AlertHandling | None, CustomerCase | None]:
    """An alert with its handling and its case (to redraw its message)."""
    with transaction(engine) as session:
        alert = session.get(Alert, alert_id)
        if alert is None:
            return None, None, None
        case = session.get(CustomerCase, alert.case_id) if alert.case_id is not None else None
        return alert, session.get(AlertHandling, alert_id), case


def open_alerts(engine: sa.Engine, *, teams: Sequence[str] | None = None) -> list[OpenAlert]:
    """The open alerts of ``teams`` (None: every team), oldest first, with their handling and case."""
    with transaction(engine) as session:
        query = (
            select(Alert, AlertHandling)
            .join(AlertHandling, col(AlertHandling.alert_id) == col(Alert.id), isouter=True)
            .where(col(Alert.resolved_at).is_(None))
            .order_by(col(Alert.opened_at), col(Alert.id))
        )
        if teams is not None:
            query = query.where(col(Alert.team).in_(teams))
        rows = session.exec(query).all()
        cases = {
            case.id: case
            for case in session.exec(
                select(CustomerCase).where(col(CustomerCase.id).in_([a.case_id for a, _ in rows if a.case_id]))
            )
        }
        return [OpenAlert(alert, handling, cases.get(alert.case_id or 0)) for alert, handling in rows]


# follow-up: escalation and reminders


@dataclass(frozen=True)
class FollowUpDue:
    """What is due for an open alert now: its escalation to management, and the number of the reminder
    due in its thread (1, 2, ...: the n-th ``remind_every_minutes`` since it was acknowledged; only the
    latest is sent when several came due while the alert was snoozed or the bot was down)."""

    escalate: bool
    reminder: int | None


def follow_up_due(
    alert: Alert, handling: AlertHandling | None, *, policy: FollowUp, team: Team, now: datetime
) -> FollowUpDue:
    """Nothing while the alert is snoozed. Unacknowledged: its escalation once ``escalate_after_minutes``
    of the team's working time have passed since it opened. Acknowledged: a reminder every
    ``remind_every_minutes`` of wall time since the acknowledgement."""
    if alert.resolved_at is not None or (handling and handling.snoozed_until and handling.snoozed_until > now):
        return FollowUpDue(False, None)
    acknowledged_at = handling.acknowledged_at if handling else None
    if acknowledged_at is None:
        minutes = policy.escalate_after_minutes
        due = minutes is not None and now >= add_working_time(team, alert.opened_at, timedelta(minutes=minutes))
        return FollowUpDue(due, None)
    if policy.remind_every_minutes is None:
        return FollowUpDue(False, None)
    reminders = int((now - acknowledged_at) // timedelta(minutes=policy.remind_every_minutes))
    return FollowUpDue(False, reminders if reminders >= 1 else None)


# time to acknowledge, time to resolve


@dataclass(frozen=True)
class ResponseTimes:
    """Of a team's alerts opened in a period: how many, and the median minutes until acknowledged and until
    resolved (None: none was), with how many each median rests on."""

    opened: int
    acknowledge_minutes: float | None
    acknowledged: int
    resolve_minutes: float | None
    resolved: int


def response_times(engine: sa.Engine, *, periods: Mapping[str, tuple[datetime, datetime]]) -> dict[str, ResponseTimes]:
    """Time to acknowledge and time to resolve (wall time, median) of each team's alerts opened in its
    [start, end) (a period cut in the team's own zone): one query over the widest span, split per team."""
    if not periods:
        return {}
    with transaction(engine) as session:
        rows = session.exec(
            select(Alert, AlertHandling)
            .join(AlertHandling, col(AlertHandling.alert_id) == col(Alert.id), isouter=True)
            .where(
                col(Alert.team).in_(list(periods)),
                col(Alert.opened_at) >= min(start for start, _ in periods.values()),
                col(Alert.opened_at) < max(end for _, end in periods.values()),
            )
        ).all()
    opened: dict[str, int] = dict.fromkeys(periods, 0)
    waits: dict[str, tuple[list[float], list[float]]] = {team: ([], []) for team in periods}
    for alert, handling in rows:
        start, end = periods[alert.team]
        if not start <= alert.opened_at < end:
            continue
        opened[alert.team] += 1
        acknowledged, resolved = waits[alert.team]
        if handling is not None and handling.acknowledged_at is not None:
            acknowledged.append((handling.acknowledged_at - alert.opened_at).total_seconds() / 60)
        if alert.resolved_at is not None:
            resolved.append((alert.resolved_at - alert.opened_at).total_seconds() / 60)
    return {
        team: ResponseTimes(
            opened[team],
            median(acknowledged) if acknowledged else None,
            len(acknowledged),
            median(resolved) if resolved else None,
            len(resolved),
        )
        for team, (acknowledged, resolved) in waits.items()
    }
