"""ads: experiments, ground truth, deals, deliveries, claims, context events, event log

Revision ID: 0002_ads
Revises: 0001_ledger
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_ads"
down_revision = "0001_ledger"
branch_labels = None
depends_on = None

ID = sa.String(200)
NAME = sa.String(100)


def upgrade() -> None:
    op.create_table(
        "ads_experiments",
        sa.Column("id", ID, primary_key=True),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("spec_json", sa.Text(), nullable=False),
        sa.Column("world_json", sa.Text(), nullable=False),
    )
    op.create_table(
        "ads_inventory",
        sa.Column("experiment_id", ID, primary_key=True),
        sa.Column("product_id", NAME, primary_key=True),
        sa.Column("day", sa.Integer(), primary_key=True),
        sa.Column("seller_id", NAME, nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("avails", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "ads_days",
        sa.Column("experiment_id", ID, primary_key=True),
        sa.Column("scenario", sa.String(1), primary_key=True),
        sa.Column("campaign_id", NAME, primary_key=True),
        sa.Column("day", sa.Integer(), primary_key=True),
    )
    op.create_table(
        "ads_deals",
        sa.Column("experiment_id", ID, primary_key=True),
        sa.Column("scenario", sa.String(1), primary_key=True),
        sa.Column("deal_id", NAME, primary_key=True),
        sa.Column("campaign_id", NAME, nullable=False, index=True),
        sa.Column("buyer_id", NAME, nullable=False),
        sa.Column("seller_id", NAME, nullable=False),
        sa.Column("product_id", NAME, nullable=False),
        sa.Column("deal_type", sa.String(2), nullable=False),
        sa.Column("cpm", sa.BigInteger(), nullable=False),
        sa.Column("daily_impressions", sa.BigInteger(), nullable=False),
        sa.Column("start_day", sa.Integer(), nullable=False),
        sa.Column("end_day", sa.Integer(), nullable=False),
        sa.Column("rounds", sa.Integer(), nullable=False),
        sa.Column("created_day", sa.Integer(), nullable=False),
    )
    op.create_table(
        "ads_deliveries",
        sa.Column("experiment_id", ID, primary_key=True),
        sa.Column("scenario", sa.String(1), primary_key=True),
        sa.Column("deal_id", NAME, primary_key=True),
        sa.Column("day", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", NAME, nullable=False, index=True),
        sa.Column("seller_id", NAME, nullable=False),
        *(
            sa.Column(name, sa.BigInteger(), nullable=False)
            for name in (
                "impressions",
                "reported",
                "clicks",
                "conversions",
                "viewable",
                "buyer_spend",
                "seller_revenue",
                "exchange_fee",
            )
        ),
    )
    op.create_table(
        "ads_claims",
        sa.Column("experiment_id", ID, primary_key=True),
        sa.Column("scenario", sa.String(1), primary_key=True),
        sa.Column("claim_id", sa.String(150), primary_key=True),
        sa.Column("campaign_id", NAME, nullable=False, index=True),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("agent_id", NAME, nullable=False),
        sa.Column("agent_type", sa.String(10), nullable=False),
        sa.Column("claim_type", sa.String(20), nullable=False),
        sa.Column("subject", sa.String(150), nullable=False),
        sa.Column("claimed", sa.BigInteger(), nullable=False),
        sa.Column("actual", sa.BigInteger(), nullable=False),
        sa.Column("injected", sa.Boolean(), nullable=False),
        sa.Column("checked", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "ads_context_events",
        sa.Column("experiment_id", ID, primary_key=True),
        sa.Column("scenario", sa.String(1), primary_key=True),
        sa.Column("campaign_id", NAME, primary_key=True),
        sa.Column("day", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(10), primary_key=True),
        sa.Column("agent_id", NAME, nullable=False),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in (
                "items_before",
                "items_lost",
                "items_recovered",
                "recovered_correctly",
            )
        ),
    )
    op.create_table(
        "ads_events",
        sa.Column("experiment_id", ID, primary_key=True),
        sa.Column("scenario", sa.String(1), primary_key=True),
        sa.Column("campaign_id", NAME, primary_key=True),
        sa.Column("day", sa.Integer(), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("data_json", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "ads_events",
        "ads_context_events",
        "ads_claims",
        "ads_deliveries",
        "ads_deals",
        "ads_days",
        "ads_inventory",
        "ads_experiments",
    ):
        op.drop_table(table)
