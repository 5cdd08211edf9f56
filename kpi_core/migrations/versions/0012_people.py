"""people: the person a record belongs to, and personal targets

A case (handled by), a measure value (recorded for) and a milestone (owner) may name a configured person;
their personal KPIs are computed from those rows. ``personal_target`` holds each person's proposed and
agreed target per KPI and period (issue 11).

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import kpi_core.models

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: table -> the index of one person's rows (the scorecard of one person among millions of rows)
_PERSON_INDEXES = {
    "measure_value": ("ix_measure_value_person_on_date", ["person", "on_date"]),
    "customer_case": ("ix_customer_case_person_kind_raised_at", ["person", "kind", "raised_at"]),
    "milestone": ("ix_milestone_person_due_on", ["person", "due_on"]),
}


def upgrade() -> None:
    for table, (index, columns) in _PERSON_INDEXES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("person", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
            batch_op.create_index(index, columns, unique=False)
    op.create_table(
        "personal_target",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("team", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("kpi", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("proposed", sa.Float(), nullable=False),
        sa.Column("proposed_at", kpi_core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("pending", sa.Boolean(), nullable=False),
        sa.Column("agreed", sa.Float(), nullable=True),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("decided_at", kpi_core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("person", "period", "kpi", name="ux_personal_target_person_period_kpi"),
    )
    op.create_index(op.f("ix_personal_target_team"), "personal_target", ["team"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_personal_target_team"), table_name="personal_target")
    op.drop_table("personal_target")
    for table, (index, _columns) in _PERSON_INDEXES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(index)
            batch_op.drop_column("person")
