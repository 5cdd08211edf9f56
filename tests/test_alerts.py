"""Threshold and case alerts (kpi_core.alert_rules) against bot/config/example.yaml, on SQLite and PostgreSQL.

The thresholds used here, from the example config:
- on_time_delivery: higher is better, threshold 90, recover_margin 1 (breach below 90, recovered from 91);
- response_time: lower is better, threshold 8 (beijing_service: 6), recover_margin 1, each after-sales case
  must get its first response within 4 h;
- feedback_handling: lower is better, each feedback case must be resolved within 48 h.
Both alert over the current ISO week in the team's own time zone. Expectations are worked out by hand.
"""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from kpi_core import alert_rules
from kpi_core.alert_rules import (
    CASE_LOOKBACK,
    evaluate_cases,
    evaluate_kpis,
    has_recovered,
    in_quiet_hours,
    is_breach,
    next_case_deadline,
    open_alerts,
)
from kpi_core.config import QuietHours
from kpi_core.db import transaction
from kpi_core.models import Alert, CustomerCase
from tests.factories import add, at, case, measures

BERLIN = "berlin_ops"
SHANGHAI = "shanghai_ops"
BEIJING = "beijing_service"
NEWYORK = "newyork_delivery"

#: Wednesday of ISO week 2026-W41 (Monday 5 October .. Sunday 11 October), noon in Berlin (10:00 UTC)
NOW = at("2026-10-07 12:00", "Europe/Berlin")


def kpis(engine, config, now, teams=(BERLIN,)):
    with transaction(engine) as session:
        return evaluate_kpis(session, config=config, teams=[config.team(key) for key in teams], now=now).transitions


def cases(engine, config, now):
    with transaction(engine) as session:
        return evaluate_cases(session, config=config, now=now).transitions


def deadline(engine, config, now):
    with transaction(engine) as session:
        return next_case_deadline(session, config=config, now=now)


def all_alerts(engine) -> list[Alert]:
    with transaction(engine) as session:
        return list(session.exec(select(Alert).order_by(Alert.id)))


def about(alert: Alert) -> str | int:
    """What an alert is about: its case's id, or for a KPI alert the KPI."""
    return alert.case_id if alert.case_id is not None else alert.kpi


def summary(transitions):
    return [(t.change, t.alert.team, about(t.alert)) for t in transitions]


# --- is_breach / has_recovered -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kpi", "team", "value", "breach", "recovered"),
    [
        # on_time_delivery: higher is better, threshold 90, margin 1 -> recovered from 90 + 1 = 91
        pytest.param("on_time_delivery", BERLIN, 89.9, True, False, id="otd-89.9-breach"),
        pytest.param("on_time_delivery", BERLIN, 90.0, False, False, id="otd-90-at-threshold"),
        pytest.param("on_time_delivery", BERLIN, 90.5, False, False, id="otd-90.5-inside-margin"),
        pytest.param("on_time_delivery", BERLIN, 91.0, False, True, id="otd-91-recovered"),
        pytest.param("on_time_delivery", BERLIN, 99.0, False, True, id="otd-99-recovered"),
        # response_time: lower is better, threshold 8, margin 1 -> recovered from 8 - 1 = 7 down
        pytest.param("response_time", BERLIN, 8.1, True, False, id="rt-8.1-breach"),
        pytest.param("response_time", BERLIN, 8.0, False, False, id="rt-8-at-threshold"),
        pytest.param("response_time", BERLIN, 7.5, False, False, id="rt-7.5-inside-margin"),
        pytest.param("response_time", BERLIN, 7.0, False, True, id="rt-7-recovered"),
        # beijing_service's own threshold 6 -> breach above 6, recovered from 6 - 1 = 5 down
        pytest.param("response_time", BEIJING, 6.5, True, False, id="rt-beijing-6.5-breach"),
        pytest.param("response_time", BEIJING, 6.0, False, False, id="rt-beijing-6-at-threshold"),
        pytest.param("response_time", BEIJING, 5.5, False, False, id="rt-beijing-5.5-inside-margin"),
        pytest.param("response_time", BEIJING, 5.0, False, True, id="rt-beijing-5-recovered"),
        # the same 6.5 h for shanghai_ops (default threshold 8): no breach, and 6.5 <= 8 - 1 is recovered
        pytest.param("response_time", SHANGHAI, 6.5, False, True, id="rt-shanghai-6.5-default-8"),
        # feedback_handling: lower is better, threshold 96, no margin -> recovered at 96 itself
        pytest.param("feedback_handling", BERLIN, 96.5, True, False, id="fb-96.5-breach"),
        pytest.param("feedback_handling", BERLIN, 96.0, False, True, id="fb-96-no-margin"),
        # debt_to_asset is a band KPI with a threshold 70: above it is a breach
        pytest.param("debt_to_asset", BERLIN, 70.5, True, False, id="band-70.5-breach"),
        pytest.param("debt_to_asset", BERLIN, 69.0, False, True, id="band-69-recovered"),
    ],
)
def test_breach_and_recovery_with_margin(example_config, kpi, team, value, breach, recovered):
    definition = example_config.kpi_by_key[kpi]
    threshold = definition.alert_threshold_for(team)
    assert is_breach(definition, value, threshold) is breach
    assert has_recovered(definition, value, threshold, definition.alert.recover_margin) is recovered


def test_team_alert_thresholds(example_config):
    response_time = example_config.kpi_by_key["response_time"]
    assert [response_time.alert_threshold_for(team) for team in (BEIJING, SHANGHAI, BERLIN)] == [6, 8, 8]
    assert example_config.kpi_by_key["sales"].alert_threshold_for(BERLIN) is None  # sales has no alert


# --- evaluate_kpis -------------------------------------------------------------------------------


def test_kpi_alert_opens_once_resolves_past_the_margin_and_reopens(engine, example_config):
    # 85 of 100 orders on time on Tuesday 6 October: 85 % < 90
    add(engine, *measures(BERLIN, date(2026, 10, 6), orders=100, on_time_orders=85))
    opened = kpis(engine, example_config, NOW)
    assert summary(opened) == [("breach", BERLIN, "on_time_delivery")]
    alert = opened[0].alert
    assert alert.id is not None
    assert (alert.kpi, alert.value, alert.threshold, alert.opened_at) == ("on_time_delivery", 85.0, 90.0, NOW)
    assert alert.resolved_at is None

    # the same breach an hour later: the alert is open already, nothing new
    assert kpis(engine, example_config, NOW + timedelta(hours=1)) == []
    assert [row.id for row in all_alerts(engine)] == [alert.id]

    # (85 + 96) / (100 + 100) * 100 = 90.5: out of breach but inside the margin, still open
    add(engine, *measures(BERLIN, date(2026, 10, 7), orders=100, on_time_orders=96))
    assert kpis(engine, example_config, NOW + timedelta(hours=2)) == []
    assert all_alerts(engine)[0].resolved_at is None

    # (85 + 96 + 95) / 300 * 100 = 92 >= 91: recovered
    add(engine, *measures(BERLIN, date(2026, 10, 8), orders=100, on_time_orders=95))
    later = NOW + timedelta(days=1)
    recovered = kpis(engine, example_config, later)
    assert summary(recovered) == [("recovered", BERLIN, "on_time_delivery")]
    assert recovered[0].alert.id == alert.id
    stored = all_alerts(engine)
    assert len(stored) == 1
    assert stored[0].resolved_at == later
    assert stored[0].resolved_value == pytest.approx(92.0)
    assert kpis(engine, example_config, later + timedelta(hours=1)) == []

    # next week (W42, from Monday 12 October): 80 of 100 -> a new episode, a new alert
    add(engine, *measures(BERLIN, date(2026, 10, 13), orders=100, on_time_orders=80))
    next_week = at("2026-10-14 12:00", "Europe/Berlin")
    reopened = kpis(engine, example_config, next_week)
    assert summary(reopened) == [("breach", BERLIN, "on_time_delivery")]
    assert reopened[0].alert.id != alert.id
    stored = all_alerts(engine)
    assert [(row.value, row.resolved_at) for row in stored] == [(85.0, later), (80.0, None)]
    with transaction(engine) as session:
        assert [row.id for row in open_alerts(session)] == [reopened[0].alert.id]


def test_no_data_is_neither_breach_nor_recovery(engine, example_config):
    assert kpis(engine, example_config, NOW, teams=(BERLIN, SHANGHAI, BEIJING, NEWYORK)) == []
    add(engine, *measures(BERLIN, date(2026, 10, 6), orders=100, on_time_orders=50))
    assert summary(kpis(engine, example_config, NOW)) == [("breach", BERLIN, "on_time_delivery")]
    # week W42 has no data yet: the alert stays open, nothing recovers
    assert kpis(engine, example_config, at("2026-10-13 12:00", "Europe/Berlin")) == []
    assert [row.resolved_at for row in all_alerts(engine)] == [None]


def test_one_alert_per_team_and_kpi(engine, example_config):
    add(
        engine,
        *measures(BERLIN, date(2026, 10, 6), orders=100, on_time_orders=80),  # 80 %
        *measures(SHANGHAI, date(2026, 10, 6), orders=200, on_time_orders=170),  # 85 %
        *measures(BEIJING, date(2026, 10, 6), orders=100, on_time_orders=95),  # 95 %: fine
    )
    transitions = kpis(engine, example_config, NOW, teams=(BERLIN, SHANGHAI, BEIJING))
    assert sorted(summary(transitions)) == [
        ("breach", BERLIN, "on_time_delivery"),
        ("breach", SHANGHAI, "on_time_delivery"),
    ]
    assert sorted((t.alert.team, t.alert.value) for t in transitions) == [(BERLIN, 80.0), (SHANGHAI, 85.0)]
    assert kpis(engine, example_config, NOW + timedelta(minutes=5), teams=(BERLIN, SHANGHAI, BEIJING)) == []
    assert len(all_alerts(engine)) == 2


def test_only_the_given_teams_are_evaluated(engine, example_config):
    add(engine, *measures(SHANGHAI, date(2026, 10, 6), orders=100, on_time_orders=80))
    assert kpis(engine, example_config, NOW, teams=(BERLIN,)) == []
    assert summary(kpis(engine, example_config, NOW, teams=(SHANGHAI,))) == [("breach", SHANGHAI, "on_time_delivery")]


def test_team_threshold_applies_to_stored_values(engine, example_config):
    # both teams answer in 7 h (median 7): past Beijing's own threshold 6, within the default 8
    raised = at("2026-10-06 10:00", "Asia/Shanghai")
    add(engine, case(BEIJING, raised, response_hours=7), case(SHANGHAI, raised, response_hours=7))
    now = at("2026-10-07 20:00", "Asia/Shanghai")
    transitions = kpis(engine, example_config, now, teams=(BEIJING, SHANGHAI))
    assert summary(transitions) == [("breach", BEIJING, "response_time")]
    assert (transitions[0].alert.value, transitions[0].alert.threshold) == (7.0, 6.0)
    # two more cases answered in 5 h: median of 5 5 7 = 5 <= 6 - 1: recovered
    add(engine, case(BEIJING, raised, response_hours=5), case(BEIJING, raised, response_hours=5))
    assert summary(kpis(engine, example_config, now, teams=(BEIJING, SHANGHAI))) == [
        ("recovered", BEIJING, "response_time")
    ]


def test_each_team_watches_its_own_current_week(engine, example_config):
    # 2026-10-05 03:00 UTC is Monday 11:00 in Shanghai (week W41) but Sunday 23:00 in New York (week W40)
    now = datetime(2026, 10, 5, 3, 0, tzinfo=UTC)
    add(
        engine,
        *measures(SHANGHAI, date(2026, 10, 4), orders=100, on_time_orders=50),  # Shanghai's last week
        *measures(NEWYORK, date(2026, 10, 4), orders=100, on_time_orders=50),  # New York's current week
    )
    assert summary(kpis(engine, example_config, now, teams=(SHANGHAI, NEWYORK))) == [
        ("breach", NEWYORK, "on_time_delivery")
    ]


def test_open_alert_index_allows_one_open_alert_per_team_and_kpi_and_per_case_and_kpi(engine):
    def alert(team=BERLIN, kpi="on_time_delivery", case_id=None, resolved_at=None):
        return Alert(
            team=team, kpi=kpi, case_id=case_id, value=80, threshold=90, opened_at=NOW, resolved_at=resolved_at
        )

    add(engine, alert())
    with pytest.raises(IntegrityError):
        add(engine, alert())
    add(engine, alert(kpi="response_time", case_id=1))
    with pytest.raises(IntegrityError):
        add(engine, alert(kpi="response_time", case_id=1))
    # other teams, KPIs and cases are independent; resolved episodes do not count
    add(
        engine,
        alert(team=SHANGHAI),
        alert(kpi="resolution_time", case_id=1),
        alert(kpi="response_time", case_id=2),
        alert(resolved_at=NOW),
        alert(resolved_at=NOW),
    )
    with transaction(engine) as session:
        first = session.exec(
            select(Alert).where(Alert.team == BERLIN, Alert.kpi == "on_time_delivery", Alert.resolved_at == None)  # noqa: E711
        ).first()
        first.resolved_at = NOW + timedelta(hours=1)
        session.add(first)
    add(engine, alert())  # the first episode is resolved: a new one may open
    with pytest.raises(IntegrityError):
        add(engine, alert())
    open_rows = [row for row in all_alerts(engine) if row.resolved_at is None]
    assert sorted((row.team, row.kpi, row.case_id or 0) for row in open_rows) == [
        (BERLIN, "on_time_delivery", 0),
        (BERLIN, "resolution_time", 1),
        (BERLIN, "response_time", 1),
        (BERLIN, "response_time", 2),
        (SHANGHAI, "on_time_delivery", 0),
    ]


def test_a_concurrent_duplicate_is_skipped_without_spoiling_the_transaction(engine):
    """``_open_all`` inserts with ON CONFLICT DO NOTHING: an alert another process opened first is
    skipped alone, and the rest of the transaction still commits."""
    add(engine, Alert(team=BERLIN, kpi="csat", value=3, threshold=3.8, opened_at=NOW))
    with transaction(engine) as session:
        duplicate = Alert(team=BERLIN, kpi="csat", value=3.1, threshold=3.8, opened_at=NOW)
        assert alert_rules._open_all(session, [duplicate]) == []
        other = Alert(team=SHANGHAI, kpi="csat", value=3.2, threshold=3.8, opened_at=NOW)
        assert alert_rules._open_all(session, [other, duplicate]) == [other]
    assert [(row.team, row.value) for row in all_alerts(engine)] == [(BERLIN, 3.0), (SHANGHAI, 3.2)]


# --- evaluate_cases ------------------------------------------------------------------------------


def test_overdue_case_opens_a_case_alert_until_answered(engine, example_config):
    overdue = case(BERLIN, NOW - timedelta(hours=5))  # its 4 h passed an hour ago
    young = case(BERLIN, NOW - timedelta(hours=3, minutes=59))  # 1 minute to go
    answered = case(BERLIN, NOW - timedelta(hours=6), response_hours=2)
    ancient = case(BERLIN, NOW - CASE_LOOKBACK - timedelta(hours=1))  # open, but history
    feedback = case(BERLIN, NOW - timedelta(hours=5), kind="feedback")  # 48 h to be resolved
    add(engine, overdue, young, answered, ancient, feedback)

    opened = cases(engine, example_config, NOW)
    assert summary(opened) == [("breach", BERLIN, overdue.id)]
    alert = opened[0].alert
    assert (alert.kpi, alert.value, alert.threshold, alert.opened_at) == ("response_time", None, 4.0, NOW)

    assert cases(engine, example_config, NOW + timedelta(seconds=30)) == []  # open already

    # the young case reaches its 4 h a minute later
    in_two_minutes = NOW + timedelta(minutes=2)
    assert summary(cases(engine, example_config, in_two_minutes)) == [("breach", BERLIN, young.id)]

    # the overdue case is answered 6 h 30 min after it was raised
    with transaction(engine) as session:
        row = session.get(CustomerCase, overdue.id)
        row.first_response_at = row.raised_at + timedelta(hours=6, minutes=30)
        session.add(row)
    later = NOW + timedelta(hours=2)
    recovered = cases(engine, example_config, later)
    assert summary(recovered) == [("recovered", BERLIN, overdue.id)]
    assert recovered[0].alert.resolved_at == later
    assert recovered[0].alert.resolved_value == pytest.approx(6.5)
    # an answered case's alert is not opened again
    assert cases(engine, example_config, later + timedelta(hours=1)) == []
    assert sorted((about(row), row.resolved_at) for row in all_alerts(engine)) == sorted(
        [(overdue.id, later), (young.id, None)]
    )


@pytest.mark.parametrize(
    ("age", "alerted"),
    [
        pytest.param(timedelta(hours=4), True, id="exactly-4h"),
        pytest.param(timedelta(hours=4) - timedelta(seconds=1), False, id="4h-less-1s"),
        pytest.param(CASE_LOOKBACK, True, id="exactly-the-lookback"),
        pytest.param(CASE_LOOKBACK + timedelta(seconds=1), False, id="past-the-lookback"),
    ],
)
def test_case_deadline_and_lookback_bounds(engine, example_config, age, alerted):
    overdue = case(BERLIN, NOW - age)
    add(engine, overdue)
    expected = [("breach", BERLIN, overdue.id)] if alerted else []
    assert summary(cases(engine, example_config, NOW)) == expected


def test_feedback_case_alerts_after_48_hours_without_resolution(engine, example_config):
    late = case(SHANGHAI, NOW - timedelta(hours=49), response_hours=1, kind="feedback")  # answered, not resolved
    on_time = case(SHANGHAI, NOW - timedelta(hours=49), response_hours=1, resolve_hours=47, kind="feedback")
    add(engine, late, on_time)
    opened = cases(engine, example_config, NOW)
    assert summary(opened) == [("breach", SHANGHAI, late.id)]
    assert (opened[0].alert.kpi, opened[0].alert.threshold) == ("feedback_handling", 48.0)


def test_next_case_deadline_is_the_earliest_open_case_before_its_deadline(engine, example_config):
    assert deadline(engine, example_config, NOW) is None
    add(
        engine,
        case(BERLIN, NOW - timedelta(hours=5)),  # past its deadline: the case alert covers it
        case(BERLIN, NOW - timedelta(hours=1)),  # deadline NOW + 3 h
        case(SHANGHAI, NOW - timedelta(hours=2, minutes=30)),  # deadline NOW + 1 h 30 min: the earliest
        case(NEWYORK, NOW - timedelta(hours=3, minutes=30), response_hours=1),  # answered
    )
    assert deadline(engine, example_config, NOW) == NOW + timedelta(hours=1, minutes=30)
    # a feedback case resolved within 48 h: deadline NOW + 48 h - 47 h 45 min = NOW + 15 min
    add(engine, case(BERLIN, NOW - timedelta(hours=47, minutes=45), kind="feedback"))
    assert deadline(engine, example_config, NOW) == NOW + timedelta(minutes=15)
    # two hours later only the Berlin after-sales case (NOW + 3 h) is still ahead
    assert deadline(engine, example_config, NOW + timedelta(hours=2)) == NOW + timedelta(hours=3)
    assert deadline(engine, example_config, NOW + timedelta(hours=3)) is None


# --- quiet hours ---------------------------------------------------------------------------------

NIGHT = QuietHours(start=time(22, 0), end=time(7, 0))


@pytest.mark.parametrize(
    ("team", "instant", "quiet"),
    [
        # Berlin is UTC+2 (CEST) in early October
        pytest.param(BERLIN, "2026-10-07 19:59", False, id="berlin-21:59"),
        pytest.param(BERLIN, "2026-10-07 20:00", True, id="berlin-22:00"),
        pytest.param(BERLIN, "2026-10-07 23:00", True, id="berlin-01:00"),
        pytest.param(BERLIN, "2026-10-08 04:59", True, id="berlin-06:59"),
        pytest.param(BERLIN, "2026-10-08 05:00", False, id="berlin-07:00"),
        pytest.param(BERLIN, "2026-10-08 10:00", False, id="berlin-noon"),
        # Berlin is UTC+1 (CET) after 25 October: 22:00 local is 21:00 UTC
        pytest.param(BERLIN, "2026-11-04 20:30", False, id="berlin-winter-21:30"),
        pytest.param(BERLIN, "2026-11-04 21:00", True, id="berlin-winter-22:00"),
        # the same instants in Shanghai (UTC+8)
        pytest.param(SHANGHAI, "2026-10-07 14:00", True, id="shanghai-22:00"),
        pytest.param(SHANGHAI, "2026-10-07 20:00", True, id="shanghai-04:00"),
        pytest.param(SHANGHAI, "2026-10-07 23:00", False, id="shanghai-07:00"),
        pytest.param(SHANGHAI, "2026-10-07 13:59", False, id="shanghai-21:59"),
    ],
)
def test_quiet_hours_wrap_midnight_in_the_team_zone(example_config, team, instant, quiet):
    night_team = example_config.team(team).model_copy(update={"quiet_hours": NIGHT})
    moment = datetime.fromisoformat(instant).replace(tzinfo=UTC)
    assert in_quiet_hours(night_team, moment) is quiet
    assert in_quiet_hours(example_config.team(team), moment) is False  # no quiet hours configured


def test_quiet_hours_within_one_day(example_config):
    lunch = example_config.team(BERLIN).model_copy(update={"quiet_hours": QuietHours(start=time(12), end=time(13))})
    assert in_quiet_hours(lunch, at("2026-10-07 11:59", "Europe/Berlin")) is False
    assert in_quiet_hours(lunch, at("2026-10-07 12:00", "Europe/Berlin")) is True
    assert in_quiet_hours(lunch, at("2026-10-07 12:59", "Europe/Berlin")) is True
    assert in_quiet_hours(lunch, at("2026-10-07 13:00", "Europe/Berlin")) is False
    assert in_quiet_hours(lunch, at("2026-10-07 00:30", "Europe/Berlin")) is False
