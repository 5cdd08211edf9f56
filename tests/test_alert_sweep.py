"""Incremental alert evaluation (kpi_core.alert_sweep) against bot/config/example.yaml, on SQLite and
PostgreSQL: a write re-evaluates only its team and the KPIs it feeds, the sweep only the teams whose data
moved and the cases the clock made due, and neither's statements grow with other teams' alerts.

Rows added with ``add`` are written behind kpi_core's back, as a direct SQL insert would be: they move no
data version. ``touch`` records what every write through kpi_core records besides its rows (a change of
the team's data in the change log).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import sqlalchemy as sa

from kpi_core import store
from kpi_core.alert_rules import evaluate_cases
from kpi_core.alert_sweep import Change, SweepState, due_posts, evaluate_changes, kpis_fed_by, sweep
from kpi_core.data_changes import bump_data_version
from kpi_core.db import transaction
from kpi_core.models import Alert
from tests.factories import add, at, case, measures, surveys

BERLIN = "berlin_ops"
SHANGHAI = "shanghai_ops"
#: Wednesday of ISO week 2026-W41, noon in Berlin
NOW = at("2026-10-07 12:00", "Europe/Berlin")
ON_TIME = frozenset({"orders", "on_time_orders"})


def summary(evaluation):
    return sorted(
        (t.change, t.alert.team, t.alert.case_id if t.alert.case_id is not None else t.alert.kpi)
        for t in evaluation.transitions
    )


def changes(engine, config, *written):
    with transaction(engine) as session:
        return evaluate_changes(session, config=config, changes=list(written), now=NOW)


def swept(engine, config, now, last):
    with transaction(engine) as session:
        return sweep(session, config=config, now=now, last=last)


def touch(engine, *teams):
    with transaction(engine) as session:
        for team in teams:
            bump_data_version(session, team=team)


@contextmanager
def counted(engine: sa.Engine) -> Iterator[list[str]]:
    """The SQL statements the engine runs inside the block."""
    seen: list[str] = []

    def note(_connection, _cursor, statement, *_):
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)


def both_teams_in_breach(engine):
    """Berlin and Shanghai: on-time delivery 80 % (threshold 90) this week; Berlin's CSAT 2.0 (3.8)."""
    add(
        engine,
        *measures(BERLIN, date(2026, 10, 6), orders=100, on_time_orders=80),
        *measures(SHANGHAI, date(2026, 10, 6), orders=100, on_time_orders=80),
        *surveys(BERLIN, NOW - timedelta(days=1), 2, 2),
    )


# --- a write ---------------------------------------------------------------------------------------


def test_the_kpis_a_write_feeds_are_those_whose_inputs_it_touched(example_config):
    assert kpis_fed_by(example_config, Change(BERLIN, measures=ON_TIME)) == {"on_time_delivery", "complaint_rate"}
    assert kpis_fed_by(example_config, Change(BERLIN, surveys=True)) == {"csat"}
    assert kpis_fed_by(example_config, Change(BERLIN, case_kinds=frozenset({"feedback"}))) == {"feedback_handling"}
    assert kpis_fed_by(example_config, Change(BERLIN)) == set()
    watched = {kpi.key for kpi in example_config.kpis if kpi.alert is not None}
    assert kpis_fed_by(example_config, Change(BERLIN, everything=True)) == watched


def test_a_write_evaluates_only_its_team_and_the_kpis_it_feeds(engine, example_config):
    both_teams_in_breach(engine)
    # Berlin's delivery figures: Shanghai's breach and Berlin's CSAT are not looked at
    assert summary(changes(engine, example_config, Change(BERLIN, measures=ON_TIME))) == [
        ("breach", BERLIN, "on_time_delivery")
    ]
    assert summary(changes(engine, example_config, Change(BERLIN, surveys=True))) == [("breach", BERLIN, "csat")]
    assert summary(changes(engine, example_config, Change(SHANGHAI, measures=ON_TIME))) == [
        ("breach", SHANGHAI, "on_time_delivery")
    ]
    # a write of measures no alerted KPI uses (inventory turnover's) runs no query at all
    with counted(engine) as statements:
        assert summary(changes(engine, example_config, Change(BERLIN, measures=frozenset({"cogs", "inventory"})))) == []
    assert [s for s in statements if s.lstrip().upper().startswith("SELECT")] == []


def test_a_case_write_evaluates_only_its_teams_cases(engine, example_config):
    shanghai_overdue = case(SHANGHAI, NOW - timedelta(hours=5))
    berlin_overdue = case(BERLIN, NOW - timedelta(hours=6))
    add(engine, shanghai_overdue, berlin_overdue)
    written = Change(BERLIN, case_kinds=frozenset({"after_sales"}))
    assert summary(changes(engine, example_config, written)) == [("breach", BERLIN, berlin_overdue.id)]


def test_a_writes_statements_do_not_grow_with_other_teams_alerts(engine, example_config):
    """No per-alert lookups: the same write costs the same statements with 3 or 30 open case alerts
    of another team."""
    written = Change(BERLIN, case_kinds=frozenset({"after_sales"}), measures=ON_TIME)
    counts = []
    for others, hours in ((3, 5), (27, 6)):
        add(engine, *[case(SHANGHAI, NOW - timedelta(hours=hours, minutes=minute)) for minute in range(others)])
        with transaction(engine) as session:
            evaluate_cases(session, config=example_config, now=NOW)  # Shanghai's cases are alerted
        add(engine, case(BERLIN, NOW - timedelta(hours=hours)))
        with counted(engine) as statements:
            evaluation = changes(engine, example_config, written)
            with transaction(engine) as session:
                due = due_posts(session, now=NOW, teams=[BERLIN])
        assert [transition.alert.team for transition in evaluation.transitions] == [BERLIN]
        assert [post.alert.team for post in due] == [BERLIN] * len(counts + [0])
        counts.append(len(statements))
    assert counts[0] == counts[1]
    with transaction(engine) as session:
        assert len(due_posts(session, now=NOW)) == 30 + 2  # every team's unposted alerts, in one query


# --- the sweep -------------------------------------------------------------------------------------


def test_the_sweep_opens_a_case_the_clock_made_overdue_without_any_write(engine, example_config):
    _, state = swept(engine, example_config, NOW, None)
    young = case(BERLIN, NOW - timedelta(hours=3, minutes=59))  # its 4 h end a minute from now
    add(engine, young)
    evaluation, state = swept(engine, example_config, NOW + timedelta(seconds=30), state)
    assert summary(evaluation) == []
    with counted(engine) as statements:
        evaluation, state = swept(engine, example_config, NOW + timedelta(seconds=90), state)
    assert summary(evaluation) == [("breach", BERLIN, young.id)]
    assert not any("measure_value" in statement for statement in statements)  # no team's KPIs recomputed
    evaluation, _ = swept(engine, example_config, NOW + timedelta(seconds=120), state)
    assert summary(evaluation) == []


def test_the_sweep_re_evaluates_only_the_teams_whose_data_moved(engine, example_config):
    _, state = swept(engine, example_config, NOW, None)
    both_teams_in_breach(engine)
    evaluation, state = swept(engine, example_config, NOW + timedelta(seconds=30), state)
    assert summary(evaluation) == []  # nobody wrote: nothing moved
    touch(engine, BERLIN)  # Berlin's data moved (what any write through kpi_core does)
    evaluation, state = swept(engine, example_config, NOW + timedelta(seconds=60), state)
    assert summary(evaluation) == [("breach", BERLIN, "csat"), ("breach", BERLIN, "on_time_delivery")]
    evaluation, _ = swept(engine, example_config, NOW + timedelta(seconds=90), state)
    assert summary(evaluation) == []


def test_the_sweep_recovers_a_case_answered_by_a_write(engine, example_config):
    overdue = case(BERLIN, NOW - timedelta(hours=5))
    add(engine, overdue)
    evaluation, state = swept(engine, example_config, NOW, None)
    assert summary(evaluation) == [("breach", BERLIN, overdue.id)]
    with transaction(engine) as session:
        row = store.open_case(session, case_id=overdue.id, teams=[BERLIN])
        store.update_case(session, case=row, first_response_at=NOW, resolved_at=None, user="U0LEADBE", now=NOW)
    evaluation, _ = swept(engine, example_config, NOW + timedelta(seconds=30), state)
    assert summary(evaluation) == [("recovered", BERLIN, overdue.id)]


def test_a_new_period_re_evaluates_every_team(engine, example_config):
    """A new week starts each weekly KPI afresh: its teams are evaluated again though nobody wrote (the
    new week's figures, added behind kpi_core's back, recover Shanghai's alert)."""
    both_teams_in_breach(engine)
    evaluation, state = swept(engine, example_config, NOW, None)
    assert ("breach", SHANGHAI, "on_time_delivery") in summary(evaluation)
    add(engine, *measures(SHANGHAI, date(2026, 10, 12), orders=100, on_time_orders=99))  # next week, unwritten
    next_week = at("2026-10-12 12:00", "Asia/Shanghai")
    evaluation, _ = swept(engine, example_config, next_week, state)
    assert summary(evaluation) == [("recovered", SHANGHAI, "on_time_delivery")]


def test_the_first_sweep_and_a_clock_gone_back_evaluate_everything(engine, example_config):
    both_teams_in_breach(engine)
    later = SweepState(NOW + timedelta(hours=1))
    evaluation, state = swept(engine, example_config, NOW, later)
    assert len(summary(evaluation)) == 3
    assert state.at == NOW
    with transaction(engine) as session:
        assert session.exec(sa.select(sa.func.count()).select_from(Alert)).one()[0] == 3
