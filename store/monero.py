"""Monero persistence: a run, its blocks (with their ledger entries), payments, balances, propagation samples
and reconciliations. Every write is idempotent: a retried activity finds its rows and writes nothing twice."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from models.monero_run import (
    BalanceRecord,
    BlockRecord,
    ExpectedPayment,
    FinishRecord,
    PaymentRow,
    Reconciliation,
    RunRecord,
)
from store import ledger
from store.engine import run_write
from store.tables import (
    MoneroBalanceRow,
    MoneroBlockRow,
    MoneroPropagationRow,
    MoneroReconciliationRow,
    MoneroRunRow,
    MoneroTransactionRow,
)


class RunConflict(Exception):
    """A run id reused with another configuration."""


async def register_run(engine: AsyncEngine, record: RunRecord) -> bool:
    def write(connection: Connection) -> bool:
        existing = connection.execute(
            select(MoneroRunRow.config_json).where(MoneroRunRow.run_id == record.run_id)
        ).scalar_one_or_none()
        if existing is not None:
            if existing != record.config_json:
                raise RunConflict(f"monero run {record.run_id!r} already exists with another configuration")
            return False
        connection.execute(insert(MoneroRunRow).values(**record.model_dump()))
        return True

    return await run_write(engine, write)


async def record_block(engine: AsyncEngine, record: BlockRecord) -> bool:
    try:
        return await run_write(engine, _record_block, record)
    except IntegrityError:
        return False  # a concurrent attempt committed first


def _record_block(connection: Connection, record: BlockRecord) -> bool:
    heights = [block.height for block in record.blocks]
    done = connection.execute(
        select(MoneroBlockRow.height).where(MoneroBlockRow.run_id == record.run_id, MoneroBlockRow.height.in_(heights))
    ).first()
    if done is not None:
        return False
    entries = {}
    if record.ledger is not None:
        ledger.append_within(connection, record.ledger)
        entries = {json.loads(e.payload_json)["height"]: e for e in record.ledger.entries}
    for block in record.blocks:
        entry = entries.get(block.height)
        values = block.model_dump(exclude={"tx_hashes"})
        connection.execute(
            insert(MoneroBlockRow).values(
                run_id=record.run_id,
                **values,
                tx_count=len(block.tx_hashes),
                tx_hashes_json=json.dumps(list(block.tx_hashes)),
                ledger_seq=entry.seq if entry else None,
                entry_hash=entry.entry_hash if entry else None,
            )
        )
        if block.tx_hashes:
            connection.execute(
                update(MoneroTransactionRow)
                .where(
                    MoneroTransactionRow.run_id == record.run_id,
                    MoneroTransactionRow.tx_hash.in_(block.tx_hashes),
                )
                .values(status="mined", mined_height=block.height, mined_at_ms=block.mined_at_ms)
            )
    if record.propagation:
        connection.execute(
            insert(MoneroPropagationRow),
            [{"run_id": record.run_id, **sample.model_dump()} for sample in record.propagation],
        )
    return True


async def record_payment(engine: AsyncEngine, row: PaymentRow) -> bool:
    def write(connection: Connection) -> bool:
        exists = connection.execute(
            select(MoneroTransactionRow.payment_id).where(
                MoneroTransactionRow.run_id == row.run_id, MoneroTransactionRow.payment_id == row.payment_id
            )
        ).first()
        if exists is not None:
            return False
        values = row.model_dump()
        if row.tx_hash is not None:
            # A block recorded before this row (the payment's record retried late) already carries the tx.
            for height, hashes in connection.execute(
                select(MoneroBlockRow.height, MoneroBlockRow.tx_hashes_json).where(
                    MoneroBlockRow.run_id == row.run_id, MoneroBlockRow.tx_count > 0
                )
            ):
                if row.tx_hash in json.loads(hashes):
                    values |= {"status": "mined", "mined_height": height}
        connection.execute(insert(MoneroTransactionRow).values(**values))
        return True

    try:
        return await run_write(engine, write)
    except IntegrityError:
        return False


async def record_balances(engine: AsyncEngine, record: BalanceRecord) -> bool:
    def write(connection: Connection) -> bool:
        exists = connection.execute(
            select(MoneroBalanceRow.wallet).where(
                MoneroBalanceRow.run_id == record.run_id, MoneroBalanceRow.phase == record.phase
            )
        ).first()
        if exists is not None:
            return False
        connection.execute(
            insert(MoneroBalanceRow),
            [
                {
                    "run_id": record.run_id,
                    "phase": record.phase,
                    "height": record.height,
                    "sim_time": record.sim_time,
                    **balance.model_dump(),
                }
                for balance in record.balances
            ],
        )
        return True

    try:
        return await run_write(engine, write)
    except IntegrityError:
        return False


async def expected_payments(engine: AsyncEngine, run_id: str, marketplace: str) -> list[ExpectedPayment]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(MoneroTransactionRow.tx_hash, MoneroTransactionRow.vendor_index, MoneroTransactionRow.amount)
            .where(
                MoneroTransactionRow.run_id == run_id,
                MoneroTransactionRow.marketplace == marketplace,
                MoneroTransactionRow.status != "skipped",
            )
            .order_by(MoneroTransactionRow.payment_id)
        )
        return [
            ExpectedPayment(tx_hash=tx_hash, vendor_index=vendor_index, amount=amount)
            for tx_hash, vendor_index, amount in rows
            if tx_hash is not None and vendor_index is not None
        ]


async def record_reconciliation(engine: AsyncEngine, report: Reconciliation) -> bool:
    def write(connection: Connection) -> bool:
        exists = connection.execute(
            select(MoneroReconciliationRow.ok).where(
                MoneroReconciliationRow.run_id == report.run_id,
                MoneroReconciliationRow.marketplace == report.marketplace,
            )
        ).first()
        if exists is not None:
            return False
        connection.execute(
            insert(MoneroReconciliationRow).values(
                run_id=report.run_id,
                marketplace=report.marketplace,
                ok=report.ok,
                vendors_json=json.dumps([v.model_dump() for v in report.vendors]),
                missing_json=json.dumps(list(report.missing)),
                unexpected_json=json.dumps(list(report.unexpected)),
            )
        )
        return True

    try:
        return await run_write(engine, write)
    except IntegrityError:
        return False


async def finish_run(engine: AsyncEngine, record: FinishRecord) -> None:
    """The run's final height and summary; every mined transaction's confirmations at that height."""

    def write(connection: Connection) -> None:
        connection.execute(
            update(MoneroRunRow)
            .where(MoneroRunRow.run_id == record.run_id)
            .values(final_height=record.final_height, summary_json=record.summary_json)
        )
        connection.execute(
            update(MoneroTransactionRow)
            .where(MoneroTransactionRow.run_id == record.run_id, MoneroTransactionRow.mined_height.is_not(None))
            .values(confirmations=record.final_height - MoneroTransactionRow.mined_height)
        )

    await run_write(engine, write)


async def run_ids(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        return list((await connection.execute(select(MoneroRunRow.run_id).order_by(MoneroRunRow.run_id))).scalars())


async def run_counts(engine: AsyncEngine, run_id: str) -> dict[str, Any]:
    """Blocks by pool and transactions by status, as recorded so far."""
    async with engine.connect() as connection:
        pools = dict(
            (
                await connection.execute(
                    select(MoneroBlockRow.pool, func.count())
                    .where(MoneroBlockRow.run_id == run_id)
                    .group_by(MoneroBlockRow.pool)
                )
            ).all()
        )
        statuses = dict(
            (
                await connection.execute(
                    select(MoneroTransactionRow.status, func.count())
                    .where(MoneroTransactionRow.run_id == run_id, MoneroTransactionRow.kind == "payment")
                    .group_by(MoneroTransactionRow.status)
                )
            ).all()
        )
        height = (
            await connection.execute(select(func.max(MoneroBlockRow.height)).where(MoneroBlockRow.run_id == run_id))
        ).scalar_one_or_none()
    return {"blocks_by_pool": pools, "transactions": statuses, "height": height}


async def rows(engine: AsyncEngine, table: Any, run_id: str) -> list[dict[str, Any]]:
    async with engine.connect() as connection:
        result = await connection.execute(select(table).where(table.run_id == run_id))
        return [dict(row._mapping) for row in result]
