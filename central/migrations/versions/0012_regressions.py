"""regressions (change points that made a watched branch worse) and events.reason

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "regressions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "org_id", sa.Integer(), sa.ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "project_id", sa.Integer(), sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("branch", sa.String(500), nullable=False),
        sa.Column("benchmark", sa.String(1000), nullable=False),
        sa.Column("measure", sa.String(100), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("series_key", sa.String(64), nullable=False),
        sa.Column("unit", sa.String(50), nullable=False),
        sa.Column("direction", sa.String(10), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("commit", sa.String(100), nullable=False),
        sa.Column("previous_commit", sa.String(100), nullable=True),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("before", sa.Float(), nullable=False),
        sa.Column("after", sa.Float(), nullable=False),
        sa.Column("change", sa.Float(), nullable=False),
        sa.Column("change_low", sa.Float(), nullable=False),
        sa.Column("change_high", sa.Float(), nullable=False),
        sa.Column("p_value", sa.Float(), nullable=False),
        sa.Column("runs_before", sa.Integer(), nullable=False),
        sa.Column("runs_after", sa.Integer(), nullable=False),
        sa.Column("fixed_commit", sa.String(100), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_regressions_org_id", "regressions", ["org_id"])
    op.create_index("ix_regressions_state", "regressions", ["state"])
    op.create_index("ix_regressions_series", "regressions", ["project_id", "target", "branch", "series_key"])
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("reason")
    op.drop_table("regressions")
