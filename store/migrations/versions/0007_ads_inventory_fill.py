"""ads: each product-day's true fill rate beside its avails (the seed's inventory_reality.actual_fill_rate)

Revision ID: 0007_ads_inventory_fill
Revises: 0006_otto_generation_times
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_ads_inventory_fill"
down_revision = "0006_otto_generation_times"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: studies registered before inventory varied by day recorded avails only.
    op.add_column("ads_inventory", sa.Column("fill_rate", sa.Float(), nullable=True))


def downgrade() -> None:
    op.drop_column("ads_inventory", "fill_rate")
