"""Verified data in the core, on SQLite and PostgreSQL: the states and their transitions (audited), what
blocks a period's close, the verified share, the KPIs a digest marks, what waits for a verifier, and a
correction answering a query."""

from __future__ import annotations

from datetime import date

import pytest
import yaml
from sqlmodel import select

from bot.resources import EXAMPLE_CONFIG
from kpi_core import use_cases
from kpi_core.config import Config, parse_config
from kpi_core.db import transaction
from kpi_core.imports import import_csv
from kpi_core.models import AuditEntry, Submission
from kpi_core.periods import Period
from kpi_core.store import withdraw_submission
from kpi_core.verification import (
    Blocker,
    unverified_kpis,
    verification_blockers,
    verified_share,
    waiting_for,
)
from kpi_core.verification_steps import query, verify
from tests.factories import add, at, measures

VERIFIER, OTHER_VERIFIER, LEAD = "U0VERIFY", "U0VERIFY2", "U0LEADBE"
NOW = at("2026-10-02 09:00")
WEEK = Period.parse("2026-W39")
Q3 = Period.parse("2026-Q3")


def verifying_config(*, since: str | None = None, verifiers: tuple[str, ...] = (VERIFIER, OTHER_VERIFIER)) -> Config:
    raw = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    raw["roles"]["verifiers"] = list(verifiers)
    if since is not None:
        raw["verification"] = {"since": since}
    return parse_config(raw)


@pytest.fixture(scope="module")
def config() -> Config:
    return verifying_config()


def submit(engine, *, team="berlin_ops", period=WEEK, user=LEAD, key="view-1", **values: float) -> Submission:
    submission = use_cases.submit_measures(
        engine,
        request_key=key,
        team=team,
        form="weekly",
        period=period,
        values=values or {"orders": 120.0, "on_time_orders": 114.0},
        user=user,
        now=NOW,
    )
    assert submission is not None
    return submission


def test_a_new_submission_is_pending_and_blocks_its_period(engine, config):
    submission = submit(engine)
    with transaction(engine) as session:
        blockers = verification_blockers(session, config, Q3)
        assert blockers == [Blocker("berlin_ops", submission.id, "weekly", "slack", "pending")]
        assert verification_blockers(session, config, Period.parse("2026-Q4")) == []
        assert verified_share(session, config, WEEK, team="berlin_ops") == 0.0
        assert verified_share(session, config, WEEK, team="shanghai_ops") is None
        assert "on_time_delivery" in unverified_kpis(session, config, WEEK, team="berlin_ops")
        assert "csat" not in unverified_kpis(session, config, WEEK, team="berlin_ops")
        assert unverified_kpis(session, config, WEEK, team="shanghai_ops") == frozenset()


def test_verify_moves_pending_to_verified_once_and_audits_who_when_and_the_note(engine, config):
    submission = submit(engine)
    with transaction(engine) as session:
        step = verify(session, config, submission_id=submission.id, user=VERIFIER, now=NOW, note="checked")
    assert step.outcome == "done"
    with transaction(engine) as session:
        again = verify(session, config, submission_id=submission.id, user=OTHER_VERIFIER, now=NOW)
        assert again.outcome == "verified_already"
        assert verification_blockers(session, config, Q3) == []
        assert verified_share(session, config, WEEK, team="berlin_ops") == 1.0
        assert unverified_kpis(session, config, WEEK, team="berlin_ops") == frozenset()
        audit = session.exec(select(AuditEntry).where(AuditEntry.entity == "submission_verification")).all()
    assert [(entry.action, entry.user, entry.at, entry.old, entry.new) for entry in audit] == [
        ("verify", VERIFIER, NOW, {"state": "pending"}, {"state": "verified", "note": "checked"})
    ]


@pytest.mark.parametrize(
    ("user", "outcome"),
    [
        pytest.param(LEAD, "not_verifier", id="a-lead"),
        pytest.param("U0ADMIN", "not_verifier", id="an-admin"),
        pytest.param(VERIFIER, "own", id="the-verifier-who-submitted-it"),
    ],
)
def test_who_may_not_verify(engine, config, user, outcome):
    submission = submit(engine, user=VERIFIER)
    with transaction(engine) as session:
        assert verify(session, config, submission_id=submission.id, user=user, now=NOW).outcome == outcome
        assert query(session, config, submission_id=submission.id, user=user, question="?", now=NOW).outcome == outcome
        assert verification_blockers(session, config, Q3)[0].state == "pending"


def test_a_query_blocks_as_queried_and_a_correction_answers_it_with_new_pending_values(engine, config):
    first = submit(engine, orders=120.0, on_time_orders=114.0)  # queried, then corrected
    with transaction(engine) as session:
        step = query(session, config, submission_id=first.id, user=VERIFIER, question="120 orders?", now=NOW)
        assert step.outcome == "done"
        assert step.verification.queried_by == VERIFIER
    second = first
    with transaction(engine) as session:
        assert [blocker.state for blocker in verification_blockers(session, config, Q3)] == ["queried"]
        again = query(session, config, submission_id=second.id, user=OTHER_VERIFIER, question="?", now=NOW)
        assert again.outcome == "queried_already"
    correction = submit(engine, key="view-2", orders=110.0, on_time_orders=100.0)
    with transaction(engine) as session:
        blockers = verification_blockers(session, config, Q3)
        answered = session.exec(select(AuditEntry).where(AuditEntry.action == "correct")).one()
        waiting, total = waiting_for(session, config, verifier=VERIFIER)
    # the corrected values are what waits now; the replaced submission holds nothing and blocks nothing
    assert blockers == [Blocker("berlin_ops", correction.id, "weekly", "slack", "pending")]
    assert (answered.submission_id, answered.old, answered.new["state"]) == (second.id, {"state": "queried"}, "pending")
    assert total == 1
    assert waiting[0].submission.id == correction.id
    assert (waiting[0].period, waiting[0].values, waiting[0].rows) == (
        "2026-W39",
        {"orders": 110.0, "on_time_orders": 100.0},
        2,
    )


def test_waiting_leaves_out_the_verifiers_own_verified_queried_and_withdrawn_submissions(engine, config):
    own = submit(engine, key="a", user=VERIFIER, team="berlin_ops")
    verified = submit(engine, key="b", team="shanghai_ops", user="U0LEADSH")
    queried = submit(engine, key="c", team="beijing_service", user="U0LEADBJ")
    withdrawn = submit(engine, key="d", team="newyork_delivery", user="U0LEADNY")
    waiting = submit(engine, key="e", team="berlin_ops", period=Period.parse("2026-W38"))
    with transaction(engine) as session:
        verify(session, config, submission_id=verified.id, user=VERIFIER, now=NOW)
        query(session, config, submission_id=queried.id, user=VERIFIER, question="?", now=NOW)
        withdraw_submission(session, submission=session.get(Submission, withdrawn.id), user="U0LEADNY", now=NOW)
    with transaction(engine) as session:
        mine, mine_total = waiting_for(session, config, verifier=VERIFIER)
        theirs, theirs_total = waiting_for(session, config, verifier=OTHER_VERIFIER, limit=1)
    assert [item.submission.id for item in mine] == [waiting.id] and mine_total == 1
    assert [item.submission.id for item in theirs] == [own.id] and theirs_total == 2


def test_a_csv_import_is_pending_like_any_submission_and_rows_of_no_submission_count_as_verified(
    engine, config, tmp_path
):
    add(engine, *measures("berlin_ops", date(2026, 9, 21), orders=50, on_time_orders=50))  # no submission
    path = tmp_path / "complaints.csv"
    path.write_text("team,measure,date,value\nberlin_ops,complaints,2026-09-22,3\n", encoding="utf-8")
    with transaction(engine) as session:
        summary = import_csv(session, config=config, kind="measures", path=path, submitted_by="ops", now=NOW)
    with transaction(engine) as session:
        [blocker] = verification_blockers(session, config, Q3)
        share = verified_share(session, config, WEEK, team="berlin_ops")
        marked = unverified_kpis(session, config, WEEK, team="berlin_ops")
    assert (blocker.team, blocker.submission_id, blocker.source, blocker.state) == (
        "berlin_ops",
        summary.submission_id,
        f"csv:{path.name}",
        "pending",
    )
    assert share == pytest.approx(2 / 3)
    assert "complaint_rate" in marked and "on_time_delivery" not in marked


def test_without_verifiers_everything_counts_as_verified(engine, example_config):
    submit(engine)
    with transaction(engine) as session:
        assert verification_blockers(session, example_config, Q3) == []
        assert verified_share(session, example_config, WEEK, team="berlin_ops") == 1.0
        assert unverified_kpis(session, example_config, WEEK, team="berlin_ops") == frozenset()
        assert waiting_for(session, example_config) == ([], 0)
        assert verify(session, example_config, submission_id=1, user=VERIFIER, now=NOW).outcome == "off"


def test_submissions_before_since_count_as_verified(engine):
    submit(engine)
    with transaction(engine) as session:
        assert verification_blockers(session, verifying_config(since="2026-10-03"), Q3) == []
        assert len(verification_blockers(session, verifying_config(since="2026-10-02"), Q3)) == 1


def test_person_share_counts_only_the_persons_rows(engine, config):
    add(engine, *measures("berlin_ops", date(2026, 9, 21), orders=5))
    with transaction(engine) as session:
        assert verified_share(session, config, WEEK, team="berlin_ops", person="U0NOBODY") is None


def test_a_query_settled_in_the_thread_may_be_verified_without_a_correction(engine, config):
    submission = submit(engine)
    with transaction(engine) as session:
        query(session, config, submission_id=submission.id, user=VERIFIER, question="120 orders?", now=NOW)
    with transaction(engine) as session:
        assert verify(session, config, submission_id=submission.id, user=OTHER_VERIFIER, now=NOW).outcome == "done"
        assert verification_blockers(session, config, Q3) == []
