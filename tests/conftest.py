"""Fixtures: a migrated database on SQLite (always) and PostgreSQL (when KPI_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import itertools
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from bot.resources import EXAMPLE_CONFIG
from kpi_core import models  # noqa: F401  (registers the tables whose rows each test clears)
from kpi_core.config import Config, load_config
from kpi_core.db import make_engine, migrate
from tests import slack_limits
from tests.alert_ops import Ops, running_ops
from tests.bot_harness import NOW, Bot, running_bot
from tests.fake_slack import FakeSlack

REPO_ROOT = Path(__file__).resolve().parent.parent

POSTGRES_ENV = "KPI_TEST_DATABASE_URL"


@pytest.fixture(autouse=True)
def slack_would_accept() -> Iterator[None]:
    """Fail any test in which the app sent Slack something real Slack refuses (tests/slack_limits.py)."""
    slack_limits.take_violations()
    yield
    violations = slack_limits.take_violations()
    assert not violations, "real Slack would refuse:\n" + "\n".join(dict.fromkeys(violations))


@pytest.fixture(scope="session")
def example_config() -> Config:
    return load_config(EXAMPLE_CONFIG)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (migrating per test would dominate the run time)."""
    path = tmp_path_factory.mktemp("template") / "kpi.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test run, dropped at the end."""
    server_url = os.environ.get(POSTGRES_ENV)
    if not server_url:
        pytest.skip(f"PostgreSQL tests skipped: set {POSTGRES_ENV} (.ci/run starts a server and sets it)")
    admin = make_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"kpi_test_{os.getpid()}_{secrets.token_hex(4)}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(make_engine(server_url).url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty, migrated database, on each backend in turn."""
    if request.param == "sqlite":
        path = tmp_path / "kpi.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    return _emptied(request.getfixturevalue("postgres_url"))


@pytest.fixture
def postgres_database_url(postgres_url: str) -> str:
    """An empty, migrated PostgreSQL database (for tests that need real concurrency)."""
    return _emptied(postgres_url)


def _emptied(url: str) -> str:
    engine = make_engine(url)
    # every table but the single-row version counter, which migrations create and writes only update
    tables = ", ".join(f'"{table.name}"' for table in SQLModel.metadata.sorted_tables if table.name != "data_version")
    with engine.begin() as connection:
        connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        connection.execute(sa.text("UPDATE data_version SET version = 0"))
    engine.dispose()
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def bot(example_config: Config, sqlite_template: Path, tmp_path: Path, fake_slack: FakeSlack) -> Iterator[Bot]:
    """The Slack app over HTTP on a fresh SQLite database (storage itself is tested on both backends)."""
    path = tmp_path / "bot.db"
    shutil.copyfile(sqlite_template, path)
    with running_bot(config=example_config, database_url=f"sqlite:///{path}", fake=fake_slack) as running:
        yield running


@pytest.fixture
def start_bot(
    example_config: Config, sqlite_template: Path, tmp_path: Path, fake_slack: FakeSlack
) -> Iterator[Callable[..., Bot]]:
    """Starts the Slack app over HTTP on its own fresh SQLite database: at another clock (``now``), or wired
    to the alerting as `kpi-bot serve` runs it (``alerting``); every bot started stops with the test."""
    numbers = itertools.count(1)
    with ExitStack() as stack:

        def start(*, now: datetime = NOW, alerting: bool = False) -> Bot:
            path = tmp_path / f"bot-{next(numbers)}.db"
            shutil.copyfile(sqlite_template, path)
            url = f"sqlite:///{path}"
            return stack.enter_context(
                running_bot(config=example_config, database_url=url, fake=fake_slack, now=now, alerting=alerting)
            )

        yield start


#: 2026-10-04 20:00 UTC: already Monday 04:00 in Shanghai (2026-W41), still Sunday 22:00 in Berlin (2026-W40).
SUNDAY_EVENING_UTC = datetime(2026, 10, 4, 20, 0, tzinfo=UTC)


@pytest.fixture
def bot_on_sunday_evening(start_bot: Callable[..., Bot]) -> Bot:
    """The app when the week has turned in Shanghai but not yet in Berlin."""
    return start_bot(now=SUNDAY_EVENING_UTC)


@pytest.fixture
def ops(example_config: Config, sqlite_template: Path, tmp_path: Path, fake_slack: FakeSlack) -> Iterator[Ops]:
    """The app with alerting, at a clock the test moves (tests/alert_ops.py)."""
    with running_ops(example_config, sqlite_template, tmp_path, fake_slack) as running:
        yield running
