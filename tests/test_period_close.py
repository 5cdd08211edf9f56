"""Period close in kpi_core, on SQLite and PostgreSQL: the frozen snapshot (graded, ranked, with rank
rewards), writes into a closed period refused, reopening with a reason, revisions, corrections, and the
grade bands' config checks."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from kpi_core.close_guard import ensure_open
from kpi_core.close_schema import PeriodCloseSettings, check_period_close
from kpi_core.config import Config
from kpi_core.db import transaction
from kpi_core.errors import PeriodCloseError
from kpi_core.imports import import_csv
from kpi_core.models import Submission
from kpi_core.period_close import (
    close_period,
    closed_results,
    correct_closed_result,
    current_revision,
    reopen_period,
)
from kpi_core.periods import Period
from kpi_core.store import submit_measures, withdraw_submission
from kpi_core.verification_steps import query, verify
from tests.factories import add, at, measures, surveys

Q3 = Period.parse("2026-Q3")
NOW = at("2026-10-05 09:00")


def seed_q3(engine: sa.Engine) -> None:
    """Shanghai on its sales target with top satisfaction, Berlin at half its target, the others empty."""
    add(
        engine,
        *measures("shanghai_ops", date(2026, 8, 3), sales=3_000_000),
        *surveys("shanghai_ops", at("2026-08-04 03:00"), 5, 5),
        *measures("berlin_ops", date(2026, 8, 3), sales=1_150_000),
    )


def close(engine: sa.Engine, config: Config, *, by: str = "U0MANAGER"):
    with transaction(engine) as session:
        return close_period(session, config=config, period=Q3, by=by, now=NOW)


def snapshot(engine: sa.Engine, label: str = "2026-Q3"):
    with transaction(engine) as session:
        return closed_results(session, label)


def teams_of(results) -> list[tuple[str, float | None, int | None, str | None, float | None]]:
    return [(r.subject, r.score, r.rank, r.grade, r.pay_factor) for r in results if r.subject_kind == "team"]


def test_closing_freezes_graded_ranked_results_that_later_writes_do_not_move(engine, example_config):
    seed_q3(engine)
    results = close(engine, example_config)

    assert teams_of(results) == [
        ("shanghai_ops", 60.0, 1, "C", 0.8),
        ("berlin_ops", 20.0, 2, "D", 0.5),
        ("beijing_service", 0.0, 3, "D", 0.5),
        ("newyork_delivery", 0.0, 3, "D", 0.5),
    ]
    top, *_, last = [result for result in results if result.subject_kind == "team"]
    assert top.rewards == ({"en": "Team of the quarter bonus", "zh": "季度最佳团队奖"},)
    assert last.rewards == ({"en": "Improvement plan with management", "zh": "与管理层制定改进计划"},)
    assert top.items["sales"].value == 3_000_000 and top.items["sales"].score == 100.0
    assert top.revision == 1 and top.verified_share == 1.0
    persons = [result for result in results if result.subject_kind == "person"]
    assert {result.subject for result in persons} == {person.user for person in example_config.people}
    assert all(result.parts["team"] is not None for result in persons if result.team == "shanghai_ops")

    add(engine, *measures("berlin_ops", date(2026, 9, 1), sales=5_000_000))  # a write past the close's guard
    assert snapshot(engine) == results
    assert snapshot(engine, "2026-q3") == results  # the label as typed
    assert snapshot(engine, "2026-Q2") is None


def test_a_closed_period_refuses_writes_dated_inside_it_and_a_second_close(engine, example_config):
    seed_q3(engine)
    close(engine, example_config)

    refused = "2026-Q3 is closed: data dated 2026-09-28"
    with pytest.raises(PeriodCloseError, match=refused), transaction(engine) as session:
        ensure_open(session, first=date(2026, 9, 28), last=date(2026, 10, 4))
    with transaction(engine) as session:
        ensure_open(session, first=date(2026, 10, 1), last=date(2026, 10, 7))  # Q4 is open
    with pytest.raises(PeriodCloseError, match="closed already"):
        close(engine, example_config)


def test_reopening_needs_a_reason_and_closing_again_makes_a_new_revision(engine, example_config):
    seed_q3(engine)
    close(engine, example_config)
    with pytest.raises(PeriodCloseError, match="a reason is required"), transaction(engine) as session:
        reopen_period(session, period_label="2026-Q3", reason="   ", by="U0ADMIN", now=NOW)

    with transaction(engine) as session:
        reopened = reopen_period(session, period_label="2026-Q3", reason="late  invoices", by="U0ADMIN", now=NOW)
    assert reopened.reason == "late invoices"
    assert snapshot(engine) is None
    with transaction(engine) as session:
        ensure_open(session, first=date(2026, 9, 1), last=date(2026, 9, 1))
    with pytest.raises(PeriodCloseError, match="is not closed"), transaction(engine) as session:
        reopen_period(session, period_label="2026-Q3", reason="again", by="U0ADMIN", now=NOW)

    add(engine, *measures("berlin_ops", date(2026, 9, 1), sales=1_150_000))
    again = close(engine, example_config)
    assert {result.revision for result in again} == {2}
    assert teams_of(again)[:2] == [("shanghai_ops", 60.0, 1, "C", 0.8), ("berlin_ops", 40.0, 2, "D", 0.5)]
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT revision, reopened_by, reopen_reason FROM period_close ORDER BY revision")
        ).all()
    assert [tuple(row) for row in rows] == [(1, "U0ADMIN", "late invoices"), (2, None, None)]


def test_a_correction_rescores_reranks_and_regrades_as_a_new_audited_revision(engine, example_config):
    seed_q3(engine)
    close(engine, example_config)
    with transaction(engine) as session:
        corrected = correct_closed_result(
            session,
            period_label="2026-Q3",
            subject_kind="team",
            subject="berlin_ops",
            item="sales",
            value=2_300_000,
            reason="appeal upheld: September invoices",
            by="U0HR",
            now=NOW,
        )
    assert teams_of(corrected)[:2] == [("shanghai_ops", 60.0, 1, "C", 0.8), ("berlin_ops", 40.0, 2, "D", 0.5)]
    by_team = {r.subject: r for r in corrected if r.subject_kind == "team"}
    assert (by_team["berlin_ops"].score, by_team["berlin_ops"].rank) == (40.0, 2)
    assert by_team["berlin_ops"].items["sales"].value == 2_300_000
    assert {r.revision for r in corrected} == {2}
    assert snapshot(engine) == corrected
    berlin_people = [r for r in corrected if r.subject_kind == "person" and r.team == "berlin_ops"]
    assert all(r.parts["team"] == 40.0 for r in berlin_people if r.parts.get("team") is not None)
    with transaction(engine) as session:
        revision = current_revision(session, "2026-Q3")
    assert revision is not None and (revision.revision, revision.kind, revision.made_by) == (2, "correction", "U0HR")
    assert revision.reason == "appeal upheld: September invoices"

    with pytest.raises(PeriodCloseError, match="no item 'orders'"), transaction(engine) as session:
        correct_closed_result(
            session, period_label="2026-Q3", subject_kind="team", subject="berlin_ops", item="orders",
            value=1, reason="x", by="U0HR", now=NOW,
        )  # fmt: skip


def band(grade: str, low: float, high: float, factor: float = 1.0) -> dict:
    return {"grade": grade, "min_score": low, "max_score": high, "pay_factor": factor}


@pytest.mark.parametrize(
    ("grades", "problem"),
    [
        pytest.param([band("A", 50, 100), band("B", 0, 40)], "scores from 40 to 50 have no grade", id="gap"),
        pytest.param([band("A", 50, 100), band("B", 0, 60)], "grades 'B' and 'A' overlap (50 to 60)", id="overlap"),
        pytest.param([band("A", 10, 100)], "the lowest band must start at 0", id="no-zero"),
        pytest.param([band("A", 0, 90)], "the highest band must end at 100", id="no-top"),
        pytest.param([band("A", 50, 100), band("A", 0, 50)], "duplicate grade 'A'", id="duplicate"),
        pytest.param([band("A", 60, 60), band("B", 0, 60)], "must be below max_score", id="empty-band"),
    ],
)
def test_grade_bands_must_cover_0_to_100_once(grades, problem):
    settings = PeriodCloseSettings.model_validate({"grades": grades})
    assert any(problem in str(found) for found in check_period_close(settings, scorecards={"quarterly"}))


def test_a_rank_reward_names_top_or_bottom_and_an_unknown_scorecard_is_reported():
    with pytest.raises(ValueError, match="exactly one of top or bottom"):
        PeriodCloseSettings.model_validate({"rewards": [{"top": 1, "bottom": 1, "text": "x"}]})
    problems = check_period_close(PeriodCloseSettings(scorecard="yearly"), scorecards={"quarterly"})
    assert [str(problem) for problem in problems] == ["period_close.scorecard: unknown scorecard 'yearly'"]


def with_verifiers(config: Config) -> Config:
    return config.model_copy(update={"roles": config.roles.model_copy(update={"verifiers": ["U0VERIFIER"]})})


def submit_week(engine: sa.Engine, team: str, monday: date, **values: float) -> int:
    with transaction(engine) as session:
        submission = submit_measures(
            session,
            team=team,
            form="weekly",
            period=Period.containing("week", monday),
            values=values,
            user="U0LEAD",
            now=NOW,
        )
        assert submission.id is not None
        return submission.id


def test_closing_is_refused_while_submissions_wait_for_verification_or_have_open_queries(engine, example_config):
    config = with_verifiers(example_config)
    pending = submit_week(engine, "berlin_ops", date(2026, 8, 3), sales=1_150_000)
    queried = submit_week(engine, "shanghai_ops", date(2026, 8, 10), sales=3_000_000)
    with transaction(engine) as session:
        query(session, config, submission_id=queried, user="U0VERIFIER", question="which invoices?", now=NOW)

    with pytest.raises(PeriodCloseError) as refused:
        close(engine, config)
    assert str(refused.value) == (
        "2026-Q3 cannot be closed: 2 submissions wait for verification or have open queries: "
        f"shanghai_ops weekly #{queried} (queried); berlin_ops weekly #{pending} (pending)"
    )
    assert snapshot(engine) is None

    with transaction(engine) as session:
        for submission in (pending, queried):
            verify(session, config, submission_id=submission, user="U0VERIFIER", now=NOW)
    results = close(engine, config)
    assert {r.subject: r.verified_share for r in results if r.subject_kind == "team"}["berlin_ops"] == 1.0


def test_writes_dated_inside_a_closed_period_are_refused_and_store_nothing(engine, example_config, tmp_path):
    submission = submit_week(engine, "berlin_ops", date(2026, 9, 21), sales=1_000)
    close(engine, example_config)

    with pytest.raises(PeriodCloseError, match="2026-Q3 is closed: data dated 2026-09-28 to 2026-10-04"):
        submit_week(engine, "berlin_ops", date(2026, 9, 28), sales=1)
    with pytest.raises(PeriodCloseError, match="2026-Q3 is closed"), transaction(engine) as session:
        stored = session.get(Submission, submission)
        assert stored is not None
        withdraw_submission(session, submission=stored, user="U0ADMIN", now=NOW)
    file = tmp_path / "surveys.csv"
    file.write_text("team,submitted_at,score\nberlin_ops,2026-10-02T09:00:00+02:00,5\nberlin_ops,2026-09-30T09:00,4\n")
    with pytest.raises(PeriodCloseError, match="data dated 2026-09-30 to 2026-10-02"), transaction(engine) as session:
        import_csv(session, config=example_config, kind="surveys", path=file, submitted_by="cli", now=NOW)
    with engine.connect() as connection:
        counted = connection.execute(sa.text("SELECT COUNT(*) FROM submission")).scalar_one()
        surveys_stored = connection.execute(sa.text("SELECT COUNT(*) FROM survey_response")).scalar_one()
    assert (counted, surveys_stored) == (1, 0)

    submit_week(engine, "berlin_ops", date(2026, 10, 5), sales=1)  # Q4 is open


def test_a_period_cannot_be_closed_before_it_has_ended_in_every_teams_zone(engine, example_config):
    # 2026-10-01 03:00 UTC: Q4 in Shanghai, still 2026-09-30 in New York
    refused = r"cannot be closed before it has ended \(2026-10-01 04:00 UTC\)"
    with pytest.raises(PeriodCloseError, match=refused), transaction(engine) as session:
        close_period(session, config=example_config, period=Q3, by="U0MANAGER", now=at("2026-10-01 03:00"))
