"""Migration 0017 adds the submission verification table and takes it away again, on SQLite and
PostgreSQL, keeping the submissions it refers to."""

import pytest
import sqlalchemy as sa

from kpi_core.db import downgrade, migrate

SUBMISSION = sa.text(
    "INSERT INTO submission (id, team, kind, source, form, submitted_by, submitted_at, row_count) "
    "VALUES (1, 'berlin_ops', 'measures', 'slack', 'weekly', 'U0LEADBE', '2026-09-30 08:00:00+00:00', 2)"
)
VERIFIED = sa.text(
    "INSERT INTO submission_verification (submission_id, state, changed_by, changed_at, note) "
    "VALUES (1, 'verified', 'U0VERIFY', '2026-09-30 09:00:00+00:00', 'checked')"
)


def tables(engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_0017_adds_the_verification_table_and_takes_it_away(engine):
    downgrade(engine, "0015")
    assert "submission_verification" not in tables(engine)
    with engine.begin() as connection:
        connection.execute(SUBMISSION)

    migrate(engine)
    assert "submission_verification" in tables(engine)
    with engine.begin() as connection:
        connection.execute(VERIFIED)
        rows = connection.execute(sa.text("SELECT submission_id, state, note FROM submission_verification")).all()
    assert [tuple(row) for row in rows] == [(1, "verified", "checked")]
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(sa.text("UPDATE submission_verification SET state = 'approved'"))

    downgrade(engine, "0015")
    assert "submission_verification" not in tables(engine)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT id FROM submission")).scalars().all() == [1]
    migrate(engine)
