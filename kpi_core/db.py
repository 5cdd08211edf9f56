"""Engines, sessions and schema migrations (Alembic is the only schema authority)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlmodel import Session

from kpi_core.errors import StorageUnavailable

MIGRATIONS = Path(__file__).parent / "migrations"
#: The PostgreSQL advisory lock that serialises migrations: a fixed 64-bit key, b"kpi-bot:" read as a number.
MIGRATION_LOCK_KEY = 7741803403095798842


def make_engine(url: str, **options: Any) -> sa.Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # A pooled connection may have died with the server (a restart, a failover): test it at checkout, so
    # the first request after the database returns gets a fresh connection instead of an error.
    options.setdefault("pool_pre_ping", True)
    engine = sa.create_engine(url, **options)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "checkin", _sqlite_durable_again)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # the busy timeout first: switching a new file to WAL needs its lock, which another process may hold
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    # every commit reaches the disk before it returns (the default, said here: transaction(durable=False)
    # relaxes it for one transaction and _sqlite_durable_again puts it back)
    cursor.execute(f"PRAGMA synchronous = {_SQLITE_DURABLE}")
    cursor.close()


_SQLITE_DURABLE, _SQLITE_RELAXED = "FULL", "NORMAL"


def _sqlite_durable_again(dbapi_connection: Any, record: Any) -> None:
    """A connection back in the pool after a transaction(durable=False) commits durably again."""
    if record is not None and record.info.pop("relaxed", False):
        dbapi_connection.execute(f"PRAGMA synchronous = {_SQLITE_DURABLE}")


def alembic_config() -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (idempotent), one process at a time: replicas that start together on
    an empty database wait for the first one's migrations, then find the schema at ``revision``."""
    _under_migration_lock(engine, command.upgrade, revision)


def downgrade(engine: sa.Engine, revision: str) -> None:
    """Take the schema back to ``revision`` (its data moved back too), under the same lock as ``migrate``."""
    _under_migration_lock(engine, command.downgrade, revision)


def _under_migration_lock(engine: sa.Engine, step: Callable[[AlembicConfig, str], None], revision: str) -> None:
    config = alembic_config()
    with engine.connect() as connection:
        lock_for_migration(connection)
        config.attributes["connection"] = connection  # env.py migrates in this transaction, under the lock
        step(config, revision)
        connection.commit()  # ends the transaction, and with it the lock


def lock_for_migration(connection: sa.Connection) -> None:
    """Begins the connection's transaction holding the database-wide migration lock until it ends. Alembic
    reads the current revision and creates tables without a lock of its own, so two processes would both
    find the database empty and both create the schema (UniqueViolation on pg_type, "table already
    exists"). PostgreSQL: a transaction-level advisory lock (DDL is transactional there, and a process that
    dies releases it). SQLite: BEGIN IMMEDIATE takes the file's write lock up front; without it the
    driver runs DDL outside any transaction."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(MIGRATION_LOCK_KEY)))
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def transaction(engine: sa.Engine, *, durable: bool = True) -> Iterator[Session]:
    """One session, one transaction: committed on success, rolled back (nothing stored) on any error.
    StorageUnavailable when the database cannot be used for now (down, unreachable, locked, full).

    ``durable=False``: the commit returns before it is flushed to disk (SQLite in WAL mode: synchronous
    NORMAL; PostgreSQL: synchronous_commit off), which saves the disk flush (about 1-5 ms on SQLite).
    Every process and replica sees it at once, and a crash of the process loses nothing; a power cut or
    an operating system crash may lose the last such commits (never corrupt the database), so only for
    writes whose loss is recovered anyway: the delivery ledger's "sent" marks (kpi_core.ledger)."""
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            if not durable:
                _relax(session.connection())
            yield session
    except (sa.exc.DBAPIError, sa.exc.TimeoutError) as error:
        if unavailable(error):
            raise StorageUnavailable(reason=str(getattr(error, "orig", None) or error).strip()) from error
        raise


def _relax(connection: sa.Connection) -> None:
    """This transaction's commit does not wait for the disk (see ``transaction``)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL synchronous_commit = off")  # this transaction only
    elif connection.dialect.name == "sqlite":
        # allowed here: the driver begins SQLite's transaction only at the first write; the setting
        # belongs to the connection, so the pool's checkin puts it back (_sqlite_durable_again)
        connection.connection.info["relaxed"] = True
        connection.exec_driver_sql(f"PRAGMA synchronous = {_SQLITE_RELAXED}")


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
