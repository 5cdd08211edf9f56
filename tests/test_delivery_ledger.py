"""The delivery ledger (kpi_core.ledger): a message is claimed once, sent once, and a crashed sender's
stale claim is taken over by exactly one claimant; on SQLite and PostgreSQL.

Every claim below uses stale_after = 10 minutes; instants are aware UTC datetimes.
"""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from kpi_core.db import transaction
from kpi_core.ledger import Claim, claim, delivery_key, find, mark_failed, mark_sent

T0 = datetime(2026, 10, 5, 1, 0, tzinfo=UTC)
STALE = timedelta(minutes=10)
THREADS = 8


def claim_digest(engine, *, now=T0, owner="worker-a", team="berlin_ops", subject="2026-W40", kind="weekly_digest"):
    return claim(engine, kind=kind, team=team, subject=subject, owner=owner, now=now, stale_after=STALE)


def race(action):
    """Runs ``action(index)`` in THREADS threads released at the same moment; returns their results."""
    barrier = threading.Barrier(THREADS)
    results: list = [None] * THREADS
    errors: list[BaseException] = []

    def run(index):
        try:
            barrier.wait(timeout=30)
            results[index] = action(index)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a claimant hung"
    assert errors == []
    return results


def test_delivery_key_names_kind_team_and_subject():
    assert delivery_key("weekly_digest", "berlin_ops", "2026-W40") == "weekly_digest:berlin_ops:2026-W40"
    assert delivery_key("management_summary", None, "2026-W40") == "management_summary:*:2026-W40"


def test_first_claim_wins_and_a_second_one_backs_off(engine):
    first = claim_digest(engine, owner="worker-a")
    second = claim_digest(engine, owner="worker-b", now=T0 + timedelta(minutes=1))
    assert first == Claim("weekly_digest:berlin_ops:2026-W40", taken_over=False)
    assert second is None
    row = find(engine, key=first.key)
    assert row is not None
    assert (row.state, row.attempts, row.claimed_by) == ("pending", 1, "worker-a")
    assert row.claimed_at == T0  # aware UTC on both backends
    assert (row.kind, row.team, row.subject) == ("weekly_digest", "berlin_ops", "2026-W40")


@pytest.mark.parametrize(
    ("kind", "team", "subject"),
    [
        pytest.param("weekly_digest", "shanghai_ops", "2026-W40", id="other-team"),
        pytest.param("weekly_digest", "berlin_ops", "2026-W41", id="other-subject"),
        pytest.param("submission_reminder", "berlin_ops", "2026-W40", id="other-kind"),
        pytest.param("weekly_digest", None, "2026-W40", id="no-team"),
    ],
)
def test_claims_of_other_keys_are_independent(engine, kind, team, subject):
    assert claim_digest(engine) is not None
    other = claim_digest(engine, kind=kind, team=team, subject=subject, owner="worker-b")
    assert other == Claim(delivery_key(kind, team, subject), taken_over=False)


def test_sent_is_never_claimed_again_even_when_stale(engine):
    first = claim_digest(engine)
    mark_sent(engine, key=first.key, now=T0 + timedelta(seconds=2), channel="C0BERLIN", ts="1790000000.000100")
    assert claim_digest(engine, owner="worker-b", now=T0 + timedelta(minutes=1)) is None
    assert claim_digest(engine, owner="worker-b", now=T0 + timedelta(days=3)) is None  # long past stale_after
    row = find(engine, key=first.key)
    assert (row.state, row.channel, row.ts, row.attempts) == ("sent", "C0BERLIN", "1790000000.000100", 1)
    assert row.sent_at == T0 + timedelta(seconds=2)


def test_failed_is_never_claimed_again(engine):
    first = claim_digest(engine)
    mark_failed(engine, key=first.key, error="channel_not_found")
    assert claim_digest(engine, owner="worker-b", now=T0 + timedelta(days=3)) is None
    row = find(engine, key=first.key)
    assert (row.state, row.error, row.attempts) == ("failed", "channel_not_found", 1)


def test_a_long_error_is_cut_to_the_column(engine):
    first = claim_digest(engine)
    mark_failed(engine, key=first.key, error="x" * 300)
    assert find(engine, key=first.key).error == "x" * 255


@pytest.mark.parametrize(
    ("after", "taken"),
    [
        pytest.param(timedelta(minutes=9, seconds=59), False, id="fresh-9m59s"),
        pytest.param(timedelta(minutes=10), False, id="exactly-stale_after"),  # claimed_at < now - 10 min is false
        pytest.param(timedelta(minutes=10, seconds=1), True, id="stale-10m01s"),
        pytest.param(timedelta(hours=5), True, id="stale-5h"),
    ],
)
def test_a_pending_claim_is_taken_over_only_once_stale(engine, after, taken):
    first = claim_digest(engine, owner="worker-a")
    later = T0 + after
    second = claim_digest(engine, owner="worker-b", now=later)
    row = find(engine, key=first.key)
    if taken:
        assert second == Claim(first.key, taken_over=True)
        assert (row.state, row.claimed_by, row.claimed_at, row.attempts) == ("pending", "worker-b", later, 2)
    else:
        assert second is None
        assert (row.state, row.claimed_by, row.claimed_at, row.attempts) == ("pending", "worker-a", T0, 1)


def test_a_takeover_renews_the_claim(engine):
    first = claim_digest(engine, owner="worker-a")
    taken = claim_digest(engine, owner="worker-b", now=T0 + timedelta(minutes=11))
    assert taken == Claim(first.key, taken_over=True)
    # right after the takeover the claim is fresh again: a third claimant backs off
    assert claim_digest(engine, owner="worker-c", now=T0 + timedelta(minutes=12)) is None
    # and a second takeover is possible only once the new claim is stale in turn (11 + 10 min)
    assert claim_digest(engine, owner="worker-c", now=T0 + timedelta(minutes=21)) is None
    third = claim_digest(engine, owner="worker-c", now=T0 + timedelta(minutes=21, seconds=1))
    assert third == Claim(first.key, taken_over=True)
    row = find(engine, key=first.key)
    assert (row.claimed_by, row.attempts) == ("worker-c", 3)
    mark_sent(engine, key=first.key, now=T0 + timedelta(minutes=22), channel="C0BERLIN", ts="1.2")
    assert claim_digest(engine, owner="worker-d", now=T0 + timedelta(hours=1)) is None


def test_eight_concurrent_claims_have_one_winner(engine):
    """On PostgreSQL the unique key decides (the losers' INSERT waits for the winner's commit, then does
    nothing); on SQLite the write lock and busy_timeout serialise the claimants."""
    results = race(lambda index: claim_digest(engine, owner=f"worker-{index}", now=T0 + timedelta(seconds=index)))
    winners = [(index, result) for index, result in enumerate(results) if result is not None]
    assert len(winners) == 1, results
    index, won = winners[0]
    assert won == Claim("weekly_digest:berlin_ops:2026-W40", taken_over=False)
    row = find(engine, key=won.key)
    assert (row.claimed_by, row.attempts, row.state) == (f"worker-{index}", 1, "pending")


def test_eight_concurrent_takeovers_of_a_stale_claim_have_one_winner(engine):
    first = claim_digest(engine, owner="crashed")
    later = T0 + timedelta(minutes=30)
    results = race(lambda index: claim_digest(engine, owner=f"worker-{index}", now=later))
    winners = [(index, result) for index, result in enumerate(results) if result is not None]
    assert len(winners) == 1, results
    index, won = winners[0]
    assert won == Claim(first.key, taken_over=True)
    row = find(engine, key=first.key)
    assert (row.claimed_by, row.claimed_at, row.attempts) == (f"worker-{index}", later, 2)


def test_eight_concurrent_claims_of_different_keys_all_win(engine):
    """The guard is per key: claimants of different keys do not block one another out."""
    results = race(lambda index: claim_digest(engine, subject=f"2026-W{40 + index}", owner=f"worker-{index}"))
    assert [result.key for result in results] == [f"weekly_digest:berlin_ops:2026-W{40 + index}" for index in range(8)]
    assert all(not result.taken_over for result in results)


def _commit_waits_for_disk(engine) -> bool:
    with transaction(engine) as session:
        if engine.dialect.name == "postgresql":
            return session.execute(sa.text("SHOW synchronous_commit")).scalar_one() == "on"
        return session.execute(sa.text("PRAGMA synchronous")).scalar_one() == 2  # FULL


def test_only_the_sent_mark_skips_the_disk_flush_and_the_connection_is_durable_again(engine):
    # a lost claim could let the message out twice, so it is durable; a lost mark only leaves the claim
    # pending, which a takeover resolves by looking in Slack first, so its commit need not wait for the disk
    now = datetime(2026, 10, 5, 12, 0, tzinfo=UTC)
    statements: list[str] = []

    def record(_connection, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    claimed = claim(engine, kind="weekly_digest", team="t", subject="W39", owner="a", now=now, stale_after=STALE)
    claiming, statements[:] = list(statements), []
    assert claimed is not None
    mark_sent(engine, key=claimed.key, now=now, channel="C1", ts="1.5")
    sa.event.remove(engine, "before_cursor_execute", record)
    assert not any("synchronous" in statement for statement in claiming)
    assert any("synchronous" in statement for statement in statements)
    assert find(engine, key=claimed.key).state == "sent"  # committed, for everyone
    with transaction(engine, durable=False) as session:  # what the mark's transaction runs with
        if engine.dialect.name == "postgresql":
            assert session.execute(sa.text("SHOW synchronous_commit")).scalar_one() == "off"
        else:
            assert session.execute(sa.text("PRAGMA synchronous")).scalar_one() == 1  # NORMAL
    for _ in range(3):  # whichever pooled connection comes next commits durably again
        assert _commit_waits_for_disk(engine)
