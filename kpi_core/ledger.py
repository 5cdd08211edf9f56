"""The delivery ledger: claim a message before sending it, mark it sent after, so nothing goes out twice.

A claim is an INSERT that does nothing when the key exists, committed before the message is sent; a
second sender (a retry, a restarted process, another replica) finds the row and backs off. A claim left
pending longer than ``stale_after`` belongs to a sender that died: it may be taken over, once, by an
UPDATE that only one claimant can win; the taker must first check whether the message reached Slack.

A delivery in several parts (a message too long for one post) has an entry for the whole, sent only
once every part is, and one entry per part, keyed ``<key of the whole>#part<n>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select

from kpi_core.db import transaction
from kpi_core.models import Delivery

PENDING, SENT, FAILED = "pending", "sent", "failed"


@dataclass(frozen=True)
class Claim:
    key: str
    taken_over: bool  # True: a crashed sender's claim; look for its message before sending again


def delivery_key(kind: str, team: str | None, subject: str) -> str:
    return f"{kind}:{team or '*'}:{subject}"


def delivery_key_sql(kind: str, team: sa.ColumnElement[str], subject: sa.ColumnElement[Any]) -> sa.ColumnElement[str]:
    """``delivery_key`` as a SQL expression of columns (a team that is never None), to join rows to their
    deliveries in one statement."""
    return sa.literal(f"{kind}:") + team + sa.literal(":") + sa.cast(subject, sa.String)


def part_subject(subject: str, number: int) -> str:
    """The subject of part ``number`` (from 1) of a delivery in parts: its key is the whole's + "#part<n>"."""
    return f"{subject}#part{number}"


def claim(
    engine: sa.Engine,
    *,
    kind: str,
    team: str | None,
    subject: str,
    owner: str,
    now: datetime,
    stale_after: timedelta,
) -> Claim | None:
    """Claims the delivery (committed on return), or None when it is sent, failed, or being sent."""
    key = delivery_key(kind, team, subject)
    values = {
        "key": key,
        "kind": kind,
        "team": team,
        "subject": subject,
        "state": PENDING,
        "attempts": 1,
        "claimed_by": owner,
        "claimed_at": now,
    }
    table = Delivery.__table__  # type: ignore[attr-defined]
    with transaction(engine) as session:
        dialect = session.get_bind().dialect.name
        insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
        # RETURNING, not rowcount: with an implicit RETURNING (PostgreSQL) an INSERT's rowcount is -1
        inserted = session.execute(
            insert.values(**values).on_conflict_do_nothing(index_elements=["key"]).returning(table.c.id)
        )
        if inserted.first() is not None:
            return Claim(key, taken_over=False)
        taken = session.execute(
            sa.update(table)
            .where(table.c.key == key, table.c.state == PENDING, table.c.claimed_at < now - stale_after)
            .values(claimed_by=owner, claimed_at=now, attempts=table.c.attempts + 1)
        )
        return Claim(key, taken_over=True) if taken.rowcount == 1 else None  # type: ignore[attr-defined]


def mark_sent(engine: sa.Engine, *, key: str, now: datetime, channel: str | None, ts: str | None) -> None:
    """Records the delivery as sent. Not flushed to disk before returning (``transaction(durable=False)``):
    should a power cut lose the mark, the claim is left pending, exactly as when the sender dies between
    posting and marking, and whoever takes the stale claim over finds the message in Slack first. The
    claim itself is durable: a lost claim would let the message be posted again."""
    with transaction(engine, durable=False) as session:
        session.execute(
            sa.update(Delivery).where(col(Delivery.key) == key).values(state=SENT, sent_at=now, channel=channel, ts=ts)
        )


def mark_failed(engine: sa.Engine, *, key: str, error: str) -> None:
    """A permanent failure (a deleted channel, a missing scope): never retried, shown to the admins."""
    with transaction(engine) as session:
        session.execute(sa.update(Delivery).where(col(Delivery.key) == key).values(state=FAILED, error=error[:255]))


def find(engine: sa.Engine, *, key: str) -> Delivery | None:
    with transaction(engine) as session:
        return session.exec(select(Delivery).where(Delivery.key == key)).first()


def pending_ending(engine: sa.Engine, *, kind: str, team: str | None, ending: str) -> bool:
    """Whether a delivery of ``kind`` to ``team`` whose subject ends with ``ending`` is still pending: a
    transient Slack error left its claim (retried once it is stale), or a sender is on it now. Found
    through the pending rows (the state index), so it costs little however long the ledger grows."""
    query = select(Delivery.id).where(
        Delivery.state == PENDING,
        Delivery.kind == kind,
        Delivery.team == team,
        col(Delivery.subject).endswith(ending, autoescape=True),
    )
    with transaction(engine) as session:
        return session.exec(query.limit(1)).first() is not None
