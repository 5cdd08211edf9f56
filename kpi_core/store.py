"""Writes and reads for interactive submissions; keyword-only functions run in the caller's transaction.
Every replacement, update and withdrawal leaves an AuditEntry with the old and new values."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select

from kpi_core.close_guard import ensure_open, ensure_rows_open
from kpi_core.data_changes import Days, Touched, around, bump_data_version, days_of
from kpi_core.db import transaction
from kpi_core.models import (
    AuditEntry,
    CustomerCase,
    MeasureValue,
    Milestone,
    ProcessedRequest,
    Submission,
    SurveyResponse,
)
from kpi_core.periods import Period

RowT = TypeVar("RowT", CustomerCase, Milestone)
T = TypeVar("T")
DATA_TABLES: tuple[type[SQLModel], ...] = (MeasureValue, SurveyResponse, CustomerCase, Milestone)


def claim_request(session: Session, *, key: str, now: datetime) -> bool:
    """True the first time ``key`` is seen; False for a retry or double click (already handled)."""
    try:
        with session.begin_nested():
            session.add(ProcessedRequest(key=key, at=now))
    except IntegrityError:
        return False
    return True


def write_once(engine: sa.Engine, *, request_key: str, now: datetime, write: Callable[[Session], T]) -> T | None:
    """Runs ``write`` and claims the Slack request in one transaction; None when the request was handled
    already (Slack's retry, a double click): every write from a modal or button goes through here."""
    with transaction(engine) as session:
        if not claim_request(session, key=request_key, now=now):
            return None
        return write(session)


def _submission(
    session: Session,
    *,
    team: str,
    kind: str,
    user: str,
    now: datetime,
    rows: int,
    days: Days,
    form: str | None = None,
) -> Submission:
    submission = Submission(
        team=team, kind=kind, source="slack", form=form, submitted_by=user, submitted_at=now, row_count=rows
    )
    session.add(submission)
    session.flush()
    bump_data_version(session, team=team, days=days)
    return submission


def _of_person(person: str | None) -> Any:
    """Rows of ``person``, or (None) the team's own rows that name nobody: each is replaced on its own."""
    return col(MeasureValue.person).is_(None) if person is None else MeasureValue.person == person


def stored_measures(
    session: Session, *, team: str, period: Period, measures: Sequence[str], person: str | None = None
) -> dict[str, float]:
    """The total already stored per measure for ``team`` (``person``'s rows, or the team's own) in
    ``period`` (only measures that have rows)."""
    query = (
        select(MeasureValue.measure, sa.func.sum(MeasureValue.value))
        .where(
            MeasureValue.team == team,
            col(MeasureValue.measure).in_(measures),
            MeasureValue.on_date >= period.start,
            MeasureValue.on_date < period.end,
            _of_person(person),
        )
        .group_by(MeasureValue.measure)
    )
    return {measure: float(total) for measure, total in session.exec(query)}


def measure_rows(
    session: Session,
    *,
    team: str,
    measures: Sequence[str],
    period: Period,
    person: str | None = None,
    excluding: int | None = None,
) -> list[MeasureValue]:
    """The stored rows of these measures of ``team`` in ``period`` recorded for ``person`` (None: the
    team's own rows), but those of submission ``excluding``."""
    query = select(MeasureValue).where(
        MeasureValue.team == team,
        col(MeasureValue.measure).in_(measures),
        MeasureValue.on_date >= period.start,
        MeasureValue.on_date < period.end,
        _of_person(person),
    )
    if excluding is not None:
        query = query.where(
            sa.or_(col(MeasureValue.submission_id).is_(None), col(MeasureValue.submission_id) != excluding)
        )
    return list(session.exec(query.order_by(col(MeasureValue.id))))


def submit_measures(
    session: Session,
    *,
    team: str,
    form: str,
    period: Period,
    values: dict[str, float],
    user: str,
    now: datetime,
    person: str | None = None,
) -> Submission:
    """Stores one value per measure for ``period`` (dated its first day), recorded for ``person`` (None:
    the team's own figures); a measure that already has values of the same person (or the team's own) in
    the period is replaced, and the replacement is audited. Other people's values stay."""
    # _submission bumps the data version first: its row lock makes a concurrent submission wait for this
    # one to commit, so the second sees these rows and replaces them instead of adding to them.
    days = (period.start, period.end - timedelta(days=1))
    ensure_open(session, first=days[0], last=days[1])
    submission = _submission(
        session, team=team, kind="measures", user=user, now=now, rows=len(values), days=days, form=form
    )
    for measure, value in values.items():
        previous = measure_rows(session, team=team, measures=[measure], period=period, person=person)
        row = MeasureValue(
            team=team, measure=measure, on_date=period.start, value=value, submission_id=submission.id, person=person
        )
        session.add(row)
        session.flush()
        replace_measure_rows(
            session,
            previous,
            team=team,
            measure=measure,
            period=period,
            value=value,
            submission_id=submission.id,
            entity_id=row.id,
            user=user,
            now=now,
            person=person,
        )
    return submission


def replace_measure_rows(
    session: Session,
    previous: Sequence[MeasureValue],
    *,
    team: str,
    measure: str,
    period: Period,
    value: float,
    submission_id: int | None,
    entity_id: int | None,
    user: str,
    now: datetime,
    person: str | None = None,
) -> None:
    """Deletes ``previous``, the rows a new ``value`` of the measure in the period replaces (by a form or an
    import, for ``person`` or the team itself), and audits them as one replacement; nothing when there
    were none."""
    if not previous:
        return
    for old in previous:
        session.delete(old)
    session.add(
        AuditEntry(
            at=now,
            user=user,
            team=team,
            action="replace",
            entity="measure_value",
            entity_id=entity_id,
            submission_id=submission_id,
            old={"period": period.label, "measure": measure, "rows": [_as_dict(old) for old in previous]},
            # the person whose values these are; a team's own figures name nobody
            new={"period": period.label, "measure": measure, "value": value} | ({"person": person} if person else {}),
        )
    )


def submit_survey(
    session: Session, *, team: str, scores: Sequence[int], submitted_at: datetime, user: str, now: datetime
) -> Submission:
    days = around(submitted_at)
    ensure_rows_open(session, [{"submitted_at": submitted_at}])
    submission = _submission(session, team=team, kind="survey", user=user, now=now, rows=len(scores), days=days)
    session.add_all(
        SurveyResponse(team=team, submitted_at=submitted_at, score=score, submission_id=submission.id)
        for score in scores
    )
    return submission


def record_case(
    session: Session,
    *,
    team: str,
    kind: str,
    raised_at: datetime,
    first_response_at: datetime | None,
    resolved_at: datetime | None,
    user: str,
    now: datetime,
    person: str | None = None,
) -> CustomerCase:
    case = CustomerCase(
        team=team,
        kind=kind,
        raised_at=raised_at,
        first_response_at=first_response_at,
        resolved_at=resolved_at,
        person=person,
    )
    return _record_one(session, case, kind="case", user=user, now=now)


def record_milestone(
    session: Session,
    *,
    team: str,
    project: str,
    name: str,
    due_on: date,
    completed_on: date | None,
    budget: float | None,
    actual_cost: float | None,
    user: str,
    now: datetime,
    person: str | None = None,
) -> Milestone:
    milestone = Milestone(
        person=person,
        team=team,
        project=project,
        name=name,
        due_on=due_on,
        completed_on=completed_on,
        budget=budget,
        actual_cost=actual_cost,
    )
    return _record_one(session, milestone, kind="milestone", user=user, now=now)


def _record_one(session: Session, row: RowT, *, kind: str, user: str, now: datetime) -> RowT:
    """Stores ``row`` as a submission of its own, so it can be listed, corrected and withdrawn."""
    ensure_rows_open(session, [row])
    submission = _submission(session, team=row.team, kind=kind, user=user, now=now, rows=1, days=days_of(row))
    row.submission_id = submission.id
    session.add(row)
    session.flush()
    return row


def _open_cases(teams: Sequence[str]) -> Any:
    return select(CustomerCase).where(
        col(CustomerCase.team).in_(teams),
        sa.or_(col(CustomerCase.first_response_at).is_(None), col(CustomerCase.resolved_at).is_(None)),
    )


def _open_milestones(teams: Sequence[str]) -> Any:
    return select(Milestone).where(col(Milestone.team).in_(teams), col(Milestone.completed_on).is_(None))


def open_cases(session: Session, *, teams: Sequence[str], limit: int = 100) -> list[CustomerCase]:
    """Cases still waiting for their first response or their resolution, oldest first."""
    query = _open_cases(teams).order_by(col(CustomerCase.raised_at), col(CustomerCase.id)).limit(limit)
    return list(session.exec(query))


def open_milestones(session: Session, *, teams: Sequence[str], limit: int = 100) -> list[Milestone]:
    query = _open_milestones(teams).order_by(col(Milestone.due_on), col(Milestone.id)).limit(limit)
    return list(session.exec(query))


def open_case(session: Session, *, case_id: int | None, teams: Sequence[str]) -> CustomerCase | None:
    """The case, if it is one of ``teams``' and still open: a forged id gets nothing to change."""
    if case_id is None:
        return None
    case: CustomerCase | None = session.exec(_open_cases(teams).where(CustomerCase.id == case_id)).first()
    return case


def open_milestone(session: Session, *, milestone_id: int | None, teams: Sequence[str]) -> Milestone | None:
    if milestone_id is None:
        return None
    milestone: Milestone | None = session.exec(_open_milestones(teams).where(Milestone.id == milestone_id)).first()
    return milestone


def update_case(
    session: Session,
    *,
    case: CustomerCase,
    first_response_at: datetime | None,
    resolved_at: datetime | None,
    user: str,
    now: datetime,
) -> CustomerCase:
    """Records a case's first response and/or resolution (a value already set is kept unless given)."""
    changes = {"first_response_at": first_response_at, "resolved_at": resolved_at}
    return _update_audited(session, case, changes, user=user, now=now)


def complete_milestone(
    session: Session,
    *,
    milestone: Milestone,
    completed_on: date,
    actual_cost: float | None,
    user: str,
    now: datetime,
) -> Milestone:
    changes = {"completed_on": completed_on, "actual_cost": actual_cost}
    return _update_audited(session, milestone, changes, user=user, now=now)


def _update_audited(session: Session, row: RowT, changes: dict[str, Any], *, user: str, now: datetime) -> RowT:
    """Sets the given (not None) fields of ``row`` and records the row before and after."""
    ensure_rows_open(session, [row])
    before = days_of(row)
    bump = bump_data_version(session, team=row.team)
    old = _as_dict(row)
    for field, value in changes.items():
        if value is not None:
            setattr(row, field, value)
    after = days_of(row)
    bump.first_day, bump.last_day = min(before[0], after[0]), max(before[1], after[1])
    session.add(row)
    session.add(
        AuditEntry(
            at=now,
            user=user,
            team=getattr(row, "team", None),
            action="update",
            entity=str(row.__tablename__),
            entity_id=getattr(row, "id", None),
            submission_id=getattr(row, "submission_id", None),
            old=old,
            new=_as_dict(row),
        )
    )
    session.flush()
    return row


def recent_submissions(session: Session, *, teams: Sequence[str], limit: int = 10) -> list[Submission]:
    """The latest submissions of ``teams`` that are not withdrawn, newest first."""
    query = (
        select(Submission)
        .where(col(Submission.team).in_(teams), col(Submission.withdrawn_at).is_(None))
        .order_by(col(Submission.submitted_at).desc(), col(Submission.id).desc())
        .limit(limit)
    )
    return list(session.exec(query))


def person_of_submissions(session: Session, *, submission_ids: Sequence[int]) -> dict[int, str]:
    """The one person each of these submissions' rows were recorded for (a form names one at most; an
    import naming several, or nobody, is left out), to tell whose values a submission holds."""
    found: dict[int, set[str | None]] = {}
    for table in (MeasureValue, CustomerCase, Milestone):
        query = select(table.submission_id, table.person).where(col(table.submission_id).in_(submission_ids))
        for submission_id, person in session.exec(query.distinct()):
            if submission_id is not None:
                found.setdefault(submission_id, set()).add(person)
    named = {key: people.pop() for key, people in found.items() if len(people) == 1}
    return {key: person for key, person in named.items() if person is not None}


def list_submissions(
    session: Session, *, team: str | None = None, source: str | None = None, limit: int = 20
) -> list[Submission]:
    """Every submission (withdrawn ones too), newest first; ``source`` is ``slack``, ``csv`` or ``demo``."""
    query = select(Submission)
    if team is not None:
        query = query.where(Submission.team == team)
    if source == "csv":
        query = query.where(col(Submission.source).startswith("csv:"))
    elif source is not None:
        query = query.where(Submission.source == source)
    order = (col(Submission.submitted_at).desc(), col(Submission.id).desc())
    return list(session.exec(query.order_by(*order).limit(limit)))


def withdraw_submission(
    session: Session,
    *,
    submission: Submission,
    user: str,
    now: datetime,
    reason: str | None = None,
    replaced_by: int | None = None,
) -> int:
    """Deletes every row of ``submission``, auditing each (as a replacement when ``replaced_by`` names the
    submission that holds them now); returns how many rows were withdrawn."""
    action = "withdraw" if replaced_by is None else "replace"
    new: dict[str, Any] | None = None if replaced_by is None else {"replaced_by": replaced_by}
    if reason:
        new = {**(new or {}), "reason": reason}
    change = bump_data_version(session, team=submission.team)
    withdrawn = 0
    touched = Touched()
    for table in DATA_TABLES:
        rows = session.exec(select(table).where(table.submission_id == submission.id)).all()  # type: ignore[attr-defined]
        ensure_rows_open(session, rows)
        for row in rows:
            touched.add_row(row)
            session.add(
                AuditEntry(
                    at=now,
                    user=user,
                    team=submission.team,
                    action=action,
                    entity=table.__tablename__,  # type: ignore[arg-type]
                    entity_id=getattr(row, "id", None),
                    submission_id=submission.id,
                    old=_as_dict(row),
                    new=new,
                )
            )
            session.delete(row)
            withdrawn += 1
    # the teams and dates of its rows (an import's submission has no team), not every period of the team
    touched.record(session, change=change)
    submission.withdrawn_at = now
    submission.withdrawn_by = user
    session.add(submission)
    session.flush()
    return withdrawn


def _as_dict(row: SQLModel) -> dict[str, Any]:
    """A row as JSON-safe values, for the audit trail."""
    values = row.model_dump()
    return {key: value.isoformat() if isinstance(value, date | datetime) else value for key, value in values.items()}


def latest_submission_by(session: Session, *, user: str) -> Submission | None:
    query = (
        select(Submission)
        .where(
            Submission.submitted_by == user,
            col(Submission.withdrawn_at).is_(None),
            col(Submission.team).is_not(None),
        )
        .order_by(col(Submission.submitted_at).desc(), col(Submission.id).desc())
        .limit(1)
    )
    return session.exec(query).first()


def measures_of(session: Session, *, submission_id: int) -> list[MeasureValue]:
    return list(session.exec(select(MeasureValue).where(MeasureValue.submission_id == submission_id)))


def has_submitted(session: Session, *, team: str, start: datetime, end: datetime) -> bool:
    """Whether ``team`` handed in anything (not withdrawn) between the instants ``start`` and ``end``."""
    query = (
        select(Submission.id)
        .where(
            Submission.team == team,
            col(Submission.withdrawn_at).is_(None),
            Submission.submitted_at >= start,
            Submission.submitted_at < end,
        )
        .limit(1)
    )
    return session.exec(query).first() is not None
