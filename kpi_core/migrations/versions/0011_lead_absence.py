"""leads' absences (/kpi away)

A lead's reminders and escalations go to a stand-in while the lead is away; the days are recorded here.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from kpi_core.models import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "absence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("recorded_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("first_day <= last_day", name="ck_absence_days_in_order"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_absence_user_id_last_day", "absence", ["user_id", "last_day"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_absence_user_id_last_day", table_name="absence")
    op.drop_table("absence")
