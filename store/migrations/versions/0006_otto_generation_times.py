"""otto: when each generation ran (wall clock, apart from the checkpoint's deterministic rows)

Revision ID: 0006_otto_generation_times
Revises: 0005_monero_in_pool
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_otto_generation_times"
down_revision = "0005_monero_in_pool"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "otto_generation_times",
        sa.Column("run_id", sa.String(100), primary_key=True),
        sa.Column("generation", sa.Integer(), primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("otto_generation_times")
