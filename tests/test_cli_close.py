"""``kpi-bot close``, ``kpi-bot reopen`` and ``kpi-bot export results`` through click's test runner, on
SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest

from kpi_core.db import make_engine
from tests import factories
from tests.conftest import EXAMPLE_CONFIG
from tests.test_cli import Env, failed, invoke, succeeded

HEADER = (
    "period,revision,subject_kind,subject,name,team,score,rank,grade,pay_factor,rewards,appeal_state,verified_share"
)


@pytest.fixture
def env(database_url: str) -> Env:
    engine = make_engine(database_url)
    factories.add(
        engine,
        *factories.measures("shanghai_ops", date(2026, 8, 3), sales=3_000_000),
        *factories.measures("berlin_ops", date(2026, 8, 3), sales=1_150_000),
    )
    engine.dispose()
    # the clock after Q3 (a real clock could be before it, and a period is closed once it has ended)
    return {
        "KPI_DATABASE_URL": database_url,
        "KPI_CONFIG": str(EXAMPLE_CONFIG),
        "KPI_CLOCK_START": "2026-10-05T09:00:00Z",
    }


def test_close_prints_the_final_scorecard_and_export_gives_every_result(env):
    output = succeeded(invoke(env, "close", "2026-Q3", "--by", "ops-lead"))
    assert output.startswith("closed 2026-Q3 (revision 1); the bot posts the final scorecard\n")
    assert "1. *Shanghai Operations / 上海运营中心*: 40.0 / 100 · grade D / 等级 D" in output

    exported = succeeded(invoke(env, "export", "results", "--period", "2026-Q3"))
    lines = exported.splitlines()
    assert lines[0] == HEADER
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert rows[0] == {
        "period": "2026-Q3",
        "revision": "1",
        "subject_kind": "team",
        "subject": "shanghai_ops",
        "name": "Shanghai Operations",
        "team": "shanghai_ops",
        "score": "40.0",
        "rank": "1",
        "grade": "D",
        "pay_factor": "0.5",
        "rewards": "Team of the quarter bonus",
        "appeal_state": "",
        "verified_share": "1.0",
    }
    assert [row["subject_kind"] for row in rows].count("person") == 9

    document = json.loads(succeeded(invoke(env, "export", "results", "--period", "2026-q3", "--format", "json")))
    assert (document["period"], document["revision"], document["made_by"]) == ("2026-Q3", 1, "ops-lead")
    assert document["results"][0] | {"appeal_state": ""} == rows[0] | {
        "revision": 1,
        "score": 40.0,
        "rank": 1,
        "pay_factor": 0.5,
        "verified_share": 1.0,
    }
    assert document["results"][1]["subject"] == "berlin_ops"


def test_close_reopen_and_export_mistakes_get_a_message(env):
    assert "2026-Q3 is not closed" in failed(invoke(env, "export", "results", "--period", "2026-Q3"))
    assert "2026-Q3 is not closed" in failed(invoke(env, "reopen", "2026-Q3", "--reason", "late invoices"))
    assert "cannot be closed before it has ended" in failed(invoke(env, "close", "2026-Q4"))
    assert "Missing option '--reason'" in failed(invoke(env, "reopen", "2026-Q3"), code=2)
    succeeded(invoke(env, "close", "2026-Q3"))
    assert "2026-Q3 is closed already (revision 1)" in failed(invoke(env, "close", "2026-Q3"))
    assert "a reason is required" in failed(invoke(env, "reopen", "2026-Q3", "--reason", "  "))
    assert (
        succeeded(invoke(env, "reopen", "2026-Q3", "--reason", "late invoices")) == "reopened 2026-Q3: late invoices\n"
    )
    assert "(revision 2)" in succeeded(invoke(env, "close", "2026-Q3"))
