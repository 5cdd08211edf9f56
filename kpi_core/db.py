"""Engines, sessions and schema migrations (Alembic is the only schema authority)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlmodel import Session

from kpi_core.errors import StorageUnavailable

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str, **options: Any) -> sa.Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # A pooled connection may have died with the server (a restart, a failover): test it at checkout, so
    # the first request after the database returns gets a fresh connection instead of an error.
    options.setdefault("pool_pre_ping", True)
    engine = sa.create_engine(url, **options)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.close()


def alembic_config(engine: sa.Engine) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (idempotent)."""
    command.upgrade(alembic_config(engine), revision)


@contextmanager
def transaction(engine: sa.Engine) -> Iterator[Session]:
    """One session, one transaction: committed on success, rolled back (nothing stored) on any error.
    StorageUnavailable when the database cannot be used for now (down, unreachable, locked, full)."""
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            yield session
    except (sa.exc.DBAPIError, sa.exc.TimeoutError) as error:
        if unavailable(error):
            raise StorageUnavailable(reason=str(getattr(error, "orig", None) or error).strip()) from error
        raise


# SQLite's primary result codes for a database that is busy, unreadable, read-only or full; its other
# OperationalErrors ("no such table", a syntax error) are bugs, not outages.
_SQLITE_UNAVAILABLE = (
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
    "SQLITE_CANTOPEN",
    "SQLITE_IOERR",
    "SQLITE_READONLY",
    "SQLITE_FULL",
    "SQLITE_PERM",
)


def unavailable(error: Exception) -> bool:
    """Whether ``error`` says the database cannot be used for now (retrying later may succeed), as
    opposed to a bug in the statement or the data."""
    if isinstance(error, sa.exc.TimeoutError):  # every pooled connection stayed busy
        return True
    if not isinstance(error, sa.exc.DBAPIError):
        return False
    if error.connection_invalidated:  # SQLAlchemy recognised a lost connection
        return True
    sqlite_code = getattr(error.orig, "sqlite_errorname", None)
    if sqlite_code is not None:
        return str(sqlite_code).startswith(_SQLITE_UNAVAILABLE)
    # PostgreSQL (psycopg): connection failures, shutdowns, too many clients, serialisation conflicts
    return isinstance(error, sa.exc.OperationalError | sa.exc.InterfaceError)
