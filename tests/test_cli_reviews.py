"""``kpi-bot review launch|close|status`` and ``kpi-bot export reviews`` through click's test runner; the
demo's finished review."""

from __future__ import annotations

import csv
import io
import json

import pytest
import yaml

from bot.resources import EXAMPLE_CONFIG
from kpi_core import review_use_cases as use
from kpi_core.config import load_config
from kpi_core.db import make_engine
from tests import test_cli
from tests.test_cli import failed, invoke, succeeded
from tests.test_reviews import ALL_FOURS, assignments

AGENT = "U0AGENTBJ1"
cli_env = test_cli.cli_env  # the command line's fixtures: a database, and the demo loaded into one
demo = test_cli.demo


def rate_agent(url, config, *, peers):
    """Every rater of agent 1 answers but ``peers`` of their three default peers."""
    engine = make_engine(url)
    cycle = use.cycles(engine)[0]
    use.default_peers(engine, config=config, now=cycle.nominations_due_at)
    left = peers
    for assignment in assignments(engine, subject=AGENT):
        if assignment.relation == "peer":
            if not left:
                continue
            left -= 1
        use.submit_answer(
            engine,
            config=config,
            request_key=f"cli:{assignment.id}",
            assignment_id=assignment.id,
            rater=assignment.rater,
            scores=ALL_FOURS,
            comment=None,
            now=cycle.launched_at,
        )
    engine.dispose()


@pytest.mark.parametrize(
    ("peers", "shown"), [pytest.param(2, False, id="two-peers"), pytest.param(3, True, id="three-peers")]
)
def test_launch_status_close_and_an_export_that_keeps_anonymity(cli_env, example_config, peers, shown):
    output = succeeded(invoke(cli_env, "review", "launch", "2026", "--by", "hr-desk"))
    assert output.startswith("launched review 2026: 9 people, deadline")
    assert "launched already" in failed(invoke(cli_env, "review", "launch", "2026"))
    rate_agent(cli_env["KPI_DATABASE_URL"], example_config, peers=peers)

    status = succeeded(invoke(cli_env, "review", "status", "2026"))
    assert status.startswith("*Review 2026 (year), deadline")
    assert "still open" in failed(invoke(cli_env, "export", "reviews", "2026"))
    assert succeeded(invoke(cli_env, "review", "close", "2026")) == "closed review 2026\n"

    rows = list(csv.DictReader(io.StringIO(succeeded(invoke(cli_env, "export", "reviews", "2026")))))
    peer_rows = [row for row in rows if row["person"] == AGENT and row["group"] == "peer"]
    assert {row["average"] for row in peer_rows} == ({"4.0"} if shown else {""})
    assert {row["answered"] for row in peer_rows} == {str(peers)}
    assert "rater" not in rows[0]
    exported = json.loads(succeeded(invoke(cli_env, "export", "reviews", "2026", "--format", "json")))
    assert [row for row in exported["rows"] if row["person"] == AGENT and row["group"] == "superior"][0]["average"] == 4
    assert "no review cycle 2027" in failed(invoke(cli_env, "export", "reviews", "2027"))


def test_with_admins_see_raters_the_export_names_each_rater(cli_env, tmp_path):
    raw = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    raw["reviews"] = {"admins_see_raters": True}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    env = cli_env | {"KPI_CONFIG": str(path)}
    succeeded(invoke(env, "review", "launch", "2026"))
    rate_agent(env["KPI_DATABASE_URL"], load_config(path), peers=1)
    succeeded(invoke(env, "review", "close", "2026"))

    rows = list(csv.DictReader(io.StringIO(succeeded(invoke(env, "export", "reviews", "2026")))))
    assert {row["rater"] for row in rows if row["person"] == AGENT and row["group"] == "peer"} == {"U0AGENTBJ2"}


def test_bad_cycles_are_told_plainly(cli_env):
    assert "not a review cycle" in failed(invoke(cli_env, "review", "launch", "next-year"))
    assert "not a deadline" in failed(invoke(cli_env, "review", "launch", "2026", "--deadline", "2026-02-30"))
    assert "no review cycle 2026" in failed(invoke(cli_env, "review", "status", "2026"))


def test_the_demo_shows_a_finished_review_in_the_personal_scorecard(demo):
    _, output = demo
    assert "loaded the finished 360° review 2026-Q3" in output
    assert "*Personal performance / 个人绩效* (30 %): " in output and "(2026-Q3)" in output
    results = output[output.index("*360° review 2026-Q3: Li Wei") :]
    assert "*Subordinates / 下属* (3 of 3 answered" in results
    assert "Personal performance from this review: " in results
