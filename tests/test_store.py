"""Interactive writes: replacements under concurrency, and the data version that keeps cached reports fresh."""

import threading
from datetime import UTC, datetime

from sqlmodel import Session, select

from kpi_core.data_changes import data_version, teams_moved_since
from kpi_core.db import transaction
from kpi_core.imports import import_csv
from kpi_core.models import CustomerCase, MeasureValue, Submission
from kpi_core.periods import Period
from kpi_core.shared_reports import SharedReports
from kpi_core.store import record_case, submit_measures, update_case, withdraw_submission
from tests.factories import at

NOW = datetime(2026, 9, 30, 8, 0, tzinfo=UTC)
W40 = Period.parse("2026-W40")


def _submit(engine, sales: float) -> None:
    with transaction(engine) as session:
        submit_measures(
            session, team="berlin_ops", form="weekly", period=W40, values={"sales": sales}, user="U0LEADBE", now=NOW
        )


def test_two_submissions_for_the_same_period_at_once_leave_one_value(engine):
    start = threading.Barrier(2)

    def submit(sales: float) -> None:
        start.wait()
        _submit(engine, sales)

    threads = [threading.Thread(target=submit, args=(sales,)) for sales in (100_000.0, 200_000.0)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    with Session(engine) as session:
        stored = session.exec(select(MeasureValue.value).where(MeasureValue.measure == "sales")).all()
    assert len(stored) == 1 and stored[0] in (100_000.0, 200_000.0)


def test_every_kind_of_write_moves_the_data_version(engine):
    def version() -> int:
        with Session(engine) as session:
            return data_version(session)

    seen = [version()]
    _submit(engine, 100.0)
    seen.append(version())
    with transaction(engine) as session:
        case = record_case(
            session,
            team="berlin_ops",
            kind="after_sales",
            raised_at=at("2026-09-29 10:00"),
            first_response_at=None,
            resolved_at=None,
            user="U0LEADBE",
            now=NOW,
        )
    seen.append(version())
    with transaction(engine) as session:
        update_case(
            session,
            case=session.get(type(case), case.id),
            first_response_at=at("2026-09-29 11:00"),
            resolved_at=None,
            user="U0LEADBE",
            now=NOW,
        )
    seen.append(version())
    with transaction(engine) as session:
        first = session.exec(select(Submission).order_by(Submission.id)).first()
        withdraw_submission(session, submission=first, user="U0LEADBE", now=NOW)
    seen.append(version())
    assert seen == sorted(set(seen)) and len(seen) == 5


def test_a_cached_report_is_recomputed_after_a_write(engine, example_config):
    cache = SharedReports()

    def sales() -> float | None:
        with transaction(engine) as session:
            [report] = cache.build(session, config=example_config, period=W40, teams=["berlin_ops"])
        return report.kpis["sales"].value

    assert sales() is None
    _submit(engine, 250.0)
    assert sales() == 250.0
    _submit(engine, 300.0)  # a replacement: no new row count to notice, but the version moves
    assert sales() == 300.0


def test_every_kind_of_write_logs_a_change_of_exactly_its_teams(engine, example_config, tmp_path):
    """The alert sweep re-evaluates the teams the change log names (kpi_core/alert_sweep.py)."""

    def moved(write) -> set[str] | None:
        with Session(engine) as session:
            before = data_version(session)
        write()
        with Session(engine) as session:
            after, teams = teams_moved_since(session, version=before)
        assert after > before
        return None if teams is None else set(teams)

    def in_transaction(work):
        def run():
            with transaction(engine) as session:
                work(session)

        return run

    assert moved(lambda: _submit(engine, 100.0)) == {"berlin_ops"}
    record = in_transaction(
        lambda session: record_case(
            session,
            team="shanghai_ops",
            kind="after_sales",
            raised_at=at("2026-09-29 10:00"),
            first_response_at=None,
            resolved_at=None,
            user="U0LEADSH",
            now=NOW,
        )
    )
    assert moved(record) == {"shanghai_ops"}
    answer = in_transaction(
        lambda session: update_case(
            session,
            case=session.exec(select(CustomerCase)).one(),
            first_response_at=at("2026-09-29 11:00"),
            resolved_at=None,
            user="U0LEADSH",
            now=NOW,
        )
    )
    assert moved(answer) == {"shanghai_ops"}
    path = tmp_path / "cases.csv"
    path.write_text(
        "team,kind,raised_at,first_response_at,resolved_at\n"
        "berlin_ops,after_sales,2026-09-01T10:00:00,,\n"
        "newyork_delivery,feedback,2026-09-01T10:00:00-04:00,,\n",
        encoding="utf-8",
    )
    imported = in_transaction(
        lambda session: import_csv(
            session, config=example_config, kind="cases", path=path, submitted_by="U0TEST", now=NOW
        )
    )
    assert moved(imported) == {"berlin_ops", "newyork_delivery"}
    withdraw = in_transaction(
        lambda session: withdraw_submission(
            session,
            submission=session.exec(select(Submission).where(Submission.kind == "cases")).one(),
            user="U0TEST",
            now=NOW,
        )
    )
    assert moved(withdraw) == {"berlin_ops", "newyork_delivery"}  # an import's submission has no team
