"""Migration 0014 adds the alert handling and corrective action tables and takes them away again, on
SQLite and PostgreSQL, keeping the alerts they refer to."""

import sqlalchemy as sa

from kpi_core.db import downgrade, migrate

ALERT = sa.text(
    "INSERT INTO alert (id, team, kpi, threshold, opened_at) "
    "VALUES (1, 'berlin_ops', 'on_time_delivery', 90, '2026-09-30 08:00:00+00:00')"
)
HANDLING = sa.text(
    "INSERT INTO alert_handling (alert_id, team, acknowledged_by, acknowledged_at, owner) "
    "VALUES (1, 'berlin_ops', 'U0LEAD', '2026-09-30 08:10:00+00:00', 'U0LEAD')"
)
ACTION = sa.text(
    "INSERT INTO corrective_action (id, team, kpi, alert_id, root_cause, action, owner, due_on, status, opened_by, "
    "opened_at) VALUES (1, 'berlin_ops', 'on_time_delivery', 1, 'late carrier', 'second carrier', 'U0LEAD', "
    "'2026-10-07', 'open', 'U0LEAD', '2026-09-30 08:20:00+00:00')"
)


def tables(engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_0014_adds_the_alert_handling_and_corrective_action_tables_and_takes_them_away(engine):
    downgrade(engine, "0013")
    assert {"alert_handling", "corrective_action"}.isdisjoint(tables(engine))
    with engine.begin() as connection:
        connection.execute(ALERT)

    migrate(engine)
    assert {"alert_handling", "corrective_action"} <= tables(engine)
    with engine.begin() as connection:
        connection.execute(HANDLING)
        connection.execute(ACTION)
        handled = connection.execute(sa.text("SELECT alert_id, owner FROM alert_handling")).all()
        actions = connection.execute(sa.text("SELECT id, alert_id, status, due_on FROM corrective_action")).all()
    assert [tuple(row) for row in handled] == [(1, "U0LEAD")]
    assert [tuple(row)[:3] for row in actions] == [(1, 1, "open")]
    assert str(actions[0][3]) == "2026-10-07"

    downgrade(engine, "0013")
    assert {"alert_handling", "corrective_action"}.isdisjoint(tables(engine))
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT id FROM alert")).scalars().all() == [1]
    migrate(engine)
