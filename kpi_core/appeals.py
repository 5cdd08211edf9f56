"""Appeals (申诉) against a closed period's results: who may confirm or appeal (the assessed lead or person,
while the window is open), who decides (management and HR), and the state machine

    (none) -> confirmed
    (none) -> submitted -> under_review -> upheld | rejected

in which every step after the appeal itself needs a reason, and every step is audited. An upheld appeal's
correction of the closed results is made by kpi_core/appeal_use_cases.py (kpi_core.period_close)."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from kpi_core.appeal_models import REASON_CHARS, Appeal, AppealEvent, AppealWindow
from kpi_core.config import Config
from kpi_core.errors import AppealError
from kpi_core.models import AuditEntry

#: the decisions, each from the state it may follow
STEPS = {"under_review": "submitted", "upheld": "under_review", "rejected": "under_review"}
UNDECIDED = ("submitted", "under_review")
#: a decision's reason leaves room for ``correction_reason``'s prefix in the closed results' revision
DECISION_REASON_CHARS = REASON_CHARS - 200
MAX_LINKS = 5
LINK_CHARS = 500
#: characters a link never needs and a hostile one uses to break out of Slack's <url|label> markup
_NOT_IN_LINKS = set('<>|"\\`')


def assessed_users(config: Config, *, subject_kind: str, subject: str) -> list[str]:
    """Who answers for a result: a team's leads, or the person themself."""
    if subject_kind == "team":
        team = config.team_by_key.get(subject)
        return list(team.leads) if team is not None else []
    return [subject] if subject in config.person_by_user else []


def deciders(config: Config) -> list[str]:
    """Management and HR, each once."""
    return list(dict.fromkeys([*config.roles.management, *config.roles.hr]))


def may_decide(config: Config, user: str) -> bool:
    return user in config.roles.management or user in config.roles.hr


def link_problem(link: str) -> bool:
    """Whether ``link`` is not a plain http(s) URL with a host (evidence must be one)."""
    if len(link) > LINK_CHARS or any(char in _NOT_IN_LINKS or char.isspace() for char in link):
        return True
    if any(unicodedata.category(char) == "Cc" for char in link):
        return True
    try:
        parts = urlsplit(link)
        host = parts.hostname
    except ValueError:  # a malformed port or IPv6 literal
        return True
    return parts.scheme not in ("http", "https") or not host


def clean_reason(reason: str | None, *, maximum: int = REASON_CHARS) -> str:
    """A reason as stored: required, at most ``maximum`` characters, no control characters but newlines
    and tabs."""
    text = (reason or "").strip()
    if not text:
        raise AppealError(reason="reason_required")
    if len(text) > maximum or any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in text):
        raise AppealError(reason="reason_required")  # the modal says which; a forged request only learns this
    return text


def open_window(session: Session, *, period_label: str, opened_at: datetime, days: int) -> AppealWindow:
    """The period's appeal window, from ``opened_at`` (the close) for ``days``, unless it has one already
    (another replica's tick may open it at the same moment: one row, the first one's)."""
    table = AppealWindow.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    session.execute(
        insert.values(
            period_label=period_label, opened_at=opened_at, closes_at=opened_at + timedelta(days=days)
        ).on_conflict_do_nothing(index_elements=["period_label"])
    )
    window = window_of(session, period_label=period_label)
    assert window is not None
    return window


def window_of(session: Session, *, period_label: str) -> AppealWindow | None:
    return session.exec(select(AppealWindow).where(AppealWindow.period_label == period_label)).first()


def open_windows(session: Session, *, now: datetime) -> list[AppealWindow]:
    return list(session.exec(select(AppealWindow).where(col(AppealWindow.closes_at) > now)).all())


def answer_of(session: Session, *, period_label: str, subject_kind: str, subject: str) -> Appeal | None:
    query = select(Appeal).where(
        Appeal.period_label == period_label, Appeal.subject_kind == subject_kind, Appeal.subject == subject
    )
    return session.exec(query).first()


def check_may_answer(
    session: Session, config: Config, *, period_label: str, subject_kind: str, subject: str, user: str, now: datetime
) -> AppealWindow:
    """The open window in which ``user`` may still confirm or appeal the result; refused otherwise."""
    if user not in assessed_users(config, subject_kind=subject_kind, subject=subject):
        raise AppealError(reason="not_yours")
    window = window_of(session, period_label=period_label)
    if window is None:
        raise AppealError(reason="no_window", period=period_label[:16])
    if now >= window.closes_at:
        raise AppealError(reason="window_closed", period=period_label, closes=f"{window.closes_at:%Y-%m-%d %H:%M} UTC")
    answered = answer_of(session, period_label=period_label, subject_kind=subject_kind, subject=subject)
    if answered is not None:
        raise AppealError(reason="answered", state=answered.state.replace("_", " "))
    return window


def _audit(session: Session, *, appeal: Appeal, action: str, user: str, now: datetime, **new: Any) -> None:
    fields = {"period": appeal.period_label, "subject_kind": appeal.subject_kind, "subject": appeal.subject, **new}
    team = appeal.subject if appeal.subject_kind == "team" else None
    session.add(
        AuditEntry(at=now, user=user, team=team, action=action, entity="appeal", entity_id=appeal.id, new=fields)
    )


def _store_answer(session: Session, appeal: Appeal) -> Appeal:
    """Inserts the answer; a second answer to the same result racing this one (another lead of the team,
    a double click on two replicas) hits the unique key and is refused as answered."""
    try:
        with session.begin_nested():
            session.add(appeal)
            session.flush()
    except sa.exc.IntegrityError:
        raise AppealError(reason="answered", state="answered") from None
    return appeal


def confirm(
    session: Session, config: Config, *, period_label: str, subject_kind: str, subject: str, user: str, now: datetime
) -> Appeal:
    """The assessed accept their result; it can no longer be appealed."""
    check_may_answer(
        session, config, period_label=period_label, subject_kind=subject_kind, subject=subject, user=user, now=now
    )
    appeal = Appeal(
        period_label=period_label, subject_kind=subject_kind, subject=subject, state="confirmed", by_user=user, at=now
    )
    _store_answer(session, appeal)
    _audit(session, appeal=appeal, action="confirm", user=user, now=now)
    return appeal


def submit(
    session: Session,
    config: Config,
    *,
    period_label: str,
    subject_kind: str,
    subject: str,
    items: Collection[str],
    item: str,
    reason: str,
    evidence: Sequence[str],
    user: str,
    now: datetime,
) -> Appeal:
    """An appeal of one item of the result (``items``: the result's scorecard items), due to be decided
    within ``appeals.review_days``."""
    check_may_answer(
        session, config, period_label=period_label, subject_kind=subject_kind, subject=subject, user=user, now=now
    )
    if item not in items:
        raise AppealError(reason="unknown_item", item=item[:64])
    text = clean_reason(reason)
    links = list(dict.fromkeys(evidence))
    for link in links:
        if link_problem(link):
            raise AppealError(reason="bad_link", link=link[:80])
    if len(links) > MAX_LINKS:
        raise AppealError(reason="bad_link", link=links[MAX_LINKS][:80])
    appeal = Appeal(
        period_label=period_label,
        subject_kind=subject_kind,
        subject=subject,
        state="submitted",
        item=item,
        reason=text,
        evidence=links,
        by_user=user,
        at=now,
        decide_by=now + timedelta(days=config.appeals.review_days),
    )
    _store_answer(session, appeal)
    session.add(AppealEvent(appeal_id=appeal.id or 0, state="submitted", reason=text, by_user=user, at=now))
    _audit(session, appeal=appeal, action="appeal", user=user, now=now, item=item, reason=text, evidence=links)
    return appeal


def find(session: Session, *, appeal_id: int) -> Appeal:
    appeal = session.get(Appeal, appeal_id) if 0 < appeal_id < 2**63 else None
    if appeal is None or appeal.state == "confirmed":
        raise AppealError(reason="no_appeal")
    return appeal


def check_step(config: Config, appeal: Appeal, *, to: str, user: str) -> None:
    """Whether ``user`` may move ``appeal`` to ``to`` now: a decider, not the appellant, from the right state."""
    if not may_decide(config, user):
        raise AppealError(reason="not_allowed")
    if user == appeal.by_user or user in assessed_users(
        config, subject_kind=appeal.subject_kind, subject=appeal.subject
    ):
        raise AppealError(reason="own_appeal")
    if STEPS.get(to) != appeal.state:
        raise AppealError(reason="bad_step", state=appeal.state.replace("_", " "), to=to.replace("_", " "))


def move(
    session: Session,
    config: Config,
    *,
    appeal_id: int,
    to: str,
    reason: str,
    user: str,
    now: datetime,
    corrected_value: float | None = None,
) -> Appeal:
    """One decision step with its reason. The row is locked (PostgreSQL) and the state compared again in
    the UPDATE, so of two deciders clicking at once one wins and the other is told the state moved on."""
    appeal = find(session, appeal_id=appeal_id)
    check_step(config, appeal, to=to, user=user)
    text = clean_reason(reason, maximum=DECISION_REASON_CHARS)
    if to == "upheld" and corrected_value is None:
        raise AppealError(reason="value_required")
    decided = to in ("upheld", "rejected")
    values: dict[str, Any] = {"state": to}
    if decided:
        values |= {"decided_by": user, "decided_at": now, "corrected_value": corrected_value}
    moved = session.execute(
        sa.update(Appeal).where(col(Appeal.id) == appeal.id, col(Appeal.state) == appeal.state).values(**values)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise AppealError(reason="bad_step", state="decided by someone else", to=to.replace("_", " "))
    session.refresh(appeal)
    session.add(AppealEvent(appeal_id=appeal.id or 0, state=to, reason=text, by_user=user, at=now))
    extra = {"value": corrected_value} if to == "upheld" else {}
    _audit(session, appeal=appeal, action=f"appeal_{to}"[:32], user=user, now=now, reason=text, **extra)
    session.flush()
    return appeal


def correction_reason(appeal: Appeal, reason: str) -> str:
    """The reason the closed results' new revision records: which appeal, and the decider's reason."""
    return f"appeal #{appeal.id} upheld / 申诉 #{appeal.id} 获支持 ({appeal.subject}, {appeal.item}): {reason}"


def events(session: Session, *, appeal_id: int) -> list[AppealEvent]:
    query = select(AppealEvent).where(AppealEvent.appeal_id == appeal_id).order_by(col(AppealEvent.id))
    return list(session.exec(query).all())


def appeal_states(session: Session, period_label: str) -> dict[tuple[str, str], str]:
    """Each answered result's state, by (subject_kind, subject): for the results export."""
    query = select(Appeal.subject_kind, Appeal.subject, Appeal.state).where(Appeal.period_label == period_label)
    return {(kind, subject): state for kind, subject, state in session.exec(query).all()}


def undecided(session: Session) -> list[Appeal]:
    query = select(Appeal).where(col(Appeal.state).in_(UNDECIDED)).order_by(col(Appeal.id))
    return list(session.exec(query).all())


def due_reminder(appeal: Appeal, *, remind_days_before: Sequence[int], now: datetime) -> int | None:
    """The reminder (days before the decision deadline) an undecided appeal is due at ``now``: the latest
    whose time has come, until the deadline; None before the first, after the deadline or once decided."""
    if appeal.state not in UNDECIDED or appeal.decide_by is None or now >= appeal.decide_by:
        return None
    due = [days for days in remind_days_before if appeal.decide_by - timedelta(days=days) <= now]
    return min(due) if due else None
