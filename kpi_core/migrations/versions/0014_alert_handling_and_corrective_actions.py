"""alert handling (acknowledge, assign, snooze) and corrective actions

An alert's handling is one row per alert (who acknowledged it, who owns it, until when it is snoozed);
a corrective action is a root cause, an action, an owner and a due date for a KPI off target. Both are
new tables; every change to them is in the audit trail.

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import kpi_core.models

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_handling",
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("team", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("acknowledged_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("acknowledged_at", kpi_core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("snoozed_until", kpi_core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("snoozed_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["alert.id"]),
        sa.PrimaryKeyConstraint("alert_id"),
    )
    with op.batch_alter_table("alert_handling", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_handling_team"), ["team"], unique=False)

    op.create_table(
        "corrective_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kpi", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("root_cause", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("opened_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("opened_at", kpi_core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", kpi_core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["alert.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("corrective_action", schema=None) as batch_op:
        batch_op.create_index("ix_corrective_action_team_status", ["team", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("corrective_action", schema=None) as batch_op:
        batch_op.drop_index("ix_corrective_action_team_status")
    op.drop_table("corrective_action")
    with op.batch_alter_table("alert_handling", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_handling_team"))
    op.drop_table("alert_handling")
