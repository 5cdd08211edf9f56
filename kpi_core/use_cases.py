"""What the bot and the CLI ask of the database, one function per use case and one transaction each:
the only door from bot/ to storage (bot/listeners import no SQL). Every function takes the engine and
keyword-only arguments; the row-level writes and reads they combine live in kpi_core/store.py.

A write from Slack carries the request's key (a view's id and hash): it is claimed in the same
transaction as the data, so a retry or a double click stores nothing twice and returns None."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, select

from kpi_core import store
from kpi_core.alert_rules import Evaluation, next_case_deadline
from kpi_core.alert_sweep import Change, DuePost, SweepState, due_posts, evaluate_changes, sweep, touches_cases
from kpi_core.config import Config
from kpi_core.db import transaction
from kpi_core.demo import load_demo_data
from kpi_core.imports import ImportSummary, import_csv
from kpi_core.models import CustomerCase, MeasureValue, Milestone, Submission
from kpi_core.periods import Period
from kpi_core.reporting import Rankings, Report, build_reports, rank_teams
from kpi_core.shared_reports import SharedReports
from kpi_core.verification_steps import answer_queries

T = TypeVar("T")


# submissions from Slack


def stored_measures(engine: sa.Engine, *, team: str, period: Period, measures: Sequence[str]) -> dict[str, float]:
    """The totals already stored for these measures in the period (a new value would replace them)."""
    with transaction(engine) as session:
        return store.stored_measures(session, team=team, period=period, measures=measures)


def submit_measures(
    engine: sa.Engine,
    *,
    request_key: str,
    team: str,
    form: str,
    period: Period,
    values: dict[str, float],
    user: str,
    now: datetime,
) -> Submission | None:
    def write(session: Session) -> Submission:
        # the submissions whose values these replace: a queried one is answered by this correction
        replaced = {
            row.submission_id for row in store.measure_rows(session, team=team, measures=list(values), period=period)
        }
        submission = store.submit_measures(
            session, team=team, form=form, period=period, values=values, user=user, now=now
        )
        answer_queries(
            session, replaced=[key for key in replaced if key is not None], correction=submission, user=user, now=now
        )
        return submission

    return store.write_once(engine, request_key=request_key, now=now, write=write)


def submit_survey(
    engine: sa.Engine,
    *,
    request_key: str,
    team: str,
    scores: Sequence[int],
    submitted_at: datetime,
    user: str,
    now: datetime,
) -> Submission | None:
    return store.write_once(
        engine,
        request_key=request_key,
        now=now,
        write=lambda session: store.submit_survey(
            session, team=team, scores=scores, submitted_at=submitted_at, user=user, now=now
        ),
    )


def record_case(
    engine: sa.Engine,
    *,
    request_key: str,
    team: str,
    kind: str,
    raised_at: datetime,
    first_response_at: datetime | None,
    resolved_at: datetime | None,
    user: str,
    now: datetime,
    person: str | None = None,
) -> CustomerCase | None:
    return store.write_once(
        engine,
        request_key=request_key,
        now=now,
        write=lambda session: store.record_case(
            session,
            team=team,
            kind=kind,
            raised_at=raised_at,
            first_response_at=first_response_at,
            resolved_at=resolved_at,
            user=user,
            now=now,
            person=person,
        ),
    )


def record_milestone(
    engine: sa.Engine,
    *,
    request_key: str,
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
) -> Milestone | None:
    return store.write_once(
        engine,
        request_key=request_key,
        now=now,
        write=lambda session: store.record_milestone(
            session,
            team=team,
            project=project,
            name=name,
            due_on=due_on,
            completed_on=completed_on,
            budget=budget,
            actual_cost=actual_cost,
            user=user,
            now=now,
            person=person,
        ),
    )


# open items


def open_cases(engine: sa.Engine, *, teams: Sequence[str]) -> list[CustomerCase]:
    with transaction(engine) as session:
        return store.open_cases(session, teams=teams)


def open_milestones(engine: sa.Engine, *, teams: Sequence[str]) -> list[Milestone]:
    with transaction(engine) as session:
        return store.open_milestones(session, teams=teams)


def open_case(engine: sa.Engine, *, case_id: int | None, teams: Sequence[str]) -> CustomerCase | None:
    """The case, if it is one of ``teams``' and still open: a forged id gets nothing to change."""
    with transaction(engine) as session:
        return store.open_case(session, case_id=case_id, teams=teams)


def open_milestone(engine: sa.Engine, *, milestone_id: int | None, teams: Sequence[str]) -> Milestone | None:
    with transaction(engine) as session:
        return store.open_milestone(session, milestone_id=milestone_id, teams=teams)


def update_case(
    engine: sa.Engine,
    *,
    request_key: str,
    case_id: int,
    teams: Sequence[str],
    first_response_at: datetime | None,
    resolved_at: datetime | None,
    user: str,
    now: datetime,
) -> CustomerCase | None:
    """Records a case's first response and/or resolution; None when the request was handled already or
    the case is no longer one of ``teams``' open cases."""

    def write(session: Session) -> CustomerCase | None:
        case = store.open_case(session, case_id=case_id, teams=teams)
        if case is None:
            return None
        return store.update_case(
            session, case=case, first_response_at=first_response_at, resolved_at=resolved_at, user=user, now=now
        )

    return store.write_once(engine, request_key=request_key, now=now, write=write)


def complete_milestone(
    engine: sa.Engine,
    *,
    request_key: str,
    milestone_id: int,
    teams: Sequence[str],
    completed_on: date,
    actual_cost: float | None,
    user: str,
    now: datetime,
) -> Milestone | None:
    def write(session: Session) -> Milestone | None:
        milestone = store.open_milestone(session, milestone_id=milestone_id, teams=teams)
        if milestone is None:
            return None
        return store.complete_milestone(
            session, milestone=milestone, completed_on=completed_on, actual_cost=actual_cost, user=user, now=now
        )

    return store.write_once(engine, request_key=request_key, now=now, write=write)


# history: list, withdraw, correct


def recent_submissions(engine: sa.Engine, *, teams: Sequence[str]) -> list[Submission]:
    with transaction(engine) as session:
        return store.recent_submissions(session, teams=teams)


def latest_submission_by(engine: sa.Engine, *, user: str) -> Submission | None:
    with transaction(engine) as session:
        return store.latest_submission_by(session, user=user)


@dataclass(frozen=True)
class Withdrawal:
    outcome: Literal["withdrawn", "refused", "gone"]
    submission: Submission | None
    rows: int = 0


def withdraw_submission(
    engine: sa.Engine,
    *,
    submission_id: int,
    teams: Sequence[str] | None,
    user: str,
    now: datetime,
    reason: str | None = None,
) -> Withdrawal:
    """Withdraws a submission of one of ``teams`` (None: any, for the operator at the command line):
    refused for any other (or none), gone when withdrawn already."""
    with transaction(engine) as session:
        submission = session.get(Submission, submission_id)
        if submission is None or (teams is not None and (submission.team is None or submission.team not in teams)):
            return Withdrawal("refused", submission)
        if submission.withdrawn_at is not None:
            return Withdrawal("gone", submission)
        rows = store.withdraw_submission(session, submission=submission, user=user, now=now, reason=reason)
        return Withdrawal("withdrawn", submission, rows)


def list_submissions(
    engine: sa.Engine, *, team: str | None = None, source: str | None = None, limit: int = 20
) -> list[Submission]:
    with transaction(engine) as session:
        return store.list_submissions(session, team=team, source=source, limit=limit)


def submission_with_measures(engine: sa.Engine, *, submission_id: int) -> tuple[Submission | None, list[MeasureValue]]:
    """A submission and the measure values it still holds (to reopen its form with them)."""
    with transaction(engine) as session:
        submission = session.get(Submission, submission_id)
        rows = store.measures_of(session, submission_id=submission_id) if submission is not None else []
        return submission, rows


# reports


def reports(
    engine: sa.Engine,
    *,
    config: Config,
    wanted: Sequence[tuple[Period, list[str] | None]],
    cache: SharedReports | None = None,
) -> list[list[Report]]:
    """For each (period, teams) wanted, the teams' reports (every team for None), read in one transaction
    so they agree with each other; through the shared ``cache`` when given."""
    build = cache.build if cache is not None else build_reports
    with transaction(engine) as session:
        return [build(session, config=config, period=period, teams=teams) for period, teams in wanted]


def rankings(engine: sa.Engine, *, config: Config, period: Period, cache: SharedReports | None = None) -> Rankings:
    with transaction(engine) as session:
        if cache is not None:
            return cache.rankings(session, config=config, period=period)
        return rank_teams(session, config=config, period=period)


# alerts


def check_alerts(
    engine: sa.Engine, *, config: Config, changes: Sequence[Change], now: datetime
) -> tuple[Evaluation, datetime | None, bool]:
    """Opens and resolves the alerts ``changes`` (writes) can have changed, and nothing else; returns what
    changed (and which teams could not be evaluated: the others were), the next moment an open case
    reaches its target time, and whether that moment was looked up (only when cases changed)."""
    with transaction(engine) as session:
        evaluation = evaluate_changes(session, config=config, changes=changes, now=now)
        if not touches_cases(changes):
            return evaluation, None, False
        return evaluation, next_case_deadline(session, config=config, now=now), True


def sweep_alerts(
    engine: sa.Engine, *, config: Config, now: datetime, last: SweepState | None
) -> tuple[Evaluation, SweepState, datetime | None]:
    """The periodic sweep (kpi_core/alert_sweep.py): evaluates what moved since ``last``; returns what
    changed, the state for the next sweep and when the next open case reaches its target time."""
    with transaction(engine) as session:
        evaluation, state = sweep(session, config=config, now=now, last=last)
        return evaluation, state, next_case_deadline(session, config=config, now=now)


def alerts_to_post(engine: sa.Engine, *, now: datetime, teams: Sequence[str] | None = None) -> list[DuePost]:
    """The alerts and recoveries of ``teams`` (default all) still to be posted, in one query."""
    with transaction(engine) as session:
        return due_posts(session, now=now, teams=teams)


# the command line


def import_file(
    engine: sa.Engine,
    *,
    config: Config,
    kind: str,
    path: Path,
    submitted_by: str,
    now: datetime,
    replace: bool = False,
) -> ImportSummary:
    """Every row of a CSV file, or nothing (ImportFileError names the bad cells, AlreadyImported the
    submission holding the same content); ``replace`` replaces what earlier imports hold, in one transaction."""
    with transaction(engine) as session:
        return import_csv(
            session, config=config, kind=kind, path=path, submitted_by=submitted_by, now=now, replace=replace
        )


def load_demo_once(engine: sa.Engine, *, config: Config, now: datetime) -> int | None:
    """Loads the demo data unless it is there already; the number of rows loaded, or None."""
    with transaction(engine) as session:
        if session.exec(select(Submission.id).where(Submission.kind == "demo").limit(1)).first() is not None:
            return None
        return load_demo_data(session, config=config, now=now)
