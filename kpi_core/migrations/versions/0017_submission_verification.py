"""submission verification

A verifier checks submitted data before it counts: a submission is pending (no row), verified or queried.
One row per submission holds the latest state; every transition is also in the audit trail.

Revision ID: 0017
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import kpi_core.models

revision: str = "0017"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "submission_verification",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("changed_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("changed_at", kpi_core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("queried_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("queried_at", kpi_core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("corrected_by", sa.Integer(), nullable=True),
        sa.CheckConstraint("state IN ('pending', 'verified', 'queried')", name="ck_submission_verification_state"),
        sa.ForeignKeyConstraint(["submission_id"], ["submission.id"]),
        sa.PrimaryKeyConstraint("submission_id"),
    )
    with op.batch_alter_table("submission_verification", schema=None) as batch_op:
        batch_op.create_index("ix_submission_verification_state", ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("submission_verification", schema=None) as batch_op:
        batch_op.drop_index("ix_submission_verification_state")
    op.drop_table("submission_verification")
