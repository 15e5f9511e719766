"""A monero run's recorded rows as the report reads them: one frozen type per results table.

``store.monero_report`` builds them from the tables (each type names its columns, so the two cannot drift
apart silently); ``sim.monero.findings`` reads them by attribute. ``run_id`` is left out: the rows of one run are
read together. Amounts are atomic units; ``*_ms`` wall-clock milliseconds; ``sim_time`` simulated seconds.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RecordedBlock:
    """A row of monero_blocks; ``phase`` is funding (setup), run (scheduled) or settle (after the last one)."""

    height: int
    hash: str
    pool: str
    node: str
    round: int
    phase: str
    sim_time: int
    timestamp: int
    mined_at_ms: int
    took_ms: int
    mempool_size: int
    tx_count: int
    tx_hashes_json: str


@dataclass(frozen=True, slots=True)
class RecordedTransaction:
    """A row of monero_transactions: a payment or a user's funding, skipped or sent, then in pool and mined."""

    payment_id: str
    tx_hash: str | None
    kind: str
    payer: str
    marketplace: str | None
    vendor_index: int | None
    amount: int
    fee: int
    status: str
    sim_time: int
    sent_at_ms: int
    sent_height: int
    in_pool_at_ms: int | None
    mined_height: int | None
    mined_at_ms: int | None
    confirmations: int | None


@dataclass(frozen=True, slots=True)
class RecordedPropagation:
    height: int
    node: str
    delay_ms: int


@dataclass(frozen=True, slots=True)
class RecordedBalance:
    phase: str
    wallet: str
    role: str
    height: int
    sim_time: int
    balance: int
    unlocked: int


@dataclass(frozen=True, slots=True)
class RecordedVendor:
    vendor_index: int
    expected: int
    received: int
    expected_count: int
    received_count: int


@dataclass(frozen=True, slots=True)
class RecordedReconciliation:
    marketplace: str
    ok: bool
    vendors: tuple[RecordedVendor, ...]
    missing: tuple[str, ...]
    unexpected: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RecordedRun:
    """A row of monero_runs: the run's config (its inputs) and, once finished, its final height."""

    run_id: str
    seed: int
    config_json: str
    final_height: int | None
    summary_json: str | None


@dataclass(frozen=True, slots=True)
class RunRows:
    run: RecordedRun
    blocks: tuple[RecordedBlock, ...]
    transactions: tuple[RecordedTransaction, ...]
    propagation: tuple[RecordedPropagation, ...]
    balances: tuple[RecordedBalance, ...]
    reconciliations: tuple[RecordedReconciliation, ...]
