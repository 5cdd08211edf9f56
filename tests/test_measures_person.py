"""Measure values recorded for a person (issue 11): the weekly form's core path and a CSV import store the
same rows and give the same team and personal KPIs, and each replaces only the same person's values (or,
naming nobody, the team's own), on both backends."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import col, delete, select

from kpi_core import use_cases
from kpi_core.config import Config
from kpi_core.db import transaction
from kpi_core.demo import load_demo_data
from kpi_core.errors import ImportFileError
from kpi_core.kpis import compute_person, compute_reports
from kpi_core.models import AuditEntry, MeasureValue
from kpi_core.periods import Period
from kpi_core.store import DATA_TABLES
from tests.factories import WEEKLY_ANSWERS, at

NOW = at("2026-10-01 12:00")
WEEK = Period.parse("2026-W40")  # Monday 28 September: in 2026-Q3
MONDAY = date(2026, 9, 28)
AGENT, PEER = "U0OPSSH1", "U0OPSSH2"
TEAM = "shanghai_ops"
TEAM_VALUES = {key: float(value) for key, value in WEEKLY_ANSWERS.items()}
AGENT_VALUES = TEAM_VALUES | {"orders": 50, "on_time_orders": 48, "complaints": 1, "sales": 150000}
PEER_VALUES = TEAM_VALUES | {"orders": 40, "on_time_orders": 30, "complaints": 0, "sales": 90000}
AGENT_AGAIN = AGENT_VALUES | {"on_time_orders": 45, "sales": 160000}
#: (person, values) in the order both paths record them; the last replaces the agent's first
STEPS: list[tuple[str | None, dict[str, float]]] = [
    (None, TEAM_VALUES),
    (AGENT, AGENT_VALUES),
    (PEER, PEER_VALUES),
    (AGENT, AGENT_AGAIN),
]

Outcome = tuple[list[tuple[str, str, date, float, str | None]], dict[str, float | None], dict[str, float | None]]


def outcome(engine: sa.Engine, config: Config) -> Outcome:
    """The stored rows; the team's KPIs in the week and the quarter; each person's KPIs of their position."""
    quarter = Period.parse("2026-Q3")
    with transaction(engine) as session:
        rows = sorted(
            ((row.team, row.measure, row.on_date, row.value, row.person) for row in session.exec(select(MeasureValue))),
            key=lambda row: (row[1], row[4] or ""),
        )
        team: dict[str, float | None] = {}
        for period in (WEEK, quarter):
            results = compute_reports(session, config=config, period=period, teams=[TEAM])[TEAM].results
            team |= {f"{period.label} {key}": result.value for key, result in results.items()}
        personal: dict[str, float | None] = {}
        for user in (AGENT, PEER):
            person = config.person_by_user[user]
            kpis = list(config.position_by_key[person.position].kpis)
            for period in (WEEK, quarter):
                results = compute_person(session, config=config, person=person, period=period, kpis=kpis, targets={})
                personal |= {f"{user} {period.label} {key}": result.value for key, result in results.items()}
    return rows, team, personal


def by_form(engine: sa.Engine, person: str | None, values: dict[str, float], key: str) -> None:
    """What the weekly form stores once submitted (and, for a second time, confirmed)."""
    stored = use_cases.submit_measures(
        engine, request_key=key, team=TEAM, form="weekly", period=WEEK, values=values, user="U0LEADSH", now=NOW,
        person=person,
    )  # fmt: skip
    assert stored is not None


def csv_file(path: Path, person: str | None, values: dict[str, float]) -> Path:
    lines = ["team,measure,date,value,person"]
    lines += [f"{TEAM},{measure},{MONDAY},{value:g},{person or ''}" for measure, value in values.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def by_csv(engine: sa.Engine, config: Config, path: Path, *, replace: bool = False) -> None:
    use_cases.import_file(
        engine, config=config, kind="measures", path=path, submitted_by="alice", now=NOW, replace=replace
    )


def test_the_form_and_a_csv_import_store_the_same_per_person_values(
    engine: sa.Engine, example_config: Config, tmp_path: Path
) -> None:
    for number, (person, values) in enumerate(STEPS):
        by_form(engine, person, values, key=f"view:{number}")
    from_form = outcome(engine, example_config)
    with transaction(engine) as session:
        session.exec(delete(MeasureValue))  # type: ignore[call-overload]

    files = [csv_file(tmp_path / f"step{number}.csv", person, values) for number, (person, values) in enumerate(STEPS)]
    for path in files[:3]:
        by_csv(engine, example_config, path)  # other people's values are no overlap: nothing to replace
    with pytest.raises(ImportFileError) as refused:
        by_csv(engine, example_config, files[3])
    assert "U0OPSSH1 of shanghai_ops sales in 2026-W40 already has values from submission" in str(refused.value)
    by_csv(engine, example_config, files[3], replace=True)
    from_csv = outcome(engine, example_config)

    assert from_csv == from_form
    rows, team, personal = from_form
    sales = {person: value for _, measure, _, value, person in rows if measure == "sales"}
    assert sales == {None: 240000, AGENT: 160000, PEER: 90000}
    # the team's KPIs count every row, named or not; a person's only theirs
    assert team["2026-W40 sales"] == 240000 + 160000 + 90000
    assert personal["U0OPSSH1 2026-Q3 sales"] == 160000 and personal["U0OPSSH2 2026-Q3 sales"] == 90000
    assert personal["U0OPSSH1 2026-W40 on_time_delivery"] == pytest.approx(90.0)  # 45 of 50


def test_a_replacement_is_audited_with_the_person_on_both_paths(
    engine: sa.Engine, example_config: Config, tmp_path: Path
) -> None:
    by_form(engine, AGENT, AGENT_VALUES, key="view:1")
    by_form(engine, AGENT, AGENT_AGAIN, key="view:2")
    by_csv(engine, example_config, csv_file(tmp_path / "again.csv", AGENT, AGENT_VALUES), replace=True)
    with transaction(engine) as session:
        entries = session.exec(
            select(AuditEntry).where(AuditEntry.action == "replace").order_by(col(AuditEntry.id))
        ).all()
        sales = [entry for entry in entries if entry.new["measure"] == "sales"]
        assert [entry.new["person"] for entry in sales] == [AGENT, AGENT]
        assert [[row["person"] for row in entry.old["rows"]] for entry in sales] == [[AGENT], [AGENT]]
        assert [entry.new["value"] for entry in sales] == [160000, 150000]


def test_a_files_at_most_is_checked_per_person(engine: sa.Engine, example_config: Config, tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text(
        "team,measure,date,value,person\n"
        f"{TEAM},orders,{MONDAY},120,\n"
        f"{TEAM},orders,{MONDAY},10,{AGENT}\n"
        f"{TEAM},on_time_orders,{MONDAY},12,{AGENT}\n"  # more than her 10 orders, though under the team's 120
        f"{TEAM},on_time_orders,{MONDAY},100,\n"
    )
    with pytest.raises(ImportFileError) as refused:
        by_csv(engine, example_config, path)
    assert (
        refused.value.problems[0].message
        == "on_time_orders 12 for U0OPSSH1 of shanghai_ops in 2026-W40 is more than orders (10)"
    )
    assert len(refused.value.problems) == 1


def test_the_demo_records_a_share_of_the_figures_for_its_people_and_keeps_the_teams(
    engine: sa.Engine, example_config: Config
) -> None:
    quarter = Period.parse("2026-Q3")
    without_people = Config.model_validate(example_config.model_dump() | {"people": []})
    found = {}
    for config in (without_people, example_config):
        with transaction(engine) as session:
            for table in DATA_TABLES:  # the first load's rows, so that the second stands alone
                session.exec(delete(table))  # type: ignore[call-overload]
            load_demo_data(session, config=config, now=NOW)
        with transaction(engine) as session:
            reports = compute_reports(session, config=config, period=quarter, teams=[TEAM])[TEAM].results
            found[bool(config.people)] = {key: result.value for key, result in reports.items()}
    assert found[True].keys() == found[False].keys()
    for key, value in found[False].items():
        assert found[True][key] == (pytest.approx(value) if value is not None else None), key
    with transaction(engine) as session:
        sales = compute_person(
            session,
            config=example_config,
            person=example_config.person_by_user[AGENT],
            period=quarter,
            kpis=["sales", "on_time_delivery"],
            targets={},
        )
    assert 0 < (sales["sales"].value or 0) < (found[True]["sales"] or 0) / 2
    assert sales["on_time_delivery"].value == pytest.approx(found[True]["on_time_delivery"], abs=2)
