"""cases by kind and time

The alert sweep re-evaluated every team every 30 s. It now re-evaluates only the teams whose data moved
(the change log, data_change) and, for every other team, the cases whose target time the clock crossed
since the last sweep: an index on (kind, raised_at) finds those without scanning every case.

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_customer_case_kind_raised_at", "customer_case", ["kind", "raised_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_customer_case_kind_raised_at", table_name="customer_case")
