"""Periods are cut in each team's own time zone, across daylight-saving changes.

DST changes in 2026:
- Europe/Berlin: 29 March (02:00 CET -> 03:00 CEST) and 25 October (03:00 CEST -> 02:00 CET);
- America/New_York: 8 March (02:00 EST -> 03:00 EDT) and 1 November (02:00 EDT -> 01:00 EST);
- Asia/Shanghai: none (UTC+8 all year).
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kpi_core.db import transaction
from kpi_core.kpis import compute_reports
from kpi_core.models import CustomerCase
from kpi_core.periods import Period
from tests.factories import add, at, case, surveys

TEAM_ZONES = {
    "berlin_ops": "Europe/Berlin",
    "shanghai_ops": "Asia/Shanghai",
    "beijing_service": "Asia/Shanghai",
    "newyork_delivery": "America/New_York",
}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("label", "zone", "start", "end", "hours"),
    [
        # Monday 23 March 00:00 CET (+1) .. Monday 30 March 00:00 CEST (+2): one hour short
        pytest.param("2026-W13", "Europe/Berlin", "2026-03-22 23:00", "2026-03-29 22:00", 167, id="berlin-spring-week"),
        # Monday 19 October 00:00 CEST (+2) .. Monday 26 October 00:00 CET (+1): one hour long
        pytest.param("2026-W43", "Europe/Berlin", "2026-10-18 22:00", "2026-10-25 23:00", 169, id="berlin-autumn-week"),
        pytest.param("2026-W30", "Europe/Berlin", "2026-07-19 22:00", "2026-07-26 22:00", 168, id="berlin-summer-week"),
        # Monday 2 March 00:00 EST (-5) .. Monday 9 March 00:00 EDT (-4)
        pytest.param(
            "2026-W10",
            "America/New_York",
            "2026-03-02 05:00",
            "2026-03-09 04:00",
            167,
            id="newyork-spring-week",
        ),
        # Monday 26 October 00:00 EDT (-4) .. Monday 2 November 00:00 EST (-5)
        pytest.param(
            "2026-W44",
            "America/New_York",
            "2026-10-26 04:00",
            "2026-11-02 05:00",
            169,
            id="newyork-autumn-week",
        ),
        pytest.param("2026-W13", "Asia/Shanghai", "2026-03-22 16:00", "2026-03-29 16:00", 168, id="shanghai-no-dst"),
        # 31 days * 24 - 1 = 743
        pytest.param("2026-03", "Europe/Berlin", "2026-02-28 23:00", "2026-03-31 22:00", 743, id="berlin-march"),
        # 31 days * 24 + 1 = 745
        pytest.param("2026-10", "Europe/Berlin", "2026-09-30 22:00", "2026-10-31 23:00", 745, id="berlin-october"),
        pytest.param("2026-03", "America/New_York", "2026-03-01 05:00", "2026-04-01 04:00", 743, id="newyork-march"),
        # 30 days * 24 + 1 = 721
        pytest.param("2026-11", "America/New_York", "2026-11-01 04:00", "2026-12-01 05:00", 721, id="newyork-november"),
        # 90 days * 24 - 1 = 2159
        pytest.param("2026-Q1", "Europe/Berlin", "2025-12-31 23:00", "2026-03-31 22:00", 2159, id="berlin-q1"),
        # 92 days * 24 + 1 = 2209
        pytest.param("2026-Q4", "Europe/Berlin", "2026-09-30 22:00", "2026-12-31 23:00", 2209, id="berlin-q4"),
        pytest.param("2026-Q4", "Asia/Shanghai", "2026-09-30 16:00", "2026-12-31 16:00", 2208, id="shanghai-q4"),
    ],
)
def test_utc_bounds_across_dst(label, zone, start, end, hours):
    bounds = Period.parse(label).utc_bounds(ZoneInfo(zone))
    assert bounds == (utc(start), utc(end))
    assert all(instant.utcoffset() == timedelta(0) for instant in bounds)
    assert bounds[1] - bounds[0] == timedelta(hours=hours)


def _case_count(engine, config, team: str, label: str) -> int:
    with transaction(engine) as session:
        report = compute_reports(session, config=config, period=Period.parse(label), teams=[team])[team]
    return report.results["response_time"].details["cases"]


@pytest.mark.parametrize(
    ("team", "local", "inside", "outside"),
    [
        # 21:30 UTC: already 05:30 on 1 October in Shanghai, but still September in Berlin
        pytest.param("berlin_ops", "2026-09-30 23:30", "2026-09", "2026-10", id="berlin-last-half-hour-of-september"),
        pytest.param("berlin_ops", "2026-10-01 00:30", "2026-10", "2026-09", id="berlin-first-half-hour-of-october"),
        pytest.param("berlin_ops", "2026-10-01 00:00", "2026-10", "2026-09", id="berlin-exactly-midnight"),
        pytest.param("berlin_ops", "2026-09-30 23:59:59", "2026-09", "2026-10", id="berlin-last-second-of-september"),
        # 16:30 UTC on 30 September: still September in Berlin, but October in Shanghai
        pytest.param(
            "shanghai_ops", "2026-10-01 00:30", "2026-10", "2026-09", id="shanghai-first-half-hour-of-october"
        ),
        pytest.param(
            "shanghai_ops",
            "2026-09-30 23:30",
            "2026-09",
            "2026-10",
            id="shanghai-last-half-hour-of-september",
        ),
        pytest.param(
            "newyork_delivery",
            "2026-09-30 23:30",
            "2026-09",
            "2026-10",
            id="newyork-last-half-hour-of-september",
        ),
        # Berlin, spring: the week ends at Monday 00:00 CEST (22:00 UTC Sunday), not at 23:00 UTC
        pytest.param("berlin_ops", "2026-03-29 01:30", "2026-W13", "2026-W14", id="berlin-before-spring-change"),
        pytest.param("berlin_ops", "2026-03-29 03:30", "2026-W13", "2026-W14", id="berlin-after-spring-change"),
        pytest.param("berlin_ops", "2026-03-29 23:30", "2026-W13", "2026-W14", id="berlin-spring-sunday-night"),
        pytest.param("berlin_ops", "2026-03-30 00:30", "2026-W14", "2026-W13", id="berlin-spring-monday-morning"),
        pytest.param("berlin_ops", "2026-03-31 23:30", "2026-03", "2026-04", id="berlin-end-of-march"),
        pytest.param("berlin_ops", "2026-04-01 00:30", "2026-04", "2026-03", id="berlin-start-of-april"),
        # Berlin, autumn: the week ends at Monday 00:00 CET (23:00 UTC Sunday), not at 22:00 UTC
        pytest.param("berlin_ops", "2026-10-25 23:30", "2026-W43", "2026-W44", id="berlin-autumn-sunday-night"),
        pytest.param("berlin_ops", "2026-10-26 00:30", "2026-W44", "2026-W43", id="berlin-autumn-monday-morning"),
        # New York, spring: Monday 00:00 EDT is 04:00 UTC
        pytest.param("newyork_delivery", "2026-03-08 23:30", "2026-W10", "2026-W11", id="newyork-spring-sunday-night"),
        pytest.param(
            "newyork_delivery", "2026-03-09 00:30", "2026-W11", "2026-W10", id="newyork-spring-monday-morning"
        ),
        # New York, autumn: Monday 00:00 EST is 05:00 UTC
        pytest.param("newyork_delivery", "2026-11-01 23:30", "2026-W44", "2026-W45", id="newyork-autumn-sunday-night"),
        pytest.param(
            "newyork_delivery", "2026-11-02 00:30", "2026-W45", "2026-W44", id="newyork-autumn-monday-morning"
        ),
        pytest.param("newyork_delivery", "2026-10-31 23:30", "2026-10", "2026-11", id="newyork-end-of-october"),
        pytest.param("newyork_delivery", "2026-11-01 00:30", "2026-11", "2026-10", id="newyork-start-of-november"),
        # year ends
        pytest.param("berlin_ops", "2026-12-31 23:30", "2026-Q4", "2027-Q1", id="berlin-new-years-eve"),
        pytest.param("berlin_ops", "2027-01-01 00:30", "2027-Q1", "2026-Q4", id="berlin-new-year"),
        pytest.param("shanghai_ops", "2027-01-03 23:30", "2026-W53", "2027-W01", id="shanghai-end-of-w53"),
        pytest.param("shanghai_ops", "2027-01-04 00:30", "2027-W01", "2026-W53", id="shanghai-start-of-2027-w01"),
    ],
)
def test_case_lands_in_the_period_of_its_local_time(engine, example_config, team, local, inside, outside):
    add(engine, case(team, at(local, TEAM_ZONES[team]), response_hours=1))
    assert _case_count(engine, example_config, team, inside) == 1
    assert _case_count(engine, example_config, team, outside) == 0


def test_one_instant_falls_in_different_months_for_different_teams(engine, example_config):
    instant = at("2026-09-30 23:30", "Europe/Berlin")  # 21:30 UTC; 05:30 on 1 October in Shanghai
    add(
        engine,
        case("berlin_ops", instant, response_hours=1),
        case("beijing_service", instant, response_hours=2),
        case("newyork_delivery", instant, response_hours=3),  # 17:30 on 30 September in New York
        case("shanghai_ops", at("2026-10-01 00:30", "Asia/Shanghai"), response_hours=4),  # 16:30 UTC
        *surveys("berlin_ops", instant, 5),
        *surveys("beijing_service", instant, 1),
    )
    with transaction(engine) as session:
        september = compute_reports(session, config=example_config, period=Period.parse("2026-09"))
        october = compute_reports(session, config=example_config, period=Period.parse("2026-10"))
    in_september = {team: report.results["response_time"].value for team, report in september.items()}
    in_october = {team: report.results["response_time"].value for team, report in october.items()}
    assert in_september == {
        "berlin_ops": 1.0,
        "beijing_service": None,
        "newyork_delivery": 3.0,
        "shanghai_ops": None,
    }
    assert in_october == {
        "berlin_ops": None,
        "beijing_service": 2.0,
        "newyork_delivery": None,
        "shanghai_ops": 4.0,
    }
    assert september["berlin_ops"].results["csat"].value == 5.0
    assert september["beijing_service"].results["csat"].value is None
    assert october["berlin_ops"].results["csat"].value is None
    assert october["beijing_service"].results["csat"].value == 1.0


@pytest.mark.parametrize(
    ("zone", "raised", "responded", "label", "hours"),
    [
        # 01:00 CEST = 23:00 UTC (24 Oct) -> 04:00 CET = 03:00 UTC: 4 hours, though the clock moved 3
        pytest.param("Europe/Berlin", "2026-10-25 01:00", "2026-10-25 04:00", "2026-W43", 4.0, id="berlin-autumn"),
        # 01:00 CET = 00:00 UTC -> 04:00 CEST = 02:00 UTC: 2 hours, though the clock moved 3
        pytest.param("Europe/Berlin", "2026-03-29 01:00", "2026-03-29 04:00", "2026-W13", 2.0, id="berlin-spring"),
        # 01:00 EST = 06:00 UTC -> 04:00 EDT = 08:00 UTC
        pytest.param("America/New_York", "2026-03-08 01:00", "2026-03-08 04:00", "2026-W10", 2.0, id="newyork-spring"),
        # 00:30 EDT = 04:30 UTC -> 03:30 EST = 08:30 UTC
        pytest.param("America/New_York", "2026-11-01 00:30", "2026-11-01 03:30", "2026-W44", 4.0, id="newyork-autumn"),
    ],
)
def test_response_time_over_a_dst_change_is_elapsed_time(engine, example_config, zone, raised, responded, label, hours):
    team = next(key for key, team_zone in TEAM_ZONES.items() if team_zone == zone)
    add(
        engine,
        CustomerCase(team=team, kind="after_sales", raised_at=at(raised, zone), first_response_at=at(responded, zone)),
    )
    with transaction(engine) as session:
        report = compute_reports(session, config=example_config, period=Period.parse(label), teams=[team])[team]
    assert report.results["response_time"].value == pytest.approx(hours)


@pytest.mark.parametrize(
    ("now", "zone", "label"),
    [
        # 22:30 UTC on Sunday 29 March is already Monday 00:30 CEST in Berlin
        pytest.param(utc("2026-03-29 22:30"), "Europe/Berlin", "2026-W14", id="berlin-spring"),
        pytest.param(utc("2026-03-29 21:30"), "Europe/Berlin", "2026-W13", id="berlin-spring-before-midnight"),
        # 22:30 UTC on Sunday 25 October is only 23:30 CET in Berlin
        pytest.param(utc("2026-10-25 22:30"), "Europe/Berlin", "2026-W43", id="berlin-autumn"),
        pytest.param(utc("2026-10-25 23:30"), "Europe/Berlin", "2026-W44", id="berlin-autumn-after-midnight"),
        # 04:30 UTC on Monday 2 November is still Sunday 23:30 EST in New York
        pytest.param(utc("2026-11-02 04:30"), "America/New_York", "2026-W44", id="newyork-autumn"),
        pytest.param(utc("2026-03-09 04:30"), "America/New_York", "2026-W11", id="newyork-spring"),
    ],
)
def test_current_week_around_dst_changes(now, zone, label):
    assert Period.current("week", now=now, tz=ZoneInfo(zone)).label == label
