"""Migrations upgrade and downgrade on SQLite and PostgreSQL: 0006 moves data out of string formats into
real columns (a Slack submission's form, ``source = "slack:<form>"``, and a case alert's case,
``subject = "case:<id>"``); 0010 adds the change log of shared reports, 0011 the leads' absences; 0015 the
alert sweep's index of cases by kind and time."""

import pytest
import sqlalchemy as sa

from kpi_core.db import downgrade, migrate

SUBMISSIONS = sa.text(
    "INSERT INTO submission (id, team, kind, source, submitted_by, submitted_at, row_count) VALUES "
    "(1, 'berlin_ops', 'measures', 'slack:weekly', 'U0LEAD', '2026-09-30 08:00:00+00:00', 2), "
    "(2, NULL, 'cases', 'csv:cases.csv', 'cli', '2026-09-30 08:00:00+00:00', 9), "
    "(3, 'berlin_ops', 'survey', 'slack', 'U0LEAD', '2026-09-30 08:00:00+00:00', 1)"
)
ALERTS = sa.text(
    "INSERT INTO alert (id, team, subject, kpi, threshold, opened_at) VALUES "
    "(1, 'berlin_ops', 'on_time_delivery', 'on_time_delivery', 90, '2026-09-30 08:00:00+00:00'), "
    "(2, 'berlin_ops', 'case:17', 'response_time', 4, '2026-09-30 08:00:00+00:00')"
)


def test_0006_moves_the_form_and_the_case_into_columns_and_back(engine):
    downgrade(engine, "0005")
    with engine.begin() as connection:
        connection.execute(SUBMISSIONS)
        connection.execute(ALERTS)

    migrate(engine)
    with engine.connect() as connection:
        submissions = connection.execute(sa.text("SELECT id, source, form FROM submission ORDER BY id")).all()
        alerts = connection.execute(sa.text("SELECT id, kpi, case_id FROM alert ORDER BY id")).all()
    assert [tuple(row) for row in submissions] == [
        (1, "slack", "weekly"),
        (2, "csv:cases.csv", None),
        (3, "slack", None),
    ]
    assert [tuple(row) for row in alerts] == [(1, "on_time_delivery", None), (2, "response_time", 17)]

    downgrade(engine, "0005")
    with engine.connect() as connection:
        sources = connection.execute(sa.text("SELECT source FROM submission ORDER BY id")).scalars().all()
        subjects = connection.execute(sa.text("SELECT subject FROM alert ORDER BY id")).scalars().all()
    assert sources == ["slack:weekly", "csv:cases.csv", "slack"]
    assert subjects == ["on_time_delivery", "case:17"]
    migrate(engine)


def test_0010_adds_the_change_log_and_takes_it_away(engine):
    with engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO data_change (version, team, first_day, last_day) VALUES (1, 'b', NULL, NULL)")
        )
    downgrade(engine, "0007")
    assert "data_change" not in sa.inspect(engine).get_table_names()
    migrate(engine)
    assert "data_change" in sa.inspect(engine).get_table_names()
    assert [index["name"] for index in sa.inspect(engine).get_indexes("data_change")] == ["ix_data_change_version"]
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM data_change")).scalar_one() == 0


def test_0011_adds_the_absence_table_and_takes_it_away(engine):
    row = sa.text(
        "INSERT INTO absence (user_id, first_day, last_day, recorded_by, recorded_at) "
        "VALUES ('U0LEADBJ', '2026-10-01', '2026-10-07', 'U0LEADBJ', '2026-09-30 08:00:00+00:00')"
    )
    downgrade(engine, "0010")
    assert "absence" not in sa.inspect(engine).get_table_names()
    migrate(engine)
    with engine.begin() as connection:
        connection.execute(row)
        stored = connection.execute(sa.text("SELECT user_id, first_day, last_day FROM absence")).one()
    assert [str(value) for value in stored] == ["U0LEADBJ", "2026-10-01", "2026-10-07"]
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:  # the days must be in order
        connection.execute(
            sa.text(
                "INSERT INTO absence (user_id, first_day, last_day, recorded_by, recorded_at) "
                "VALUES ('U0LEADBJ', '2026-10-07', '2026-10-01', 'x', '2026-09-30 08:00:00+00:00')"
            )
        )
    downgrade(engine, "0010")
    assert "absence" not in sa.inspect(engine).get_table_names()
    migrate(engine)


def test_0013_creates_the_review_tables_and_drops_them_again(engine):
    def tables() -> set[str]:
        return {name for name in sa.inspect(engine).get_table_names() if name.startswith("review_")}

    review_tables = {"review_cycle", "review_assignment", "review_answer", "review_score", "review_interview"}
    assert tables() == review_tables
    downgrade(engine, "0012")
    assert tables() == set()
    migrate(engine)
    assert tables() == review_tables


def test_0015_adds_the_case_time_index_and_takes_it_away(engine):
    def indexes() -> set[str]:
        return {index["name"] for index in sa.inspect(engine).get_indexes("customer_case")}

    assert "ix_customer_case_kind_raised_at" in indexes()
    downgrade(engine, "0014")
    assert "ix_customer_case_kind_raised_at" not in indexes()
    migrate(engine)
    assert "ix_customer_case_kind_raised_at" in indexes()
