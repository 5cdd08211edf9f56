"""Migration 0019 adds the period close tables (revisions and their frozen results) and takes them away
again, on SQLite and PostgreSQL."""

import sqlalchemy as sa

from kpi_core.db import downgrade, migrate

REVISION = sa.text(
    "INSERT INTO period_close (id, period, revision, kind, scheme, rules, made_by, made_at) "
    "VALUES (1, '2026-Q3', 1, 'close', 'quarterly', '{}', 'U0MANAGER', '2026-10-05 09:00:00+00:00')"
)
RESULT = sa.text(
    "INSERT INTO closed_result (close_id, subject_kind, subject, team, score, rank, grade, pay_factor, items, rewards) "
    "VALUES (1, 'team', 'berlin_ops', 'berlin_ops', 81.5, 1, 'B', 1.0, '{}', '[]')"
)
TABLES = {"period_close", "closed_result"}


def tables(engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_0019_adds_the_period_close_tables_and_takes_them_away(engine):
    downgrade(engine, "0018")
    assert TABLES.isdisjoint(tables(engine))

    migrate(engine)
    assert tables(engine) >= TABLES
    with engine.begin() as connection:
        connection.execute(REVISION)
        connection.execute(RESULT)
        stored = connection.execute(sa.text("SELECT subject, score, rank, grade FROM closed_result")).all()
    assert [tuple(row) for row in stored] == [("berlin_ops", 81.5, 1, "B")]
    with engine.begin() as connection:
        try:
            connection.execute(REVISION.bindparams())  # the same period and revision twice
        except sa.exc.IntegrityError:
            pass
        else:
            raise AssertionError("a second revision 1 of 2026-Q3 was accepted")

    downgrade(engine, "0018")
    assert TABLES.isdisjoint(tables(engine))
    migrate(engine)
