"""results: failed results (error, no value) and descriptive context

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.alter_column("value", existing_type=sa.Float(), nullable=True)
        batch_op.add_column(sa.Column("error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("context", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    # A failed result has no value to keep in the old schema: it cannot be represented there.
    op.execute("DELETE FROM results WHERE value IS NULL")
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.drop_column("context")
        batch_op.drop_column("error")
        batch_op.alter_column("value", existing_type=sa.Float(), nullable=False)
