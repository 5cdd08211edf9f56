"""KPIs and case timers on the business clock (``clock: business``), against the example config with
Shanghai on China's calendar and Berlin on Berlin's, on SQLite and PostgreSQL. Expectations by hand."""

from datetime import timedelta

import pytest
import yaml

from kpi_core.alert_rules import evaluate_cases, next_case_deadline
from kpi_core.config import Config, parse_config
from kpi_core.db import transaction
from kpi_core.kpis import compute_reports
from kpi_core.models import CustomerCase
from kpi_core.periods import Period
from tests.conftest import EXAMPLE_CONFIG
from tests.factories import add, at, case

SHANGHAI = "shanghai_ops"
BERLIN = "berlin_ops"
CN = "Asia/Shanghai"


def business_config(clock: str = "business") -> Config:
    raw = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    for team in raw["teams"]:
        if team["key"] == SHANGHAI:
            team["calendar"] = {"country": "CN", "hours": "09:00-18:00"}
        if team["key"] == BERLIN:
            team["calendar"] = {"country": "DE", "subdivision": "BE", "hours": "09:00-17:00"}
    for kpi in raw["kpis"]:
        if kpi["key"] in ("response_time", "feedback_handling"):
            kpi["formula"]["clock"] = clock
    return parse_config(raw)


def report(engine, config, team, period):
    with transaction(engine) as session:
        return compute_reports(session, config=config, period=Period.parse(period), teams=[team])[team]


def test_response_time_counts_working_hours_across_national_day(engine):
    add(
        engine,
        # raised Wednesday 30 Sep 17:00, answered Thursday 8 Oct 10:00: 1 h + 1 h of work, 185 h on the wall
        case(SHANGHAI, at("2026-09-30 17:00", CN), response_hours=185),
        # raised and answered within Tuesday 29 Sep: 3 h
        case(SHANGHAI, at("2026-09-29 10:00", CN), response_hours=3),
        # raised Tuesday 18:30 (after hours), answered Wednesday 09:30: half an hour of work
        case(SHANGHAI, at("2026-09-29 18:30", CN), response_hours=15),
        # still open: counted apart, out of the percentiles
        case(SHANGHAI, at("2026-09-30 11:00", CN)),
    )
    business = report(engine, business_config(), SHANGHAI, "2026-W40").results["response_time"]
    assert business.details["median_hours"] == pytest.approx(2.0)
    assert business.details["mean_hours"] == pytest.approx((2 + 3 + 0.5) / 3)
    assert business.details["p90_hours"] == pytest.approx(2.0 + (3 - 2.0) * 0.8)
    assert business.details["open_cases"] == 1
    assert business.details["share_within_pct"] == pytest.approx(75.0)  # 3 of 4 within 4 working hours
    assert business.value == pytest.approx(2.0)
    assert business.n == 4

    wall = report(engine, business_config("wall"), SHANGHAI, "2026-W40").results["response_time"]
    assert wall.details["median_hours"] == pytest.approx(15.0)
    assert wall.details["share_within_pct"] == pytest.approx(25.0)


def test_a_business_clock_kpi_over_the_dst_change(engine):
    # Berlin, Friday 27 March 2026 16:00 to Monday 30 March 10:00 (clocks forward on Sunday): 1 h + 1 h
    raised = at("2026-03-27 16:00", "Europe/Berlin")
    answered = at("2026-03-30 10:00", "Europe/Berlin")
    add(engine, case(BERLIN, raised, response_hours=(answered - raised).total_seconds() / 3600))
    result = report(engine, business_config(), BERLIN, "2026-W13").results["response_time"]
    assert result.value == pytest.approx(2.0)


def test_a_team_without_a_calendar_counts_monday_to_friday_nine_to_six(engine):
    newyork = "newyork_delivery"
    zone = "America/New_York"
    add(engine, case(newyork, at("2026-10-02 17:00", zone), response_hours=65))  # Fri 17:00 -> Mon 10:00
    result = report(engine, business_config(), newyork, "2026-W40").results["response_time"]
    assert result.value == pytest.approx(2.0)


def cases(engine, config, now):
    with transaction(engine) as session:
        return evaluate_cases(session, config=config, now=now).transitions


def test_a_case_timer_fires_in_working_time_only(engine):
    config = business_config()
    raised = at("2026-09-30 17:00", CN)  # 4 working hours: 1 h on 30 Sep, then 3 h on 8 Oct: 12:00
    overdue_at = at("2026-10-08 12:00", CN)
    open_case = case(SHANGHAI, raised)
    add(engine, open_case)

    with transaction(engine) as session:
        assert next_case_deadline(session, config=config, now=raised + timedelta(minutes=1)) == overdue_at
    # on the wall clock it would have been overdue at 21:00 on 30 September; through the holiday, nothing
    for moment in (at("2026-09-30 21:00", CN), at("2026-10-05 12:00", CN), overdue_at - timedelta(seconds=1)):
        assert cases(engine, config, moment) == []
    opened = cases(engine, config, overdue_at)
    assert [(t.change, t.alert.case_id) for t in opened] == [("breach", open_case.id)]

    with transaction(engine) as session:
        row = session.get(CustomerCase, open_case.id)
        row.first_response_at = at("2026-10-08 14:30", CN)
        session.add(row)
    recovered = cases(engine, config, at("2026-10-08 14:31", CN))
    assert [(t.change, t.alert.resolved_value) for t in recovered] == [("recovered", pytest.approx(6.5))]


def test_the_next_case_timer_is_the_earliest_target_time_still_to_come_of_any_team(engine):
    """Per team only the earliest open case raised after its last passed start counts (target times grow
    with the start): an overdue one, a later one and another team's are passed over or compared rightly."""
    config = business_config()
    add(
        engine,
        case(SHANGHAI, at("2026-09-29 09:00", CN)),  # due 13:00 on 29 Sep: overdue at `now`
        case(SHANGHAI, at("2026-09-29 16:00", CN)),  # due 11:00 on 30 Sep
        case(SHANGHAI, at("2026-09-29 17:00", CN)),  # due 12:00 on 30 Sep: later than the one before
        case(BERLIN, at("2026-09-29 16:30", "Europe/Berlin")),  # due 12:30 on 30 Sep Berlin = 18:30 Shanghai
        case(BERLIN, at("2026-09-29 08:00", "Europe/Berlin")),  # due 13:00 on 29 Sep Berlin: overdue at `now`
    )
    now = at("2026-09-29 20:00", CN)
    with transaction(engine) as session:
        assert next_case_deadline(session, config=config, now=now) == at("2026-09-30 11:00", CN)
        assert next_case_deadline(session, config=config, now=at("2026-09-30 11:30", CN)) == at("2026-09-30 12:00", CN)
        # once both of Shanghai's are due, Berlin's is next
        assert next_case_deadline(session, config=config, now=at("2026-09-30 12:30", CN)) == at(
            "2026-09-30 12:30", "Europe/Berlin"
        )
