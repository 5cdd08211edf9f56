"""Missing data: a form whose data for a period has not arrived by its ``due`` time (``MON 12:00`` in the
week after a weekly period, ``3 12:00`` in the month after a monthly one, in the team's time zone).

When due passes without data the team's leads are told (by DM; stand-ins for leads away); when it is
still missing ``channel_after_hours`` later (working hours for a team with a calendar), the team's
channel; when it arrives, the channel alert recovers. The messages go through the delivery ledger, so
each is sent once whatever runs the check (bot/missing_data.py); this module only says what is due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from kpi_core.business_time import calendar_for
from kpi_core.calendar_schema import parse_due
from kpi_core.config_schema import Config, Form, Team
from kpi_core.cron import WEEKDAYS
from kpi_core.db import transaction
from kpi_core.expressions import names_in
from kpi_core.models import MeasureValue
from kpi_core.periods import Period


@dataclass(frozen=True)
class Expected:
    """One team's data of one form for one period, and where it stands at ``now``."""

    team: Team
    form: Form
    period: Period
    due_at: datetime  # UTC
    channel_at: datetime  # UTC
    arrived: bool
    latest: bool  # the latest period due: only it is chased, earlier ones only recover

    @property
    def subject(self) -> str:
        return f"{self.form.key}:{self.period.label}"


def due_at(team: Team, form: Form, period: Period) -> datetime:
    """When ``period``'s data of ``form`` is due, as a UTC instant; for a team with a calendar, a due
    day that is not a working day moves to the next working day, at the same time."""
    assert form.due is not None
    day_spec, moment = parse_due(form.due.at)
    following = period.next()
    if isinstance(day_spec, str):
        day = following.start + timedelta(days=WEEKDAYS.index(day_spec))
    else:
        day = following.start + timedelta(days=day_spec - 1)
    if team.calendar is not None:
        day = calendar_for(team).next_working_day(day)
    return datetime.combine(day, moment, team.tz).astimezone(UTC)


def channel_at(team: Team, form: Form, due: datetime) -> datetime:
    """When the channel hears of data still missing: ``channel_after_hours`` after due, in working time
    for a team with a calendar."""
    assert form.due is not None
    delay = timedelta(hours=form.due.channel_after_hours)
    if team.calendar is not None:
        return calendar_for(team).add_working_time(due, delay)
    return due + delay


def expected(session: Session, *, config: Config, now: datetime) -> list[Expected]:
    """Per team and due form, the latest period whose due time has passed and the one before it."""
    watched: list[Expected] = []
    for team in config.teams:
        for form in config.forms:
            if form.due is None:
                continue
            period = Period.current(form.period, now=now, tz=team.tz)
            periods = []
            for _ in range(4):  # the current period is never due yet; at most two earlier ones are watched
                if due_at(team, form, period) <= now:
                    periods.append(period)
                    if len(periods) == 2:
                        break
                period = period.previous()
            for index, due_period in enumerate(periods):
                due = due_at(team, form, due_period)
                watched.append(
                    Expected(
                        team=team,
                        form=form,
                        period=due_period,
                        due_at=due,
                        channel_at=channel_at(team, form, due),
                        arrived=_arrived(session, team=team.key, form=form, period=due_period),
                        latest=index == 0,
                    )
                )
    return watched


def _arrived(session: Session, *, team: str, form: Form, period: Period) -> bool:
    """Whether any value of the form's measures is stored for the team in the period."""
    query = (
        select(MeasureValue.id)
        .where(
            MeasureValue.team == team,
            col(MeasureValue.measure).in_(form.measures),
            col(MeasureValue.on_date) >= period.start,
            col(MeasureValue.on_date) < period.end,
        )
        .limit(1)
    )
    return session.exec(query).first() is not None


def watch(engine: sa.Engine, *, config: Config, now: datetime) -> list[Expected]:
    """``expected`` in a transaction of its own."""
    with transaction(engine) as session:
        return expected(session, config=config, now=now)


def kpis_of(config: Config, form: Form) -> list[str]:
    """The KPIs computed from the form's measures (what cannot be computed while its data is missing)."""
    measures = set(form.measures)
    return [
        kpi.key
        for kpi in config.kpis
        if any(names_in(expression) & measures for _, expression in kpi.formula.expressions())
    ]
