"""What the bot asks of verification, one transaction each (bot/ imports no SQL): what waits for a verifier,
Verify, Query (stored once per Slack request), and the queries a correction answered."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select

from kpi_core import store
from kpi_core.config import Config
from kpi_core.db import transaction
from kpi_core.models import Submission
from kpi_core.periods import Period
from kpi_core.verification import Waiting, holding, is_on, state_of, unverified_kpis, waiting_for
from kpi_core.verification_models import PENDING, VERIFIED, SubmissionVerification
from kpi_core.verification_steps import Step, checked_submission, query, verify


def waiting(engine: sa.Engine, *, config: Config, verifier: str, limit: int | None) -> tuple[list[Waiting], int]:
    """The first ``limit`` submissions waiting for ``verifier`` (not their own), and how many wait in all."""
    with transaction(engine) as session:
        return waiting_for(session, config, verifier=verifier, limit=limit)


def unverified_of(
    engine: sa.Engine, *, config: Config, team: str, periods: Sequence[Period]
) -> dict[Period, frozenset[str]]:
    """Per period, the team's KPIs whose values include data not verified yet (what a digest marks)."""
    if not is_on(config):
        return {}  # no query at all: every value counts as verified
    with transaction(engine) as session:
        return {period: unverified_kpis(session, config, period, team=team) for period in periods}


def holding_of(engine: sa.Engine, *, config: Config, submission_id: int) -> Waiting | None:
    """What the submission holds now (None: nothing)."""
    with transaction(engine) as session:
        return holding(session, config, submission_id)


def verify_submission(engine: sa.Engine, *, config: Config, submission_id: int, user: str, now: datetime) -> Step:
    with transaction(engine) as session:
        return verify(session, config, submission_id=submission_id, user=user, now=now)


def query_submission(
    engine: sa.Engine, *, config: Config, request_key: str, submission_id: int, user: str, question: str, now: datetime
) -> Step | None:
    """The verifier's question stored once (None: this request was handled already)."""
    return store.write_once(
        engine,
        request_key=request_key,
        now=now,
        write=lambda session: query(
            session, config, submission_id=submission_id, user=user, question=question, now=now
        ),
    )


def may_query(engine: sa.Engine, *, config: Config, submission_id: int, user: str) -> Step:
    """Whether ``user`` may query the submission now (before the question modal opens): "done" when so."""
    with transaction(engine) as session:
        checked = checked_submission(session, config, submission_id=submission_id, user=user)
        if isinstance(checked, Step):
            return checked
        state = state_of(session, submission_id=submission_id)
        if state != PENDING:
            return Step("verified_already" if state == VERIFIED else "queried_already", checked)
        return Step("done", checked)


def answered_by(engine: sa.Engine, *, correction_id: int) -> Sequence[tuple[SubmissionVerification, Submission]]:
    """The queries the submission ``correction_id`` answered, with their submissions."""
    with transaction(engine) as session:
        query_rows = (
            select(SubmissionVerification, Submission)
            .join(Submission, col(Submission.id) == col(SubmissionVerification.submission_id))
            .where(SubmissionVerification.corrected_by == correction_id)
        )
        return list(session.exec(query_rows).all())
