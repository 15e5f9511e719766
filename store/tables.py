"""Tables of the results store. Alembic migrations in store/migrations create them."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Integer, String, Text, UniqueConstraint
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
