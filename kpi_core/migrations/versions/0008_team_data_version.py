"""per-team data versions, and cases by kind and time

The alert sweep re-evaluated every team every 30 s. Each write now also moves its teams' own counter, so
a sweep re-evaluates only the teams whose data moved since the last one; and an index on (kind,
raised_at) finds the cases whose target time the clock crossed since then without scanning every case.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "team_data_version",
        sa.Column("team", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("team"),
    )
    op.create_index("ix_customer_case_kind_raised_at", "customer_case", ["kind", "raised_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_customer_case_kind_raised_at", table_name="customer_case")
    op.drop_table("team_data_version")
