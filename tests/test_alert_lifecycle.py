"""kpi_core.alert_lifecycle on SQLite and PostgreSQL: handling an alert (concurrent clicks included), when
its follow-up is due, and the time to acknowledge and to resolve."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from kpi_core.alert_lifecycle import ResponseTimes, follow_up_due, handle_alert, response_times
from kpi_core.config_schema import FollowUp
from kpi_core.db import transaction
from kpi_core.models import Alert, AlertHandling, AuditEntry
from tests.factories import add, at

T0 = at("2026-09-30 08:00")
POLICY = FollowUp(escalate_after_minutes=120, remind_every_minutes=240)


def alert(
    team: str = "berlin_ops", *, opened: float = 0, resolved: float | None = None, kpi="on_time_delivery"
) -> Alert:
    return Alert(
        team=team,
        kpi=kpi,
        value=85,
        threshold=90,
        opened_at=T0 + timedelta(minutes=opened),
        resolved_at=None if resolved is None else T0 + timedelta(minutes=resolved),
    )


@pytest.mark.parametrize(
    ("minutes", "acknowledged", "snoozed", "due"),
    [
        pytest.param(119, None, None, (False, None), id="before-escalation"),
        pytest.param(120, None, None, (True, None), id="escalation-due"),
        pytest.param(200, None, 240, (False, None), id="snoozed-past-escalation"),
        pytest.param(240, None, 240, (True, None), id="snooze-ended"),
        pytest.param(239, 0, None, (False, None), id="acknowledged-before-first-reminder"),
        pytest.param(240, 0, None, (False, 1), id="first-reminder"),
        pytest.param(1000, 0, None, (False, 4), id="latest-reminder-only"),
        pytest.param(500, 0, 600, (False, None), id="acknowledged-and-snoozed"),
    ],
)
def test_follow_up_is_due_by_acknowledgement_snooze_and_time(example_config, minutes, acknowledged, snoozed, due):
    handling = AlertHandling(
        alert_id=1,
        team="berlin_ops",
        acknowledged_at=None if acknowledged is None else T0 + timedelta(minutes=acknowledged),
        snoozed_until=None if snoozed is None else T0 + timedelta(minutes=snoozed),
    )
    result = follow_up_due(
        alert(),
        handling,
        policy=POLICY,
        team=example_config.team("berlin_ops"),
        now=T0 + timedelta(minutes=minutes),
    )
    assert (result.escalate, result.reminder) == due


def test_no_follow_up_without_durations(example_config):
    result = follow_up_due(
        alert(), None, policy=FollowUp(), team=example_config.team("berlin_ops"), now=T0 + timedelta(days=9)
    )
    assert (result.escalate, result.reminder) == (False, None)


def test_time_to_acknowledge_and_resolve_are_medians_of_the_alerts_opened_in_the_period(engine):
    add(
        engine,
        alert(opened=0),
        alert(opened=10, kpi="csat"),
        alert(opened=20, kpi="complaint_rate"),  # stays open: no time to resolve
        alert(opened=-60 * 24 * 8, kpi="sales"),  # opened in an earlier week: not counted
        alert("shanghai_ops", opened=0),
        alert("beijing_service", opened=0),
    )
    for alert_id, minutes in ((1, 30), (2, 10), (3, 50), (4, 1)):
        handled = handle_alert(
            engine,
            alert_id=alert_id,
            action="acknowledge",
            teams=["berlin_ops"],
            user="U0LEADBE",
            now=T0 + timedelta(minutes=minutes),
        )
        assert handled.outcome == "done"
    with transaction(engine) as session:
        for alert_id, minutes in ((1, 300), (2, 70), (4, 5)):
            session.get(Alert, alert_id).resolved_at = T0 + timedelta(minutes=minutes)
    week = (T0 - timedelta(days=2), T0 + timedelta(days=5))
    times = response_times(
        engine,
        periods={
            "berlin_ops": week,
            "shanghai_ops": week,
            "newyork_delivery": week,
            # Beijing's period ends before its alert opened
            "beijing_service": (T0 - timedelta(days=7), T0 - timedelta(minutes=1)),
        },
    )
    berlin = times["berlin_ops"]
    # 3 opened in the week; acknowledged after 30, 0 and 30 minutes; resolved after 300 and 60 minutes
    assert (berlin.opened, berlin.acknowledge_minutes, berlin.acknowledged) == (3, 30, 3)
    assert (berlin.resolve_minutes, berlin.resolved) == (180, 2)
    assert times["shanghai_ops"] == ResponseTimes(1, None, 0, None, 0)
    assert times["newyork_delivery"] == ResponseTimes(0, None, 0, None, 0)
    assert times["beijing_service"].opened == 0


def test_two_people_acknowledging_at_once_make_one_acknowledgement(engine):
    add(engine, alert())
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def click(user: str) -> None:
        barrier.wait(timeout=30)
        handled = handle_alert(engine, alert_id=1, action="acknowledge", teams=["berlin_ops"], user=user, now=T0)
        outcomes.append(handled.outcome)

    threads = [threading.Thread(target=click, args=(f"U0USER{number}",)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["done", "unchanged", "unchanged", "unchanged"]
    with Session(engine) as session:
        assert len(session.exec(select(AuditEntry)).all()) == 1
        assert session.get(AlertHandling, 1).acknowledged_by.startswith("U0USER")
