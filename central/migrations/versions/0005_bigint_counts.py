"""results: iterations and sample counts as 64-bit (Go's -count sums pass 2^31)

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.alter_column("iterations", existing_type=sa.Integer(), type_=sa.BigInteger())
        batch_op.alter_column("sample_count", existing_type=sa.Integer(), type_=sa.BigInteger())


def downgrade() -> None:
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.alter_column("sample_count", existing_type=sa.BigInteger(), type_=sa.Integer())
        batch_op.alter_column("iterations", existing_type=sa.BigInteger(), type_=sa.Integer())
