"""The appeal tick (bot/jobs.py's ``appeal_tick``) with two replicas running it at the same moment: the
Confirm / Appeal DMs, the appeal to each decider and the reminders before the decision deadline go out once;
the window opens from the close."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from kpi_core import appeal_use_cases as use
from kpi_core.db import transaction
from kpi_core.period_close import close_period
from kpi_core.periods import Period
from tests.bot_harness import LEAD_BEIJING, MANAGER
from tests.replicas import run_together, two_replicas
from tests.slack_calls import posts

HR = "U0HR"
Q3 = "2026-Q3"
CLOSED_AT = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def replicas(database_url, example_config, fake_slack):
    with two_replicas(database_url=database_url, config=example_config, fake=fake_slack, now=CLOSED_AT) as running:
        yield running


def tick_together(processes):
    """Both replicas run the appeal tick at the same moment."""
    run_together(processes, lambda process: process.jobs.appeals.tick())


def keys(fake, prefix):
    found = [call.params["metadata"]["event_payload"]["key"] for call in posts(fake) if call.params.get("metadata")]
    return [key for key in found if key.startswith(prefix)]


def test_every_appeal_message_goes_out_once_with_two_replicas(replicas, example_config, fake_slack):
    processes, clock = replicas
    engine, config = processes[0].services.engine, example_config
    with transaction(engine) as session:
        results = close_period(session, config=config, period=Period.parse(Q3), by=MANAGER, now=CLOSED_AT)

    # the tick that first sees the close, an hour later, opens the window from the close itself
    clock["now"] = CLOSED_AT + timedelta(hours=1)
    tick_together(processes)
    tick_together(processes)
    [window] = use.open_windows(engine, config=config, now=clock["now"])
    assert (window.opened_at, window.closes_at) == (CLOSED_AT, CLOSED_AT + timedelta(days=7))
    invites = keys(fake_slack, "appeal_invite:")
    assert len(invites) == len(set(invites)) > 0
    assert f"appeal_invite:*:{Q3}:team:beijing_service:{LEAD_BEIJING}" in invites
    assert len([key for key in invites if ":person:" in key]) == len(
        [result for result in results if result.subject_kind == "person"]
    )

    item = next(r for r in results if r.subject == "beijing_service").items
    appeal = use.submit(
        engine,
        config=config,
        request_key="v1",
        period_label=Q3,
        subject_kind="team",
        subject="beijing_service",
        item=next(iter(item)),
        reason="counted twice",
        evidence=[],
        user=LEAD_BEIJING,
        now=clock["now"],
    )
    # its sender died after storing it: the tick sends it to each decider, once
    tick_together(processes)
    tick_together(processes)
    assert Counter(keys(fake_slack, "appeal_decide:")) == {
        f"appeal_decide:*:{appeal.id}:{MANAGER}": 1,
        f"appeal_decide:*:{appeal.id}:{HR}": 1,
    }
    assert keys(fake_slack, "appeal_reminder:") == []

    # two days before the deadline, then one: each decider reminded once each time
    clock["now"] = appeal.decide_by - timedelta(days=2)
    tick_together(processes)
    tick_together(processes)
    clock["now"] = appeal.decide_by - timedelta(hours=3)
    tick_together(processes)
    tick_together(processes)
    assert Counter(keys(fake_slack, "appeal_reminder:")) == {
        f"appeal_reminder:*:{appeal.id}:{decider}:d{days}": 1 for decider in (MANAGER, HR) for days in (2, 1)
    }

    # decided: no more reminders
    use.decide(engine, config=config, request_key="v2", appeal_id=appeal.id, to="under_review", reason="on it",
               user=HR, now=clock["now"])  # fmt: skip
    use.decide(engine, config=config, request_key="v3", appeal_id=appeal.id, to="rejected", reason="checked",
               user=MANAGER, now=clock["now"])  # fmt: skip
    clock["now"] = appeal.decide_by - timedelta(minutes=5)
    tick_together(processes)
    assert len(keys(fake_slack, "appeal_reminder:")) == 4
