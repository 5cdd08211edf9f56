"""Several replicas starting together on an empty database: each runs the migrations at start, and every one
of them must come up, with the schema at Alembic's head (on PostgreSQL and on one SQLite file)."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

from kpi_core.db import alembic_config, make_engine

REPO_ROOT = Path(__file__).resolve().parent.parent
REPLICAS = 3
ROUNDS = 3  # without the lock, most rounds failed on both backends

# `kpi-bot migrate`, but held after its imports until the test says go, so that the replicas really start
# migrating at the same instant (import times alone would stagger them by tens of milliseconds).
MIGRATE_ON_GO = """
import sys
from bot.cli import main
print("ready", flush=True)
sys.stdin.readline()
main(["migrate"], prog_name="kpi-bot")
"""


def migrate_together(database_url: str) -> list[tuple[int, str]]:
    """Starts the replicas, lets them all go at once, and returns each one's exit code and output."""
    env = os.environ | {"KPI_DATABASE_URL": database_url, "KPI_CONFIG": str(REPO_ROOT / "config" / "example.yaml")}
    replicas = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATE_ON_GO],
            env=env,
            cwd=REPO_ROOT,
            text=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(REPLICAS)
    ]
    try:
        for replica in replicas:
            assert replica.stdout is not None and replica.stdout.readline() == "ready\n"
        for replica in replicas:
            assert replica.stdin is not None
            replica.stdin.write("go\n")
            replica.stdin.flush()
        return [(replica.wait(timeout=120), replica.communicate()[0]) for replica in replicas]
    finally:
        for replica in replicas:
            if replica.poll() is None:
                replica.kill()
                replica.wait()


def failures(outcomes: list[tuple[int, str]]) -> list[list[str]]:
    """Each replica that failed: the exception lines of its traceback (the output ends with the SQL)."""
    return [
        [line for line in output.splitlines() if re.match(r"[\w.]+(Error|Violation|Exception)\b", line)] or [output]
        for code, output in outcomes
        if code != 0
    ]


def assert_at_head(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == head
            tables = set(sa.inspect(connection).get_table_names())
        assert set(SQLModel.metadata.tables) <= tables
    finally:
        engine.dispose()


@pytest.fixture
def empty_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database (not migrated), dropped afterwards."""
    server_url = os.environ.get("KPI_TEST_DATABASE_URL")
    if not server_url:
        pytest.skip("PostgreSQL tests skipped: set KPI_TEST_DATABASE_URL")
    admin = make_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"kpi_migrate_{os.getpid()}_{secrets.token_hex(4)}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(make_engine(server_url).url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.parametrize("round_number", range(ROUNDS))
def test_replicas_started_together_on_an_empty_postgres_database_all_migrate(empty_postgres_database, round_number):
    outcomes = migrate_together(empty_postgres_database)
    assert failures(outcomes) == []
    assert all(output.endswith("database is up to date\n") for _, output in outcomes), outcomes
    assert_at_head(empty_postgres_database)


@pytest.mark.parametrize("round_number", range(ROUNDS))
def test_replicas_started_together_on_a_new_sqlite_file_all_migrate(tmp_path, round_number):
    url = f"sqlite:///{tmp_path / 'kpi.db'}"  # the file does not exist yet
    outcomes = migrate_together(url)
    assert failures(outcomes) == []
    assert all(output.endswith("database is up to date\n") for _, output in outcomes), outcomes
    assert_at_head(url)
