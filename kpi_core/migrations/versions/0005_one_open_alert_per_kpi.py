"""one open alert per team, subject and KPI

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("resolved_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index("ux_alert_open_subject", sqlite_where=OPEN, postgresql_where=OPEN)
        batch_op.create_index(
            "ux_alert_open_subject", ["team", "subject", "kpi"], unique=True, sqlite_where=OPEN, postgresql_where=OPEN
        )


def downgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index("ux_alert_open_subject", sqlite_where=OPEN, postgresql_where=OPEN)
        batch_op.create_index(
            "ux_alert_open_subject", ["team", "subject"], unique=True, sqlite_where=OPEN, postgresql_where=OPEN
        )
