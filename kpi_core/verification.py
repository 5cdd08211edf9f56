"""Verified data (核实): which of a period's data is verified, what blocks a period's close, which KPI values
include unverified data, and what waits for a verifier. Reads only; the transitions are in
kpi_core/verification_steps.py.

A submission is pending (no row in ``submission_verification``), verified or queried. Verification is on
when the config names ``roles.verifiers``; off, everything counts as verified. Rows that belong to no
submission, and submissions stored before ``verification.since``, count as verified: nothing can verify
them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from kpi_core.config import Config, Team
from kpi_core.config_schema import CaseDurationFormula, MilestoneFormula, SurveyFormula
from kpi_core.expressions import names_in
from kpi_core.models import CustomerCase, MeasureValue, Milestone, Submission, SurveyResponse
from kpi_core.periods import Period
from kpi_core.verification_models import PENDING, VERIFIED, SubmissionVerification

__all__ = [
    "Blocker",
    "Waiting",
    "is_on",
    "state_of",
    "unverified_kpis",
    "verification_blockers",
    "verified_share",
    "waiting_for",
]

#: the data tables and what places their rows in a team's period: a local date, or an instant
_DATED: tuple[tuple[Any, str], ...] = ((MeasureValue, "on_date"), (Milestone, "due_on"))
_TIMED: tuple[tuple[Any, str], ...] = ((CustomerCase, "raised_at"), (SurveyResponse, "submitted_at"))


@dataclass(frozen=True)
class Blocker:
    """A submission of ``team`` with data in the period that is not verified: ``state`` pending or queried.
    ``form`` is the Slack form's key, else the kind of data (an import's ``measures``, ``cases``, ...);
    ``source`` is ``slack``, ``csv:<file name>`` or ``demo``."""

    team: str
    submission_id: int
    form: str
    source: str
    state: str


@dataclass(frozen=True)
class Waiting:
    """A submission waiting for a verifier, with what it holds: ``rows`` records dated ``first_day`` to
    ``last_day``; ``period`` the form's period label (or None for data of no form); ``values`` the measures
    of a measures submission (measure -> value, summed per measure)."""

    submission: Submission
    rows: int
    first_day: date
    last_day: date
    period: str | None
    values: dict[str, float] = field(default_factory=dict)


def is_on(config: Config) -> bool:
    """Whether data must be verified: some verifier is configured."""
    return bool(config.roles.verifiers)


def _since(config: Config) -> datetime | None:
    since = config.verification.since
    return None if since is None else datetime.combine(since, time(0), UTC)


def _counted(config: Config) -> Any:
    """The SQL condition of a submission whose state matters (stored since ``verification.since``)."""
    since = _since(config)
    return sa.true() if since is None else col(Submission.submitted_at) >= since


def _period_condition(table: Any, column: str, team: Team, period: Period) -> Any:
    value = getattr(table, column)
    if (table, column) in _DATED:
        return sa.and_(value >= period.start, value < period.end)
    start, end = period.utc_bounds(team.tz)
    return sa.and_(value >= start, value < end)


def _rows_by_submission(
    session: Session, config: Config, period: Period, *, teams: Iterable[Team], person: str | None = None
) -> dict[tuple[str, int | None], int]:
    """How many rows of the period each (team, submission) holds; submission None: rows of no submission."""
    counts: dict[tuple[str, int | None], int] = defaultdict(int)
    for team in teams:
        for table, column in (*_DATED, *_TIMED):
            if person is not None and not hasattr(table, "person"):
                continue  # survey answers name nobody
            submission_id = table.submission_id
            query = (
                select(submission_id, sa.func.count())
                .where(table.team == team.key, _period_condition(table, column, team, period))
                .group_by(submission_id)
            )
            if person is not None:
                query = query.where(table.person == person)
            for key, count in session.exec(query):
                counts[(team.key, key)] += int(count)
    return counts


def _states(session: Session, config: Config, submission_ids: Iterable[int]) -> dict[int, tuple[Submission, str]]:
    """Each submission with its state; a submission stored before ``verification.since`` counts as verified."""
    ids = sorted(set(submission_ids))
    if not ids:
        return {}
    since = _since(config)
    query = (
        select(Submission, SubmissionVerification.state)
        .outerjoin(SubmissionVerification, col(SubmissionVerification.submission_id) == col(Submission.id))
        .where(col(Submission.id).in_(ids))
    )
    states = {}
    for submission, state in session.exec(query):
        if since is not None and submission.submitted_at < since:
            state = VERIFIED
        states[submission.id or 0] = (submission, state or PENDING)
    return states


def state_of(session: Session, *, submission_id: int) -> str:
    """A submission's state: pending (also when it has no row yet), verified or queried."""
    row = session.get(SubmissionVerification, submission_id)
    return row.state if row is not None else PENDING


def verification_blockers(session: Session, config: Config, period: Period) -> list[Blocker]:
    """The submissions of every team with data in ``period`` (cut in each team's zone) that are not
    verified, in config team order then by id; none when verification is off."""
    if not is_on(config):
        return []
    counts = _rows_by_submission(session, config, period, teams=config.teams)
    states = _states(session, config, (key for _, key in counts if key is not None))
    order = {team.key: index for index, team in enumerate(config.teams)}
    blockers = []
    for team, submission_id in sorted(
        (key for key in counts if key[1] is not None), key=lambda key: (order[key[0]], key[1] or 0)
    ):
        submission, state = states[submission_id or 0]
        if state != VERIFIED:
            form = submission.form or submission.kind
            blockers.append(Blocker(team, submission_id or 0, form, submission.source, state))
    return blockers


def verified_share(
    session: Session, config: Config, period: Period, *, team: str, person: str | None = None
) -> float | None:
    """The share (0 to 1) of the team's (or the person's) records in ``period`` that are verified; None
    without records. With verification off every record counts as verified."""
    counts = _rows_by_submission(session, config, period, teams=[config.team(team)], person=person)
    total = sum(counts.values())
    if total == 0:
        return None
    if not is_on(config):
        return 1.0
    states = _states(session, config, (key for _, key in counts if key is not None))
    verified = sum(count for (_, key), count in counts.items() if key is None or states[key][1] == VERIFIED)
    return verified / total


def unverified_kpis(session: Session, config: Config, period: Period, *, team: str) -> frozenset[str]:
    """The KPIs whose value for ``team`` in ``period`` rests on some record not verified yet (a digest marks
    them); empty when verification is off."""
    if not is_on(config):
        return frozenset()
    team_config = config.team(team)
    unverified = sa.and_(
        col(Submission.id).is_not(None),
        _counted(config),
        sa.or_(col(SubmissionVerification.state).is_(None), col(SubmissionVerification.state) != VERIFIED),
    )

    def found(table: Any, column: str, *what: Any) -> list[Any]:
        query = (
            select(*what)
            .select_from(table)
            .join(Submission, col(Submission.id) == table.submission_id)
            .outerjoin(SubmissionVerification, col(SubmissionVerification.submission_id) == col(Submission.id))
            .where(table.team == team, _period_condition(table, column, team_config, period), unverified)
            .distinct()
        )
        return list(session.exec(query))

    measures = set(found(MeasureValue, "on_date", col(MeasureValue.measure)))
    case_kinds = set(found(CustomerCase, "raised_at", col(CustomerCase.kind)))
    surveys = bool(found(SurveyResponse, "submitted_at", sa.literal(1)))
    milestones = bool(found(Milestone, "due_on", sa.literal(1)))
    marked = set()
    for kpi in config.kpis:
        formula = kpi.formula
        if isinstance(formula, SurveyFormula):
            hit = surveys
        elif isinstance(formula, CaseDurationFormula):
            hit = formula.case_kind in case_kinds
        elif isinstance(formula, MilestoneFormula):
            hit = milestones
        else:
            hit = any(names_in(expression) & measures for _, expression in formula.expressions())
        if hit:
            marked.add(kpi.key)
    return frozenset(marked)


def waiting_for(
    session: Session, config: Config, *, verifier: str | None = None, limit: int | None = None
) -> tuple[list[Waiting], int]:
    """The pending submissions that still hold data (oldest first), but ``verifier``'s own: the first
    ``limit`` (all when None) and how many there are in all. Queried ones wait for the lead, not here."""
    if not is_on(config):
        return [], 0
    pending = (
        select(col(Submission.id))
        .outerjoin(SubmissionVerification, col(SubmissionVerification.submission_id) == col(Submission.id))
        .where(
            col(Submission.withdrawn_at).is_(None),
            _counted(config),
            sa.or_(col(SubmissionVerification.state).is_(None), col(SubmissionVerification.state) == PENDING),
        )
    )
    if verifier is not None:
        pending = pending.where(col(Submission.submitted_by) != verifier)
    held = sa.union(
        *(
            select(table.submission_id.label("id")).where(table.submission_id.in_(pending.scalar_subquery()))
            for table, _ in (*_DATED, *_TIMED)
        )
    ).subquery()
    ids = [int(row) for row in session.exec(select(held.c.id).order_by(held.c.id))]
    total = len(ids)
    shown = ids if limit is None else ids[:limit]
    return [_waiting(session, config, submission_id) for submission_id in shown], total


def _waiting(session: Session, config: Config, submission_id: int) -> Waiting:
    """What one submission holds, aggregated in SQL (an import may hold many rows)."""
    submission = session.get(Submission, submission_id)
    assert submission is not None  # selected from the table just now, in this transaction
    team = config.team_by_key.get(submission.team or "")
    zone = team.tz if team is not None else UTC
    days: list[date] = []
    rows = 0
    for table, column in (*_DATED, *_TIMED):
        moment = getattr(table, column)
        query = select(sa.func.count(), sa.func.min(moment), sa.func.max(moment)).where(
            table.submission_id == submission_id
        )
        count, first, last = session.exec(query).one()
        if not count:
            continue
        rows += int(count)
        for day in (first, last):
            days.append(day.astimezone(zone).date() if isinstance(day, datetime) else day)
    sums = select(col(MeasureValue.measure), sa.func.sum(MeasureValue.value)).where(
        MeasureValue.submission_id == submission_id
    )
    values = {measure: float(total) for measure, total in session.exec(sums.group_by(col(MeasureValue.measure)))}
    form = config.form_by_key.get(submission.form or "")
    period = Period.containing(form.period, min(days)).label if form is not None else None
    return Waiting(submission, rows, min(days), max(days), period, values)
