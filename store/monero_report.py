"""The monero report's reads: every row one run recorded, as the typed rows of ``models.monero_report``.

Each table is read in primary-key order, so a report built from the rows is the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from dataclasses import fields
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from models.monero_report import (
    RecordedBalance,
    RecordedBlock,
    RecordedPropagation,
    RecordedReconciliation,
    RecordedRun,
    RecordedTransaction,
    RecordedVendor,
    RunRows,
)
from store.tables import (
    Base,
    MoneroBalanceRow,
    MoneroBlockRow,
    MoneroPropagationRow,
    MoneroReconciliationRow,
    MoneroRunRow,
    MoneroTransactionRow,
)

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

D = TypeVar("D", bound="DataclassInstance")


async def run_rows(engine: AsyncEngine, run_id: str) -> RunRows | None:
    """Every recorded row of one run; None when the store has no run of that id."""
    async with engine.connect() as connection:
        runs = await _records(connection, MoneroRunRow, RecordedRun, run_id)
        if not runs:
            return None
        run = runs[0]
        reconciliations = await connection.execute(
            select(
                MoneroReconciliationRow.marketplace,
                MoneroReconciliationRow.ok,
                MoneroReconciliationRow.vendors_json,
                MoneroReconciliationRow.missing_json,
                MoneroReconciliationRow.unexpected_json,
            )
            .where(MoneroReconciliationRow.run_id == run_id)
            .order_by(MoneroReconciliationRow.marketplace)
        )
        return RunRows(
            run=run,
            blocks=tuple(await _records(connection, MoneroBlockRow, RecordedBlock, run_id)),
            transactions=tuple(await _records(connection, MoneroTransactionRow, RecordedTransaction, run_id)),
            propagation=tuple(await _records(connection, MoneroPropagationRow, RecordedPropagation, run_id)),
            balances=tuple(await _records(connection, MoneroBalanceRow, RecordedBalance, run_id)),
            reconciliations=tuple(
                RecordedReconciliation(
                    marketplace=row.marketplace,
                    ok=row.ok,
                    vendors=tuple(RecordedVendor(**vendor) for vendor in json.loads(row.vendors_json)),
                    missing=tuple(json.loads(row.missing_json)),
                    unexpected=tuple(json.loads(row.unexpected_json)),
                )
                for row in reconciliations
            ),
        )


async def _records(connection: AsyncConnection, table: type[Base], record: type[D], run_id: str) -> list[D]:
    """The rows of a table whose record type names its columns."""
    columns = table.__table__.c
    result = await connection.execute(
        select(*(columns[field.name] for field in fields(record)))
        .where(columns.run_id == run_id)
        .order_by(*table.__table__.primary_key)
    )
    return [record(**row) for row in result.mappings()]
