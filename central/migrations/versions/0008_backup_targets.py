"""backup_targets: each organization's S3 bucket and retention

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "backup_targets",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("endpoint_url", sa.String(length=2000), nullable=True),
        sa.Column("bucket", sa.String(length=255), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=500), nullable=False),
        sa.Column("access_key_id", sa.String(length=500), nullable=True),
        sa.Column("secret_access_key", sa.String(length=500), nullable=True),
        sa.Column("keep_last", sa.Integer(), nullable=False),
        sa.Column("keep_days", sa.Integer(), nullable=True),
        sa.Column("last_success_at", sa.DateTime(), nullable=True),
        sa.Column("last_duration_seconds", sa.Float(), nullable=True),
        sa.Column("last_bytes", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("org_id"),
    )


def downgrade() -> None:
    op.drop_table("backup_targets")
