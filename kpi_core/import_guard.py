"""What an import may not do silently: store a file whose very bytes are stored already, or add to a
period's measure values that another submission holds. Both would double the values (a re-imported week
of sales, 190000 -> 380000); both are refused naming the earlier submission, unless the import replaces.

A measures file holds the whole period of each team, person (or the team's own figures) and measure it
names, like the weekly form: its rows replace that person's (or the team's own) earlier values of the
period (audited as a replacement) instead of adding to them; other people's values stay."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC

from sqlmodel import Session, col, select

from kpi_core import store
from kpi_core.errors import AlreadyImported, RowProblem
from kpi_core.models import MeasureValue, Submission
from kpi_core.periods import Period


def describe(submission: Submission) -> str:
    """``submission 7 (measures.csv, 2026-10-01 08:00 UTC, by alice)``: which one, when and by whom."""
    source = submission.source.removeprefix("csv:")
    when = submission.submitted_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"submission {submission.id} ({source}, {when}, by {submission.submitted_by})"


def content_hash(handle: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in handle:
        digest.update(chunk)
    return digest.hexdigest()


def imported_as(session: Session, *, kind: str, content_hash: str, excluding: int | None) -> Submission | None:
    """The earlier import, not withdrawn, of a file with these very bytes."""
    query = select(Submission).where(
        Submission.kind == kind,
        Submission.content_hash == content_hash,
        col(Submission.withdrawn_at).is_(None),
        Submission.id != excluding,
    )
    return session.exec(query.order_by(col(Submission.id)).limit(1)).first()


def replace_identical(session: Session, *, submission: Submission, file: str, replace: bool) -> None:
    """Refuses ``submission``'s file if its content is imported already; with ``replace``, withdraws the
    earlier import (audited as replaced by ``submission``)."""
    assert submission.content_hash is not None
    earlier = imported_as(session, kind=submission.kind, content_hash=submission.content_hash, excluding=submission.id)
    if earlier is None:
        return
    if not replace:
        raise AlreadyImported(file=file, earlier=describe(earlier), submission_id=earlier.id or 0)
    store.withdraw_submission(
        session,
        submission=earlier,
        user=submission.submitted_by,
        now=submission.submitted_at,
        replaced_by=submission.id,
    )


def whose(team: str, person: str | None) -> str:
    """``shanghai_ops``, or ``U0OPSSH1 of shanghai_ops``: whose figures a problem is about."""
    return team if person is None else f"{person} of {team}"


def overlapping_measures(
    session: Session,
    *,
    submission: Submission,
    periods: dict[tuple[str, Period, str | None], dict[str, tuple[int, float]]],
    replace: bool,
) -> list[RowProblem]:
    """For each team, period, person (None: the team's own figures) and measure of the file (its last line
    and its total), the values other submissions hold for the same person: replaced (and audited) with
    ``replace``, else one problem each naming them. Other people's values are no overlap, as in the form."""
    problems = []
    for (team, period, person), measures in periods.items():
        previous = store.measure_rows(
            session, team=team, measures=list(measures), period=period, person=person, excluding=submission.id
        )
        for measure, (line, total) in measures.items():
            rows = [row for row in previous if row.measure == measure]
            if not rows:
                continue
            if replace:
                store.replace_measure_rows(
                    session,
                    rows,
                    team=team,
                    measure=measure,
                    period=period,
                    value=total,
                    submission_id=submission.id,
                    entity_id=None,
                    user=submission.submitted_by,
                    now=submission.submitted_at,
                    person=person,
                )
            else:
                problems.append(RowProblem(line, "value", _held(session, rows, whose(team, person), measure, period)))
    return sorted(problems, key=lambda problem: problem.line)


def _held(session: Session, rows: list[MeasureValue], whose: str, measure: str, period: Period) -> str:
    ids = sorted({row.submission_id for row in rows if row.submission_id is not None})
    holders = [describe(held) for held in (session.get(Submission, id_) for id_ in ids) if held is not None]
    return (
        f"{whose} {measure} in {period.label} already has values from {', '.join(holders) or 'an earlier submission'}"
        " (import with --replace to replace them)"
    )
