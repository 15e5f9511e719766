"""The run's store writes and reads: one activity per write, each idempotent (a retry writes nothing twice)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.ledger import ledger_conflicts_are_final
from models.monero_run import (
    BalanceRecord,
    BlockRecord,
    ExpectedPayment,
    FinishRecord,
    PaymentRow,
    Reconciliation,
    RunRecord,
)
from store import monero as monero_store

BLOCKS = Counter("monerosim_blocks_mined", "Blocks mined, by pool", ["pool"])
CONFIRMED = Counter("monerosim_transactions_confirmed", "Sent transactions seen in a block")
CONFIRMATION_BLOCKS = Histogram(
    "monerosim_confirmation_latency_blocks",
    "Blocks from a payment being sent to the block that holds it",
    buckets=(1, 2, 3, 4, 5, 8, 12, 20, 40),
)


class RecordActivities:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @activity.defn(name="monero.record_run")
    async def record_run(self, record: RunRecord) -> bool:
        try:
            return await monero_store.register_run(self._engine, record)
        except monero_store.RunConflict as conflict:
            raise ApplicationError(str(conflict), type="RunConflict", non_retryable=True) from None

    @activity.defn(name="monero.record_block")
    async def record_block(self, record: BlockRecord) -> bool:
        """The block(s), their propagation samples, their ledger entries and the transactions they mined."""
        with ledger_conflicts_are_final():
            written = await monero_store.record_block(self._engine, record)
        if written:
            for block in record.blocks:
                BLOCKS.labels(block.pool).inc()
            observe_confirmations(list(record.latencies))
        return written

    @activity.defn(name="monero.record_payment")
    async def record_payment(self, row: PaymentRow) -> bool:
        return await monero_store.record_payment(self._engine, row)

    @activity.defn(name="monero.record_balances")
    async def record_balances(self, record: BalanceRecord) -> bool:
        return await monero_store.record_balances(self._engine, record)

    @activity.defn(name="monero.expected_payments")
    async def expected_payments(self, run_id_and_marketplace: tuple[str, str]) -> list[ExpectedPayment]:
        run_id, marketplace = run_id_and_marketplace
        return await monero_store.expected_payments(self._engine, run_id, marketplace)

    @activity.defn(name="monero.record_reconciliation")
    async def record_reconciliation(self, report: Reconciliation) -> bool:
        return await monero_store.record_reconciliation(self._engine, report)

    @activity.defn(name="monero.finish_run")
    async def finish_run(self, record: FinishRecord) -> None:
        await monero_store.finish_run(self._engine, record)


def observe_confirmations(latencies: list[int]) -> None:
    for blocks in latencies:
        CONFIRMED.inc()
        CONFIRMATION_BLOCKS.observe(blocks)
