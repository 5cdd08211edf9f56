"""kpi_core.measure_totals: several periods' measures read together, each period with only its measures."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from kpi_core.db import transaction
from kpi_core.measure_totals import measure_aggregates
from kpi_core.models import MeasureValue
from kpi_core.periods import Period
from tests.factories import add, measures

Q3 = Period.parse("2026-Q3")
TEAMS = ["shanghai_ops", "berlin_ops"]


def totals(engine, config, wanted, **kw):
    statements: list[str] = []

    def note(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        with transaction(engine) as session:
            found = measure_aggregates(session, config=config, teams=TEAMS, wanted=wanted, **kw)
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)
    plain = {
        period: {team: {key: (agg.value, agg.rows) for key, agg in by_key.items()} for team, by_key in by_team.items()}
        for period, by_team in found.items()
    }
    return plain, len(statements)


def test_this_previous_and_year_ago_periods_in_one_statement_each_with_its_measures(engine, example_config):
    add(
        engine,
        *measures("shanghai_ops", date(2026, 7, 6), sales=100, output=10, inventory=4),
        *measures("shanghai_ops", date(2026, 9, 30), sales=50, inventory=8),
        *measures("shanghai_ops", date(2026, 6, 30), sales=70, output=7, inventory=1),  # previous quarter
        *measures("shanghai_ops", date(2025, 8, 1), sales=30, output=3),  # a year ago
        *measures("shanghai_ops", date(2026, 1, 15), sales=999),  # in none of the periods
        *measures("berlin_ops", date(2026, 8, 1), sales=5),
        *measures("newyork_delivery", date(2026, 8, 1), sales=77),  # a team not asked for
    )
    found, statements = totals(
        engine,
        example_config,
        {Q3: {"sales", "output", "inventory"}, Q3.previous(): {"output"}, Q3.year_ago(): {"sales"}},
    )
    assert found == {
        Q3: {
            "shanghai_ops": {"sales": (150.0, 2), "output": (10.0, 1), "inventory": (6.0, 2)},  # inventory: mean
            "berlin_ops": {"sales": (5.0, 1)},
        },
        Q3.previous(): {"shanghai_ops": {"output": (7.0, 1)}},  # only the measure asked for that period
        Q3.year_ago(): {"shanghai_ops": {"sales": (30.0, 1)}},
    }
    assert statements == 1


def test_last_measures_take_each_periods_latest_row(engine, example_config):
    add(
        engine,
        *measures("shanghai_ops", date(2026, 9, 1), assets=900, liabilities=300),
        *measures("shanghai_ops", date(2026, 9, 20), assets=1000),
        *measures("shanghai_ops", date(2026, 9, 20), assets=1100),  # same day, later row: the latest
        *measures("shanghai_ops", date(2026, 6, 2), assets=500),
        *measures("shanghai_ops", date(2026, 5, 2), assets=400),
    )
    found, statements = totals(engine, example_config, {Q3: {"assets", "liabilities"}, Q3.previous(): {"assets"}})
    assert found[Q3] == {"shanghai_ops": {"assets": (1100.0, 3), "liabilities": (300.0, 1)}}
    assert found[Q3.previous()] == {"shanghai_ops": {"assets": (500.0, 2)}}
    assert statements == 2  # the totals, then every period's latest rows


def test_overlapping_periods_are_read_apart(engine, example_config):
    add(
        engine,
        *measures("shanghai_ops", date(2026, 7, 6), sales=100),
        *measures("shanghai_ops", date(2026, 8, 6), sales=10),
    )
    july = Period.parse("2026-07")
    found, statements = totals(engine, example_config, {Q3: None, july: {"sales"}, Q3.previous(): set()})
    assert found == {
        Q3: {"shanghai_ops": {"sales": (110.0, 2)}},
        july: {"shanghai_ops": {"sales": (100.0, 1)}},
        Q3.previous(): {},  # nothing asked: nothing read
    }
    assert statements == 2


@pytest.mark.parametrize("person", [pytest.param("U_OPS_LEAD", id="one-person"), pytest.param(None, id="team")])
def test_a_persons_rows_only(engine, example_config, person):
    add(
        engine,
        MeasureValue(team="shanghai_ops", measure="sales", on_date=date(2026, 8, 1), value=40, person="U_OPS_LEAD"),
        MeasureValue(team="shanghai_ops", measure="sales", on_date=date(2026, 8, 2), value=2),
    )
    found, _ = totals(engine, example_config, {Q3: {"sales"}}, person=person)
    assert found[Q3]["shanghai_ops"]["sales"] == ((40.0, 1) if person else (42.0, 2))
