"""Period close: freeze a period's scorecard (teams, and persons with a personal scorecard), graded and
ranked, once every submission in it is verified; reopen it with an audited reason; correct a frozen
result as a new revision. Reports of a closed period read its snapshot (``closed_results``), and writes
dated inside it are refused (``ensure_open``). Who may close (management, admins) and reopen (admins)
is decided here; the callers only ask."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from kpi_core.close_models import REASON_CHARS, ClosedResultRow, PeriodCloseRevision
from kpi_core.close_scoring import ClosedItem, ClosedResult, Draft, correct, grade_all, rules_of, stored_item
from kpi_core.config_schema import Config
from kpi_core.errors import PeriodCloseError, PeriodError
from kpi_core.kpis import compute_reports
from kpi_core.periods import Period
from kpi_core.person_scorecard import person_card
from kpi_core.scorecard import score_teams
from kpi_core.verification import Blocker, verification_blockers, verified_share

__all__ = [
    "ClosedItem",
    "ClosedResult",
    "Revision",
    "close_period",
    "closed_results",
    "correct_closed_result",
    "may_close",
    "may_reopen",
    "reopen_period",
]

BLOCKERS_NAMED = 5  # a refusal names this many blockers and counts the rest


@dataclass(frozen=True)
class Revision:
    """Who froze a period's current results, when, and how (a close, or a correction and why)."""

    period: str
    revision: int
    kind: str
    scheme: str
    made_by: str
    made_at: datetime
    reason: str | None


def may_close(config: Config, user: str) -> bool:
    return user in config.roles.admins or user in config.roles.management


def may_reopen(config: Config, user: str) -> bool:
    return user in config.roles.admins


def close_scheme(config: Config, period: Period) -> str:
    """The team scorecard a close of ``period`` freezes: ``period_close.scorecard``, else the first
    scheme of the period's kind."""
    chosen = config.period_close.scorecard
    if chosen is not None and config.scorecards[chosen].period == period.kind:
        return chosen
    for key, scheme in config.scorecards.items():
        if scheme.period == period.kind:
            return key
    message = f"{period.label} cannot be closed: no scorecard is scored by {period.kind}"
    raise PeriodCloseError(message, period=period.label)


def ended_at(config: Config, period: Period) -> datetime:
    """When ``period`` has ended in every team's time zone (before, data may still come in somewhere)."""
    return max(period.utc_bounds(team.tz)[1] for team in config.teams)


def close_period(session: Session, *, config: Config, period: Period, by: str, now: datetime) -> list[ClosedResult]:
    """Freezes ``period``'s results as a new revision, in the caller's transaction; refused while the
    period is closed already, while submissions in it wait for verification or have open queries, and
    while a team's data cannot be computed (a frozen score must not be wrong)."""
    label = period.label
    latest = _latest(session, label)
    if latest is not None and latest.reopened_at is None:
        raise PeriodCloseError(f"{label} is closed already (revision {latest.revision})", period=label)
    ends = ended_at(config, period)
    if now < ends:  # data may still come in somewhere: the period has not ended in every team's zone
        message = f"{label} cannot be closed before it has ended ({ends:%Y-%m-%d %H:%M} UTC)"
        raise PeriodCloseError(message, period=label)
    scheme = close_scheme(config, period)
    blockers = verification_blockers(session, config, period)
    if blockers:
        raise PeriodCloseError(_blocked(label, blockers), period=label)
    drafts = _team_drafts(session, config, period, scheme) + _person_drafts(session, config, period)
    rules = rules_of(config)
    grade_all(drafts, rules)
    revision = PeriodCloseRevision(
        period=label,
        revision=(latest.revision + 1) if latest else 1,
        kind="close",
        scheme=scheme,
        rules=rules,
        made_by=by,
        made_at=now,
    )
    return _store(session, revision, drafts)


def _blocked(label: str, blockers: Sequence[Blocker]) -> str:
    shown = blockers[:BLOCKERS_NAMED]
    named = "; ".join(f"{each.team} {each.form} #{each.submission_id} ({each.state})" for each in shown)
    more = f"; and {len(blockers) - len(shown)} more" if len(blockers) > len(shown) else ""
    waiting = f"{len(blockers)} submissions wait for verification or have open queries"
    return f"{label} cannot be closed: {waiting}: {named}{more}"


def _team_drafts(session: Session, config: Config, period: Period, scheme_key: str) -> list[Draft]:
    reports = compute_reports(session, config=config, period=period)
    failed = sorted(team for team, report in reports.items() if report.failure is not None)
    if failed:
        message = f"{period.label} cannot be closed: the data of {', '.join(failed)} cannot be computed"
        raise PeriodCloseError(message, period=period.label)
    scheme = config.scorecards[scheme_key]
    scoring = {item.kpi: item for item in scheme.items}
    drafts = []
    for team_score in score_teams(config, scheme_key, reports):
        items = {
            item.kpi: stored_item(
                weight=item.weight,
                value=item.value,
                target=item.target,
                score=item.score,
                better=config.kpi_by_key[item.kpi].better,
                full_at=scoring[item.kpi].full_at,
                zero_at=scoring[item.kpi].zero_at,
            )
            for item in team_score.items
        }
        share = verified_share(session, config, period, team=team_score.team)
        drafts.append(Draft("team", team_score.team, team_score.team, team_score.score, items, None, share))
    return drafts


def _person_drafts(session: Session, config: Config, period: Period) -> list[Draft]:
    """Every configured person's composite, when the personal scorecard is scored by the period's kind."""
    if config.person_scorecard.period != period.kind:
        return []
    drafts = []
    for person in config.people:
        card = person_card(session, config=config, person=person, period=period)
        items = {
            item.kpi: stored_item(
                weight=item.weight,
                value=item.result.value,
                target=item.result.target,
                score=item.score,
                better=config.kpi_by_key[item.kpi].better,
            )
            for item in card.items
        }
        parts: dict[str, float | None] = {
            "position": card.position_score,
            "personal": card.review.score if card.review else None,
            "team": card.team_score,
        }
        share = verified_share(session, config, period, team=person.team, person=person.user)
        drafts.append(Draft("person", person.user, person.team, card.composite, items, parts, share))
    return drafts


def _store(session: Session, revision: PeriodCloseRevision, drafts: Sequence[Draft]) -> list[ClosedResult]:
    try:
        with session.begin_nested():  # two closes at once: the unique (period, revision) lets one through
            session.add(revision)
            session.flush()
    except IntegrityError:
        raise PeriodCloseError(f"{revision.period} was just closed by someone else", period=revision.period) from None
    assert revision.id is not None
    rows = [
        ClosedResultRow(
            close_id=revision.id,
            subject_kind=draft.subject_kind,
            subject=draft.subject,
            team=draft.team,
            score=draft.score,
            rank=draft.rank,
            grade=draft.grade,
            pay_factor=draft.pay_factor,
            verified_share=draft.verified_share,
            items=draft.items,
            parts=draft.parts,
            rewards=draft.rewards,
        )
        for draft in drafts
    ]
    session.add_all(rows)
    session.flush()
    return _results(revision, rows)


def _latest(session: Session, label: str) -> PeriodCloseRevision | None:
    query = (
        select(PeriodCloseRevision)
        .where(PeriodCloseRevision.period == label)
        .order_by(col(PeriodCloseRevision.revision).desc())
        .limit(1)
    )
    return session.exec(query).first()


def _current(session: Session, label: str) -> PeriodCloseRevision | None:
    """The period's latest revision while it is closed; None when it was never closed or is reopened."""
    latest = _latest(session, _label(label))
    return latest if latest is not None and latest.reopened_at is None else None


def _label(label: str) -> str:
    try:
        return Period.parse(label).label
    except PeriodError:
        return label


def current_revision(session: Session, period_label: str) -> Revision | None:
    found = _current(session, period_label)
    if found is None:
        return None
    return Revision(found.period, found.revision, found.kind, found.scheme, found.made_by, found.made_at, found.reason)


def closed_results(session: Session, period_label: str) -> list[ClosedResult] | None:
    """The frozen results of a closed period (teams, then persons, each by rank); None when the period is
    not closed (never, or reopened)."""
    revision = _current(session, period_label)
    if revision is None:
        return None
    return _results(revision, _rows(session, revision))


def _rows(session: Session, revision: PeriodCloseRevision) -> Sequence[ClosedResultRow]:
    return session.exec(select(ClosedResultRow).where(ClosedResultRow.close_id == revision.id)).all()


def _results(revision: PeriodCloseRevision, rows: Sequence[ClosedResultRow]) -> list[ClosedResult]:
    results = [
        ClosedResult(
            period=revision.period,
            revision=revision.revision,
            subject_kind=row.subject_kind,
            subject=row.subject,
            team=row.team,
            score=row.score,
            rank=row.rank,
            grade=row.grade,
            pay_factor=row.pay_factor,
            verified_share=row.verified_share,
            items={
                key: ClosedItem(key, item["weight"], item["value"], item["target"], item["score"])
                for key, item in row.items.items()
            },
            parts=dict(row.parts or {}),
            rewards=tuple(row.rewards),
        )
        for row in rows
    ]
    order = {"team": 0, "person": 1}
    missing_rank = 1 << 30
    results.sort(key=lambda result: (order[result.subject_kind], result.rank or missing_rank, result.subject))
    return results


def reopen_period(session: Session, *, period_label: str, reason: str, by: str, now: datetime) -> Revision:
    """Reopens a closed period (its live data counts again) with a required reason, on the record."""
    revision = _current(session, period_label)
    if revision is None:
        raise PeriodCloseError(f"{_label(period_label)} is not closed", period=period_label)
    revision.reopened_by, revision.reopened_at, revision.reopen_reason = by, now, _reason(reason, period_label)
    session.add(revision)
    session.flush()
    return Revision(revision.period, revision.revision, revision.kind, revision.scheme, by, now, revision.reopen_reason)


def _reason(reason: str, period_label: str) -> str:
    text = " ".join(reason.split())
    if not text:
        raise PeriodCloseError("a reason is required", period=period_label)
    if len(text) > REASON_CHARS:
        raise PeriodCloseError(f"the reason is too long (at most {REASON_CHARS} characters)", period=period_label)
    return text


def correct_closed_result(
    session: Session,
    *,
    period_label: str,
    subject_kind: str,
    subject: str,
    item: str,
    value: float,
    reason: str,
    by: str,
    now: datetime,
) -> list[ClosedResult]:
    """Sets one item of one frozen result to ``value`` and re-scores, re-ranks and re-grades the snapshot
    by the rules it was closed with, as a new revision recording the reason and the change."""
    current = _current(session, period_label)
    label = _label(period_label)
    if current is None:
        raise PeriodCloseError(f"{label} is not closed", period=label)
    why = _reason(reason, label)
    rows = _rows(session, current)
    drafts = [
        Draft(
            row.subject_kind,
            row.subject,
            row.team,
            row.score,
            {key: dict(stored) for key, stored in row.items.items()},
            dict(row.parts) if row.parts is not None else None,
            row.verified_share,
        )
        for row in rows
    ]
    target = next((d for d in drafts if d.subject_kind == subject_kind and d.subject == subject), None)
    if target is None:
        raise PeriodCloseError(f"{label} has no closed result for {subject_kind} {subject}", period=label)
    if item not in target.items:
        known = ", ".join(target.items) or "none"
        raise PeriodCloseError(f"{subject} has no item {item!r} in {label} (items: {known})", period=label)
    old = target.items[item]["value"]
    correct(drafts, subject=target, item=item, value=value, rules=current.rules)
    revision = PeriodCloseRevision(
        period=label,
        revision=current.revision + 1,
        kind="correction",
        scheme=current.scheme,
        rules=current.rules,
        made_by=by,
        made_at=now,
        reason=why,
        change={"subject_kind": subject_kind, "subject": subject, "item": item, "old": old, "new": value},
    )
    return _store(session, revision, drafts)
