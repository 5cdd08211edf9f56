"""A CSV import is idempotent and can be undone, through the real ``kpi-bot`` on both backends: the same
content imported again is refused naming the submission that holds it, ``--replace`` replaces exactly,
a file overlapping an earlier one's periods is refused the same way, and ``kpi-bot submissions list`` and
``withdraw`` show and undo an import with an audit entry naming who."""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlmodel import col, select

from bot.cli import main
from kpi_core import use_cases
from kpi_core.config import Config
from kpi_core.db import make_engine, transaction
from kpi_core.errors import AlreadyImported
from kpi_core.imports import import_csv
from kpi_core.models import AuditEntry, MeasureValue, Submission
from tests.test_cli import Env, cli_env, failed, invoke, report_json, row_counts, succeeded

__all__ = ["cli_env"]  # the fixture, imported to be used here

SALES = "team,measure,date,value\nbeijing_service,sales,2026-09-04,190000\n"
WEEK = "2026-W36"  # the week of 2026-09-04
WHEN = r"\d{4}-\d\d-\d\d \d\d:\d\d UTC"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def sales(env: Env, week: str = WEEK) -> float | None:
    value: float | None = report_json(env, "--team", "beijing_service", "--period", week)["kpis"]["sales"]["value"]
    return value


def rows(env: Env) -> list[tuple[int | None, float]]:
    engine = make_engine(env["KPI_DATABASE_URL"])
    try:
        with transaction(engine) as session:
            query = select(MeasureValue.submission_id, MeasureValue.value).order_by(col(MeasureValue.id))
            return [(submission_id, value) for submission_id, value in session.exec(query)]
    finally:
        engine.dispose()


def stored(env: Env, model: type[Submission] | type[AuditEntry]) -> list:
    engine = make_engine(env["KPI_DATABASE_URL"])
    try:
        with transaction(engine) as session:
            return list(session.exec(select(model).order_by(col(model.id))))
    finally:
        engine.dispose()


def test_the_same_content_imported_again_is_refused_naming_the_submission(cli_env: Env, tmp_path: Path) -> None:
    first = write(tmp_path, "sales.csv", SALES)
    assert "(submission 1)" in succeeded(invoke(cli_env, "import", "measures", str(first), "--by", "alice"))
    assert sales(cli_env) == 190000
    counts = row_counts(cli_env["KPI_DATABASE_URL"])

    # the content is recognised, whatever the file is called now
    again = write(tmp_path, "sales-copy.csv", SALES)
    output = failed(invoke(cli_env, "import", "measures", str(again), "--by", "bob"))
    assert re.search(
        rf"Error: rejected {re.escape(str(again))}, nothing was stored: the same content is already imported as "
        rf"submission 1 \(sales\.csv, {WHEN}, by alice\); import with --replace to replace it",
        output,
    ), output
    assert sales(cli_env) == 190000  # not 380000
    assert row_counts(cli_env["KPI_DATABASE_URL"]) == counts


def test_replace_withdraws_the_earlier_import_and_stores_the_new_one(cli_env: Env, tmp_path: Path) -> None:
    path = write(tmp_path, "sales.csv", SALES)
    succeeded(invoke(cli_env, "import", "measures", str(path), "--by", "alice"))
    output = succeeded(invoke(cli_env, "import", "measures", str(path), "--by", "bob", "--replace"))
    assert output == f"imported 1 measures rows from {path} (submission 2)\n"

    assert sales(cli_env) == 190000
    assert rows(cli_env) == [(2, 190000)]
    earlier, latest = stored(cli_env, Submission)
    assert (earlier.withdrawn_by, latest.withdrawn_at) == ("bob", None)
    assert earlier.content_hash == latest.content_hash is not None
    (entry,) = stored(cli_env, AuditEntry)
    assert (entry.action, entry.user, entry.submission_id, entry.entity) == ("replace", "bob", 1, "measure_value")
    assert entry.old["value"] == 190000 and entry.new == {"replaced_by": 2}

    # the replacement is now the one holding the content
    output = failed(invoke(cli_env, "import", "measures", str(path)))
    assert "already imported as submission 2 (sales.csv" in output


def test_a_file_overlapping_an_earlier_import_period_is_refused_unless_it_replaces(
    cli_env: Env, tmp_path: Path
) -> None:
    succeeded(invoke(cli_env, "import", "measures", str(write(tmp_path, "sales.csv", SALES)), "--by", "alice"))
    # another day of the same week, and another week
    overlapping = write(
        tmp_path,
        "corrected.csv",
        "team,measure,date,value\nbeijing_service,sales,2026-09-11,10\nbeijing_service,sales,2026-09-03,200000\n",
    )
    output = failed(invoke(cli_env, "import", "measures", str(overlapping), "--by", "bob"))
    assert re.search(
        rf"{re.escape(str(overlapping))}: line 3, column value: beijing_service sales in {WEEK} already has values "
        rf"from submission 1 \(sales\.csv, {WHEN}, by alice\) \(import with --replace to replace them\)",
        output,
    ), output
    assert "line 2" not in output  # 2026-W37 had nothing
    assert rows(cli_env) == [(1, 190000)]

    succeeded(invoke(cli_env, "import", "measures", str(overlapping), "--by", "bob", "--replace"))
    assert sales(cli_env) == 200000
    assert sales(cli_env, "2026-W37") == 10
    # (PostgreSQL's sequence gave the refused import an id: the replacement's is not 2 there)
    latest = stored(cli_env, Submission)[-1].id
    assert sorted(rows(cli_env)) == [(latest, 10), (latest, 200000)]
    (entry,) = stored(cli_env, AuditEntry)
    assert (entry.action, entry.user, entry.submission_id) == ("replace", "bob", latest)
    assert entry.old["period"] == WEEK and [row["value"] for row in entry.old["rows"]] == [190000]
    assert entry.new == {"period": WEEK, "measure": "sales", "value": 200000}


def test_files_of_other_periods_or_teams_import_side_by_side(cli_env: Env, tmp_path: Path) -> None:
    succeeded(invoke(cli_env, "import", "measures", str(write(tmp_path, "a.csv", SALES))))
    other = "team,measure,date,value\nberlin_ops,sales,2026-09-04,5\nbeijing_service,sales,2026-09-14,7\n"
    succeeded(invoke(cli_env, "import", "measures", str(write(tmp_path, "b.csv", other))))
    assert (sales(cli_env), sales(cli_env, "2026-W38")) == (190000, 7)


def test_list_shows_imports_and_withdraw_removes_their_values_with_an_audit_entry(cli_env: Env, tmp_path: Path) -> None:
    path = write(tmp_path, "sales.csv", SALES)
    succeeded(invoke(cli_env, "import", "measures", str(path), "--by", "alice"))
    surveys = "team,submitted_at,score\nberlin_ops,2026-09-01T10:00:00,5\nshanghai_ops,2026-09-01T10:00:00,4\n"
    succeeded(invoke(cli_env, "import", "surveys", str(write(tmp_path, "surveys.csv", surveys)), "--by", "alice"))

    listed = succeeded(invoke(cli_env, "submissions", "list")).splitlines()
    assert [line.split("\t")[0] for line in listed] == ["2", "1"]  # newest first
    fields = listed[1].split("\t")
    assert re.fullmatch(WHEN, fields[1])
    assert fields[2:] == ["csv:sales.csv", "beijing_service", "measures", "1 rows", "by alice", "active"]
    assert listed[0].split("\t")[3] == "(several teams)"
    assert succeeded(invoke(cli_env, "submissions", "list", "--team", "beijing_service")).startswith("1\t")
    assert succeeded(invoke(cli_env, "submissions", "list", "--limit", "1")).startswith("2\t")
    assert succeeded(invoke(cli_env, "submissions", "list", "--source", "slack")) == "no submissions\n"
    assert "unknown team 'atlantis'" in failed(invoke(cli_env, "submissions", "list", "--team", "atlantis"))

    output = succeeded(invoke(cli_env, "submissions", "withdraw", "1", "--reason", "wrong file", "--by", "carol"))
    assert output == "withdrew submission 1 (csv:sales.csv): 1 rows deleted, audited as carol\n"
    assert sales(cli_env) is None
    assert rows(cli_env) == []
    (entry,) = stored(cli_env, AuditEntry)
    assert (entry.action, entry.user, entry.submission_id, entry.entity) == ("withdraw", "carol", 1, "measure_value")
    assert entry.old["value"] == 190000 and entry.new == {"reason": "wrong file"}
    listed = succeeded(invoke(cli_env, "submissions", "list", "--source", "csv")).splitlines()
    assert re.fullmatch(rf"withdrawn {WHEN} by carol", listed[1].split("\t")[-1])

    assert re.search(
        rf"Error: submission 1 was withdrawn already \({WHEN} by carol\)",
        failed(invoke(cli_env, "submissions", "withdraw", "1")),
    )
    assert "Error: there is no submission 99" in failed(invoke(cli_env, "submissions", "withdraw", "99"))
    assert len(stored(cli_env, AuditEntry)) == 1

    # withdrawn content may be imported again
    assert "(submission 3)" in succeeded(invoke(cli_env, "import", "measures", str(path)))
    assert sales(cli_env) == 190000


@pytest.mark.parametrize("by", [None, "x" * 65, " "])
def test_the_importer_is_the_os_user_unless_named(cli_env: Env, tmp_path: Path, by: str | None) -> None:
    path = write(tmp_path, "sales.csv", SALES)
    if by is None:
        # getpass.getuser() reads LOGNAME first
        succeeded(CliRunner().invoke(main, ["import", "measures", str(path)], env=cli_env | {"LOGNAME": "dana"}))
        assert [item.submitted_by for item in stored(cli_env, Submission)] == ["dana"]
    else:
        output = failed(invoke(cli_env, "import", "measures", str(path), "--by", by), code=2)
        assert "Invalid value for --by: a name of 1 to 64 characters is required" in output
        assert stored(cli_env, Submission) == []


def test_two_imports_of_one_file_at_once_store_it_once(
    engine: sa.Engine, example_config: Config, tmp_path: Path
) -> None:
    """The second import waits for the first one's transaction (the data version's row lock, taken before
    the content is looked up) and then finds its content there."""
    path = write(tmp_path, "sales.csv", SALES)
    now = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
    outcome: list[object] = []

    def second() -> None:
        try:
            outcome.append(
                use_cases.import_file(
                    engine, config=example_config, kind="measures", path=path, submitted_by="bob", now=now
                )
            )
        except AlreadyImported as error:
            outcome.append(error)

    with transaction(engine) as session:
        import_csv(session, config=example_config, kind="measures", path=path, submitted_by="alice", now=now)
        racer = threading.Thread(target=second)
        racer.start()
        time.sleep(0.5)  # lets the second import reach the lock; without it the test is weaker, never flaky
    racer.join()

    (refused,) = outcome
    assert isinstance(refused, AlreadyImported) and refused.submission_id == 1
    with transaction(engine) as session:
        assert session.exec(select(MeasureValue.value)).all() == [190000]
