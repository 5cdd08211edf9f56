"""Migration 0020 adds the appeal tables and takes them away again, on SQLite and PostgreSQL."""

from importlib import import_module

import pytest
import sqlalchemy as sa

from kpi_core.db import downgrade, migrate

#: the revision 0020 follows (the lead re-chains the migrations of parallel branches on merge)
BEFORE = import_module("kpi_core.migrations.versions.0020_appeals").down_revision
APPEAL_TABLES = {"appeal_window", "appeal", "appeal_event"}
WINDOW = sa.text(
    "INSERT INTO appeal_window (id, period_label, opened_at, closes_at) "
    "VALUES (1, '2026-Q3', '2026-10-05 09:00:00+00:00', '2026-10-12 09:00:00+00:00')"
)
APPEAL = sa.text(
    "INSERT INTO appeal (id, period_label, subject_kind, subject, state, item, reason, evidence, by_user, at) "
    "VALUES (1, '2026-Q3', 'team', 'beijing_service', 'submitted', 'on_time_delivery', 'counted twice', "
    "'[\"https://example.com/x\"]', 'U0LEADBJ', '2026-10-06 09:00:00+00:00')"
)
EVENT = sa.text(
    "INSERT INTO appeal_event (appeal_id, state, reason, by_user, at) "
    "VALUES (1, 'submitted', 'counted twice', 'U0LEADBJ', '2026-10-06 09:00:00+00:00')"
)
BAD_STATE = sa.text(
    "INSERT INTO appeal (period_label, subject_kind, subject, state, evidence, by_user, at) "
    "VALUES ('2026-Q3', 'team', 'berlin_ops', 'maybe', '[]', 'U0LEADBE', '2026-10-06 09:00:00+00:00')"
)


def tables(engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_0020_adds_the_appeal_tables_and_takes_them_away(engine):
    downgrade(engine, BEFORE)
    assert APPEAL_TABLES.isdisjoint(tables(engine))

    migrate(engine)
    assert tables(engine) >= APPEAL_TABLES
    with engine.begin() as connection:
        connection.execute(WINDOW)
        connection.execute(APPEAL)
        connection.execute(EVENT)
        stored = connection.execute(sa.text("SELECT subject, state FROM appeal")).all()
    assert [tuple(row) for row in stored] == [("beijing_service", "submitted")]
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(BAD_STATE)

    downgrade(engine, BEFORE)
    assert APPEAL_TABLES.isdisjoint(tables(engine))
    migrate(engine)
