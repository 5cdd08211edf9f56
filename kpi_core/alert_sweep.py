"""Incremental alert evaluation: what a write can change, and what moved since the last sweep.

A write re-evaluates only its team: the alerted KPIs fed by what it touched (measures, survey answers,
cases of a kind, milestones) and, when it touched cases, the team's case alerts. The periodic sweep
reads the data version and the teams the change log (kpi_core.data_changes) names past the version it
saw last, in one statement, and re-evaluates only those teams (and those whose alert period rolled
over); for every
other team only the cases whose target time the clock crossed since then can have changed, and one
range query per case KPI finds them. The sweep's memory (``SweepState``) is per process: the first
sweep after a start evaluates everything. Two processes evaluating the same thing open each alert once
(the open-alert indexes) and post it once (the delivery ledger).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import get_args

import sqlalchemy as sa
from sqlmodel import Session, col

from kpi_core import ledger
from kpi_core.alert_rules import RECENT, Evaluation, evaluate_cases, evaluate_kpis
from kpi_core.config import CaseDurationFormula, Config, MilestoneFormula, SurveyFormula
from kpi_core.config_schema import CaseKind
from kpi_core.data_changes import teams_moved_since
from kpi_core.expressions import names_in
from kpi_core.models import Alert, CustomerCase, Delivery, Submission
from kpi_core.periods import Period, PeriodKind


@dataclass(frozen=True)
class Change:
    """What a write touched in one team's data. ``everything``: not known in detail (a withdrawal of an
    import, a test), so every alert of the team is re-evaluated."""

    team: str
    measures: frozenset[str] = frozenset()
    case_kinds: frozenset[str] = frozenset()
    surveys: bool = False
    milestones: bool = False
    everything: bool = False

    def __or__(self, other: Change) -> Change:
        """Both changes of the same team, as one."""
        return Change(
            self.team,
            self.measures | other.measures,
            self.case_kinds | other.case_kinds,
            self.surveys or other.surveys,
            self.milestones or other.milestones,
            self.everything or other.everything,
        )


def change_of_submission(config: Config, submission: Submission) -> Change | None:
    """What withdrawing ``submission`` changed (None: it held no team's data the bot knows of)."""
    if submission.team is None:
        return None
    form = config.form_by_key.get(submission.form or "")
    if submission.kind == "measures" and form is not None:
        return Change(submission.team, measures=frozenset(form.measures))
    if submission.kind == "survey":
        return Change(submission.team, surveys=True)
    if submission.kind == "case":
        return Change(submission.team, case_kinds=frozenset(get_args(CaseKind)))
    if submission.kind == "milestone":
        return Change(submission.team, milestones=True)
    return Change(submission.team, everything=True)


def kpis_fed_by(config: Config, change: Change) -> frozenset[str]:
    """The alerted KPIs whose value ``change`` can move."""
    fed = set()
    for kpi in config.kpis:
        if kpi.alert is None:
            continue
        formula = kpi.formula
        if change.everything:
            fed.add(kpi.key)
        elif isinstance(formula, CaseDurationFormula):
            if formula.case_kind in change.case_kinds:
                fed.add(kpi.key)
        elif isinstance(formula, SurveyFormula):
            if change.surveys:
                fed.add(kpi.key)
        elif isinstance(formula, MilestoneFormula):
            if change.milestones:
                fed.add(kpi.key)
        elif any(names_in(expression) & change.measures for _, expression in formula.expressions()):
            fed.add(kpi.key)
    return frozenset(fed)


def evaluate_changes(session: Session, *, config: Config, changes: Sequence[Change], now: datetime) -> Evaluation:
    """Re-evaluates what ``changes`` can have changed, and nothing else: per team, the alerted KPIs they
    feed (teams fed the same way in one computation) and, for teams whose cases changed, their cases."""
    merged: dict[str, Change] = {}
    for change in changes:
        merged[change.team] = merged[change.team] | change if change.team in merged else change
    by_kpis: dict[frozenset[str], list[str]] = {}
    for change in merged.values():
        kpis = kpis_fed_by(config, change)
        if kpis:
            by_kpis.setdefault(kpis, []).append(change.team)
    evaluation = Evaluation()
    for kpis, teams in by_kpis.items():
        evaluation += evaluate_kpis(session, config=config, teams=[config.team(t) for t in teams], now=now, kpis=kpis)
    with_cases = [change.team for change in merged.values() if change.everything or change.case_kinds]
    if with_cases:
        evaluation += evaluate_cases(session, config=config, now=now, teams=with_cases)
    return evaluation


def touches_cases(changes: Sequence[Change]) -> bool:
    """Whether the changes can move the next case deadline."""
    return any(change.everything or change.case_kinds for change in changes)


@dataclass(frozen=True)
class SweepState:
    """What this process's last sweep saw: the data version (None: none yet), the teams it could not
    evaluate (tried again next time), each team's current period of each alert period kind (a new month
    starts every monthly KPI afresh), and when it ran."""

    at: datetime
    version: int | None = None
    retry: frozenset[str] = frozenset()
    periods: dict[tuple[str, PeriodKind], Period] = field(default_factory=dict)


def sweep(session: Session, *, config: Config, now: datetime, last: SweepState | None) -> tuple[Evaluation, SweepState]:
    """Evaluates what moved since ``last`` (everything when None, or when the clock went back): the
    teams whose data version moved or whose alert period rolled over, and every team's cases that came
    due since ``last.at``. Returns the evaluation and the state for the next sweep (teams that could
    not be evaluated are left out of it, so the next sweep tries them again)."""
    # first: a write committed after this read has a later version and is seen next time
    version, moved = teams_moved_since(session, version=None if last is None else last.version)
    kinds = sorted({kpi.alert.period for kpi in config.kpis if kpi.alert is not None})
    periods = {(team.key, kind): Period.current(kind, now=now, tz=team.tz) for team in config.teams for kind in kinds}
    state = SweepState(now, version, frozenset(), periods)
    if last is None or last.at > now or moved is None:
        everyone = list(config.teams)
        evaluation = evaluate_kpis(session, config=config, teams=everyone, now=now)
        evaluation += evaluate_cases(session, config=config, now=now)
        return evaluation, _with_failures(state, evaluation)
    changed = sorted(moved | last.retry)
    rolled = {team for (team, kind), period in periods.items() if last.periods.get((team, kind)) != period}
    evaluation = evaluate_kpis(
        session, config=config, teams=[team for team in config.teams if team.key in {*changed, *rolled}], now=now
    )
    evaluation += evaluate_cases(session, config=config, now=now, teams=changed)
    evaluation += evaluate_cases(session, config=config, now=now, due_after=last.at)
    return evaluation, _with_failures(state, evaluation)


def _with_failures(state: SweepState, evaluation: Evaluation) -> SweepState:
    return replace(state, retry=frozenset(failure.team for failure in evaluation.failures))


@dataclass(frozen=True)
class DuePost:
    """An alert whose message or recovery is still to be posted; ``posted``: where its alert went."""

    alert: Alert
    case: CustomerCase | None
    posted: tuple[str, str] | None


def due_posts(session: Session, *, now: datetime, teams: Sequence[str] | None = None) -> list[DuePost]:
    """In one statement: the open alerts not yet posted (or whose post is pending), and the alerts
    resolved lately whose alert was posted and whose recovery is not yet; each with its case (None for a
    KPI alert or a withdrawn case) and the channel and ts of its posted alert."""
    alerts = Alert.__table__.c  # type: ignore[attr-defined]
    deliveries = Delivery.__table__  # type: ignore[attr-defined]
    posted, recovery = deliveries.alias("posted"), deliveries.alias("recovery")
    query = (
        sa.select(Alert, CustomerCase, posted.c.state, posted.c.channel, posted.c.ts)
        .outerjoin(CustomerCase, col(CustomerCase.id) == Alert.case_id)
        .outerjoin(posted, posted.c.key == ledger.delivery_key_sql("alert", alerts.team, alerts.id))
        .outerjoin(recovery, recovery.c.key == ledger.delivery_key_sql("recovery", alerts.team, alerts.id))
        .where(
            sa.or_(
                sa.and_(alerts.resolved_at.is_(None), sa.or_(posted.c.id.is_(None), posted.c.state == ledger.PENDING)),
                sa.and_(
                    alerts.resolved_at >= now - RECENT,
                    posted.c.state == ledger.SENT,
                    sa.or_(recovery.c.id.is_(None), recovery.c.state == ledger.PENDING),
                ),
            )
        )
        .order_by(col(Alert.id))
    )
    if teams is not None:
        query = query.where(col(Alert.team).in_(teams))
    return [
        DuePost(alert, case, (channel, ts) if state == ledger.SENT and channel and ts else None)
        for alert, case, state, channel, ts in session.execute(query)
    ]
