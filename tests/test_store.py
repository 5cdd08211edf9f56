"""Interactive writes: replacements under concurrency, and the data version that keeps cached reports fresh."""

import threading
from datetime import UTC, datetime

from sqlmodel import Session, select

from kpi_core.data_changes import data_version
from kpi_core.db import transaction
from kpi_core.models import MeasureValue, Submission
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
