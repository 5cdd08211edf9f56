"""real columns for a submission's form and an alert's case

Submissions from a Slack form recorded the form in ``source`` as ``slack:<form>``, and case alerts
named their case in ``subject`` as ``case:<id>``; both are columns now, and existing rows are moved.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("resolved_at IS NULL")
OPEN_KPI = sa.text("resolved_at IS NULL AND case_id IS NULL")
OPEN_CASE = sa.text("resolved_at IS NULL AND case_id IS NOT NULL")
SLACK_PREFIX = len("slack:")
CASE_PREFIX = len("case:")


def upgrade() -> None:
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.add_column(sa.Column("form", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.execute(
        f"UPDATE submission SET form = substr(source, {SLACK_PREFIX + 1}), source = 'slack' WHERE source LIKE 'slack:%'"
    )

    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_id", sa.Integer(), nullable=True))
    op.execute(
        f"UPDATE alert SET case_id = CAST(substr(subject, {CASE_PREFIX + 1}) AS INTEGER) WHERE subject LIKE 'case:%'"
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index("ux_alert_open_subject", sqlite_where=OPEN, postgresql_where=OPEN)
        batch_op.drop_column("subject")
        batch_op.create_index(
            "ux_alert_open_kpi", ["team", "kpi"], unique=True, sqlite_where=OPEN_KPI, postgresql_where=OPEN_KPI
        )
        batch_op.create_index(
            "ux_alert_open_case", ["case_id", "kpi"], unique=True, sqlite_where=OPEN_CASE, postgresql_where=OPEN_CASE
        )


def downgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.execute("UPDATE alert SET subject = kpi WHERE case_id IS NULL")
    op.execute("UPDATE alert SET subject = 'case:' || CAST(case_id AS VARCHAR) WHERE case_id IS NOT NULL")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.alter_column("subject", existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False)
        batch_op.drop_index("ux_alert_open_case", sqlite_where=OPEN_CASE, postgresql_where=OPEN_CASE)
        batch_op.drop_index("ux_alert_open_kpi", sqlite_where=OPEN_KPI, postgresql_where=OPEN_KPI)
        batch_op.drop_column("case_id")
        batch_op.create_index(
            "ux_alert_open_subject", ["team", "subject", "kpi"], unique=True, sqlite_where=OPEN, postgresql_where=OPEN
        )

    op.execute("UPDATE submission SET source = 'slack:' || form WHERE form IS NOT NULL")
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_column("form")
