"""Migration 0018 adds the annual plan table and takes it away again, on SQLite and PostgreSQL."""

import sqlalchemy as sa

from kpi_core.db import downgrade, migrate

PLAN = sa.text(
    "INSERT INTO annual_plan (year, team, kpi, total, months, state, proposed_by, proposed_at) "
    "VALUES (2027, 'berlin_ops', 'sales', 12, '[1,1,1,1,1,1,1,1,1,1,1,1]', 'proposed', 'U0MANAGER', "
    "'2026-11-02 09:00:00+00:00')"
)


def tables(engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_0018_adds_the_annual_plan_table_and_takes_it_away(engine):
    downgrade(engine, "0017")
    assert "annual_plan" not in tables(engine)

    migrate(engine)
    assert "annual_plan" in tables(engine)
    with engine.begin() as connection:
        connection.execute(PLAN)
        rows = connection.execute(sa.text("SELECT year, team, kpi, total, state FROM annual_plan")).all()
    assert [tuple(row) for row in rows] == [(2027, "berlin_ops", "sales", 12.0, "proposed")]
    indexes = {index["name"] for index in sa.inspect(engine).get_indexes("annual_plan")}
    assert "ix_annual_plan_year_team_kpi_state" in indexes

    downgrade(engine, "0017")
    assert "annual_plan" not in tables(engine)
    migrate(engine)
