"""monero: when a sent transaction was first seen in its node's pool (issue 10 item 4: sent, in pool, mined)

Revision ID: 0005_monero_in_pool
Revises: 0004_monero
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_monero_in_pool"
down_revision = "0004_monero"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("monero_transactions", sa.Column("in_pool_at_ms", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("monero_transactions", "in_pool_at_ms")
