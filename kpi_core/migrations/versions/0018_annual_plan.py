"""annual plan

Each proposed year plan of a team's KPI (the year's target and its 12 monthly targets), proposed by one of
management and approved or rejected by another (issue 12).

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import kpi_core.models

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "annual_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("team", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kpi", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("months", sa.JSON(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("proposed_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("proposed_at", kpi_core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("decided_at", kpi_core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.CheckConstraint(
            "state IN ('proposed', 'approved', 'rejected', 'replaced', 'superseded')", name="ck_annual_plan_state"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_annual_plan_year_team_kpi_state", "annual_plan", ["year", "team", "kpi", "state"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_annual_plan_year_team_kpi_state", table_name="annual_plan")
    op.drop_table("annual_plan")
