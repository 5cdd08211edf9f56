"""The transitions of a submission's check, each audited (who, when, note) in the caller's transaction:

    pending -> verified | queried        a verifier's Verify, or Query with a question to the lead
    queried -> pending                   the lead's correction (the new values wait for a verifier)
    queried -> verified                  the thread settled it without a correction

A verifier cannot verify or query their own submission; a withdrawn submission is gone. Two verifiers
clicking at once: the row is locked (PostgreSQL) or inserted under its primary key, so one wins and the
other is told the state it found."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from kpi_core.config import Config
from kpi_core.models import AuditEntry, Submission
from kpi_core.verification import is_on
from kpi_core.verification_models import PENDING, QUERIED, VERIFIED, SubmissionVerification

Outcome = Literal["done", "not_verifier", "own", "gone", "verified_already", "queried_already", "off"]


@dataclass(frozen=True)
class Step:
    """What a Verify or Query did: ``outcome`` "done", or why not; the submission when it exists."""

    outcome: Outcome
    submission: Submission | None = None
    verification: SubmissionVerification | None = None


def _locked(session: Session, submission_id: int) -> SubmissionVerification | None:
    query = select(SubmissionVerification).where(SubmissionVerification.submission_id == submission_id)
    return session.exec(query.with_for_update()).first()


def _audit(
    session: Session,
    *,
    submission: Submission,
    action: str,
    old: str,
    new: str,
    user: str,
    now: datetime,
    note: str | None,
) -> None:
    session.add(
        AuditEntry(
            at=now,
            user=user,
            team=submission.team,
            action=action,
            entity="submission_verification",
            entity_id=submission.id,
            submission_id=submission.id,
            old={"state": old},
            new={"state": new, "note": note},
        )
    )


def _move(
    session: Session,
    *,
    submission: Submission,
    allowed: Iterable[str],
    to: str,
    action: str,
    user: str,
    now: datetime,
    note: str | None,
) -> tuple[bool, SubmissionVerification | None, str]:
    """Moves the submission's state to ``to`` when it is one of ``allowed``: (moved, row, the state found)."""
    submission_id = submission.id or 0
    row = _locked(session, submission_id)
    if row is None:
        row = SubmissionVerification(submission_id=submission_id, state=PENDING, changed_by=user, changed_at=now)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:  # another verifier's first click, committed meanwhile: decide on theirs
            session.expunge(row)
            row = _locked(session, submission_id)
            assert row is not None
    found = row.state
    if found not in allowed:
        return False, row, found
    row.state, row.changed_by, row.changed_at, row.note = to, user, now, note
    if to == QUERIED:
        row.queried_by, row.queried_at, row.corrected_by = user, now, None
    session.add(row)
    _audit(session, submission=submission, action=action, old=found, new=to, user=user, now=now, note=note)
    session.flush()
    return True, row, found


def _checked(session: Session, config: Config, *, submission_id: int, user: str) -> Step | Submission:
    if not is_on(config):
        return Step("off")
    if user not in config.roles.verifiers:
        return Step("not_verifier")
    submission = session.get(Submission, submission_id)
    if submission is None or submission.withdrawn_at is not None:
        return Step("gone", submission)
    if submission.submitted_by == user:
        return Step("own", submission)
    return submission


def verify(
    session: Session, config: Config, *, submission_id: int, user: str, now: datetime, note: str | None = None
) -> Step:
    """A verifier's Verify: pending (or queried, settled in the thread) -> verified."""
    checked = _checked(session, config, submission_id=submission_id, user=user)
    if isinstance(checked, Step):
        return checked
    moved, row, found = _move(
        session,
        submission=checked,
        allowed=(PENDING, QUERIED),
        to=VERIFIED,
        action="verify",
        user=user,
        now=now,
        note=note,
    )
    if not moved:
        return Step("verified_already", checked, row)
    return Step("done", checked, row)


def query(session: Session, config: Config, *, submission_id: int, user: str, question: str, now: datetime) -> Step:
    """A verifier's Query: pending -> queried, with the question to the submission's lead."""
    checked = _checked(session, config, submission_id=submission_id, user=user)
    if isinstance(checked, Step):
        return checked
    moved, row, found = _move(
        session, submission=checked, allowed=(PENDING,), to=QUERIED, action="query", user=user, now=now, note=question
    )
    if not moved:
        return Step("verified_already" if found == VERIFIED else "queried_already", checked, row)
    return Step("done", checked, row)


def answer_queries(
    session: Session, *, replaced: Iterable[int], correction: Submission, user: str, now: datetime
) -> list[SubmissionVerification]:
    """The lead's correction (``correction`` replaced rows of the submissions ``replaced``): each of those
    that was queried goes back to pending, answered by the correction, whose own values are pending as
    every new submission's are."""
    ids = sorted(set(replaced) - {correction.id or 0})
    if not ids:
        return []
    query_rows = select(SubmissionVerification).where(
        col(SubmissionVerification.submission_id).in_(ids), SubmissionVerification.state == QUERIED
    )
    answered = []
    for row in session.exec(query_rows.with_for_update()).all():
        submission = session.get(Submission, row.submission_id)
        assert submission is not None  # the foreign key
        note = f"corrected by submission {correction.id}"
        row.state, row.changed_by, row.changed_at, row.note, row.corrected_by = PENDING, user, now, note, correction.id
        session.add(row)
        _audit(
            session, submission=submission, action="correct", old=QUERIED, new=PENDING, user=user, now=now, note=note
        )
        answered.append(row)
    session.flush()
    return answered
