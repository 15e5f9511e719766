"""Tables of the results store. Alembic migrations in store/migrations create them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class LedgerRow(Base):
    """One hash-chained entry. Rows are only ever inserted: the chain is the audit trail."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        UniqueConstraint("chain_id", "seq", name="uq_ledger_chain_seq"),
        UniqueConstraint("idempotency_key", name="uq_ledger_idempotency_key"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    chain_id: Mapped[str] = mapped_column(String(200), index=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    payload_json: Mapped[str] = mapped_column(Text)
    payload_hash: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(String(200))
    sim_time: Mapped[int] = mapped_column(BigInteger)
    idempotency_key: Mapped[str] = mapped_column(String(300))


class LedgerHeadRow(Base):
    """Length and last hash of each chain, updated with every append, so truncation is visible."""

    __tablename__ = "ledger_heads"

    chain_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    length: Mapped[int] = mapped_column(BigInteger)
    head_hash: Mapped[str] = mapped_column(String(64))


# --- ads: the study's recorded events and its ground truth --------------------------------------


class AdsExperimentRow(Base):
    """An experiment's inputs: the spec and the generated world (parameters, not findings)."""

    __tablename__ = "ads_experiments"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    seed: Mapped[int] = mapped_column(BigInteger)
    spec_json: Mapped[str] = mapped_column(Text)
    world_json: Mapped[str] = mapped_column(Text)


class AdsInventoryRow(Base):
    """Ground truth: what each product really offered each day. Agents never read it."""

    __tablename__ = "ads_inventory"

    experiment_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_id: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(20))
    avails: Mapped[int] = mapped_column(BigInteger)
    # Share of a non-guaranteed booking served that day; None for studies from before it varied by day.
    fill_rate: Mapped[float | None] = mapped_column(Float, nullable=True)


class AdsDayRow(Base):
    """One recorded campaign-day: its presence makes a retried `ads.record_day` a no-op."""

    __tablename__ = "ads_days"

    experiment_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    scenario: Mapped[str] = mapped_column(String(1), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    day: Mapped[int] = mapped_column(Integer, primary_key=True)


class AdsDealRow(Base):
    __tablename__ = "ads_deals"

    experiment_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    scenario: Mapped[str] = mapped_column(String(1), primary_key=True)
    deal_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(100), index=True)
    buyer_id: Mapped[str] = mapped_column(String(100))
    seller_id: Mapped[str] = mapped_column(String(100))
    product_id: Mapped[str] = mapped_column(String(100))
    deal_type: Mapped[str] = mapped_column(String(2))
    cpm: Mapped[int] = mapped_column(BigInteger)
    daily_impressions: Mapped[int] = mapped_column(BigInteger)
    start_day: Mapped[int] = mapped_column(Integer)
    end_day: Mapped[int] = mapped_column(Integer)
    rounds: Mapped[int] = mapped_column(Integer)
    created_day: Mapped[int] = mapped_column(Integer)


class AdsDeliveryRow(Base):
    """Ground truth of delivery (impressions, clicks…) beside what was reported and paid."""

    __tablename__ = "ads_deliveries"

    experiment_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    scenario: Mapped[str] = mapped_column(String(1), primary_key=True)
    deal_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(100), index=True)
    seller_id: Mapped[str] = mapped_column(String(100))
    impressions: Mapped[int] = mapped_column(BigInteger)
    reported: Mapped[int] = mapped_column(BigInteger)
    clicks: Mapped[int] = mapped_column(BigInteger)
    conversions: Mapped[int] = mapped_column(BigInteger)
    viewable: Mapped[int] = mapped_column(BigInteger)
    buyer_spend: Mapped[int] = mapped_column(BigInteger)
    seller_revenue: Mapped[int] = mapped_column(BigInteger)
    exchange_fee: Mapped[int] = mapped_column(BigInteger)


class AdsClaimRow(Base):
    """Agent claims beside the ground truth; `injected` marks the fabricated set."""

    __tablename__ = "ads_claims"

    experiment_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    scenario: Mapped[str] = mapped_column(String(1), primary_key=True)
    claim_id: Mapped[str] = mapped_column(String(150), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(100), index=True)
    day: Mapped[int] = mapped_column(Integer)
    agent_id: Mapped[str] = mapped_column(String(100))
    agent_type: Mapped[str] = mapped_column(String(10))
    claim_type: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(150))
    claimed: Mapped[int] = mapped_column(BigInteger)
    actual: Mapped[int] = mapped_column(BigInteger)
    injected: Mapped[bool] = mapped_column(Boolean)
    checked: Mapped[bool] = mapped_column(Boolean)


class AdsContextRow(Base):
    __tablename__ = "ads_context_events"

    experiment_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    scenario: Mapped[str] = mapped_column(String(1), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(100))
    items_before: Mapped[int] = mapped_column(Integer)
    items_lost: Mapped[int] = mapped_column(Integer)
    items_recovered: Mapped[int] = mapped_column(Integer)
    recovered_correctly: Mapped[int] = mapped_column(Integer)


class AdsEventRow(Base):
    """The event log, one row per event, in the order the campaign produced them."""

    __tablename__ = "ads_events"

    experiment_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    scenario: Mapped[str] = mapped_column(String(1), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    data_json: Mapped[str] = mapped_column(Text)


# --- otto: the traffic simulator's runs, one checkpoint per generation ----------------------------


class OttoRunRow(Base):
    """A run of the evolving simulator: its seed and the spec it was started with."""

    __tablename__ = "otto_runs"

    run_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    seed: Mapped[int] = mapped_column(BigInteger)
    spec_json: Mapped[str] = mapped_column(Text)


class OttoRunAgentRow(Base):
    """Which wallets of the pool a run took on, and for which generation: a retried allocation finds them."""

    __tablename__ = "otto_run_agents"

    run_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    address: Mapped[str] = mapped_column(String(100))
    joined_generation: Mapped[int] = mapped_column(Integer, index=True)


class OttoPopulationRow(Base):
    """The population that plays a generation: agents, identities, traits (JSON list of members)."""

    __tablename__ = "otto_populations"

    run_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    members_json: Mapped[str] = mapped_column(Text)


class OttoGenerationRow(Base):
    """A generation's checkpoint: its figures, its lifecycles, and the ledger entry that seals them."""

    __tablename__ = "otto_generations"

    run_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, primary_key=True)
    population_size: Mapped[int] = mapped_column(Integer)
    lifecycles: Mapped[int] = mapped_column(Integer)
    completed: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    fitness_avg: Mapped[float] = mapped_column(Float)
    fitness_max: Mapped[float] = mapped_column(Float)
    fitness_min: Mapped[float] = mapped_column(Float)
    mutation_rate: Mapped[float] = mapped_column(Float)
    diversity: Mapped[float] = mapped_column(Float)
    stats_json: Mapped[str] = mapped_column(Text)
    lifecycles_json: Mapped[str] = mapped_column(Text)
    ledger_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    entry_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)


class OttoAgentStatsRow(Base):
    """One agent's generation: the traits it played with, its AgentStats, chain readings, fitness, selection."""

    __tablename__ = "otto_agent_stats"

    run_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    traits_json: Mapped[str] = mapped_column(Text)
    fibers_initiated: Mapped[int] = mapped_column(Integer)
    fibers_completed: Mapped[int] = mapped_column(Integer)
    fibers_failed: Mapped[int] = mapped_column(Integer)
    attestations_made: Mapped[int] = mapped_column(Integer)
    attestations_received: Mapped[int] = mapped_column(Integer)
    counterparties_json: Mapped[str] = mapped_column(Text)
    fiber_types_json: Mapped[str] = mapped_column(Text)
    balance: Mapped[int] = mapped_column(BigInteger)
    earnings: Mapped[int] = mapped_column(BigInteger)
    reputation: Mapped[int] = mapped_column(BigInteger)
    fitness: Mapped[float] = mapped_column(Float)
    fitness_json: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(20))
    rank: Mapped[int] = mapped_column(Integer)
    next_traits_json: Mapped[str | None] = mapped_column(Text, nullable=True)


class OttoGenerationTimeRow(Base):
    """When a generation ran (UTC, the generation workflow's clock): wall-clock times stay out of the
    checkpoint's rows, which the same seed reproduces exactly."""

    __tablename__ = "otto_generation_times"

    run_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# --- monero: a network run's blocks, transactions, balances, propagation and reconciliation -------------


class MoneroRunRow(Base):
    __tablename__ = "monero_runs"

    run_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    seed: Mapped[int] = mapped_column(BigInteger)
    config_json: Mapped[str] = mapped_column(Text)
    plan_json: Mapped[str] = mapped_column(Text)
    final_height: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    summary_json: Mapped[str | None] = mapped_column(Text, nullable=True)


class MoneroBlockRow(Base):
    """A block the run mined: who, when (simulated and wall clock), what it carried, its ledger entry."""

    __tablename__ = "monero_blocks"

    run_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    height: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hash: Mapped[str] = mapped_column(String(64))
    pool: Mapped[str] = mapped_column(String(64))
    node: Mapped[str] = mapped_column(String(64))
    round: Mapped[int] = mapped_column(Integer)
    phase: Mapped[str] = mapped_column(String(10))
    sim_time: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    reward: Mapped[int] = mapped_column(BigInteger)
    mined_at_ms: Mapped[int] = mapped_column(BigInteger)
    took_ms: Mapped[int] = mapped_column(Integer)
    mempool_size: Mapped[int] = mapped_column(Integer)
    tx_count: Mapped[int] = mapped_column(Integer)
    tx_hashes_json: Mapped[str] = mapped_column(Text)
    ledger_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    entry_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)


class MoneroTransactionRow(Base):
    """A payment (or a user's funding): skipped, or sent, seen in the pool (in_pool), mined at a height (mined),
    with its confirmations."""

    __tablename__ = "monero_transactions"

    run_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    payment_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    tx_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(10))
    payer: Mapped[str] = mapped_column(String(64))
    marketplace: Mapped[str | None] = mapped_column(String(64), nullable=True)
    vendor_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    address: Mapped[str] = mapped_column(String(120))
    amount: Mapped[int] = mapped_column(BigInteger)
    fee: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text)
    sim_time: Mapped[int] = mapped_column(BigInteger)
    sent_at_ms: Mapped[int] = mapped_column(BigInteger)
    sent_height: Mapped[int] = mapped_column(BigInteger)
    # Wall clock when the sender's node first reported it in its pool; None if not seen there before mined.
    in_pool_at_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    mined_height: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    mined_at_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    confirmations: Mapped[int | None] = mapped_column(Integer, nullable=True)


class MoneroBalanceRow(Base):
    __tablename__ = "monero_balances"

    run_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    phase: Mapped[str] = mapped_column(String(20), primary_key=True)
    wallet: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))
    height: Mapped[int] = mapped_column(BigInteger)
    sim_time: Mapped[int] = mapped_column(BigInteger)
    balance: Mapped[int] = mapped_column(BigInteger)
    unlocked: Mapped[int] = mapped_column(BigInteger)


class MoneroPropagationRow(Base):
    __tablename__ = "monero_propagation"

    run_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    height: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    node: Mapped[str] = mapped_column(String(64), primary_key=True)
    delay_ms: Mapped[int] = mapped_column(Integer)


class MoneroReconciliationRow(Base):
    """What a marketplace's users say they sent it, against what its wallet received, by vendor."""

    __tablename__ = "monero_reconciliations"

    run_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    marketplace: Mapped[str] = mapped_column(String(64), primary_key=True)
    ok: Mapped[bool] = mapped_column(Boolean)
    vendors_json: Mapped[str] = mapped_column(Text)
    missing_json: Mapped[str] = mapped_column(Text)
    unexpected_json: Mapped[str] = mapped_column(Text)
