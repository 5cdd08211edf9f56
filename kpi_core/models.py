"""SQLModel tables. Every instant is an aware UTC datetime; every calendar date is local to the team."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, get_args

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

from kpi_core.config_schema import CaseKind


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and hands them back aware, on SQLite too (which drops the offset)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given; store aware datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc_column(*, nullable: bool, index: bool = False) -> Any:
    return sa.Column(UTCDateTime(), nullable=nullable, index=index)


#: the length of a user's name or Slack id in submissions and the audit trail
USER_CHARS = 64


class Submission(SQLModel, table=True):
    """Who handed in a batch of data, when and how (a Slack form, a CSV file, the demo)."""

    id: int | None = Field(default=None, primary_key=True)
    team: str | None = Field(default=None, max_length=64, index=True)
    kind: str = Field(max_length=32)
    source: str = Field(max_length=255)  # slack, csv:<file name>, demo
    form: str | None = Field(default=None, max_length=64)  # the Slack form a measures submission came from
    submitted_by: str = Field(max_length=USER_CHARS)  # a Slack user id from Slack, a name from the CLI
    submitted_at: datetime = Field(sa_column=_utc_column(nullable=False))
    row_count: int = 0
    withdrawn_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    withdrawn_by: str | None = Field(default=None, max_length=USER_CHARS)
    #: the SHA-256 of an imported file's bytes: the same file imported again is recognised by it
    content_hash: str | None = Field(default=None, max_length=64, index=True)


class SurveyResponse(SQLModel, table=True):
    __tablename__ = "survey_response"
    __table_args__ = (
        sa.Index("ix_survey_response_team_submitted_at", "team", "submitted_at"),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name="ck_survey_response_score"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team: str = Field(max_length=64)
    submitted_at: datetime = Field(sa_column=_utc_column(nullable=False))
    score: int
    submission_id: int | None = Field(default=None, foreign_key="submission.id")


class MeasureValue(SQLModel, table=True):
    __tablename__ = "measure_value"
    __table_args__ = (
        sa.Index("ix_measure_value_team_on_date", "team", "on_date", "measure"),
        # one person's KPIs read only their rows (a personal scorecard among millions)
        sa.Index("ix_measure_value_person_on_date", "person", "on_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team: str = Field(max_length=64)
    measure: str = Field(max_length=64)
    on_date: date
    value: float
    submission_id: int | None = Field(default=None, foreign_key="submission.id")
    #: the person the value was recorded for (a configured person of the team), None for the team as a whole
    person: str | None = Field(default=None, max_length=USER_CHARS)


class CustomerCase(SQLModel, table=True):
    __tablename__ = "customer_case"
    __table_args__ = (
        sa.Index("ix_customer_case_team_kind_raised_at", "team", "kind", "raised_at"),
        # the cases whose target time the clock crossed lately, over every team (kpi_core/alert_sweep.py)
        sa.Index("ix_customer_case_kind_raised_at", "kind", "raised_at"),
        sa.Index("ix_customer_case_person_kind_raised_at", "person", "kind", "raised_at"),
        sa.CheckConstraint(f"kind IN {get_args(CaseKind)!r}", name="ck_customer_case_kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team: str = Field(max_length=64)
    kind: str = Field(max_length=16)
    raised_at: datetime = Field(sa_column=_utc_column(nullable=False))
    first_response_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    resolved_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    submission_id: int | None = Field(default=None, foreign_key="submission.id")
    #: who handled the case (a configured person of the team), if anyone in particular
    person: str | None = Field(default=None, max_length=USER_CHARS)


class Milestone(SQLModel, table=True):
    __table_args__ = (
        sa.Index("ix_milestone_team_due_on", "team", "due_on"),
        sa.Index("ix_milestone_person_due_on", "person", "due_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team: str = Field(max_length=64)
    project: str = Field(max_length=255)
    name: str = Field(max_length=255)
    due_on: date
    completed_on: date | None = None
    budget: float | None = None
    actual_cost: float | None = None
    submission_id: int | None = Field(default=None, foreign_key="submission.id")
    #: the milestone's owner (a configured person of the team), if anyone in particular
    person: str | None = Field(default=None, max_length=USER_CHARS)


class PersonalTarget(SQLModel, table=True):
    """A person's target for one KPI of their position in one period (目标设定): proposed by the person,
    agreed by their direct superior (as proposed, or adjusted with a reason). ``agreed`` stays in force
    while a newer proposal waits (``pending``); every step is in the audit trail."""

    __tablename__ = "personal_target"
    __table_args__ = (sa.UniqueConstraint("person", "period", "kpi", name="ux_personal_target_person_period_kpi"),)

    id: int | None = Field(default=None, primary_key=True)
    person: str = Field(max_length=USER_CHARS)
    team: str = Field(max_length=64, index=True)
    period: str = Field(max_length=16)  # a period label: 2026-Q4, 2026-11, 2026-W48
    kpi: str = Field(max_length=64)
    proposed: float
    proposed_at: datetime = Field(sa_column=_utc_column(nullable=False))
    pending: bool = True
    agreed: float | None = None
    decided_by: str | None = Field(default=None, max_length=USER_CHARS)
    decided_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    reason: str | None = Field(default=None, max_length=500)


class AuditEntry(SQLModel, table=True):
    """One change to stored data: who, when, what it was and what it became (nothing changes silently)."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=_utc_column(nullable=False))
    user: str = Field(max_length=USER_CHARS)
    team: str | None = Field(default=None, max_length=64, index=True)
    action: str = Field(max_length=32)  # replace | update | withdraw
    entity: str = Field(max_length=32)  # the table of the changed row
    entity_id: int | None = None
    submission_id: int | None = Field(default=None, index=True)
    old: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON, nullable=True))
    new: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON, nullable=True))


class ProcessedRequest(SQLModel, table=True):
    """A Slack request already handled (a view's id + hash, an event id): makes retries and double clicks
    store once. Claimed in the same transaction as the data it produced."""

    __tablename__ = "processed_request"

    key: str = Field(primary_key=True, max_length=255)
    at: datetime = Field(sa_column=_utc_column(nullable=False))


class Delivery(SQLModel, table=True):
    """The delivery ledger: one row per message that must reach Slack exactly once (a digest, a summary,
    a scorecard, a reminder, an alert). Claimed (pending) and committed before sending, then marked sent
    with the Slack ts; the unique key makes a second claimant, in this process or another, back off."""

    __table_args__ = (sa.Index("ix_delivery_state_claimed_at", "state", "claimed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=255, unique=True)
    kind: str = Field(max_length=32)
    team: str | None = Field(default=None, max_length=64)
    subject: str = Field(max_length=128)  # a period label, an alert id, ...
    state: str = Field(max_length=16)  # pending | sent | failed
    attempts: int = 1
    claimed_by: str = Field(max_length=128)
    claimed_at: datetime = Field(sa_column=_utc_column(nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    channel: str | None = Field(default=None, max_length=64)
    ts: str | None = Field(default=None, max_length=32)
    error: str | None = Field(default=None, max_length=255)


class Alert(SQLModel, table=True):
    """One breach episode of a team's KPI (``case_id`` None) or of a single case: opened when it crosses
    into breach, resolved when it recovers. At most one open alert per team and KPI, and per case and KPI
    (partial unique indexes; a case watched by two KPIs, response and resolution, can be alerted by each)."""

    __table_args__ = (
        sa.Index(
            "ux_alert_open_kpi",
            "team",
            "kpi",
            unique=True,
            sqlite_where=sa.text("resolved_at IS NULL AND case_id IS NULL"),
            postgresql_where=sa.text("resolved_at IS NULL AND case_id IS NULL"),
        ),
        sa.Index(
            "ux_alert_open_case",
            "case_id",
            "kpi",
            unique=True,
            sqlite_where=sa.text("resolved_at IS NULL AND case_id IS NOT NULL"),
            postgresql_where=sa.text("resolved_at IS NULL AND case_id IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    team: str = Field(max_length=64)
    kpi: str = Field(max_length=64)
    # no foreign key: a withdrawn case is deleted, and its alert then recovers (see alert_rules)
    case_id: int | None = None
    value: float | None = None
    threshold: float
    opened_at: datetime = Field(sa_column=_utc_column(nullable=False))
    resolved_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    resolved_value: float | None = None


class DataVersion(SQLModel, table=True):
    """One row whose counter every write transaction increments: a cached report stays valid exactly as
    long as the counter has not moved (ids are no such signal on PostgreSQL: they do not follow commit
    order). The increment's row lock also orders concurrent writers."""

    __tablename__ = "data_version"

    id: int = Field(default=1, primary_key=True)
    version: int = 0


class AlertHandling(SQLModel, table=True):
    """How people handle an open alert: who acknowledged it, who owns it, until when it is snoozed. One
    row per alert, created at its first action; every action is also in the audit trail."""

    __tablename__ = "alert_handling"

    alert_id: int = Field(primary_key=True, foreign_key="alert.id")
    team: str = Field(max_length=64, index=True)
    acknowledged_by: str | None = Field(default=None, max_length=USER_CHARS)
    acknowledged_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    owner: str | None = Field(default=None, max_length=USER_CHARS)
    snoozed_until: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    snoozed_by: str | None = Field(default=None, max_length=USER_CHARS)


#: the length of a corrective action's root cause and action texts
ACTION_TEXT_CHARS = 1000


class CorrectiveAction(SQLModel, table=True):
    """A fix for a KPI off target (持续改进): root cause, action, owner, due date. Closed only once the KPI
    has been met for two periods in a row (kpi_core.actions); ``note`` says why it was reopened."""

    __tablename__ = "corrective_action"
    __table_args__ = (sa.Index("ix_corrective_action_team_status", "team", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    team: str = Field(max_length=64)
    kpi: str = Field(max_length=64)
    alert_id: int | None = Field(default=None, foreign_key="alert.id")
    root_cause: str = Field(max_length=ACTION_TEXT_CHARS)
    action: str = Field(max_length=ACTION_TEXT_CHARS)
    owner: str = Field(max_length=USER_CHARS)
    due_on: date
    status: str = Field(default="open", max_length=16)  # open | closed
    opened_by: str = Field(max_length=USER_CHARS)
    opened_at: datetime = Field(sa_column=_utc_column(nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    note: str | None = Field(default=None, max_length=500)


class DataChange(SQLModel, table=True):
    """What one write transaction changed: a team's data (None: any team's) on the local dates
    ``first_day``..``last_day`` (None: any date), stamped with the data version that write moved to. Shared
    reports (kpi_core/shared_reports.py) recompute only the teams and periods it touches; the version, not
    the id, orders changes, because the version's row lock orders writers by commit."""

    __tablename__ = "data_change"

    id: int | None = Field(default=None, primary_key=True)
    version: int = Field(index=True)
    team: str | None = Field(default=None, max_length=64)
    first_day: date | None = None
    last_day: date | None = None


class Absence(SQLModel, table=True):
    """A lead away from ``first_day`` to ``last_day`` (local dates, both included), recorded with
    ``/kpi away``: their reminders and escalations go to a stand-in meanwhile (kpi_core.absence)."""

    __table_args__ = (
        sa.Index("ix_absence_user_id_last_day", "user_id", "last_day"),
        sa.CheckConstraint("first_day <= last_day", name="ck_absence_days_in_order"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=USER_CHARS)  # the Slack user id of the lead away
    first_day: date
    last_day: date
    recorded_by: str = Field(max_length=USER_CHARS)
    recorded_at: datetime = Field(sa_column=_utc_column(nullable=False))


# registers the review, verification, annual plan, period close and appeal tables on the same metadata
from kpi_core import appeal_models, close_models, plan_models, review_models, verification_models  # noqa: E402, F401
