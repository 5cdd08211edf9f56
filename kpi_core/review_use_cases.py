"""What the bot and the CLI ask of reviews and interviews, one transaction each (the door from bot/ to
review storage, like kpi_core/use_cases.py for KPI data)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select

from kpi_core import interviews, review_cycles, reviews
from kpi_core.config import Config
from kpi_core.db import transaction
from kpi_core.errors import ReviewError
from kpi_core.people import may_see_person
from kpi_core.review_cycles import LaunchRequest
from kpi_core.review_demo import load_demo_review
from kpi_core.review_models import ReviewAssignment, ReviewCycle, ReviewInterview
from kpi_core.review_results import GroupResult
from kpi_core.store import write_once


def launch(
    engine: sa.Engine, *, config: Config, request: LaunchRequest, user: str, now: datetime, operator: bool = False
) -> ReviewCycle:
    """Launches a cycle for an admin or HR, or (``operator``) for whoever runs the command line, which
    has the database in hand anyway; ``user`` is who the audit trail names."""
    if not operator and not review_cycles.may_run_reviews(config, user):
        raise ReviewError(reason="not_allowed")
    with transaction(engine) as session:
        return review_cycles.launch(session, config=config, request=request, user=user, now=now)


def close(
    engine: sa.Engine, *, config: Config, key: str, user: str, now: datetime, operator: bool = False
) -> ReviewCycle:
    """Closes a cycle by hand (admins and HR, or the command line) before or after its deadline."""
    if not operator and not review_cycles.may_run_reviews(config, user):
        raise ReviewError(reason="not_allowed")
    with transaction(engine) as session:
        cycle = review_cycles.find_cycle(session, key=key)
        review_cycles.close(session, config=config, cycle=cycle, user=user, now=now)
        return cycle


def close_due(engine: sa.Engine, *, config: Config, now: datetime) -> list[ReviewCycle]:
    """Closes every open cycle whose deadline has passed (the scheduler's part); returns them."""
    with transaction(engine) as session:
        due = [cycle for cycle in review_cycles.open_cycles(session) if cycle.deadline_at <= now]
    closed = []
    for cycle in due:
        try:
            with transaction(engine) as session:
                # read again, not merged: merging the stale copy would write its closed_at (None) back over
                # another replica's close, and both would open the interviews
                current = session.get(ReviewCycle, cycle.id)
                if current is None:
                    continue
                review_cycles.close(session, config=config, cycle=current, user="scheduler", now=now)
            closed.append(current)
        except ReviewError:
            continue  # another replica closed it first
    return closed


def status(engine: sa.Engine, *, key: str) -> reviews.CycleStatus:
    with transaction(engine) as session:
        return reviews.status(session, key=key)


def rater_form(
    engine: sa.Engine, *, config: Config, assignment_id: int, rater: str, now: datetime
) -> reviews.RaterForm:
    with transaction(engine) as session:
        return reviews.rater_form(session, config=config, assignment_id=assignment_id, rater=rater, now=now)


def submit_answer(
    engine: sa.Engine,
    *,
    config: Config,
    request_key: str,
    assignment_id: int,
    rater: str,
    scores: Mapping[str, int],
    comment: str | None,
    now: datetime,
) -> bool | None:
    """Stores the answer once per Slack request; True: it replaced an earlier one; None: a repeat."""
    return write_once(
        engine,
        request_key=request_key,
        now=now,
        write=lambda session: reviews.submit_answer(
            session, config=config, assignment_id=assignment_id, rater=rater, scores=scores, comment=comment, now=now
        ),
    )


def open_cycle(engine: sa.Engine, *, cycle_id: int) -> ReviewCycle:
    with transaction(engine) as session:
        cycle = session.get(ReviewCycle, cycle_id) if 0 < cycle_id < 2**63 else None
        if cycle is None:
            raise ReviewError(reason="no_cycle", cycle=str(cycle_id))
        return cycle


def nominate(
    engine: sa.Engine, *, config: Config, cycle_id: int, subject: str, peers: Sequence[str], now: datetime
) -> tuple[ReviewCycle, list[ReviewAssignment]]:
    """The person's nominations; returns the cycle and those awaiting the superior's approval."""
    with transaction(engine) as session:
        cycle = session.get(ReviewCycle, cycle_id) if 0 < cycle_id < 2**63 else None
        if cycle is None:
            raise ReviewError(reason="not_yours")
        pending = review_cycles.nominate(session, config=config, cycle=cycle, subject=subject, peers=peers, now=now)
        return cycle, pending


def decide_peers(
    engine: sa.Engine, *, config: Config, cycle_id: int, subject: str, approver: str, approve: bool, now: datetime
) -> list[ReviewAssignment]:
    with transaction(engine) as session:
        cycle = session.get(ReviewCycle, cycle_id) if 0 < cycle_id < 2**63 else None
        if cycle is None:
            raise ReviewError(reason="not_yours")
        return review_cycles.decide_peers(
            session, config=config, cycle=cycle, subject=subject, approver=approver, approve=approve, now=now
        )


def default_peers(engine: sa.Engine, *, config: Config, now: datetime) -> int:
    with transaction(engine) as session:
        return sum(
            review_cycles.default_peers(session, config=config, cycle=cycle, now=now)
            for cycle in review_cycles.open_cycles(session)
        )


def pending_requests(engine: sa.Engine) -> list[tuple[ReviewAssignment, ReviewCycle]]:
    with transaction(engine) as session:
        return reviews.pending_requests(session)


def mark_requested(engine: sa.Engine, *, assignment_id: int, now: datetime) -> None:
    with transaction(engine) as session:
        reviews.mark_requested(session, assignment_id=assignment_id, now=now)


def nomination_invites(engine: sa.Engine, *, config: Config) -> list[tuple[ReviewCycle, str]]:
    """(cycle, person) for each person of each open cycle: whom to invite to nominate peers."""
    with transaction(engine) as session:
        cycles = review_cycles.open_cycles(session)
    return [(cycle, person.user) for cycle in cycles for person in config.people]


@dataclass(frozen=True)
class DueReminder:
    cycle: ReviewCycle
    rater: str
    days: int  # before the deadline day
    subjects: list[str]


def due_reminders(engine: sa.Engine, *, config: Config, now: datetime, team: str | None = None) -> list[DueReminder]:
    """The reminder each rater who has not answered everything is due now, in their own time zone; only
    raters whose zone is ``team``'s, when given (the team's job runs at 09:00 in that zone)."""
    due = []
    with transaction(engine) as session:
        for cycle in review_cycles.open_cycles(session):
            for rater, assignments in reviews.unanswered(session, cycle=cycle).items():
                zone = review_cycles.zone_of(config, rater)
                if team is not None and zone != config.team(team).tz:
                    continue
                days = review_cycles.due_reminder(cycle, zone, now)
                if days is not None:
                    due.append(DueReminder(cycle, rater, days, [assignment.subject for assignment in assignments]))
    return due


@dataclass(frozen=True)
class Packet:
    """What the holders of a person's interview get when a cycle closes."""

    cycle: ReviewCycle
    interview: ReviewInterview
    results: dict[str, GroupResult]
    competencies: list[str]


def interviews_of(engine: sa.Engine, *, key: str) -> list[ReviewInterview]:
    with transaction(engine) as session:
        return interviews.interviews_of(session, cycle=review_cycles.find_cycle(session, key=key))


def packets(engine: sa.Engine, *, config: Config, key: str, subjects: Sequence[str] | None = None) -> list[Packet]:
    """The packets of a closed cycle's interviews (only ``subjects``' when given)."""
    with transaction(engine) as session:
        cycle = review_cycles.find_cycle(session, key=key)
        return [
            Packet(
                cycle,
                interview,
                reviews.results(session, config=config, cycle=cycle, subject=interview.subject),
                reviews.competency_keys(config, interview.subject),
            )
            for interview in interviews.interviews_of(session, cycle=cycle)
            if subjects is None or interview.subject in subjects
        ]


def results_for(
    engine: sa.Engine, *, config: Config, viewer: str, subject: str, key: str | None = None
) -> tuple[ReviewCycle, dict[str, GroupResult]] | None:
    """A person's results of a closed cycle (the latest by default) for a viewer allowed to see the person
    (kpi_core.people.may_see_person); None when there is no closed cycle."""
    if not may_see_person(config, viewer, subject):
        raise ReviewError(reason="not_yours")
    with transaction(engine) as session:
        cycle = (
            review_cycles.latest_closed_cycle(session) if key is None else review_cycles.find_cycle(session, key=key)
        )
        if cycle is None:
            return None
        return cycle, reviews.results(session, config=config, cycle=cycle, subject=subject)


def interview(engine: sa.Engine, *, interview_id: int, user: str) -> tuple[ReviewInterview, ReviewCycle]:
    """An interview for one of its holders or its person; anyone else is refused."""
    with transaction(engine) as session:
        found, cycle = interviews.find_interview(session, interview_id=interview_id)
    if user not in (*interviews.holders(found), found.subject):
        raise ReviewError(reason="not_yours")
    return found, cycle


def record_interview(
    engine: sa.Engine,
    *,
    request_key: str,
    interview_id: int,
    user: str,
    record: interviews.InterviewRecord,
    now: datetime,
) -> ReviewInterview | None:
    return write_once(
        engine,
        request_key=request_key,
        now=now,
        write=lambda session: interviews.record(session, interview_id=interview_id, user=user, record=record, now=now),
    )


def confirm_interview(engine: sa.Engine, *, interview_id: int, user: str, now: datetime) -> ReviewInterview:
    with transaction(engine) as session:
        return interviews.confirm(session, interview_id=interview_id, user=user, now=now)


def acknowledge_interview(engine: sa.Engine, *, interview_id: int, user: str, now: datetime) -> ReviewInterview:
    with transaction(engine) as session:
        return interviews.acknowledge(session, interview_id=interview_id, user=user, now=now)


def export(engine: sa.Engine, *, config: Config, key: str) -> list[dict[str, object]]:
    with transaction(engine) as session:
        return reviews.export_rows(session, config=config, key=key)


def load_demo_once(engine: sa.Engine, *, config: Config) -> int | None:
    """The demo's finished review cycle (kpi_core/review_demo.py) unless it is there; answers stored, or None."""
    with transaction(engine) as session:
        return load_demo_review(session, config=config)


def cycles(engine: sa.Engine) -> list[ReviewCycle]:
    with transaction(engine) as session:
        return list(session.exec(select(ReviewCycle).order_by(col(ReviewCycle.id))).all())
