"""The append-only, hash-chained ledger as it crosses workflow, activity and store boundaries."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Sha256Hex = str


class LedgerEntry(BaseModel):
    """One link of a chain. ``payload_json`` is canonical JSON (RFC 8785), stored byte for byte."""

    model_config = ConfigDict(frozen=True)

    chain_id: str = Field(min_length=1, max_length=200)
    seq: int = Field(ge=0)
    payload_json: str
    payload_hash: Sha256Hex
    prev_hash: Sha256Hex
    entry_hash: Sha256Hex
    author: str = Field(max_length=200)
    sim_time: int = Field(description="simulated seconds since the simulation's epoch")
    idempotency_key: str = Field(min_length=1, max_length=300)


class ChainHead(BaseModel):
    """What the store records about a chain's end: a deleted tail is invisible without it."""

    model_config = ConfigDict(frozen=True)

    chain_id: str
    length: int = Field(ge=0)
    head_hash: Sha256Hex


BreakKind = Literal["modified", "deleted", "inserted", "reordered"]


class ChainBreak(BaseModel):
    """The first broken link: ``position`` is the index in stored order (seq order)."""

    model_config = ConfigDict(frozen=True)

    position: int
    seq: int
    kind: BreakKind
    detail: str
    row_id: int | None = Field(None, description="the store's row id, where the break is a stored row")


class ChainVerdict(BaseModel):
    model_config = ConfigDict(frozen=True)

    chain_id: str
    length: int
    head_hash: Sha256Hex
    broken: ChainBreak | None = None

    @property
    def ok(self) -> bool:
        return self.broken is None


class AppendBatch(BaseModel):
    """Consecutive entries of one chain, written together by ``ledger.append``."""

    entries: list[LedgerEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_chain_consecutive(self) -> AppendBatch:
        first = self.entries[0]
        for offset, entry in enumerate(self.entries):
            if entry.chain_id != first.chain_id:
                raise ValueError("a batch holds entries of one chain only")
            if entry.seq != first.seq + offset:
                raise ValueError("batch entries must have consecutive sequence numbers")
        return self

    @property
    def chain_id(self) -> str:
        return self.entries[0].chain_id


class AppendResult(BaseModel):
    chain_id: str
    written: int
    already_present: int
    length: int
    head_hash: Sha256Hex
