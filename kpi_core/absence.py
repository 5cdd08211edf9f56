"""Leads' absences (``/kpi away 2026-10-01..2026-10-07``) and who stands in for them: while a lead is away,
their reminders and escalations go to the team's ``backup`` (when set and not away itself), else to the
team's other leads who are not away, else to management.

The API for whoever sends to a lead: ``recipients(session, config=..., team=..., on=...)`` gives the
users to send a team's lead messages to on a local date, with stand-ins in place of leads away.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from kpi_core.config_schema import Config, Team
from kpi_core.db import transaction
from kpi_core.models import Absence

#: the longest absence one command records (a longer one is a typo, such as 2026 for 2027)
MAX_ABSENCE_DAYS = 366
_DAYS = re.compile(r"^([0-9]{4}-[0-9]{2}-[0-9]{2})(?:\.\.([0-9]{4}-[0-9]{2}-[0-9]{2}))?$")


@dataclass(frozen=True)
class DaysProblem:
    """Why a range of days was refused: ``code`` names the message (strings.yaml ``away.<code>``)."""

    code: str
    text: str


def parse_days(text: str, *, today: date) -> tuple[date, date] | DaysProblem:
    """``2026-10-01..2026-10-07`` (or one day) -> (first, last), both included; or what is wrong."""
    match = _DAYS.match(text.strip())
    if match is None:
        return DaysProblem("bad_range", text)
    try:
        first = date.fromisoformat(match[1])
        last = date.fromisoformat(match[2]) if match[2] else first
    except ValueError:
        return DaysProblem("bad_date", text)
    if last < first:
        return DaysProblem("reversed", text)
    if (last - first).days + 1 > MAX_ABSENCE_DAYS:
        return DaysProblem("too_long", text)
    if last < today:
        return DaysProblem("past", text)
    return first, last


def record_absence(
    engine: sa.Engine, *, user: str, first_day: date, last_day: date, recorded_by: str, now: datetime
) -> Absence:
    """Records the absence (an identical one recorded before is returned instead of a copy)."""
    with transaction(engine) as session:
        same = session.exec(
            select(Absence).where(Absence.user_id == user, Absence.first_day == first_day, Absence.last_day == last_day)
        ).first()
        if same is not None:
            return same
        absence = Absence(
            user_id=user, first_day=first_day, last_day=last_day, recorded_by=recorded_by, recorded_at=now
        )
        session.add(absence)
        session.flush()
        return absence


def upcoming_absences(engine: sa.Engine, *, user: str, today: date) -> list[Absence]:
    with transaction(engine) as session:
        query = select(Absence).where(Absence.user_id == user, col(Absence.last_day) >= today)
        return list(session.exec(query.order_by(col(Absence.first_day))))


def cancel_absences(engine: sa.Engine, *, user: str, today: date) -> int:
    """Ends the user's absences from today on (past days stay recorded); returns how many changed."""
    with transaction(engine) as session:
        changed = 0
        for absence in session.exec(select(Absence).where(Absence.user_id == user, col(Absence.last_day) >= today)):
            if absence.first_day >= today:
                session.delete(absence)
            else:
                absence.last_day = today - timedelta(days=1)
                session.add(absence)
            changed += 1
        return changed


def away_on(session: Session, *, users: list[str], on: date) -> set[str]:
    """Which of ``users`` are away on the day ``on``."""
    if not users:
        return set()
    query = select(Absence.user_id).where(
        col(Absence.user_id).in_(users), col(Absence.first_day) <= on, col(Absence.last_day) >= on
    )
    return set(session.exec(query))


def recipients(session: Session, *, config: Config, team: Team, on: date) -> list[str]:
    """The users a team's lead messages go to on ``on``: its leads, each away lead replaced by the backup
    (when not away), else by the other leads present, else by management. In order, without repeats."""
    candidates = [*team.leads, *([team.backup] if team.backup else []), *config.roles.management]
    away = away_on(session, users=candidates, on=on)
    present = [lead for lead in team.leads if lead not in away]
    chosen = list(present)
    if len(present) < len(team.leads):
        if team.backup and team.backup not in away:
            chosen.append(team.backup)
        elif not present:
            chosen += [user for user in config.roles.management if user not in away]
    return list(dict.fromkeys(chosen))


def stand_ins_for(engine: sa.Engine, *, config: Config, user: str, on: date) -> list[str]:
    """Who receives, on ``on``, the lead messages of every team ``user`` leads (``user`` left out)."""
    chosen: list[str] = []
    with transaction(engine) as session:
        for team in config.teams:
            if user in team.leads:
                chosen += recipients(session, config=config, team=team, on=on)
    return [stand_in for stand_in in dict.fromkeys(chosen) if stand_in != user]


def team_recipients(engine: sa.Engine, *, config: Config, team: Team, now: datetime) -> list[str]:
    """``recipients`` for the team's local date at ``now``, in a transaction of its own."""
    with transaction(engine) as session:
        return recipients(session, config=config, team=team, on=now.astimezone(team.tz).date())
