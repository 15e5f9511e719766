"""Tables of the results store. Alembic migrations in store/migrations create them."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String, Text, UniqueConstraint
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
