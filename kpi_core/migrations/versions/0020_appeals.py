"""appeals

Appeals (申诉) against a closed period's results: the window after a close, one confirmation or appeal per
assessed team or person, and each state change with its reason.

Revision ID: 0020
Revises: 0019
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kpi_core.models import UTCDateTime

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATES = ("confirmed", "submitted", "under_review", "upheld", "rejected")


def upgrade() -> None:
    op.create_table(
        "appeal_window",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_label", sa.String(length=16), nullable=False),
        sa.Column("opened_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("closes_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("period_label"),
    )
    op.create_table(
        "appeal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_label", sa.String(length=16), nullable=False),
        sa.Column("subject_kind", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=1000), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("by_user", sa.String(length=64), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("decide_by", UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("corrected_value", sa.Float(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("period_label", "subject_kind", "subject", name="uq_appeal_subject"),
        sa.CheckConstraint(f"state IN {STATES!r}", name="ck_appeal_state"),
        sa.CheckConstraint("subject_kind IN ('team', 'person')", name="ck_appeal_subject_kind"),
    )
    op.create_index("ix_appeal_state", "appeal", ["state"], unique=False)
    op.create_table(
        "appeal_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appeal_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("by_user", sa.String(length=64), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["appeal_id"], ["appeal.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_appeal_event_appeal_id", "appeal_event", ["appeal_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_appeal_event_appeal_id", table_name="appeal_event")
    op.drop_table("appeal_event")
    op.drop_index("ix_appeal_state", table_name="appeal")
    op.drop_table("appeal")
    op.drop_table("appeal_window")
