"""Alembic environment: run with the engine passed in by kpi_core.db.migrate (or built from -x url=...)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from kpi_core import models  # noqa: F401  (registers every table on SQLModel.metadata)
from kpi_core.db import make_engine

target_metadata = SQLModel.metadata


def run_migrations() -> None:
    engine = context.config.attributes.get("engine")
    if engine is None:
        engine = make_engine(context.get_x_argument(as_dictionary=True)["url"])
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
