"""The change log (kpi_core.data_changes): what a write records of the teams and dates it touched, and its
pruning, after which a reader that last looked before the pruned horizon recomputes everything it holds
instead of missing a change."""

from datetime import date, timedelta

import pytest
from sqlmodel import Session, col, func, select

from bot.settings import Settings
from bot.wiring import build
from kpi_core.alert_sweep import sweep
from kpi_core.data_changes import ChangeLogPruner, data_version, prune, spans, teams_moved_since
from kpi_core.db import transaction
from kpi_core.imports import import_csv
from kpi_core.models import DataChange, Submission
from kpi_core.periods import Period
from kpi_core.shared_reports import SharedReports
from kpi_core.store import submit_survey, withdraw_submission
from tests.factories import Clock, add, at, surveys
from tests.fake_slack import FakeSlack

NOW = at("2026-09-30 08:00")
JUNE, SEPTEMBER = Period.parse("2026-06"), Period.parse("2026-09")


def _days(first: str, last: str) -> tuple[date, date]:
    return date.fromisoformat(first), date.fromisoformat(last)


def test_dates_are_merged_where_they_meet_and_across_the_smallest_gaps_beyond_the_limit():
    days = [_days("2026-09-01", "2026-09-03"), _days("2026-09-04", "2026-09-04"), _days("2026-06-10", "2026-06-12")]
    assert spans(days) == [_days("2026-06-10", "2026-06-12"), _days("2026-09-01", "2026-09-04")]
    scattered = [_days(f"2026-{month:02d}-01", f"2026-{month:02d}-01") for month in (1, 2, 3, 10)]
    # the gap from March to October stays; January to March become one span
    assert spans(scattered, limit=2) == [_days("2026-01-01", "2026-03-01"), _days("2026-10-01", "2026-10-01")]


def _changes_at(session: Session, version: int) -> set[tuple[str | None, date | None, date | None]]:
    rows = session.exec(select(DataChange).where(DataChange.version == version)).all()
    return {(row.team, row.first_day, row.last_day) for row in rows}


def test_withdrawing_an_import_records_each_teams_own_dates(engine, example_config, tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text(
        "team,kind,raised_at,first_response_at,resolved_at\n"
        "berlin_ops,after_sales,2026-09-01T10:00:00,,\n"
        "berlin_ops,after_sales,2026-09-02T10:00:00,,\n"
        "newyork_delivery,feedback,2026-06-15T10:00:00-04:00,,\n",
        encoding="utf-8",
    )
    with transaction(engine) as session:
        import_csv(session, config=example_config, kind="cases", path=path, submitted_by="U0TEST", now=NOW)
    with transaction(engine) as session:
        imported = _changes_at(session, data_version(session))
    with transaction(engine) as session:
        submission = session.exec(select(Submission).where(Submission.kind == "cases")).one()
        withdraw_submission(session, submission=submission, user="U0TEST", now=NOW)
    with transaction(engine) as session:
        withdrawn = _changes_at(session, data_version(session))
    # a case's instant can be on the day before or after its UTC date in some team's zone
    expected = {
        ("berlin_ops", date(2026, 8, 31), date(2026, 9, 3)),
        ("newyork_delivery", date(2026, 6, 14), date(2026, 6, 16)),
    }
    assert imported == expected and withdrawn == expected


def _report(engine, cache, config, period, team):
    with transaction(engine) as session:
        [report] = cache.build(session, config=config, period=period, teams=[team])
    return report


def _survey(engine, team, when, *scores):
    with transaction(engine) as session:
        submit_survey(session, team=team, scores=scores, submitted_at=when, user="U0LEAD", now=NOW)


def test_a_cache_behind_the_pruned_horizon_recomputes_everything_and_one_after_it_only_what_moved(
    engine, example_config
):
    teams = {team.key for team in example_config.teams}
    add(engine, *surveys("berlin_ops", at("2026-06-10 12:00"), 4), *surveys("berlin_ops", at("2026-09-10 12:00"), 4))
    cache = SharedReports()
    _report(engine, cache, example_config, JUNE, "berlin_ops")
    _report(engine, cache, example_config, SEPTEMBER, "berlin_ops")
    _survey(engine, "berlin_ops", at("2026-06-11 12:00"), 1)  # June: 2.5
    with transaction(engine) as session:
        horizon = data_version(session)
        assert prune(session, through=horizon) > 0
    with transaction(engine) as session:
        assert session.exec(select(func.count()).select_from(DataChange)).one() == 1  # the horizon's own
    before = cache.computed.copy()

    # the cache last looked before the horizon: the June change is gone, so it cannot tell what moved
    assert _report(engine, cache, example_config, JUNE, "berlin_ops").kpis["csat"].value == pytest.approx(2.5)
    assert _report(engine, cache, example_config, SEPTEMBER, "berlin_ops").kpis["csat"].value == pytest.approx(4.0)
    assert cache.computed - before == {JUNE: len(teams), SEPTEMBER: len(teams)}

    # now past the horizon: a later write is read from the log again, and recomputes its team and period
    _survey(engine, "shanghai_ops", at("2026-09-11 12:00"), 5)
    before = cache.computed.copy()
    assert _report(engine, cache, example_config, JUNE, "berlin_ops").kpis["csat"].value == pytest.approx(2.5)
    assert _report(engine, cache, example_config, SEPTEMBER, "shanghai_ops").kpis["csat"].value == 5
    assert cache.computed - before == {SEPTEMBER: 1}


def test_an_alert_sweep_behind_the_pruned_horizon_evaluates_every_team(engine, example_config):
    clock = at("2026-10-07 10:00", "Europe/Berlin")
    with transaction(engine) as session:
        _, last = sweep(session, config=example_config, now=clock, last=None)
    _survey(engine, "berlin_ops", clock - timedelta(days=1), 2)
    with transaction(engine) as session:
        assert teams_moved_since(session, version=last.version)[1] == {"berlin_ops"}
        horizon = data_version(session)
        prune(session, through=horizon)
    _survey(engine, "shanghai_ops", clock - timedelta(days=1), 2)
    with transaction(engine) as session:
        assert teams_moved_since(session, version=last.version)[1] is None  # behind: every team
        assert teams_moved_since(session, version=horizon)[1] == {"shanghai_ops"}
        evaluation, _ = sweep(session, config=example_config, now=clock + timedelta(minutes=1), last=last)
    alerted = {transition.alert.team for transition in evaluation.transitions}
    assert {"berlin_ops", "shanghai_ops"} <= alerted  # berlin_ops' change was pruned, and still evaluated


def test_the_pruner_keeps_the_changes_of_the_last_hour(engine):
    def count() -> int:
        with transaction(engine) as session:
            return int(session.exec(select(func.count()).select_from(DataChange)).one())

    def versions() -> list[int]:
        with transaction(engine) as session:
            return list(session.exec(select(DataChange.version).order_by(col(DataChange.version))))

    pruner = ChangeLogPruner(keep=timedelta(hours=1))
    start = at("2026-09-30 08:00")
    _survey(engine, "berlin_ops", start, 3)
    assert pruner.run(engine, now=start) == 0  # notes version 1
    _survey(engine, "berlin_ops", start, 4)
    assert pruner.run(engine, now=start + timedelta(minutes=30)) == 0  # notes version 2
    _survey(engine, "berlin_ops", start, 5)
    assert count() == 3
    assert pruner.run(engine, now=start + timedelta(minutes=61)) == 1  # through version 1, an hour old
    assert versions() == [1, 2, 3]  # 1 is now the horizon: a change of any team and date
    assert pruner.run(engine, now=start + timedelta(minutes=62)) == 0
    assert pruner.run(engine, now=start + timedelta(minutes=95)) == 2  # through version 2
    assert versions() == [2, 3]


def test_the_pruner_keeps_at_most_its_rows_whatever_their_age(engine):
    for score in (1, 2, 3, 4):
        _survey(engine, "berlin_ops", at("2026-09-29 12:00"), score)
    pruner = ChangeLogPruner(keep=timedelta(days=8), rows=2)  # a process that has just started
    assert pruner.run(engine, now=at("2026-09-30 08:00")) == 2  # versions 1 and 2
    with transaction(engine) as session:
        kept = session.exec(select(DataChange.version, DataChange.team).order_by(col(DataChange.version))).all()
    assert [tuple(row) for row in kept] == [(2, None), (3, "berlin_ops"), (4, "berlin_ops")]


def test_the_catch_up_job_prunes_the_change_log(database_url, example_config):
    clock = Clock(at("2026-09-30 08:00"))
    with FakeSlack() as fake:
        settings = Settings(SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=fake.base_url, KPI_DATABASE_URL=database_url)
        process = build(settings, clock=clock, config=example_config)
        try:
            engine = process.services.engine
            _survey(engine, "berlin_ops", at("2026-09-29 12:00"), 3)
            process.jobs.catch_up()
            _survey(engine, "berlin_ops", at("2026-09-29 12:00"), 4)
            clock.advance(timedelta(days=8, minutes=5))
            process.jobs.catch_up()
            with transaction(engine) as session:
                rows = session.exec(select(DataChange).order_by(col(DataChange.version))).all()
            assert [(row.version, row.team) for row in rows] == [(1, None), (2, "berlin_ops")]
        finally:
            process.close()
