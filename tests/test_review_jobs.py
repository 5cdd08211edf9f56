"""The review tick (bot/jobs.py's ``review_tick``): rating requests and reminders exactly once with two
replicas running it at the same moment, reminders at 09:00 in each rater's own zone, only to those who
have not answered, and the cycle closed at its deadline with the review packets."""

from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from kpi_core import review_use_cases as use
from kpi_core.review_cycles import parse_launch
from kpi_core.review_models import ReviewAssignment
from tests.bot_harness import ADMIN, LEAD_BEIJING, MANAGER, NOW
from tests.replicas import run_together, two_replicas
from tests.slack_calls import posts

ALL_FOURS = dict.fromkeys(
    ["quality", "efficiency", "innovation", "responsibility", "attitude", "teamwork", "learning", "problem_solving"], 4
)


@pytest.fixture
def replicas(database_url, example_config, fake_slack):
    with two_replicas(database_url=database_url, config=example_config, fake=fake_slack, now=NOW) as running:
        yield running


def tick_together(processes):
    """Both replicas run the review tick at the same moment."""
    run_together(processes, lambda process: process.jobs.reviews.tick())


def keys(fake, prefix):
    found = [call.params["metadata"]["event_payload"]["key"] for call in posts(fake) if call.params.get("metadata")]
    return [key for key in found if key.startswith(prefix)]


def test_requests_and_reminders_go_out_once_each_with_two_replicas_at_nine_in_each_raters_zone(
    replicas, example_config, fake_slack
):
    processes, clock = replicas
    engine = processes[0].services.engine
    request = parse_launch(["2026"], today=NOW.date(), deadline_days=14)  # deadline day 2026-10-14
    use.launch(engine, config=example_config, request=request, user=ADMIN, now=NOW)

    tick_together(processes)
    tick_together(processes)
    requests = keys(fake_slack, "review_request:")
    assert (
        len(requests)
        == len(set(requests))
        == sum(use.status(engine, key="2026").groups[g][0] for g in ("self", "superior", "subordinate"))
    )
    invites = keys(fake_slack, "review_invite:")
    assert len(invites) == len(set(invites)) == len(example_config.people)

    # once nominations are due, peers are defaulted (and asked); agent 1 then answers all they are asked
    clock["now"] = datetime(2026, 10, 6, 12, 0, tzinfo=UTC)
    tick_together(processes)
    assert keys(fake_slack, "review_reminder:") == []  # no reminder before the 7th day before
    for process_assignment in _assignments_of(engine, "U0AGENTBJ1"):
        use.submit_answer(
            engine,
            config=example_config,
            request_key=f"v{process_assignment}",
            assignment_id=process_assignment,
            rater="U0AGENTBJ1",
            scores=ALL_FOURS,
            comment=None,
            now=NOW,
        )

    # 7 days before the deadline day, 09:00 in Shanghai (01:00 UTC): Asia's raters; the manager, who has
    # no team (UTC), only at 09:00 UTC
    clock["now"] = datetime(2026, 10, 7, 1, 0, tzinfo=UTC)
    tick_together(processes)
    tick_together(processes)
    reminded = Counter(key.split(":")[3] for key in keys(fake_slack, "review_reminder:"))
    assert set(reminded.values()) == {1}
    assert "U0AGENTBJ1" not in reminded and {"U0AGENTBJ2", LEAD_BEIJING, "U0OPSSH1"} <= set(reminded)
    assert MANAGER not in reminded
    clock["now"] = datetime(2026, 10, 7, 9, 0, tzinfo=UTC)
    tick_together(processes)
    assert Counter(key.split(":")[3] for key in keys(fake_slack, "review_reminder:"))[MANAGER] == 1

    # 1 day before: the second reminder, once
    clock["now"] = datetime(2026, 10, 13, 9, 30, tzinfo=UTC)
    tick_together(processes)
    tick_together(processes)
    final = Counter(keys(fake_slack, "review_reminder:"))
    assert set(final.values()) == {1}
    assert {key.rsplit(":", 1)[1] for key in final} == {"d7", "d1"}
    assert f"review_reminder:*:2026:{MANAGER}:d1" in final

    # past the deadline (the end of 2026-10-14 in New York): closed, and each packet sent once
    clock["now"] = datetime(2026, 10, 15, 4, 0, tzinfo=UTC)
    tick_together(processes)
    tick_together(processes)
    assert use.cycles(engine)[0].closed_by == "scheduler"
    packets = keys(fake_slack, "review_packet:")
    assert len(packets) == len(set(packets))
    assert f"review_packet:*:2026:U0AGENTBJ1:{LEAD_BEIJING}" in packets
    assert f"review_packet:*:2026:U0AGENTBJ1:{MANAGER}" in packets


def _assignments_of(engine, rater):
    with Session(engine) as session:
        return [a.id for a in session.exec(select(ReviewAssignment).where(ReviewAssignment.rater == rater)).all()]
