"""The year to date's months served from the shared report cache (kpi_core.shared_reports): the same
figures as computed afresh, no KPI data read again while nothing changed, and a write into a past month
recomputes that month (and the next, whose growth compares with it) of its team only. Seen from the
statements the database receives, on both backends."""

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from kpi_core.config import Config
from kpi_core.db import transaction
from kpi_core.periods import Period
from kpi_core.plan_progress import year_to_date
from kpi_core.shared_reports import SharedReports
from kpi_core.store import submit_survey
from tests.factories import add, at, measures, surveys
from tests.test_shared_reports import Statements

NOW = datetime(2026, 9, 10, 8, 0, tzinfo=UTC)
AS_OF = Period.parse("2026-08")
# neither has a seasonal plan in the config, whose targets read last year's sales again each time
TEAMS = ["berlin_ops", "newyork_delivery"]


@pytest.fixture
def statements(engine: sa.Engine, example_config: Config) -> Iterator[Statements]:
    watcher = Statements(engine, [team.key for team in example_config.teams])
    yield watcher
    sa.event.remove(engine, "before_cursor_execute", watcher._seen)


@pytest.fixture
def history(engine: sa.Engine) -> None:
    """Sales in every month of last year and this year to August, surveys in two of this year's months."""
    rows: list[Any] = []
    for team, sales in (("berlin_ops", 100_000), ("newyork_delivery", 300_000)):
        for year, last in ((2025, 12), (2026, 8)):
            for month in range(1, last + 1):
                rows += measures(team, date(year, month, 5), sales=sales + month * 1_000)
        rows += surveys(team, at("2026-02-10 12:00"), 4, 5) + surveys(team, at("2026-07-10 12:00"), 3)
    add(engine, *rows)


def _ytd(
    engine: sa.Engine, config: Config, cache: SharedReports | None, teams: list[str] = TEAMS
) -> dict[str, dict[str, Any]]:
    with transaction(engine) as session:
        progress = year_to_date(session, config=config, teams=teams, as_of=AS_OF, cache=cache)
    return {team: {item.kpi: item for item in found.items} for team, found in progress.items()}


def test_the_cached_year_to_date_is_the_computed_one(engine, example_config, history, statements):
    cache = SharedReports()
    computed = _ytd(engine, example_config, None)
    assert computed["berlin_ops"]["sales"].method == "seasonal"  # last year's twelve months were read
    assert _ytd(engine, example_config, cache) == computed
    assert statements.take()  # the first run computes the months
    assert _ytd(engine, example_config, cache) == computed
    assert statements.take() == []  # nothing written since: every month comes from the cache


def test_one_teams_year_to_date_computes_the_months_of_every_team(engine, example_config, history, statements):
    # as serve's scheduler asks: each team's weekly digest on its own
    cache = SharedReports()
    _ytd(engine, example_config, cache, ["berlin_ops"])
    assert statements.take()
    cached = _ytd(engine, example_config, cache, ["newyork_delivery"])
    assert statements.take() == []  # New York's months were computed with Berlin's
    assert cached == _ytd(engine, example_config, None, ["newyork_delivery"])


def test_a_write_into_a_past_month_changes_the_year_to_date(engine, example_config, history, statements):
    cache = SharedReports()
    before = _ytd(engine, example_config, cache)
    assert before["berlin_ops"]["csat"].ytd == pytest.approx(4.0)  # 4, 5 and 3
    statements.take()
    with transaction(engine) as session:  # March: a month the digests have long shown
        submit_survey(
            session, team="berlin_ops", scores=[1, 1, 1], submitted_at=at("2026-03-12 09:00"), user="U0LEAD", now=NOW
        )
    after = _ytd(engine, example_config, cache)
    reads = statements.take()
    assert after["berlin_ops"]["csat"].ytd == pytest.approx(15 / 6)
    assert after["berlin_ops"]["csat"].months_with_data == 3
    assert after["newyork_delivery"] == before["newyork_delivery"]
    assert after == _ytd(engine, example_config, None)
    every_month = statements.take()
    # only Berlin's data was read again, for March and April (which compares with March), not all 20 months
    assert reads and all(teams == {"berlin_ops"} for teams in reads)
    assert len(reads) * 5 < len(every_month)
