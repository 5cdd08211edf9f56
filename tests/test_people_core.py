"""Records that name a person, personal KPIs by the same engine, personal targets (propose, approve, adjust,
the team check) and the personal scorecard, on both backends."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from kpi_core import goals, people_use_cases
from kpi_core.config import Config
from kpi_core.db import downgrade, migrate, transaction
from kpi_core.errors import ImportFileError
from kpi_core.kpis import compute_person
from kpi_core.models import AuditEntry, CustomerCase, Milestone
from kpi_core.periods import Period
from kpi_core.use_cases import import_file
from tests.factories import add, at, case, measures, milestone

NOW = at("2026-12-03 12:00")
Q4 = Period.parse("2026-Q4")
NEXT = Period.parse("2027-Q1")


def _case(person: str | None, raised_at: datetime, hours: float, team: str = "beijing_service") -> CustomerCase:
    row = case(team, raised_at, response_hours=hours)
    row.person = person
    return row


def test_personal_kpis_count_only_the_persons_records_in_the_teams_time_zone(
    engine: sa.Engine, example_config: Config
) -> None:
    agent = example_config.person_by_user["U0AGENTBJ1"]
    add(
        engine,
        # 00:30 on 1 October in Shanghai is still 30 September in UTC: Q4 in the team's time zone
        _case("U0AGENTBJ1", at("2026-10-01 00:30", "Asia/Shanghai"), 2),
        _case("U0AGENTBJ1", at("2026-11-10 09:00", "Asia/Shanghai"), 6),
        _case("U0AGENTBJ1", at("2026-09-30 23:30", "Asia/Shanghai"), 50),  # Q3 in Shanghai
        _case("U0AGENTBJ2", at("2026-11-10 09:00", "Asia/Shanghai"), 30),  # a colleague's
        _case(None, at("2026-11-10 09:00", "Asia/Shanghai"), 40),  # the team's, nobody's in particular
    )
    with transaction(engine) as session:
        mine = compute_person(
            session,
            config=example_config,
            person=agent,
            period=Q4,
            kpis=["response_time"],
            targets={"response_time": 3},
        )
    result = mine["response_time"]
    assert (result.n, result.value, result.target, result.status) == (2, 4.0, 3, "missed")


def test_a_milestone_owner_and_a_measure_recorded_for_a_person(engine: sa.Engine, example_config: Config) -> None:
    manager = example_config.person_by_user["U0PMSH1"]
    specialist = example_config.person_by_user["U0OPSSH1"]
    owned = milestone("shanghai_ops", date(2026, 11, 20), date(2026, 11, 18))
    owned.person = "U0PMSH1"
    sales = measures("shanghai_ops", date(2026, 11, 2), sales=500)
    sales[0].person = "U0OPSSH1"
    add(
        engine,
        owned,
        milestone("shanghai_ops", date(2026, 11, 20)),
        *sales,
        *measures("shanghai_ops", date(2026, 11, 2), sales=9000),
    )
    with transaction(engine) as session:
        projects = compute_person(
            session, config=example_config, person=manager, period=Q4, kpis=["milestone_on_time"], targets={}
        )
        selling = compute_person(
            session, config=example_config, person=specialist, period=Q4, kpis=["sales"], targets={}
        )
    assert projects["milestone_on_time"].value == 100.0 and projects["milestone_on_time"].n == 1
    assert selling["sales"].value == 500.0


def test_csv_rows_may_name_a_person_of_their_team(engine: sa.Engine, example_config: Config, tmp_path: Path) -> None:
    good = tmp_path / "cases.csv"
    good.write_text(
        "team,kind,raised_at,first_response_at,resolved_at,person\n"
        "beijing_service,after_sales,2026-11-10T09:00:00,2026-11-10T11:00:00,,U0AGENTBJ1\n"
        "beijing_service,after_sales,2026-11-10T09:00:00,,,\n",
        encoding="utf-8",
    )
    import_file(engine, config=example_config, kind="cases", path=good, submitted_by="cli", now=NOW)
    with transaction(engine) as session:
        people = sorted(str(row.person) for row in session.exec(select(CustomerCase)))
    assert people == ["None", "U0AGENTBJ1"]

    bad = tmp_path / "milestones.csv"
    bad.write_text(
        "team,project,milestone,due_on,completed_on,budget,actual_cost,person\n"
        "shanghai_ops,ERP,Go live,2026-11-20,,,,U0AGENTBJ1\n"
        "shanghai_ops,ERP,Pilot,2026-11-20,,,,U0NOBODY\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportFileError) as caught:
        import_file(engine, config=example_config, kind="milestones", path=bad, submitted_by="cli", now=NOW)
    assert [str(problem) for problem in caught.value.problems] == [
        "line 2, column person: 'U0AGENTBJ1' is a person of team beijing_service, not of this row's team",
        "line 3, column person: 'U0NOBODY' is not a person in the config (people)",
    ]
    with transaction(engine) as session:
        assert session.exec(select(Milestone)).first() is None  # nothing of the bad file was stored


def _propose(engine: sa.Engine, config: Config, user: str, key: str, **values: float) -> people_use_cases.Proposal:
    proposal = people_use_cases.propose_targets(
        engine,
        config=config,
        person=config.person_by_user[user],
        period=NEXT,
        values=values,
        request_key=key,
        now=NOW,
    )
    assert proposal is not None
    return proposal


def test_the_direct_superior_approves_and_nobody_else_may(engine: sa.Engine, example_config: Config) -> None:
    agent = example_config.person_by_user["U0AGENTBJ1"]
    proposal = _propose(
        engine, example_config, "U0AGENTBJ1", "view:1", response_time=3, feedback_handling=20, on_time_delivery=96
    )
    assert (
        people_use_cases.propose_targets(  # the same request again stores nothing twice
            engine,
            config=example_config,
            person=agent,
            period=NEXT,
            values={"response_time": 9},
            request_key="view:1",
            now=NOW,
        )
        is None
    )
    for intruder in ("U0AGENTBJ2", "U0MANAGER", "U0ADMIN", "U0AGENTBJ1"):  # not even the superior's superior
        with pytest.raises(goals.NotTheSuperior):
            people_use_cases.decide_targets(
                engine, config=example_config, person=agent, period=NEXT, user=intruder, stamp=proposal.stamp, now=NOW
            )
    decision = people_use_cases.decide_targets(
        engine, config=example_config, person=agent, period=NEXT, user="U0LEADBJ", stamp=proposal.stamp, now=NOW
    )
    assert decision.agreed == {"response_time": 3, "feedback_handling": 20, "on_time_delivery": 96}
    with pytest.raises(goals.NothingPending):  # a second click on the same buttons
        people_use_cases.decide_targets(
            engine, config=example_config, person=agent, period=NEXT, user="U0LEADBJ", stamp=proposal.stamp, now=NOW
        )
    with transaction(engine) as session:
        assert goals.agreed_targets(session, person="U0AGENTBJ1", period=NEXT)["response_time"] == 3
        actions = [entry.action for entry in session.exec(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["propose"] * 3 + ["approve"] * 3


def test_an_adjustment_keeps_the_reason_and_a_stale_proposal_is_refused(
    engine: sa.Engine, example_config: Config
) -> None:
    agent = example_config.person_by_user["U0AGENTBJ2"]
    first = _propose(engine, example_config, "U0AGENTBJ2", "view:1", response_time=5)
    second = _propose(engine, example_config, "U0AGENTBJ2", "view:2", response_time=6)
    with pytest.raises(goals.NothingPending):  # the buttons of the first proposal
        people_use_cases.decide_targets(
            engine,
            config=example_config,
            person=agent,
            period=NEXT,
            user="U0LEADBJ",
            stamp=first.stamp,
            now=at("2026-12-03 12:01"),
        )
    decision = people_use_cases.decide_targets(
        engine,
        config=example_config,
        person=agent,
        period=NEXT,
        user="U0LEADBJ",
        stamp=second.stamp,
        adjusted={"response_time": 4},
        reason="the team promised 4 h",
        now=NOW,
    )
    assert decision.agreed == {"response_time": 4}
    with transaction(engine) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "adjust")).one()
    assert entry.new is not None and entry.new["reason"] == "the team promised 4 h" and entry.new["proposed"] == 6
    assert entry.old is not None and entry.old["pending"] is True and entry.user == "U0LEADBJ"


def test_the_superior_is_told_when_personal_targets_do_not_add_up(engine: sa.Engine, example_config: Config) -> None:
    # sales adds up (a sum of a summed measure): Shanghai's quarterly team target is 3,000,000
    for user, key, sales in (("U0OPSSH1", "view:1", 1_000_000), ("U0OPSSH2", "view:2", 1_500_000)):
        proposal = _propose(engine, example_config, user, key, sales=sales)
        decision = people_use_cases.decide_targets(
            engine,
            config=example_config,
            person=example_config.person_by_user[user],
            period=NEXT,
            user="U0LEADSH",
            stamp=proposal.stamp,
            now=NOW,
        )
    [gap] = decision.gaps
    assert (gap.kpi, gap.combination, gap.combined, gap.team_target, gap.people) == (
        "sales",
        "sum",
        2_500_000,
        3_000_000,
        2,
    )

    # response time is a duration: weighted by each agent's cases in the quarter before (2 and 1 cases)
    add(
        engine,
        _case("U0AGENTBJ1", at("2026-11-10 09:00", "Asia/Shanghai"), 1),
        _case("U0AGENTBJ1", at("2026-11-11 09:00", "Asia/Shanghai"), 1),
        _case("U0AGENTBJ2", at("2026-11-12 09:00", "Asia/Shanghai"), 1),
    )
    for user, key, hours in (("U0AGENTBJ1", "view:3", 3.0), ("U0AGENTBJ2", "view:4", 9.0)):
        proposal = _propose(engine, example_config, user, key, response_time=hours)
        decision = people_use_cases.decide_targets(
            engine,
            config=example_config,
            person=example_config.person_by_user[user],
            period=NEXT,
            user="U0LEADBJ",
            stamp=proposal.stamp,
            now=NOW,
        )
    [gap] = decision.gaps  # (2 × 3 + 1 × 9) / 3 = 5 h, above the team's 4 h: lower is better
    assert (gap.kpi, gap.combination, gap.combined, gap.team_target) == ("response_time", "weighted", 5.0, 4)


def test_the_personal_scorecard_weighs_position_and_team_and_says_what_is_missing(
    engine: sa.Engine, example_config: Config
) -> None:
    agent = example_config.person_by_user["U0AGENTBJ1"]
    add(engine, _case("U0AGENTBJ1", at("2026-11-10 09:00", "Asia/Shanghai"), 2))
    proposal = _propose(engine, example_config, "U0AGENTBJ1", "view:1", response_time=4)
    people_use_cases.decide_targets(
        engine, config=example_config, person=agent, period=NEXT, user="U0LEADBJ", stamp=proposal.stamp, now=NOW
    )
    card = people_use_cases.scorecard_of(engine, config=example_config, person=agent, period=NEXT)
    assert card.items[0].kpi == "response_time" and card.items[0].result.target == 4
    assert card.position_score == 0  # no cases in 2027-Q1 yet: missing data earns no points
    assert card.review is None and card.missing == ("personal",)
    assert card.team_scheme == "quarterly" and card.team_period == NEXT
    q4 = people_use_cases.scorecard_of(engine, config=example_config, person=agent, period=Q4)
    # 2 h against no agreed target for Q4: the item has a value but no target, and scores 0
    assert q4.items[0].result.value == 2.0 and q4.items[0].result.target is None and q4.items[0].score == 0
    assert q4.team_score is not None
    # position 50 and team 20 are weighed over 70: the missing review neither counts as 0 nor hides the rest
    assert q4.composite == pytest.approx(round((50 * 0 + 20 * q4.team_score) / 70, 1))


def test_migration_0012_adds_the_person_and_the_targets_and_takes_them_back(engine: sa.Engine) -> None:
    downgrade(engine, "0011")
    columns = {column["name"] for column in sa.inspect(engine).get_columns("customer_case")}
    assert "person" not in columns and not sa.inspect(engine).has_table("personal_target")
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO customer_case (id, team, kind, raised_at) "
                "VALUES (1, 'beijing_service', 'after_sales', '2026-11-10 01:00:00+00:00')"
            )
        )
    migrate(engine)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT id, person FROM customer_case")).all() == [(1, None)]
    assert sa.inspect(engine).has_table("personal_target")
    for table in ("measure_value", "milestone"):
        assert "person" in {column["name"] for column in sa.inspect(engine).get_columns(table)}
    downgrade(engine, "0011")
    assert "person" not in {column["name"] for column in sa.inspect(engine).get_columns("milestone")}
    migrate(engine)
