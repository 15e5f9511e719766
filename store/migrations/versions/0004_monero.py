"""monero: runs, blocks, transactions, balances, propagation samples, marketplace reconciliations

Revision ID: 0004_monero
Revises: 0003_otto
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_monero"
down_revision = "0003_otto"
branch_labels = None
depends_on = None

RUN = sa.String(100)
NAME = sa.String(64)


def upgrade() -> None:
    op.create_table(
        "monero_runs",
        sa.Column("run_id", RUN, primary_key=True),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("config_json", sa.Text(), nullable=False),
        sa.Column("plan_json", sa.Text(), nullable=False),
        sa.Column("final_height", sa.BigInteger(), nullable=True),
        sa.Column("summary_json", sa.Text(), nullable=True),
    )
    op.create_table(
        "monero_blocks",
        sa.Column("run_id", RUN, primary_key=True),
        sa.Column("height", sa.BigInteger(), primary_key=True),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("pool", NAME, nullable=False),
        sa.Column("node", NAME, nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(10), nullable=False),
        sa.Column("sim_time", sa.BigInteger(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("reward", sa.BigInteger(), nullable=False),
        sa.Column("mined_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("took_ms", sa.Integer(), nullable=False),
        sa.Column("mempool_size", sa.Integer(), nullable=False),
        sa.Column("tx_count", sa.Integer(), nullable=False),
        sa.Column("tx_hashes_json", sa.Text(), nullable=False),
        sa.Column("ledger_seq", sa.BigInteger(), nullable=True),
        sa.Column("entry_hash", sa.String(64), nullable=True),
    )
    op.create_table(
        "monero_transactions",
        sa.Column("run_id", RUN, primary_key=True),
        sa.Column("payment_id", sa.String(200), primary_key=True),
        sa.Column("tx_hash", sa.String(64), nullable=True, index=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("payer", NAME, nullable=False),
        sa.Column("marketplace", NAME, nullable=True),
        sa.Column("vendor_index", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(120), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("sim_time", sa.BigInteger(), nullable=False),
        sa.Column("sent_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("sent_height", sa.BigInteger(), nullable=False),
        sa.Column("mined_height", sa.BigInteger(), nullable=True),
        sa.Column("mined_at_ms", sa.BigInteger(), nullable=True),
        sa.Column("confirmations", sa.Integer(), nullable=True),
    )
    op.create_table(
        "monero_balances",
        sa.Column("run_id", RUN, primary_key=True),
        sa.Column("phase", sa.String(20), primary_key=True),
        sa.Column("wallet", NAME, primary_key=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("height", sa.BigInteger(), nullable=False),
        sa.Column("sim_time", sa.BigInteger(), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("unlocked", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "monero_propagation",
        sa.Column("run_id", RUN, primary_key=True),
        sa.Column("height", sa.BigInteger(), primary_key=True),
        sa.Column("node", NAME, primary_key=True),
        sa.Column("delay_ms", sa.Integer(), nullable=False),
    )
    op.create_table(
        "monero_reconciliations",
        sa.Column("run_id", RUN, primary_key=True),
        sa.Column("marketplace", NAME, primary_key=True),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("vendors_json", sa.Text(), nullable=False),
        sa.Column("missing_json", sa.Text(), nullable=False),
        sa.Column("unexpected_json", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "monero_reconciliations",
        "monero_propagation",
        "monero_balances",
        "monero_transactions",
        "monero_blocks",
        "monero_runs",
    ):
        op.drop_table(table)
