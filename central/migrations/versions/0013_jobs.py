"""jobs: runs queued for benchmark machines, claimed by one agent per attempt

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("run_id", sa.String(36), sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column(
            "org_id", sa.Integer(), sa.ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("repository_url", sa.String(2000), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("requirements", sa.JSON(), nullable=False),
        sa.Column("exclusive", sa.Boolean(), nullable=False),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("bundle", sa.LargeBinary(), nullable=True),
        sa.Column("bundle_commit", sa.String(100), nullable=True),
        sa.Column("node_id", sa.String(64), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=True, unique=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_jobs_queue", "jobs", ["org_id", "node_id"])
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("output_chars", sa.Integer(), nullable=True))
    with op.batch_alter_table("nodes") as batch:
        batch.add_column(sa.Column("drained", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("nodes") as batch:
        batch.drop_column("drained")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("output_chars")
    op.drop_index("ix_jobs_queue", "jobs")
    op.drop_table("jobs")
