"""ledger: hash-chained entries and chain heads

Revision ID: 0001_ledger
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_ledger"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("chain_id", sa.String(200), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("payload_json", sa.Text(), nullable=False),
        sa.Column("payload_hash", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("sim_time", sa.BigInteger(), nullable=False),
        sa.Column("idempotency_key", sa.String(300), nullable=False),
        sa.UniqueConstraint("chain_id", "seq", name="uq_ledger_chain_seq"),
        sa.UniqueConstraint("idempotency_key", name="uq_ledger_idempotency_key"),
    )
    op.create_index("ix_ledger_entries_chain_id", "ledger_entries", ["chain_id"])
    op.create_table(
        "ledger_heads",
        sa.Column("chain_id", sa.String(200), primary_key=True),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ledger_heads")
    op.drop_index("ix_ledger_entries_chain_id", table_name="ledger_entries")
    op.drop_table("ledger_entries")
