"""The appeal state machine on both backends: who may confirm, appeal and decide, the window, the
reasons every step needs, the order of the steps, the audit trail and ``appeal_states`` for the export."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from kpi_core import appeals
from kpi_core.appeal_models import Appeal, AppealEvent
from kpi_core.db import transaction
from kpi_core.errors import AppealError
from kpi_core.models import AuditEntry

CLOSED_AT = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
Q3 = "2026-Q3"
LEAD = "U0LEADBJ"  # leads beijing_service
OTHER_LEAD = "U0LEADSH"
PERSON = "U0AGENTBJ1"
MANAGER, HR, ADMIN = "U0MANAGER", "U0HR", "U0ADMIN"
ITEMS = ["on_time_delivery", "complaint_rate"]


@pytest.fixture
def window(engine, example_config):
    with transaction(engine) as session:
        return appeals.open_window(
            session, period_label=Q3, opened_at=CLOSED_AT, days=example_config.appeals.appeal_days
        )


def submit(engine, config, *, user=LEAD, kind="team", subject="beijing_service", now=CLOSED_AT, **changes):
    fields = {"item": "on_time_delivery", "reason": "the September orders were counted twice", "evidence": []}
    fields |= changes
    with transaction(engine) as session:
        return appeals.submit(
            session, config, period_label=Q3, subject_kind=kind, subject=subject, items=ITEMS, user=user, now=now,
            **fields,
        )  # fmt: skip


def move(engine, config, appeal, to, *, user=MANAGER, reason="checked the order log", value=None):
    with transaction(engine) as session:
        return appeals.move(
            session, config, appeal_id=appeal.id, to=to, reason=reason, user=user, now=CLOSED_AT, corrected_value=value
        )


def refusal(call):
    with pytest.raises(AppealError) as raised:
        call()
    return raised.value.reason


@pytest.mark.parametrize(
    ("user", "kind", "subject", "allowed"),
    [
        pytest.param(LEAD, "team", "beijing_service", True, id="the-teams-lead"),
        pytest.param(OTHER_LEAD, "team", "berlin_ops", True, id="a-second-lead-of-a-team"),
        pytest.param(OTHER_LEAD, "team", "beijing_service", False, id="another-teams-lead"),
        pytest.param(PERSON, "person", PERSON, True, id="the-person"),
        pytest.param(LEAD, "person", PERSON, False, id="the-persons-superior"),
        pytest.param(MANAGER, "team", "beijing_service", False, id="management"),
        pytest.param(HR, "person", PERSON, False, id="hr"),
        pytest.param(ADMIN, "team", "beijing_service", False, id="admin"),
    ],
)
def test_only_the_assessed_lead_or_person_may_appeal_or_confirm(
    engine, example_config, window, user, kind, subject, allowed
):
    if allowed:
        assert submit(engine, example_config, user=user, kind=kind, subject=subject).state == "submitted"
    else:
        assert refusal(lambda: submit(engine, example_config, user=user, kind=kind, subject=subject)) == "not_yours"
        with transaction(engine) as session:
            assert (
                refusal(
                    lambda: appeals.confirm(
                        session,
                        example_config,
                        period_label=Q3,
                        subject_kind=kind,
                        subject=subject,
                        user=user,
                        now=CLOSED_AT,
                    )
                )
                == "not_yours"
            )
        with Session(engine) as session:
            assert session.exec(select(Appeal)).all() == []


def test_the_window_closes_after_appeal_days(engine, example_config, window):
    last = CLOSED_AT + timedelta(days=7) - timedelta(seconds=1)
    assert window.closes_at == CLOSED_AT + timedelta(days=7)
    assert refusal(lambda: submit(engine, example_config, now=last + timedelta(seconds=1))) == "window_closed"
    assert submit(engine, example_config, now=last).state == "submitted"


def test_no_window_no_appeal(engine, example_config):
    assert refusal(lambda: submit(engine, example_config)) == "no_window"


def test_a_second_window_for_the_same_period_is_the_first(engine, example_config, window):
    with transaction(engine) as session:
        again = appeals.open_window(session, period_label=Q3, opened_at=CLOSED_AT + timedelta(days=3), days=7)
    assert (again.id, again.closes_at) == (window.id, window.closes_at)


def test_a_confirmed_result_cannot_be_appealed_and_a_result_is_answered_once(engine, example_config, window):
    with transaction(engine) as session:
        appeals.confirm(
            session, example_config, period_label=Q3, subject_kind="team", subject="berlin_ops", user=OTHER_LEAD,
            now=CLOSED_AT,
        )  # fmt: skip
    assert refusal(lambda: submit(engine, example_config, user="U0LEADBE", subject="berlin_ops")) == "answered"
    submit(engine, example_config)
    assert refusal(lambda: submit(engine, example_config)) == "answered"
    with transaction(engine) as session:
        assert appeals.appeal_states(session, Q3) == {
            ("team", "berlin_ops"): "confirmed",
            ("team", "beijing_service"): "submitted",
        }


@pytest.mark.parametrize("reason", ["", "   ", "x" * 1001, "nul\x00inside"], ids=["empty", "blank", "too-long", "nul"])
def test_every_step_needs_a_reason(engine, example_config, window, reason):
    assert refusal(lambda: submit(engine, example_config, reason=reason)) == "reason_required"
    appeal = submit(engine, example_config)
    assert refusal(lambda: move(engine, example_config, appeal, "under_review", reason=reason)) == "reason_required"
    move(engine, example_config, appeal, "under_review")
    assert refusal(lambda: move(engine, example_config, appeal, "rejected", reason=reason)) == "reason_required"
    assert refusal(lambda: move(engine, example_config, appeal, "upheld", reason=reason, value=95)) == "reason_required"
    with Session(engine) as session:
        assert session.get(Appeal, appeal.id).state == "under_review"


def test_the_steps_go_in_order_and_each_is_recorded_with_its_reason(engine, example_config, window):
    appeal = submit(engine, example_config, evidence=["https://example.com/orders.xlsx"])
    assert appeal.decide_by == CLOSED_AT + timedelta(days=example_config.appeals.review_days)
    assert refusal(lambda: move(engine, example_config, appeal, "upheld", value=95)) == "bad_step"
    assert refusal(lambda: move(engine, example_config, appeal, "rejected")) == "bad_step"
    move(engine, example_config, appeal, "under_review", user=HR, reason="taking it up")
    assert refusal(lambda: move(engine, example_config, appeal, "under_review")) == "bad_step"
    assert refusal(lambda: move(engine, example_config, appeal, "upheld")) == "value_required"
    upheld = move(engine, example_config, appeal, "upheld", reason="double count confirmed", value=95.5)
    assert (upheld.state, upheld.decided_by, upheld.corrected_value) == ("upheld", MANAGER, 95.5)
    assert refusal(lambda: move(engine, example_config, appeal, "rejected")) == "bad_step"
    with Session(engine) as session:
        events = session.exec(select(AppealEvent).order_by(AppealEvent.id)).all()
        audit = session.exec(select(AuditEntry).where(AuditEntry.entity == "appeal").order_by(AuditEntry.id)).all()
    assert [(e.state, e.by_user, e.reason) for e in events] == [
        ("submitted", LEAD, "the September orders were counted twice"),
        ("under_review", HR, "taking it up"),
        ("upheld", MANAGER, "double count confirmed"),
    ]
    assert [entry.action for entry in audit] == ["appeal", "appeal_under_review", "appeal_upheld"]
    assert audit[-1].new["value"] == 95.5 and audit[0].team == "beijing_service"


@pytest.mark.parametrize(
    ("user", "reason"),
    [
        pytest.param(ADMIN, "not_allowed", id="admin"),
        pytest.param(OTHER_LEAD, "not_allowed", id="a-lead"),
        pytest.param(PERSON, "not_allowed", id="a-person"),
    ],
)
def test_only_management_and_hr_decide(engine, example_config, window, user, reason):
    appeal = submit(engine, example_config)
    assert refusal(lambda: move(engine, example_config, appeal, "under_review", user=user)) == reason


def test_nobody_decides_their_own_appeal(engine, example_config, window):
    config = example_config.model_copy(update={"roles": example_config.roles.model_copy(update={"hr": [LEAD]})})
    appeal = submit(engine, config)
    assert refusal(lambda: move(engine, config, appeal, "under_review", user=LEAD)) == "own_appeal"


@pytest.mark.parametrize(
    ("link", "bad"),
    [
        pytest.param("https://example.com/report?id=3#p2", False, id="https"),
        pytest.param("http://intranet.local:8080/x", False, id="http-with-port"),
        pytest.param("javascript:alert(1)", True, id="javascript"),
        pytest.param("ftp://example.com/x", True, id="ftp"),
        pytest.param("https://", True, id="no-host"),
        pytest.param("example.com/report", True, id="no-scheme"),
        pytest.param("https://evil.example|click here", True, id="disguised-label"),
        pytest.param("https://x.example/<!channel>", True, id="markup"),
        pytest.param("https://x.example/\x00", True, id="nul"),
        pytest.param("https://[::1", True, id="broken-ipv6"),
        pytest.param("https://x.example/" + "a" * 500, True, id="too-long"),
    ],
)
def test_evidence_must_be_plain_http_links(engine, example_config, window, link, bad):
    assert appeals.link_problem(link) is bad
    if bad:
        assert refusal(lambda: submit(engine, example_config, evidence=[link])) == "bad_link"
    else:
        assert submit(engine, example_config, evidence=[link]).evidence == [link]


def test_an_unknown_item_is_refused(engine, example_config, window):
    assert refusal(lambda: submit(engine, example_config, item="salary")) == "unknown_item"


def test_reminders_fall_due_before_the_deadline_until_decided(engine, example_config, window):
    appeal = submit(engine, example_config)
    deadline = appeal.decide_by
    days = example_config.appeals.remind_days_before
    assert days == [2, 1]

    def due(at):
        return appeals.due_reminder(appeal, remind_days_before=days, now=at)

    assert due(deadline - timedelta(days=2, seconds=1)) is None
    assert due(deadline - timedelta(days=2)) == 2
    assert due(deadline - timedelta(hours=23)) == 1
    assert due(deadline) is None
    move(engine, example_config, appeal, "under_review")
    decided = move(engine, example_config, appeal, "rejected")
    assert appeals.due_reminder(decided, remind_days_before=days, now=deadline - timedelta(hours=1)) is None
