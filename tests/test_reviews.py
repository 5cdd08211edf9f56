"""360° reviews in the core, on SQLite and PostgreSQL: who launches, who rates whom, peers, answers
replaced until the deadline, the anonymity threshold in results and exports, deadlines across time zones,
closing and the review interview."""

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from kpi_core import review_use_cases as use
from kpi_core.errors import ReviewError
from kpi_core.interviews import InterviewRecord
from kpi_core.models import AuditEntry
from kpi_core.review_cycles import due_reminder, parse_launch, reminder_at, zone_of
from kpi_core.review_models import ReviewAssignment
from kpi_core.reviews import personal_performance
from tests.bot_harness import ADMIN, LEAD_BEIJING, LEAD_SHANGHAI_AND_BERLIN, MANAGER, NOW

HR = "U0HR"
REQUESTS = itertools.count(1)
AGENTS = ["U0AGENTBJ1", "U0AGENTBJ2", "U0AGENTBJ3", "U0AGENTBJ4"]
ALL_FOURS = dict.fromkeys(
    ["quality", "efficiency", "innovation", "responsibility", "attitude", "teamwork", "learning", "problem_solving"], 4
)


def launch(engine, config, words=("2026",), *, user=ADMIN, now=NOW):
    request = parse_launch(list(words), today=now.date(), deadline_days=config.reviews.deadline_days)
    return use.launch(engine, config=config, request=request, user=user, now=now)


def assignments(engine, **where):
    with Session(engine) as session:
        query = select(ReviewAssignment)
        for field, value in where.items():
            query = query.where(getattr(ReviewAssignment, field) == value)
        return list(session.exec(query.order_by(ReviewAssignment.id)).all())


def answer(engine, config, assignment, scores=ALL_FOURS, *, comment=None, now=NOW, key=None):
    return use.submit_answer(
        engine,
        config=config,
        request_key=key or f"view:{next(REQUESTS)}",
        assignment_id=assignment.id,
        rater=assignment.rater,
        scores=scores,
        comment=comment,
        now=now,
    )


@pytest.mark.parametrize(
    ("user", "allowed"),
    [
        pytest.param(ADMIN, True, id="admin"),
        pytest.param(HR, True, id="hr"),
        pytest.param(MANAGER, False, id="management"),
        pytest.param(LEAD_BEIJING, False, id="lead"),
        pytest.param("U0AGENTBJ1", False, id="person"),
    ],
)
def test_only_admins_and_hr_launch_a_cycle(engine, example_config, user, allowed):
    if allowed:
        assert launch(engine, example_config, user=user).key == "2026"
    else:
        with pytest.raises(ReviewError, match="only admins or HR"):
            launch(engine, example_config, user=user)
        assert assignments(engine) == []


def test_launch_asks_self_superior_and_subordinates_and_only_once(engine, example_config):
    cycle = launch(engine, example_config)

    raters = {(a.rater, a.relation) for a in assignments(engine, subject=LEAD_SHANGHAI_AND_BERLIN)}
    assert raters == {
        (LEAD_SHANGHAI_AND_BERLIN, "self"),
        (MANAGER, "superior"),
        ("U0OPSSH1", "subordinate"),
        ("U0OPSSH2", "subordinate"),
        ("U0PMSH1", "subordinate"),
    }
    assert {a.state for a in assignments(engine)} == {"active"}
    assert cycle.deadline_on == date(2026, 10, 14)  # 14 days after the launch by default
    with pytest.raises(ReviewError, match="launched already"):
        launch(engine, example_config)


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        pytest.param(["2026"], ("2026", "year", date(2026, 10, 14)), id="yearly-by-default"),
        pytest.param(["2026", "quarterly"], ("2026-Q3", "quarter", date(2026, 10, 14)), id="quarterly-current"),
        pytest.param(
            ["2025", "quarterly"], ("2025-Q4", "quarter", date(2026, 10, 14)), id="quarterly-last-of-past-year"
        ),
        pytest.param(["2026-q2", "2026-11-30"], ("2026-Q2", "quarter", date(2026, 11, 30)), id="quarter-and-deadline"),
    ],
)
def test_launch_words(words, expected):
    request = parse_launch(words, today=NOW.date(), deadline_days=14)
    assert (request.key, request.kind, request.deadline_on) == expected


@pytest.mark.parametrize(
    ("words", "message"),
    [
        pytest.param([], "not a review cycle", id="nothing"),
        pytest.param(["twenty"], "not a review cycle", id="words"),
        pytest.param(["2027"], "has not begun", id="future-year"),
        pytest.param(["2026-Q4"], "has not begun", id="future-quarter"),
        pytest.param(["2026", "2026-09-30"], "not a deadline", id="deadline-today"),
        pytest.param(["2026", "soon<!channel>"], "not a deadline", id="hostile-word"),
    ],
)
def test_bad_launch_words_are_refused(words, message):
    with pytest.raises(ReviewError, match=message):
        parse_launch(words, today=NOW.date(), deadline_days=14)


def test_the_deadline_ends_when_its_day_has_ended_everywhere_and_reminders_come_at_nine_locally(engine, example_config):
    cycle = launch(engine, example_config)  # deadline day 2026-10-14
    # New York is the last zone to leave 2026-10-14: midnight there is 04:00 UTC (EDT)
    assert cycle.deadline_at == datetime(2026, 10, 15, 4, 0, tzinfo=UTC)
    shanghai, new_york = zone_of(example_config, "U0AGENTBJ1"), zone_of(example_config, "U0LEADNY")
    assert reminder_at(cycle.deadline_on, 1, shanghai) == datetime(2026, 10, 13, 1, 0, tzinfo=UTC)
    assert reminder_at(cycle.deadline_on, 1, new_york) == datetime(2026, 10, 13, 13, 0, tzinfo=UTC)
    assert reminder_at(cycle.deadline_on, 7, shanghai) == datetime(2026, 10, 7, 1, 0, tzinfo=UTC)

    at = datetime(2026, 10, 13, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, 22:00 the day before in New York
    assert (due_reminder(cycle, shanghai, at), due_reminder(cycle, new_york, at)) == (1, 7)
    assert due_reminder(cycle, shanghai, datetime(2026, 10, 7, 0, 59, tzinfo=UTC)) is None
    assert due_reminder(cycle, new_york, cycle.deadline_at) is None


def test_raters_are_reminded_only_of_what_they_have_not_answered(engine, example_config):
    launch(engine, example_config)
    at = datetime(2026, 10, 7, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai on the 7th day before
    for assignment in assignments(engine, rater="U0AGENTBJ1"):
        answer(engine, example_config, assignment, now=at)

    due = use.due_reminders(engine, config=example_config, now=at, team="beijing_service")
    raters = {reminder.rater for reminder in due}
    assert "U0AGENTBJ1" not in raters and "U0AGENTBJ2" in raters
    assert {reminder.days for reminder in due} == {7}
    # the leads of Berlin and New York are not reminded by Beijing's job, nor yet at all
    assert use.due_reminders(engine, config=example_config, now=at, team="newyork_delivery") == []


def test_an_answer_is_replaced_until_the_deadline_and_refused_after(engine, example_config):
    cycle = launch(engine, example_config)
    [own] = assignments(engine, rater="U0AGENTBJ1", relation="self")

    assert answer(engine, example_config, own, comment="first") is False
    assert answer(engine, example_config, own, {**ALL_FOURS, "quality": 5}, comment="second") is True
    form = use.rater_form(engine, config=example_config, assignment_id=own.id, rater=own.rater, now=NOW)
    assert (form.scores["quality"], form.comment) == (5, "second")
    # the same Slack request again stores nothing
    assert answer(engine, example_config, own, key="view:V1:h1") is True
    assert answer(engine, example_config, own, key="view:V1:h1") is None

    with pytest.raises(ReviewError, match="deadline"):
        answer(engine, example_config, own, now=cycle.deadline_at)


@pytest.mark.parametrize(
    "forged",
    [
        pytest.param({"assignment": "someone-elses"}, id="someone-elses"),
        pytest.param({"assignment": 0}, id="zero"),
        pytest.param({"assignment": 2**70}, id="huge"),
        pytest.param({"scores": {"quality": 9}}, id="score-out-of-range"),
        pytest.param({"scores": {"not_a_competency": 3}}, id="unknown-competency"),
    ],
)
def test_answers_that_are_not_the_raters_own_or_not_well_formed_are_refused(engine, example_config, forged):
    launch(engine, example_config)
    [own] = assignments(engine, rater="U0AGENTBJ1", relation="self")
    [other] = assignments(engine, rater="U0AGENTBJ2", relation="self")
    assignment_id = {"someone-elses": other.id}.get(forged.get("assignment"), forged.get("assignment", own.id))
    scores = {**ALL_FOURS, **forged.get("scores", {})}
    with pytest.raises(ReviewError):
        use.submit_answer(
            engine,
            config=example_config,
            request_key="view:V2:h",
            assignment_id=assignment_id,
            rater="U0AGENTBJ1",
            scores=scores,
            comment=None,
            now=NOW,
        )
    assert all(a.answered_at is None for a in assignments(engine))


def test_nominated_peers_wait_for_the_superior_and_the_rest_get_default_peers(engine, example_config):
    cycle = launch(engine, example_config)
    _, pending = use.nominate(
        engine, config=example_config, cycle_id=cycle.id, subject="U0AGENTBJ1", peers=["U0AGENTBJ2"], now=NOW
    )
    assert [(a.rater, a.state) for a in pending] == [("U0AGENTBJ2", "nominated")]
    with pytest.raises(ReviewError, match="not yours"):
        use.decide_peers(
            engine,
            config=example_config,
            cycle_id=cycle.id,
            subject="U0AGENTBJ1",
            approver=ADMIN,
            approve=True,
            now=NOW,
        )
    use.decide_peers(
        engine,
        config=example_config,
        cycle_id=cycle.id,
        subject="U0AGENTBJ1",
        approver=LEAD_BEIJING,
        approve=True,
        now=NOW,
    )
    with pytest.raises(ReviewError, match="cannot be your peer"):
        use.nominate(
            engine, config=example_config, cycle_id=cycle.id, subject="U0AGENTBJ1", peers=[LEAD_BEIJING], now=NOW
        )

    assert use.default_peers(engine, config=example_config, now=NOW + timedelta(days=4)) == 0  # not due yet
    added = use.default_peers(engine, config=example_config, now=NOW + timedelta(days=5))
    peers_of = {
        subject: sorted(a.rater for a in assignments(engine, subject=subject, relation="peer"))
        for subject in ("U0AGENTBJ1", "U0AGENTBJ2", "U0OPSSH1", "U0PMSH1")
    }
    assert peers_of == {
        "U0AGENTBJ1": ["U0AGENTBJ2"],  # nominated and approved: no default
        "U0AGENTBJ2": ["U0AGENTBJ1", "U0AGENTBJ3", "U0AGENTBJ4"],  # same team and position
        "U0OPSSH1": ["U0OPSSH2"],
        "U0PMSH1": [],  # nobody else holds the position
    }
    assert added == 3 * 3 + 2  # agents 2, 3 and 4 get three each, the two ops specialists one each
    assert use.default_peers(engine, config=example_config, now=NOW + timedelta(days=6)) == 0


def _rate_agent_one(engine, config, cycle, *, peers_answering):
    """Agent 1 rated by self, the Beijing lead, and ``peers_answering`` of the three default peers."""
    use.default_peers(engine, config=config, now=cycle.nominations_due_at)
    for assignment in assignments(engine, subject="U0AGENTBJ1"):
        if assignment.relation == "peer" and peers_answering == 0:
            continue
        if assignment.relation == "peer":
            peers_answering -= 1
        score = {"self": 5, "superior": 3, "peer": 2}[assignment.relation]
        answer(engine, config, assignment, dict.fromkeys(ALL_FOURS, score), comment=f"from {assignment.rater}")


@pytest.mark.parametrize(
    ("peers_answering", "peers_shown"),
    [pytest.param(2, False, id="two-peers"), pytest.param(3, True, id="three-peers")],
)
def test_peer_ratings_show_only_as_averages_from_three_and_only_once_closed(
    engine, example_config, peers_answering, peers_shown
):
    cycle = launch(engine, example_config)
    _rate_agent_one(engine, example_config, cycle, peers_answering=peers_answering)

    _, groups = use.results_for(engine, config=example_config, viewer="U0AGENTBJ1", subject="U0AGENTBJ1", key="2026")
    assert groups == {}  # open: nothing yet
    use.close(engine, config=example_config, key="2026", user=HR, now=NOW + timedelta(days=1))
    _, groups = use.results_for(engine, config=example_config, viewer=LEAD_BEIJING, subject="U0AGENTBJ1")
    assert groups["peer"].shown is peers_shown
    assert groups["peer"].answered == peers_answering
    assert groups["peer"].comments == (("from U0AGENTBJ2", "from U0AGENTBJ3", "from U0AGENTBJ4") if peers_shown else ())
    assert groups["superior"].averages["quality"] == 3
    # the superior's 3 weighs 50, the peers' 2 weighs 25 once shown: (2.667 - 1) / 4; else (3 - 1) / 4
    expected = 41.7 if peers_shown else 50.0
    with Session(engine) as session:
        assert personal_performance(session, example_config, "U0AGENTBJ1") == expected

    rows = use.export(engine, config=example_config, key="2026")
    peer_rows = [row for row in rows if row["person"] == "U0AGENTBJ1" and row["group"] == "peer"]
    assert {row["average"] for row in peer_rows} == ({2.0} if peers_shown else {None})
    assert all("rater" not in row for row in rows)


def test_nobody_but_the_person_their_superiors_hr_and_admins_sees_results(engine, example_config):
    launch(engine, example_config)
    use.close(engine, config=example_config, key="2026", user=ADMIN, now=NOW)
    for viewer in ("U0AGENTBJ1", LEAD_BEIJING, MANAGER, HR, ADMIN):
        assert use.results_for(engine, config=example_config, viewer=viewer, subject="U0AGENTBJ1") is not None
    for viewer in ("U0AGENTBJ2", LEAD_SHANGHAI_AND_BERLIN, "U0NOBODY"):
        with pytest.raises(ReviewError, match="not yours"):
            use.results_for(engine, config=example_config, viewer=viewer, subject="U0AGENTBJ1")


def test_admins_export_names_raters_only_when_the_config_says_so(engine, example_config):
    config = example_config.model_copy(
        update={"reviews": example_config.reviews.model_copy(update={"admins_see_raters": True})}
    )
    cycle = launch(engine, config)
    _rate_agent_one(engine, config, cycle, peers_answering=1)
    use.close(engine, config=config, key="2026", user=ADMIN, now=NOW)

    rows = [row for row in use.export(engine, config=config, key="2026") if row["group"] == "peer"]
    assert {row["rater"] for row in rows} == {"U0AGENTBJ2"}


def test_the_interview_is_recorded_confirmed_by_both_superiors_and_acknowledged_all_audited(engine, example_config):
    launch(engine, example_config)
    use.close(engine, config=example_config, key="2026", user=ADMIN, now=NOW)
    packet = next(
        p for p in use.packets(engine, config=example_config, key="2026") if p.interview.subject == "U0AGENTBJ1"
    )
    interview = packet.interview
    assert (interview.superior, interview.second_superior) == (LEAD_BEIJING, MANAGER)
    record = InterviewRecord(held_on=date(2026, 10, 2), rating=4, strengths="calm", development_plan="lead a project")

    with pytest.raises(ReviewError, match="not confirmed"):
        use.acknowledge_interview(engine, interview_id=interview.id, user="U0AGENTBJ1", now=NOW)
    with pytest.raises(ReviewError, match="not yours"):
        use.record_interview(
            engine, request_key="v:1", interview_id=interview.id, user="U0AGENTBJ1", record=record, now=NOW
        )
    use.record_interview(
        engine, request_key="v:2", interview_id=interview.id, user=LEAD_BEIJING, record=record, now=NOW
    )
    with pytest.raises(ReviewError, match="done already"):
        use.confirm_interview(engine, interview_id=interview.id, user=LEAD_BEIJING, now=NOW)
    use.confirm_interview(engine, interview_id=interview.id, user=MANAGER, now=NOW)
    done = use.acknowledge_interview(engine, interview_id=interview.id, user="U0AGENTBJ1", now=NOW)

    assert (done.rating, done.acknowledged_at) == (4, NOW)
    with Session(engine) as session:
        trail = session.exec(
            select(AuditEntry.user, AuditEntry.action).where(AuditEntry.entity == "review_interview")
        ).all()
    assert [tuple(row) for row in trail] == [
        (LEAD_BEIJING, "record"),
        (MANAGER, "confirm"),
        ("U0AGENTBJ1", "acknowledge"),
    ]
