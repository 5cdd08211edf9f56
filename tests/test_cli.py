"""``kpi-bot`` end to end through click's test runner: check-config, demo, report and import."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from sqlmodel import func, select

from bot.cli import main
from bot.export import CSV_COLUMNS
from kpi_core.db import make_engine, transaction
from kpi_core.models import CustomerCase, MeasureValue, Milestone, Submission, SurveyResponse
from tests.conftest import EXAMPLE_CONFIG, REPO_ROOT
from tests.test_config import CATALOGUE

TEAMS = ["shanghai_ops", "beijing_service", "berlin_ops", "newyork_delivery"]
KPI_FIELDS = {"value", "unit", "target", "status", "n"}
Env = dict[str, str]


def invoke(env: Env, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def succeeded(result: Result) -> str:
    assert result.exit_code == 0, result.output
    assert result.exception is None
    return result.output


def failed(result: Result, code: int = 1) -> str:
    """The output of a command that ended with a message: exit ``code``, no traceback."""
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    return result.output


def row_counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with transaction(engine) as session:
            return {
                model.__name__: session.exec(select(func.count()).select_from(model)).one()
                for model in (Submission, MeasureValue, SurveyResponse, CustomerCase, Milestone)
            }
    finally:
        engine.dispose()


@pytest.fixture
def cli_env(database_url: str) -> Env:
    return {"KPI_DATABASE_URL": database_url, "KPI_CONFIG": str(EXAMPLE_CONFIG)}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Env, str]:
    """A fresh SQLite file (not migrated yet: the CLI does that) with the demo loaded; its env and output."""
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'kpi.db'}"
    env = {"KPI_DATABASE_URL": url, "KPI_CONFIG": str(EXAMPLE_CONFIG)}
    return env, succeeded(invoke(env, "demo"))


def report_json(env: Env, *args: str) -> Any:
    return json.loads(succeeded(invoke(env, "report", *args, "--format", "json")))


# check-config


def test_check_config_ok() -> None:
    output = succeeded(invoke({"KPI_CONFIG": str(EXAMPLE_CONFIG)}, "check-config"))
    assert output == f"{EXAMPLE_CONFIG}: OK (4 teams, 21 measures, 19 KPIs, 2 scorecards)\n"


def test_check_config_names_file_and_field(tmp_path: Path) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text(
        EXAMPLE_CONFIG.read_text(encoding="utf-8").replace("timezone: Europe/Berlin", "timezone: Europe/Berlln"),
        encoding="utf-8",
    )
    for result in (
        invoke({"KPI_CONFIG": str(EXAMPLE_CONFIG)}, "check-config", str(file)),
        invoke({"KPI_CONFIG": str(file)}, "check-config"),
    ):
        output = failed(result)
        assert f"invalid config {file} (1 problem(s))" in output
        assert f"{file}: teams.berlin_ops.timezone: unknown time zone 'Europe/Berlln'" in output


def test_check_config_missing_file(tmp_path: Path) -> None:
    file = tmp_path / "missing.yaml"
    output = failed(invoke({"KPI_CONFIG": str(file)}, "check-config"))
    assert f"{file}: cannot read: No such file or directory" in output


ENGLISH_ONLY = """\
teams:
  - key: london_ops
    name: London Operations
    channel: C0LONDON
    timezone: Europe/London
    leads: [U0LEAD]
measures:
  - {key: orders, name: Orders, unit: orders, integer: true}
  - {key: on_time_orders, name: {en: On-time orders}, unit: orders, integer: true, at_most: orders}
kpis:
  - key: on_time_delivery
    name: On-time delivery rate
    group: service
    unit: "%"
    better: higher
    formula: {kind: ratio, numerator: on_time_orders, denominator: orders, scale: 100}
    target: 95
    team_targets: {london_ops: 97}
scorecards:
  monthly:
    name: Monthly scorecard
    period: month
    items: [{kpi: on_time_delivery, weight: 100}]
forms:
  - {key: weekly, kind: measures, title: Weekly figures, measures: [orders, on_time_orders]}
"""


def test_check_config_accepts_an_english_only_config_written_from_scratch(tmp_path: Path) -> None:
    file = tmp_path / "english.yaml"
    file.write_text(ENGLISH_ONLY, encoding="utf-8")
    output = succeeded(invoke({}, "check-config", str(file)))
    assert output == f"{file}: OK (1 teams, 2 measures, 1 KPIs, 1 scorecards)\n"


def test_check_config_reports_every_problem_in_one_run_with_suggestions(tmp_path: Path) -> None:
    file = tmp_path / "typos.yaml"
    file.write_text(
        ENGLISH_ONLY.replace("    timezone: Europe/London\n", "    timezone: Europe/London\n    lead: [U0LEAD]\n")
        .replace("numerator: on_time_orders,", "numerator: on_time_order,")
        .replace("team_targets: {london_ops: 97}", "team_targets: {londonops: 97}")
        .replace("{kpi: on_time_delivery, weight: 100}", "{kpi: on_time_delivry, weight: 100}"),
        encoding="utf-8",
    )
    output = failed(invoke({}, "check-config", str(file)))
    # a schema problem and the cross-checks, in the same run
    assert output.splitlines()[1:] == [
        f"  {file}: teams.london_ops.lead: unknown field 'lead' (did you mean 'leads'?)",
        f"  {file}: kpis.on_time_delivery.formula.numerator: unknown measure 'on_time_order' in formula "
        "(did you mean 'on_time_orders'?)",
        f"  {file}: kpis.on_time_delivery.team_targets.londonops: override for unknown team 'londonops' "
        "(did you mean 'london_ops'?)",
        f"  {file}: scorecards.monthly.items.on_time_delivry: unknown KPI 'on_time_delivry' "
        "(did you mean 'on_time_delivery'?)",
    ]
    assert output.startswith(f"Error: invalid config {file} (4 problem(s)):")


def test_report_with_a_bad_config_fails_cleanly(cli_env: Env, tmp_path: Path) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text(
        EXAMPLE_CONFIG.read_text(encoding="utf-8").replace(
            "      - {kpi: sales, weight: 40}", "      - {kpi: sales, weight: 30}"
        ),
        encoding="utf-8",
    )
    output = failed(invoke({**cli_env, "KPI_CONFIG": str(file)}, "report", "--all", "--period", "2026-Q3"))
    assert f"{file}: scorecards.quarterly.weights: weights sum to 90 %, they must sum to 100 %" in output


# demo


def test_demo_prints_every_teams_digest_and_the_quarterly_scorecard(demo: tuple[Env, str]) -> None:
    _, output = demo
    assert re.match(r"loaded \d+ demo rows into sqlite:///", output)
    headers = re.findall(r"^(?:Weekly KPI digest|每周KPI摘要)[^\n]*\n[^\n]*", output, flags=re.MULTILINE)
    assert headers == [
        "Weekly KPI digest / 每周KPI摘要 · Shanghai Operations / 上海运营中心 · 2026-W39\n2026-09-21 – 2026-09-27",
        "每周KPI摘要 · 北京客户服务部 · 2026-W39\n2026-09-21 – 2026-09-27",
        "Weekly KPI digest · Berlin Operations · 2026-W39\n2026-09-21 – 2026-09-27",
        "Weekly KPI digest · New York Delivery · 2026-W39\n2026-09-21 – 2026-09-27",
    ]
    assert "On-time delivery rate / 准时交付率" in output  # the team that reads both languages
    assert re.search(r"^\S+ \*准时交付率\*$", output, flags=re.MULTILINE)  # the team that reads Chinese
    assert re.search(r"^\S+ \*On-time delivery rate\*$", output, flags=re.MULTILINE)

    scorecard = output[output.index("*Quarterly operations scorecard / 季度绩效考核 · 2026-Q3* (4 teams / 个团队)") :]
    ranked = re.findall(r"^(\d)\. \*([^*]+)\*: (\d+\.\d) / 100$", scorecard, flags=re.MULTILINE)
    assert [rank for rank, _, _ in ranked] == ["1", "2", "3", "4"]
    scores = [float(score) for _, _, score in ranked]
    assert scores == sorted(scores, reverse=True)
    assert {name for _, name, _ in ranked} == {
        "Shanghai Operations / 上海运营中心",
        "Beijing Customer Service / 北京客户服务部",
        "Berlin Operations / 柏林运营部",
        "New York Delivery / 纽约交付部",
    }
    assert "Sales / 销售额 (40 %): " in scorecard


def test_the_demo_shows_the_digests_the_dry_run_of_its_busiest_week_shows(demo: tuple[Env, str]) -> None:
    env, output = demo
    dry_run = succeeded(invoke(env, "digest", "--all", "--period", "2026-W39", "--dry-run"))
    digests = output.split("\n\n", 1)[1].split("*Quarterly operations scorecard")[0].split("--- to ")[1:]
    assert len(digests) == len(TEAMS)
    for digest in digests:  # the same message, without the chart the demo does not draw
        assert f"--- to {digest.rstrip()}\n[chart kpi-trend-" in dry_run
        lines = digest.splitlines()
        assert sum(line.startswith("▫️ *") for line in lines) <= 1  # the KPIs without data: one folded line
        assert not any("*no data" in line or "*无数据" in line for line in lines), digest  # no KPI shown without


def test_demo_twice_does_not_duplicate_data(cli_env: Env) -> None:
    first = succeeded(invoke(cli_env, "demo"))
    counts = row_counts(cli_env["KPI_DATABASE_URL"])
    assert counts["Submission"] == len(TEAMS)
    assert min(counts.values()) > 0
    second = succeeded(invoke(cli_env, "demo"))
    assert row_counts(cli_env["KPI_DATABASE_URL"]) == counts
    assert not second.startswith("loaded")
    assert first.split("\n\n", 1)[1] == second  # the same digests and scorecard, from the same data


# report


def test_report_all_teams_as_json(demo: tuple[Env, str]) -> None:
    env, _ = demo
    reports = report_json(env, "--all", "--period", "2026-Q3")
    assert isinstance(reports, list)
    assert [report["team"] for report in reports] == TEAMS
    for report in reports:
        assert report["period"] == "2026-Q3"
        assert list(report["kpis"]) == CATALOGUE
        for key, kpi in report["kpis"].items():
            assert kpi.keys() >= KPI_FIELDS, key
            assert kpi["status"] in {"met", "missed", "breach", "info"}, key  # the demo covers every KPI
            assert kpi["value"] is not None and kpi["n"] > 0, key
        assert set(report["scorecard"]) == {"quarterly"}  # the monthly scheme is not a quarter's
        assert 0 <= report["scorecard"]["quarterly"]["score"] <= 100
    ranking = sorted(reports, key=lambda report: report["scorecard"]["quarterly"]["rank"])
    assert [report["scorecard"]["quarterly"]["rank"] for report in ranking] == [1, 2, 3, 4]
    scores = [report["scorecard"]["quarterly"]["score"] for report in ranking]
    assert scores == sorted(scores, reverse=True)
    assert reports[2]["kpis"]["sales"]["target"] == 2_300_000  # berlin_ops's own quarterly target


def test_report_one_team_as_json_is_ranked_among_all(demo: tuple[Env, str]) -> None:
    env, _ = demo
    everyone = report_json(env, "--all", "--period", "2026-Q3")
    berlin = report_json(env, "--team", "berlin_ops", "--period", "2026-Q3")
    assert isinstance(berlin, dict)
    assert berlin == everyone[TEAMS.index("berlin_ops")]
    assert berlin["scorecard"]["quarterly"]["teams"] == 4


def test_report_as_csv(demo: tuple[Env, str]) -> None:
    env, _ = demo
    output = succeeded(invoke(env, "report", "--all", "--period", "2026-Q3", "--format", "csv"))
    reader = csv.DictReader(io.StringIO(output))
    assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
    rows = list(reader)
    assert len(rows) == 19 * len(TEAMS)
    for team in TEAMS:
        assert [row["kpi"] for row in rows if row["team"] == team] == CATALOGUE
    assert {row["period"] for row in rows} == {"2026-Q3"}

    one = succeeded(invoke(env, "report", "--team", "beijing_service", "--period", "2026-09", "--format", "csv"))
    lines = one.splitlines()
    assert lines[0] == ",".join(CSV_COLUMNS)
    assert len(lines) == 1 + 19


def test_report_period_without_data_is_no_data_not_zero(demo: tuple[Env, str]) -> None:
    env, _ = demo
    reports = report_json(env, "--all", "--period", "2025-Q1")
    assert len(reports) == len(TEAMS)
    for report in reports:
        for key, kpi in report["kpis"].items():
            assert kpi["value"] is None, key
            assert kpi["status"] == "no_data", key
            assert kpi["n"] == 0, key
        assert report["scorecard"]["quarterly"]["score"] == 0

    output = succeeded(invoke(env, "report", "--team", "berlin_ops", "--period", "2025-Q1", "--format", "csv"))
    rows = list(csv.DictReader(io.StringIO(output)))
    assert len(rows) == 19
    assert {row["value"] for row in rows} == {""}
    assert {row["status"] for row in rows} == {"no_data"}

    text = succeeded(invoke(env, "report", "--team", "berlin_ops", "--period", "2025-Q1"))
    assert "\n▫️ *Not reported this quarter*: On-time delivery rate, Customer satisfaction, " in text
    assert "*0.0 %*" not in text and "*no data*" not in text


def test_report_as_text_in_the_teams_language(demo: tuple[Env, str]) -> None:
    env, _ = demo
    text = succeeded(invoke(env, "report", "--team", "beijing_service", "--period", "2026-Q3"))
    assert text.startswith("KPI报告 · 北京客户服务部 · 2026-Q3\n2026-07-01 – 2026-09-30\n*服务与交付*\n")
    assert "\n⚠️ *准时交付率*\n*94.7 %* · 目标 ≥ 95.0 %\n上季度 93.7 % · 2,230 个订单\n" in text
    assert "On-time delivery rate" not in text


def documented_report() -> dict[str, Any]:
    """The JSON report shown in the README's "Reports" section."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8").split("## Reports", 1)[1]
    document: dict[str, Any] = json.loads(readme.split("```json", 1)[1].split("```", 1)[0])
    return document


def test_report_json_has_the_shape_the_readme_documents(demo: tuple[Env, str]) -> None:
    env, _ = demo
    documented = documented_report()
    report = report_json(env, "--team", "berlin_ops", "--period", "2026-Q3")
    assert report.keys() == documented.keys()
    assert {key: report[key] for key in ("team", "period", "period_kind", "period_start", "period_end")} == {
        key: documented[key] for key in ("team", "period", "period_kind", "period_start", "period_end")
    }
    kpi, shown = report["kpis"]["on_time_delivery"], documented["kpis"]["on_time_delivery"]
    assert kpi.keys() == shown.keys()
    assert {key: kpi[key] for key in ("name", "group", "unit", "better")} == {
        key: shown[key] for key in ("name", "group", "unit", "better")
    }
    assert kpi["details"].keys() == shown["details"].keys()
    assert all(entry.keys() == kpi.keys() for entry in report["kpis"].values())
    placement, shown_placement = report["scorecard"]["quarterly"], documented["scorecard"]["quarterly"]
    assert placement.keys() == shown_placement.keys()
    assert [item.keys() for item in placement["items"]] == [shown_placement["items"][0].keys()] * len(
        placement["items"]
    )


def sql_statements(env: Env, *args: str) -> int:
    """How many SQL statements one in-process ``kpi-bot`` command runs."""
    executed = []

    def count(*_: Any) -> None:
        executed.append(1)

    sa.event.listen(sa.Engine, "before_cursor_execute", count)
    try:
        succeeded(invoke(env, *args))
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", count)
    return len(executed)


@pytest.mark.parametrize("output_format", ["json", "csv"])
def test_report_as_data_computes_only_the_period_it_prints(demo: tuple[Env, str], output_format: str) -> None:
    """The text report shows last quarter's values beside this quarter's; JSON and CSV do not, so they
    do not compute them (growth KPIs still read the earlier period they compare with)."""
    env, _ = demo
    selection = ("report", "--all", "--period", "2026-Q3", "--format")
    assert sql_statements(env, *selection, output_format) < sql_statements(env, *selection, "text")


def test_weekly_report_has_no_scorecard(demo: tuple[Env, str]) -> None:
    env, _ = demo
    report = report_json(env, "--team", "berlin_ops", "--period", "2026-W39")
    assert report["period"] == "2026-W39"
    assert report["scorecard"] == {}
    monthly = report_json(env, "--team", "berlin_ops", "--period", "2026-09")
    assert set(monthly["scorecard"]) == {"service_monthly"}


@pytest.mark.parametrize("label", ["2026-Q5", "2026-W54", "2026-13", "Q3-2026", "last week"])
def test_report_bad_period(demo: tuple[Env, str], label: str) -> None:
    env, _ = demo
    output = failed(invoke(env, "report", "--all", "--period", label))
    assert f"Error: bad period {label!r}: " in output
    assert "(expected e.g. 2026-W40, 2026-09, 2026-Q3 or 2026)" in output


def test_report_unknown_team(demo: tuple[Env, str]) -> None:
    env, _ = demo
    output = failed(invoke(env, "report", "--team", "paris_ops", "--period", "2026-Q3"))
    assert "Error: unknown team 'paris_ops'" in output


@pytest.mark.parametrize(
    "selection", [pytest.param([], id="neither"), pytest.param(["--team", "berlin_ops", "--all"], id="both")]
)
def test_report_needs_team_or_all(demo: tuple[Env, str], selection: list[str]) -> None:
    env, _ = demo
    output = failed(invoke(env, "report", *selection, "--period", "2026-Q3"), code=2)
    assert "Usage:" in output
    assert "give either --team T or --all" in output


# import


def test_import_then_report(cli_env: Env, tmp_path: Path) -> None:
    file = tmp_path / "measures.csv"
    file.write_text(
        "team,measure,date,value\nberlin_ops,orders,2026-09-04,200\nberlin_ops,on_time_orders,2026-09-04,190\n",
        encoding="utf-8",
    )
    output = succeeded(invoke(cli_env, "import", "measures", str(file), "--by", "U0LEADBE"))
    assert output == f"imported 2 measures rows from {file} (submission 1)\n"
    report = report_json(cli_env, "--team", "berlin_ops", "--period", "2026-09")
    assert report["kpis"]["on_time_delivery"]["value"] == 95.0
    assert report["kpis"]["on_time_delivery"]["status"] == "met"
    assert report["kpis"]["csat"]["value"] is None


def test_import_bad_file_names_file_line_and_column(cli_env: Env, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text("team,submitted_at,score\nberlin_ops,2026-09-01T10:00:00,5\n", encoding="utf-8")
    succeeded(invoke(cli_env, "import", "surveys", str(good)))
    counts = row_counts(cli_env["KPI_DATABASE_URL"])

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "team,submitted_at,score\nberlin_ops,2026-09-01T10:00:00,4\nberlin_ops,2026-09-01T11:00:00,six\n",
        encoding="utf-8",
    )
    output = failed(invoke(cli_env, "import", "surveys", str(bad)))
    assert f"Error: rejected {bad}, nothing was stored:" in output
    assert f"{bad}: line 3, column score: 'six' is not a score from 1 to 5" in output
    assert row_counts(cli_env["KPI_DATABASE_URL"]) == counts


def test_import_missing_file(cli_env: Env, tmp_path: Path) -> None:
    file = tmp_path / "nowhere.csv"
    output = failed(invoke(cli_env, "import", "cases", str(file)))
    assert f"Error: rejected {file}, nothing was stored:" in output
    assert "cannot read: No such file or directory" in output
    assert row_counts(cli_env["KPI_DATABASE_URL"])["Submission"] == 0


def test_import_unknown_kind_is_a_usage_error(cli_env: Env, tmp_path: Path) -> None:
    output = failed(invoke(cli_env, "import", "invoices", str(tmp_path / "x.csv")), code=2)
    assert "'invoices' is not one of 'cases', 'measures', 'milestones', 'surveys'" in output


def test_migrate(cli_env: Env) -> None:
    assert succeeded(invoke(cli_env, "migrate")) == "database is up to date\n"
    engine = make_engine(cli_env["KPI_DATABASE_URL"])
    try:
        assert {"submission", "measure_value", "survey_response"} <= set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


# digest


def test_digest_dry_run_prints_what_would_be_posted_and_posts_nothing(demo: tuple[Env, str]) -> None:
    env, _ = demo
    output = succeeded(invoke(env, "digest", "--all", "--period", "2026-W39", "--dry-run"))
    for channel in ("C0SHANGHAI", "C0BEIJING", "C0BERLIN", "C0NEWYORK"):
        assert f"--- to {channel} (weekly_digest " in output
    assert "每周KPI摘要 · 北京客户服务部 · 2026-W39\n" in output
    assert output.count("[chart kpi-trend-") == 4
    engine = make_engine(env["KPI_DATABASE_URL"])
    with engine.connect() as connection:  # a dry run claims nothing in the delivery ledger
        assert connection.execute(sa.text("SELECT count(*) FROM delivery")).scalar_one() == 0
    engine.dispose()


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        pytest.param(["--all", "--period", "2026-09"], 2, "--period must be an ISO week", id="not-a-week"),
        pytest.param(["--period", "2026-W39"], 2, "give either --team T or --all", id="no-team"),
        pytest.param(["--team", "atlantis"], 1, "unknown team 'atlantis'", id="unknown-team"),
        pytest.param(["--team", "berlin_ops", "--send"], 1, "SLACK_BOT_TOKEN is not set", id="send-without-token"),
    ],
)
def test_digest_mistakes_get_a_message(demo: tuple[Env, str], args: list[str], code: int, message: str) -> None:
    env, _ = demo
    without_slack = {**env, "SLACK_BOT_TOKEN": None, "SLACK_SIGNING_SECRET": None}  # None unsets them
    assert message in failed(CliRunner().invoke(main, ["digest", *args], env=without_slack), code)


def test_the_digest_of_the_demos_busiest_week_has_no_wall_of_no_data(demo: tuple[Env, str]) -> None:
    env, _ = demo
    output = succeeded(invoke(env, "digest", "--all", "--period", "2026-W39", "--dry-run"))
    for digest in output.split("--- to ")[1:]:
        lines = digest.splitlines()
        # at most the folded line says what is missing; no line is a KPI without data
        assert not any(line.startswith(("*no data", "*无数据")) for line in lines), digest
        assert sum(line.startswith("▫️") for line in lines) <= 2  # the folded line and the legend
        assert not any("Production cost rate" in line or "生产成本率" in line for line in lines)  # monthly


def test_summary_and_scorecard_print_what_management_would_get(demo: tuple[Env, str]) -> None:
    env, _ = demo
    summary = succeeded(invoke(env, "summary", "--period", "2026-W39"))
    assert summary.startswith("--- to C0MANAGEMENT (management_summary None 2026-W39)\n")
    assert "*Weekly management summary / 管理层周报 · 2026-W39*" in summary
    assert "`/kpi report shanghai_ops`" in summary and "<#C0SHANGHAI>" in summary
    scorecard = succeeded(invoke(env, "scorecard", "--period", "2026-Q3"))
    assert "--- to C0MANAGEMENT (scorecard_quarterly None 2026-Q3)" in scorecard
    assert "*Quarterly operations scorecard / 季度绩效考核 · 2026-Q3* (4 teams / 个团队)" in scorecard
    assert invoke(env, "summary", "--period", "2026-Q3").exit_code == 2
    engine = make_engine(env["KPI_DATABASE_URL"])
    with engine.connect() as connection:  # a dry run claims nothing in the delivery ledger
        assert connection.execute(sa.text("SELECT count(*) FROM delivery")).scalar_one() == 0
    engine.dispose()
