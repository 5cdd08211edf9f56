"""Anomalies (kpi_core.anomalies): a KPI's weekly value against its own history. The rates on synthetic
series with known anomalies are asserted with bounds that fail when the method gets worse; the figures
themselves are printed by bench/anomalies.py."""

import json
from datetime import timedelta

import pytest
import yaml

from bot.settings import Settings
from bot.wiring import build
from kpi_core.anomalies import FULL_HISTORY, MIN_HISTORY, judge
from kpi_core.anomaly_scan import flags, scan
from kpi_core.config import parse_config
from kpi_core.db import transaction
from kpi_core.periods import Period, PeriodKind
from kpi_core.shared_reports import SharedReports
from tests.anomaly_series import measure
from tests.conftest import EXAMPLE_CONFIG
from tests.factories import Clock, add, at, measures
from tests.fake_slack import FakeSlack
from tests.slack_calls import key_of, posts

STEADY = [100.0, 104.0, 97.0, 101.0, 99.0, 103.0, 96.0, 100.0, 102.0, 98.0, 101.0, 99.0]


def test_too_little_history_is_not_judged():
    assert judge(STEADY[:-1], 500.0) is None
    assert judge([None, *STEADY[:-1]], 500.0) is None  # weeks without data do not count
    assert judge(STEADY, 500.0) is not None


def test_a_flat_history_cannot_tell_how_unusual_a_change_is():
    assert judge([42.0] * 20, 43.0) is None


def test_a_spike_is_scored_in_noise_deviations_with_its_sign():
    high = judge(STEADY, 130.0)
    low = judge(STEADY, 70.0)
    usual = judge(STEADY, 101.0)
    assert high is not None and low is not None and usual is not None
    assert high.score > 3.5 and high.unusual()
    assert low.score < -3.5 and low.unusual()
    assert not usual.unusual()
    assert high.expected == pytest.approx(100, abs=2)
    assert high.history == MIN_HISTORY and not high.seasonal


def test_one_earlier_outlier_does_not_drag_the_baseline():
    history = [*STEADY, 1000.0, *STEADY]
    found = judge(history, 130.0)
    assert found is not None and found.unusual()


def test_a_steady_trend_is_expected_not_flagged():
    rising = [100.0 + 5 * week + (1 if week % 2 else -1) for week in range(20)]
    on_trend = judge(rising, 200.0)
    assert on_trend is not None and not on_trend.unusual()


def test_a_yearly_peak_season_is_expected_once_a_year_of_history_exists():
    # weeks 40 to 49 of every year are the high season (+150); the rest is noise around 100
    def week_value(week: int) -> float:
        return (250.0 if 40 <= week % 52 <= 49 else 100.0) + (week * 7 % 5) - 2

    history = [week_value(week) for week in range(52 + 42)]  # into the second year's high season
    found = judge(history, week_value(len(history)))
    assert found is not None and found.seasonal and not found.unusual()
    # in the first year, with no season behind it, the same rise is flagged
    first_year = judge(history[:42], week_value(42))
    assert first_year is not None and not first_year.seasonal and first_year.unusual()
    # and a value far off the season is still flagged in the second year
    off = judge(history, 100.0)
    assert off is not None and off.unusual() and off.score < 0


@pytest.mark.parametrize(
    ("kind", "first_week", "max_false_positive_rate", "min_detection_rate"),
    [
        pytest.param("flat", MIN_HISTORY, 0.02, 0.90, id="flat"),
        pytest.param("trend", MIN_HISTORY, 0.02, 0.90, id="trend"),
        # a yearly wave of 4 noise deviations: judged year over year once a year of history exists
        pytest.param("seasonal", 70, 0.015, 0.70, id="seasonal-after-a-year"),
    ],
)
def test_false_positive_and_detection_rates_on_synthetic_series(
    kind, first_week, max_false_positive_rate, min_detection_rate
):
    # 20 series of 156 weeks, about one week in 20 pushed 6 noise deviations away; threshold 3.5
    rates = measure(kind, runs=20, seed=7, threshold=3.5, first_week=first_week)
    assert rates.anomalies > 50 and rates.normal_weeks > 1000  # enough to measure
    assert rates.false_positive_rate <= max_false_positive_rate
    assert rates.detection_rate >= min_detection_rate


def _weekly_orders(engine, team: str, weeks: list[float]) -> Period:
    """Weekly ``orders`` and ``on_time_orders`` (on-time rate = ``weeks`` in %), the last week being judged."""
    week = Period.parse("2026-W39")
    for _ in range(len(weeks) - 1):
        week = week.previous()
    for rate in weeks:
        add(engine, *measures(team, week.start, orders=1000, on_time_orders=rate * 10))
        last, week = week, week.next()
    return last


def test_scan_flags_an_unusual_week_against_the_teams_own_history(engine, example_config):
    steady = [95.0, 96.0, 94.5, 95.5, 96.5, 95.0, 94.0, 95.5, 96.0, 95.0, 94.5, 96.0, 95.5, 95.0]
    period = _weekly_orders(engine, "berlin_ops", [*steady, 80.0])
    _weekly_orders(engine, "shanghai_ops", [*steady, 95.5])
    found = scan(engine, config=example_config, period=period, teams=["berlin_ops", "shanghai_ops"])
    berlin = found["berlin_ops"]["on_time_delivery"]
    assert berlin.value == pytest.approx(80.0) and berlin.score < -3.5 and berlin.history == len(steady)
    assert [flag.kpi for flag in flags(example_config, found["berlin_ops"])] == ["on_time_delivery"]
    assert not found["shanghai_ops"]["on_time_delivery"].unusual()
    assert flags(example_config, found["shanghai_ops"]) == []
    assert "csat" not in found["berlin_ops"]  # no value this week: nothing judged


def test_judging_the_weekly_kpis_through_the_cache_finds_what_judging_every_kpi_does(engine, example_config):
    # the digest judges only its weekly KPIs, computing no other KPI for the history: same anomalies
    steady = [95.0, 96.0, 94.5, 95.5, 96.5, 95.0, 94.0, 95.5, 96.0, 95.0, 94.5, 96.0, 95.5, 95.0]
    period = _weekly_orders(engine, "berlin_ops", [*steady, 80.0])
    _weekly_orders(engine, "shanghai_ops", [*steady, 95.5])
    teams = [team.key for team in example_config.teams]
    weekly = {key for key, cadence in example_config.cadences.items() if cadence is PeriodKind.WEEK}
    every = scan(engine, config=example_config, period=period, teams=teams)
    judged = scan(engine, config=example_config, period=period, teams=teams, kpis=weekly, cache=SharedReports())
    assert judged == {team: {key: found[key] for key in found if key in weekly} for team, found in every.items()}
    assert judged["berlin_ops"]["on_time_delivery"].unusual() and judged["shanghai_ops"]


def test_an_unusual_week_is_flagged_in_the_digest_and_alerted_once_when_its_kpi_asks(database_url):
    raw = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    next(kpi for kpi in raw["kpis"] if kpi["key"] == "on_time_delivery")["anomaly"] = {"alert": True}
    config = parse_config(raw)
    clock = Clock(at("2026-09-28 09:30", "Europe/Berlin"))  # Monday: W39's digest is due
    with FakeSlack() as fake:
        settings = Settings(SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=fake.base_url, KPI_DATABASE_URL=database_url)
        process = build(settings, clock=clock, config=config)
        try:
            steady = [95.0, 96.0, 94.5, 95.5, 96.5, 95.0, 94.0, 95.5, 96.0, 95.0, 94.5, 96.0, 95.5, 95.0]
            _weekly_orders(process.services.engine, "berlin_ops", [*steady, 80.0])
            process.jobs.weekly_digest("berlin_ops")
            process.jobs.weekly_digest("berlin_ops")  # a catch-up: nothing twice
            alerts = [call for call in posts(fake, "C0BERLIN") if key_of(call).startswith("anomaly:")]
            assert [key_of(call) for call in alerts] == ["anomaly:berlin_ops:on_time_delivery:2026-W39"]
            text = alerts[0].params["text"]
            assert "On-time delivery rate" in text and "80.0 %" in text and "below" in text
            # the digest flags it with how unusual it is
            [digest] = [call for call in posts(fake, "C0BERLIN") if key_of(call).startswith("weekly_digest:")]
            blocks = json.dumps(digest.params["blocks"], ensure_ascii=False)
            assert "Unusual for this team" in blocks and "*On-time delivery rate* 80.0 %" in blocks
            assert "noise deviations below the expected 95" in blocks
        finally:
            process.close()


def _alerting_config():
    raw = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    next(kpi for kpi in raw["kpis"] if kpi["key"] == "on_time_delivery")["anomaly"] = {"alert": True}
    return parse_config(raw)


def test_an_anomaly_alert_slack_failed_to_take_is_retried_by_the_catch_up_once(database_url):
    clock = Clock(at("2026-09-28 09:30", "Europe/Berlin"))  # Monday: W39's digest is due
    with FakeSlack() as fake:
        settings = Settings(SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=fake.base_url, KPI_DATABASE_URL=database_url)
        process = build(settings, clock=clock, config=_alerting_config())
        try:
            steady = [95.0, 96.0, 94.5, 95.5, 96.5, 95.0, 94.0, 95.5, 96.0, 95.0, 94.5, 96.0, 95.5, 95.0]
            _weekly_orders(process.services.engine, "berlin_ops", [*steady, 80.0])
            # the digest goes through, the alert after it meets a transient error (its claim stays pending)
            fake.fail_next("chat.postMessage", status=200, error="internal_error", after=1)
            process.jobs.weekly_digest("berlin_ops")

            def alerts():
                return [call for call in posts(fake, "C0BERLIN") if key_of(call).startswith("anomaly:")]

            assert [key_of(call) for call in posts(fake, "C0BERLIN")] == ["weekly_digest:berlin_ops:2026-W39"]
            assert [call.failed for call in fake.calls("chat.postMessage")] == [False, True]
            process.jobs.catch_up()  # at once: the claim is not stale yet, so nobody posts it meanwhile
            assert alerts() == []
            clock.advance(timedelta(minutes=6))  # the next catch-up, after the claim went stale
            process.jobs.catch_up()
            assert [key_of(call) for call in alerts()] == ["anomaly:berlin_ops:on_time_delivery:2026-W39"]
            clock.advance(timedelta(minutes=6))
            process.jobs.catch_up()
            process.jobs.weekly_digest("berlin_ops")
            assert len(alerts()) == 1  # never twice
            assert len([call for call in posts(fake, "C0BERLIN") if key_of(call).startswith("weekly_digest:")]) == 1
        finally:
            process.close()


def test_the_report_cache_holds_every_week_the_anomaly_scan_reads(engine, example_config):
    """Each team's weekly digest scans the same weeks: the second finds all of them in the cache, and the
    scan does not push a month's report out of it."""
    steady = [95.0 + (week % 3) * 0.5 for week in range(FULL_HISTORY)]
    period = _weekly_orders(engine, "berlin_ops", [*steady, 80.0])  # a year back and more: the full history
    september = Period.parse("2026-09")
    cache = SharedReports()
    with transaction(engine) as session:
        cache.build(session, config=example_config, period=september)
    first = scan(engine, config=example_config, period=period, teams=["berlin_ops"], cache=cache)
    assert first["berlin_ops"]["on_time_delivery"].unusual()
    computed = sum(cache.computed.values())
    teams = {team.key for team in example_config.teams}
    every_kpi = [kpi.key for kpi in example_config.kpis]
    assert all(cache.holds(week, kpis=every_kpi) == teams for week in _weeks_back(period, FULL_HISTORY))

    again = scan(engine, config=example_config, period=period, teams=["shanghai_ops"], cache=cache)
    assert "on_time_delivery" not in again["shanghai_ops"]  # no orders: nothing judged
    assert sum(cache.computed.values()) == computed  # every week from the cache
    assert cache.holds(september) == teams and cache.computed[september] == len(teams)


def _weeks_back(period: Period, weeks: int) -> list[Period]:
    found = [period]
    for _ in range(weeks):
        found.append(found[-1].previous())
    return found
