"""period close

The frozen results of a closed period (issue 12): each close or correction of a period is a revision
(period_close) holding every team's and person's result (closed_result); a reopening is recorded on the
revision it reopens.

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import kpi_core.models

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "period_close",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("scheme", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("made_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("made_at", kpi_core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("change", sa.JSON(), nullable=True),
        sa.Column("reopened_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("reopened_at", kpi_core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reopen_reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.CheckConstraint("kind IN ('close', 'correction')", name="ck_period_close_kind"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("period", "revision", name="uq_period_close_revision"),
    )
    op.create_index("ix_period_close_period", "period_close", ["period"], unique=False)
    op.create_table(
        "closed_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("close_id", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("team", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("grade", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("pay_factor", sa.Float(), nullable=True),
        sa.Column("verified_share", sa.Float(), nullable=True),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("parts", sa.JSON(), nullable=True),
        sa.Column("rewards", sa.JSON(), nullable=False),
        sa.CheckConstraint("subject_kind IN ('team', 'person')", name="ck_closed_result_subject_kind"),
        sa.ForeignKeyConstraint(["close_id"], ["period_close.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("close_id", "subject_kind", "subject", name="uq_closed_result_subject"),
    )
    op.create_index("ix_closed_result_close_id", "closed_result", ["close_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_closed_result_close_id", table_name="closed_result")
    op.drop_table("closed_result")
    op.drop_index("ix_period_close_period", table_name="period_close")
    op.drop_table("period_close")
