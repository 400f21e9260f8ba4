"""nodes.job_labels, nodes.polled_at: what an agent asks for jobs with, and when it last did
(so central can say why a queued job waits)

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("nodes") as batch:
        batch.add_column(sa.Column("job_labels", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("polled_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("nodes") as batch:
        batch.drop_column("polled_at")
        batch.drop_column("job_labels")
