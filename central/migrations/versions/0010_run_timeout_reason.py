"""runs.timeout_seconds (what the runner allows the run) and runs.reason ('abandoned')

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("timeout_seconds", sa.Float(), nullable=True))
        batch.add_column(sa.Column("reason", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("reason")
        batch.drop_column("timeout_seconds")
