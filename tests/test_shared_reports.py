"""Reports of one period are computed once and shared by every team and the rankings; a write recomputes
only the teams and periods it touches. Seen from the statements the database receives."""

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import select

from kpi_core.config import Config
from kpi_core.data_changes import bump_data_version
from kpi_core.db import transaction
from kpi_core.models import CustomerCase, Submission
from kpi_core.periods import Period
from kpi_core.shared_reports import SharedReports
from kpi_core.store import submit_survey, update_case, withdraw_submission
from tests.factories import add, at, case, surveys

NOW = datetime(2026, 9, 30, 8, 0, tzinfo=UTC)
SEPTEMBER = Period.parse("2026-09")  # the example's service_monthly scheme ranks months
JUNE = Period.parse("2026-06")
DATA_TABLES = ("measure_value", "survey_response", "customer_case", "milestone")


class Statements:
    """The reads of KPI data the engine runs (writes and the version check are not counted), with the
    team keys each one names."""

    def __init__(self, engine: sa.Engine, teams: list[str]) -> None:
        self.teams = set(teams)
        self.reads: list[set[str]] = []
        self._lock = threading.Lock()
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        text = statement.lstrip().upper()
        if text.startswith(("SELECT", "WITH")) and any(table.upper() in text for table in DATA_TABLES):
            with self._lock:
                self.reads.append(self.teams & set(_values(parameters)))

    def take(self) -> list[set[str]]:
        with self._lock:
            reads, self.reads = self.reads, []
        return reads


def _values(parameters: Any) -> Iterator[Any]:
    if isinstance(parameters, dict):
        parameters = parameters.values()
    for value in parameters or ():
        if isinstance(value, list | tuple):
            yield from _values(value)
        elif isinstance(value, str):
            yield value


@pytest.fixture
def statements(engine: sa.Engine, example_config: Config) -> Iterator[Statements]:
    watcher = Statements(engine, [team.key for team in example_config.teams])
    yield watcher
    sa.event.remove(engine, "before_cursor_execute", watcher._seen)


def _report(engine: sa.Engine, cache: SharedReports, config: Config, period: Period, team: str) -> Any:
    with transaction(engine) as session:
        [report] = cache.build(session, config=config, period=period, teams=[team])
    return report


def _survey(engine: sa.Engine, team: str, *scores: int) -> None:
    with transaction(engine) as session:
        submit_survey(session, team=team, scores=scores, submitted_at=at("2026-09-15 12:00"), user="U0LEAD", now=NOW)


def test_every_team_and_the_ranking_share_one_computation(engine, example_config, statements):
    add(engine, *surveys("berlin_ops", at("2026-09-10 12:00"), 4), *surveys("shanghai_ops", at("2026-09-10 12:00"), 3))
    cache = SharedReports()
    first = _report(engine, cache, example_config, SEPTEMBER, "berlin_ops")
    computation = statements.take()
    assert computation, "the first report computes"
    others = [_report(engine, cache, example_config, SEPTEMBER, team.key) for team in example_config.teams]
    with transaction(engine) as session:
        rankings = cache.rankings(session, config=example_config, period=SEPTEMBER)
    assert statements.take() == []  # every other team's report and the ranking come from the same one
    assert others[2] is first  # berlin_ops, the same report object
    assert first.scorecard["service_monthly"].rank == 1
    assert [row.team for row in rankings.schemes["service_monthly"][:2]] == ["berlin_ops", "shanghai_ops"]


def test_concurrent_requests_for_one_period_compute_it_once(engine, example_config, statements):
    add(engine, *surveys("berlin_ops", at("2026-09-10 12:00"), 4))
    with transaction(engine) as session:  # what one computation of every team costs, on a cache of its own
        SharedReports().build(session, config=example_config, period=SEPTEMBER)
    once = len(statements.take())
    cache = SharedReports()
    teams = [team.key for team in example_config.teams] * 4
    start = threading.Barrier(len(teams))
    ranks: dict[int, int] = {}

    def ask(number: int, team: str) -> None:
        start.wait()
        ranks[number] = _report(engine, cache, example_config, SEPTEMBER, team).scorecard["service_monthly"].rank

    threads = [threading.Thread(target=ask, args=(number, team)) for number, team in enumerate(teams)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(statements.take()) == once
    assert len(ranks) == len(teams)


def test_a_write_recomputes_its_team_and_the_ranks_of_its_period_only(engine, example_config, statements):
    add(engine, *surveys("berlin_ops", at("2026-09-10 12:00"), 4), *surveys("shanghai_ops", at("2026-09-10 12:00"), 3))
    add(engine, *surveys("berlin_ops", at("2026-06-10 12:00"), 5))
    cache = SharedReports()
    before = _report(engine, cache, example_config, SEPTEMBER, "berlin_ops")
    june = _report(engine, cache, example_config, JUNE, "berlin_ops")
    assert before.scorecard["service_monthly"].rank == 1
    statements.take()

    _survey(engine, "shanghai_ops", 5, 5, 5)  # shanghai_ops: (3 + 15) / 4 = 4.5 > berlin_ops' 4

    after = _report(engine, cache, example_config, SEPTEMBER, "berlin_ops")
    shanghai = _report(engine, cache, example_config, SEPTEMBER, "shanghai_ops")
    reads = statements.take()
    assert reads and all(teams <= {"shanghai_ops"} for teams in reads)  # only the team written to
    assert after.kpis == before.kpis  # berlin_ops' own figures are kept...
    assert after.scorecard["service_monthly"].rank == 2  # ...and its rank follows the other team's write
    assert shanghai.kpis["csat"].value == pytest.approx(4.5)
    assert shanghai.scorecard["service_monthly"].rank == 1

    assert _report(engine, cache, example_config, JUNE, "berlin_ops") is june  # an unrelated period
    assert statements.take() == []


def test_a_write_without_a_team_recomputes_everything(engine, example_config, statements):
    cache = SharedReports()
    assert _report(engine, cache, example_config, JUNE, "berlin_ops").kpis["csat"].value is None
    statements.take()
    with transaction(engine) as session:  # as a CSV import or the demo data do
        session.add_all(surveys("berlin_ops", at("2026-06-10 12:00"), 2))
        bump_data_version(session)
    assert _report(engine, cache, example_config, JUNE, "berlin_ops").kpis["csat"].value == 2
    assert statements.take()


def test_a_period_no_scheme_ranks_computes_only_the_teams_asked_for(engine, example_config, statements):
    week = Period.parse("2026-W38")  # the example ranks months and quarters, not weeks
    cache = SharedReports()
    _report(engine, cache, example_config, week, "berlin_ops")
    assert all(teams == {"berlin_ops"} for teams in statements.take())
    _report(engine, cache, example_config, week, "shanghai_ops")
    assert all(teams == {"shanghai_ops"} for teams in statements.take())
    _report(engine, cache, example_config, week, "berlin_ops")
    assert statements.take() == []


def test_answering_a_case_recomputes_the_period_it_was_raised_in(engine, example_config, statements):
    raised = at("2026-09-30 23:00")  # September in New York, October in Berlin
    add(engine, case("newyork_delivery", raised))
    cache = SharedReports()
    october = Period.parse("2026-10")
    before = _report(engine, cache, example_config, SEPTEMBER, "newyork_delivery")
    _report(engine, cache, example_config, JUNE, "newyork_delivery")
    _report(engine, cache, example_config, october, "newyork_delivery")
    statements.take()
    with transaction(engine) as session:
        [stored] = session.exec(select(CustomerCase)).all()
        update_case(
            session,
            case=stored,
            first_response_at=raised + timedelta(hours=2),
            resolved_at=None,
            user="U0LEAD",
            now=NOW,
        )

    after = _report(engine, cache, example_config, SEPTEMBER, "newyork_delivery")
    assert before.kpis["response_time"].value is None
    assert after.kpis["response_time"].value == pytest.approx(2.0)
    reads = statements.take()
    assert reads and all(teams <= {"newyork_delivery"} for teams in reads)
    _report(engine, cache, example_config, october, "newyork_delivery")  # compares with September
    assert statements.take()
    _report(engine, cache, example_config, JUNE, "newyork_delivery")
    assert statements.take() == []


def test_withdrawing_a_week_39_submission_recomputes_only_the_periods_of_its_dates(engine, example_config):
    """Seen from the cache's own record of what it computed and holds: the months, quarters and weeks the
    withdrawn rows were not in stay as they were."""
    add(engine, *surveys("berlin_ops", at("2026-06-10 12:00"), 5), *surveys("berlin_ops", at("2026-09-10 12:00"), 4))
    with transaction(engine) as session:  # in 2026-W39 (21-27 September)
        withdrawn = submit_survey(
            session, team="berlin_ops", scores=[1, 1], submitted_at=at("2026-09-23 12:00"), user="U0LEAD", now=NOW
        ).id
    teams = {team.key for team in example_config.teams}
    q2, q3, w38 = Period.parse("2026-Q2"), Period.parse("2026-Q3"), Period.parse("2026-W38")
    cache = SharedReports()
    assert _report(engine, cache, example_config, SEPTEMBER, "berlin_ops").kpis["csat"].value == pytest.approx(2.0)
    kept = {period: _report(engine, cache, example_config, period, "berlin_ops") for period in (JUNE, q2, w38)}
    _report(engine, cache, example_config, q3, "berlin_ops")
    before = cache.computed.copy()

    with transaction(engine) as session:
        withdraw_submission(session, submission=session.get(Submission, withdrawn), user="U0LEAD", now=NOW)

    assert _report(engine, cache, example_config, SEPTEMBER, "berlin_ops").kpis["csat"].value == pytest.approx(4.0)
    assert _report(engine, cache, example_config, q3, "berlin_ops").kpis["csat"].value == pytest.approx(4.0)
    for period, report in kept.items():
        assert cache.holds(period) >= {"berlin_ops"}
        assert _report(engine, cache, example_config, period, "berlin_ops") is report  # not recomputed
    assert cache.holds(JUNE) == teams and cache.holds(q2) == teams
    # only the team of the withdrawn rows, and only in the periods of their dates
    assert cache.computed - before == {SEPTEMBER: 1, q3: 1}
