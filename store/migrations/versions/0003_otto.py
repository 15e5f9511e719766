"""otto: the traffic simulator's runs, agents, populations, generation checkpoints and agent stats

Revision ID: 0003_otto
Revises: 0002_ads
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_otto"
down_revision = "0002_ads"
branch_labels = None
depends_on = None

RUN = sa.String(100)
AGENT = sa.String(100)


def upgrade() -> None:
    op.create_table(
        "otto_runs",
        sa.Column("run_id", RUN, primary_key=True),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("spec_json", sa.Text(), nullable=False),
    )
    op.create_table(
        "otto_run_agents",
        sa.Column("run_id", RUN, primary_key=True),
        sa.Column("agent_id", AGENT, primary_key=True),
        sa.Column("address", sa.String(100), nullable=False),
        sa.Column("joined_generation", sa.Integer(), nullable=False, index=True),
    )
    op.create_table(
        "otto_populations",
        sa.Column("run_id", RUN, primary_key=True),
        sa.Column("generation", sa.Integer(), primary_key=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("members_json", sa.Text(), nullable=False),
    )
    op.create_table(
        "otto_generations",
        sa.Column("run_id", RUN, primary_key=True),
        sa.Column("generation", sa.Integer(), primary_key=True),
        sa.Column("population_size", sa.Integer(), nullable=False),
        sa.Column("lifecycles", sa.Integer(), nullable=False),
        sa.Column("completed", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("fitness_avg", sa.Float(), nullable=False),
        sa.Column("fitness_max", sa.Float(), nullable=False),
        sa.Column("fitness_min", sa.Float(), nullable=False),
        sa.Column("mutation_rate", sa.Float(), nullable=False),
        sa.Column("diversity", sa.Float(), nullable=False),
        sa.Column("stats_json", sa.Text(), nullable=False),
        sa.Column("lifecycles_json", sa.Text(), nullable=False),
        sa.Column("ledger_seq", sa.BigInteger(), nullable=True),
        sa.Column("entry_hash", sa.String(64), nullable=True),
    )
    op.create_table(
        "otto_agent_stats",
        sa.Column("run_id", RUN, primary_key=True),
        sa.Column("generation", sa.Integer(), primary_key=True),
        sa.Column("agent_id", AGENT, primary_key=True),
        sa.Column("traits_json", sa.Text(), nullable=False),
        sa.Column("fibers_initiated", sa.Integer(), nullable=False),
        sa.Column("fibers_completed", sa.Integer(), nullable=False),
        sa.Column("fibers_failed", sa.Integer(), nullable=False),
        sa.Column("attestations_made", sa.Integer(), nullable=False),
        sa.Column("attestations_received", sa.Integer(), nullable=False),
        sa.Column("counterparties_json", sa.Text(), nullable=False),
        sa.Column("fiber_types_json", sa.Text(), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("earnings", sa.BigInteger(), nullable=False),
        sa.Column("reputation", sa.BigInteger(), nullable=False),
        sa.Column("fitness", sa.Float(), nullable=False),
        sa.Column("fitness_json", sa.Text(), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("next_traits_json", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    for table in ("otto_agent_stats", "otto_generations", "otto_populations", "otto_run_agents", "otto_runs"):
        op.drop_table(table)
