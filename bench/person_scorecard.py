"""Benchmark: one person's scorecard (``person_card``: their position's KPIs against their agreed targets, the
team's score, the composite) among 200 teams x 20 people and 1,000,000 cases (issue 11).

    python bench/person_scorecard.py [--database-url URL] [--teams 200] [--people 20] [--cases 1000000]
                                     [--repeat 20]

Generates the data set of bench/compute.py (its generator, same seed and sizes), then names a person on
every case, measure value and milestone (20 per team, by row id), runs ANALYZE, and times the scorecard of
people spread over the teams for 2026-Q3. It prints figures only. The issue's target on PostgreSQL: under
200 ms for one person's scorecard.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from common import bench_config, default_url, describe_url, table, timed
from compute import PERIOD, Sizes, analyze, data_is_there, generate

from kpi_core.config import Config
from kpi_core.db import make_engine, migrate, transaction
from kpi_core.goals import agreed_row
from kpi_core.models import PersonalTarget
from kpi_core.person_scorecard import person_card

PEOPLE_TABLES = ("customer_case", "measure_value", "milestone")


def people_config(teams: int, per_team: int) -> Config:
    """The bench config of compute.py with ``per_team`` people in every team, their positions in turn."""
    config = bench_config(teams)
    positions = [position.key for position in config.positions]
    people = [
        {"user": _user(index, number), "team": team.key, "position": positions[number % len(positions)]}
        for index, team in enumerate(config.teams)
        for number in range(per_team)
    ]
    return Config.model_validate(config.model_dump() | {"people": people})


def _user(team_index: int, number: int) -> str:
    return f"UT{team_index:04d}P{number:02d}"


def name_people(engine: sa.Engine, config: Config, per_team: int) -> float:
    """Gives every row a person of its team (row id modulo ``per_team``), in one UPDATE per table."""
    prefixes = {team.key: f"UT{index:04d}P" for index, team in enumerate(config.teams)}
    postgres = engine.dialect.name == "postgresql"
    prefix = "CASE team " + " ".join(f"WHEN '{team}' THEN '{text}'" for team, text in prefixes.items()) + " END"
    number = f"lpad((id % {per_team})::text, 2, '0')" if postgres else f"substr('0' || (id % {per_team}), -2, 2)"
    started = datetime.now(UTC)
    with engine.begin() as connection:
        for name in PEOPLE_TABLES:
            connection.execute(sa.text(f"UPDATE {name} SET person = {prefix} || {number}"))
    if postgres:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for name in PEOPLE_TABLES:
                connection.execute(sa.text(f"VACUUM {name}"))
    return (datetime.now(UTC) - started).total_seconds()


def people_named(engine: sa.Engine) -> bool:
    with engine.connect() as connection:
        return connection.execute(sa.text("SELECT count(*) FROM customer_case WHERE person IS NULL")).scalar_one() == 0


def agree_targets(engine: sa.Engine, config: Config, users: list[str]) -> None:
    """An agreed target for each KPI of the timed people's positions (the scorecard reads them)."""
    now = datetime.now(UTC)
    with transaction(engine) as session:
        session.execute(sa.delete(PersonalTarget))
        for user in users:
            person = config.person_by_user[user]
            for kpi in config.position_by_key[person.position].kpis:
                target = config.kpi_by_key[kpi].target_for(person.team, PERIOD.kind) or 1.0
                session.add(agreed_row(person, period=PERIOD, kpi=kpi, value=target, decided_by="bench", now=now))


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None, help="default: $KPI_DATABASE_URL or bench/out/people.db")
    parser.add_argument("--teams", type=int, default=200)
    parser.add_argument("--people", type=int, default=20, help="people per team")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--measures", type=int, default=200_000)
    parser.add_argument("--responses", type=int, default=200_000)
    parser.add_argument("--milestones", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20261001)
    parser.add_argument("--repeat", type=int, default=20)
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> None:
    args = parse_args(argv)
    url = args.database_url or default_url("people.db")
    sizes = Sizes(args.teams, args.cases, args.measures, args.responses, args.milestones, args.seed)
    config = people_config(sizes.teams, args.people)
    engine = make_engine(url)
    print(f"database: {describe_url(url)} ({engine.dialect.name})")
    print(f"config: {len(config.teams)} teams, {len(config.people)} people; period {PERIOD}")
    migrate(engine)
    if data_is_there(engine, sizes) and people_named(engine):
        print("data: already generated and named for these sizes, reusing it")
    else:
        print("data: generating")
        seconds, _ = timed(lambda: generate(engine, config, sizes))
        print(f"  done in {seconds:.1f} s")
        print(f"  named a person on every row in {name_people(engine, config, args.people):.1f} s")
    print(f"ANALYZE: {analyze(engine):.2f} s")
    # people of teams in different time zones and positions, the first and the last team
    users = [
        _user(index, number) for index in sorted({0, 1, sizes.teams // 3, sizes.teams - 1}) for number in (0, 1, 2, 3)
    ]
    agree_targets(engine, config, users)

    rows = []
    every: list[float] = []
    for user in users:
        person = config.person_by_user[user]
        times = []
        for _ in range(args.repeat):
            with transaction(engine) as session:
                seconds, card = timed(
                    lambda session=session, person=person: person_card(
                        session, config=config, person=person, period=PERIOD
                    )
                )
            times.append(seconds)
        every += times
        cases = next((item.result.n for item in card.items if item.kpi == "response_time"), "-")
        rows.append(
            (
                f"{user} ({person.position}, {config.team(person.team).timezone})",
                f"{min(times) * 1000:.1f}",
                f"{statistics.median(times) * 1000:.1f}",
                f"{max(times) * 1000:.1f}",
                cases,
                f"{card.composite}",
            )
        )
    print(f"\nperson_card over {args.repeat} runs each (milliseconds):")
    print(table(rows, ("person", "best", "median", "worst", "response cases", "composite")))
    print(f"all: median {statistics.median(every) * 1000:.1f} ms, worst {max(every) * 1000:.1f} ms")
    engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1:])
