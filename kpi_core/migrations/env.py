"""Alembic environment: run on the locked connection passed in by kpi_core.db.migrate (or on a database given
with -x url=..., under the same lock)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel

from kpi_core import models  # noqa: F401  (registers every table on SQLModel.metadata)
from kpi_core.db import lock_for_migration, make_engine

target_metadata = SQLModel.metadata


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:  # kpi_core.db.migrate holds the lock and commits
        _run_on(connection)
        return
    engine = make_engine(context.get_x_argument(as_dictionary=True)["url"])
    with engine.connect() as connection:
        lock_for_migration(connection)
        _run_on(connection)
        connection.commit()
    engine.dispose()


def _run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():  # inside the caller's transaction: Alembic leaves the commit to it
        context.run_migrations()


run_migrations()
