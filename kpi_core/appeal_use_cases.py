"""What the bot asks of appeals, one transaction each (the door from bot/ to appeal storage): the windows
after a close, the results to confirm or appeal, the answers, the decisions, and an upheld appeal's
correction of the closed results (kpi_core.period_close) in the same transaction as the decision."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from kpi_core import appeals, period_close
from kpi_core.appeal_models import Appeal, AppealEvent, AppealWindow
from kpi_core.close_guard import closed_periods
from kpi_core.config import Config
from kpi_core.db import transaction
from kpi_core.errors import AppealError, PeriodCloseError
from kpi_core.period_close import ClosedResult
from kpi_core.store import write_once


@dataclass(frozen=True)
class Invitation:
    """A result to confirm or appeal, and who is asked to."""

    window: AppealWindow
    result: ClosedResult
    users: list[str]


def open_windows(engine: sa.Engine, *, config: Config, now: datetime) -> list[AppealWindow]:
    """Opens the window of every period closed within the last ``appeal_days`` that has none yet (the
    first tick after a close opens it, from the close), and returns every window still open. A period
    reopened and closed again keeps its first window."""
    days = config.appeals.appeal_days
    with transaction(engine) as session:
        for period in closed_periods(session):
            if appeals.window_of(session, period_label=period.label) is not None:
                continue
            revision = period_close.current_revision(session, period.label)
            if revision is not None and revision.made_at > now - timedelta(days=days):
                appeals.open_window(session, period_label=period.label, opened_at=revision.made_at, days=days)
        return appeals.open_windows(session, now=now)


def invitations(engine: sa.Engine, *, config: Config, window: AppealWindow) -> list[Invitation]:
    """Every closed result of the window's period with who answers for it (a team's leads, a person)."""
    with transaction(engine) as session:
        results = period_close.closed_results(session, window.period_label) or []
    invited = []
    for result in results:
        users = appeals.assessed_users(config, subject_kind=result.subject_kind, subject=result.subject)
        if users:
            invited.append(Invitation(window, result, users))
    return invited


def result_to_answer(
    engine: sa.Engine, *, config: Config, period_label: str, subject_kind: str, subject: str, user: str, now: datetime
) -> ClosedResult:
    """The closed result ``user`` may still confirm or appeal (refused otherwise)."""
    with transaction(engine) as session:
        appeals.check_may_answer(
            session, config, period_label=period_label, subject_kind=subject_kind, subject=subject, user=user, now=now
        )
        return _result(session, period_label, subject_kind, subject)


def _result(session: Session, period_label: str, subject_kind: str, subject: str) -> ClosedResult:
    results = period_close.closed_results(session, period_label)
    if results is None:
        raise AppealError(reason="not_closed", period=period_label[:16])
    for result in results:
        if (result.subject_kind, result.subject) == (subject_kind, subject):
            return result
    raise AppealError(reason="not_yours")


def confirm(
    engine: sa.Engine, *, config: Config, period_label: str, subject_kind: str, subject: str, user: str, now: datetime
) -> Appeal:
    with transaction(engine) as session:
        _result(session, period_label, subject_kind, subject)
        return appeals.confirm(
            session, config, period_label=period_label, subject_kind=subject_kind, subject=subject, user=user, now=now
        )


def submit(
    engine: sa.Engine,
    *,
    config: Config,
    request_key: str,
    period_label: str,
    subject_kind: str,
    subject: str,
    item: str,
    reason: str,
    evidence: Sequence[str],
    user: str,
    now: datetime,
) -> Appeal | None:
    """Stores the appeal once per Slack request (None: a repeat of one stored already)."""

    def write(session: Session) -> Appeal:
        result = _result(session, period_label, subject_kind, subject)
        return appeals.submit(
            session,
            config,
            period_label=period_label,
            subject_kind=subject_kind,
            subject=subject,
            items=list(result.items),
            item=item,
            reason=reason,
            evidence=evidence,
            user=user,
            now=now,
        )

    return write_once(engine, request_key=request_key, now=now, write=write)


@dataclass(frozen=True)
class Decision:
    appeal: Appeal
    #: an upheld appeal's corrected results of the period (every subject, re-ranked)
    revised: list[ClosedResult] | None


def decide(
    engine: sa.Engine,
    *,
    config: Config,
    request_key: str,
    appeal_id: int,
    to: str,
    reason: str,
    user: str,
    now: datetime,
    corrected_value: float | None = None,
) -> Decision | None:
    """A decision step, once per Slack request; upheld, the closed result is corrected (a new audited
    revision) in the same transaction, so an appeal is never upheld without its correction."""

    def write(session: Session) -> Decision:
        appeal = appeals.move(
            session,
            config,
            appeal_id=appeal_id,
            to=to,
            reason=reason,
            user=user,
            now=now,
            corrected_value=corrected_value,
        )
        if to != "upheld" or appeal.item is None or corrected_value is None:
            return Decision(appeal, None)
        try:
            revised = period_close.correct_closed_result(
                session,
                period_label=appeal.period_label,
                subject_kind=appeal.subject_kind,
                subject=appeal.subject,
                item=appeal.item,
                value=corrected_value,
                reason=appeals.correction_reason(appeal, appeals.clean_reason(reason)),
                by=user,
                now=now,
            )
        except PeriodCloseError as error:  # reopened meanwhile, say: nothing of the decision is stored
            raise AppealError(reason="not_corrected", detail=str(error)[:200]) from None
        appeal.revision = max((result.revision for result in revised), default=None)
        session.add(appeal)
        return Decision(appeal, revised)

    return write_once(engine, request_key=request_key, now=now, write=write)


def appeal_for_decider(engine: sa.Engine, *, config: Config, appeal_id: int, to: str, user: str) -> Appeal:
    """The appeal ``user`` may move to ``to`` now (refused otherwise): to open the decision modal."""
    with transaction(engine) as session:
        appeal = appeals.find(session, appeal_id=appeal_id)
        appeals.check_step(config, appeal, to=to, user=user)
        return appeal


def appeal(engine: sa.Engine, *, appeal_id: int) -> Appeal:
    with transaction(engine) as session:
        return appeals.find(session, appeal_id=appeal_id)


def item_of(engine: sa.Engine, *, appeal: Appeal) -> object:
    """The appealed item of the closed result as it stands (its latest revision)."""
    with transaction(engine) as session:
        result = _result(session, appeal.period_label, appeal.subject_kind, appeal.subject)
    return result.items.get(appeal.item or "")


def events(engine: sa.Engine, *, appeal_id: int) -> list[AppealEvent]:
    with transaction(engine) as session:
        return appeals.events(session, appeal_id=appeal_id)


def undecided(engine: sa.Engine) -> list[Appeal]:
    with transaction(engine) as session:
        return appeals.undecided(session)


def appeal_states(engine: sa.Engine, *, period_label: str) -> dict[tuple[str, str], str]:
    with transaction(engine) as session:
        return appeals.appeal_states(session, period_label)
