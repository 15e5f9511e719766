"""The report's reads: every row one experiment recorded, as the typed rows of ``models.ads_report``.

Each table is read in primary-key order, so a report built from the rows is the same on SQLite and
PostgreSQL and from one run to the next.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import fields
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import FromClause, RowMapping, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from models.ads_report import (
    RecordedClaim,
    RecordedContextEvent,
    RecordedDay,
    RecordedDeal,
    RecordedDelivery,
    RecordedEvent,
    RecordedLedgerEntry,
    StudyRows,
)
from store.tables import (
    AdsClaimRow,
    AdsContextRow,
    AdsDayRow,
    AdsDealRow,
    AdsDeliveryRow,
    AdsEventRow,
    Base,
    LedgerRow,
)

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R")
D = TypeVar("D", bound="DataclassInstance")


async def study_rows(engine: AsyncEngine, experiment_id: str) -> StudyRows:
    """Every recorded row of one experiment, its ledger chains included (empty for an unknown id)."""
    async with engine.connect() as connection:
        return StudyRows(
            deals=await _records(connection, AdsDealRow, RecordedDeal, experiment_id),
            deliveries=await _records(connection, AdsDeliveryRow, RecordedDelivery, experiment_id),
            claims=await _records(connection, AdsClaimRow, RecordedClaim, experiment_id),
            context=await _records(connection, AdsContextRow, RecordedContextEvent, experiment_id),
            events=await _read(
                connection,
                AdsEventRow.__table__,
                experiment_id,
                ["scenario", "campaign_id", "day", "seq", "kind", "data_json"],
                _event,
            ),
            days=await _records(connection, AdsDayRow, RecordedDay, experiment_id),
            ledger=await _ledger(connection, experiment_id),
        )


async def _records(connection: AsyncConnection, table: type[Base], record: type[D], experiment_id: str) -> list[D]:
    """The rows of a table whose record type names its columns, so the two cannot drift apart silently."""
    columns = [field.name for field in fields(record)]
    return await _read(connection, table.__table__, experiment_id, columns, lambda row: record(**row))


async def _read(
    connection: AsyncConnection,
    table: FromClause,
    experiment_id: str,
    columns: list[str],
    make: Callable[[RowMapping], R],
) -> list[R]:
    result = await connection.execute(
        select(*(table.c[name] for name in columns))
        .where(table.c.experiment_id == experiment_id)
        .order_by(*table.primary_key)
    )
    return [make(row) for row in result.mappings()]


def _event(row: RowMapping) -> RecordedEvent:
    # The store wrote data_json (store.ads.record_day); it decodes it too, once per row.
    return RecordedEvent(
        scenario=row["scenario"],
        campaign_id=row["campaign_id"],
        day=row["day"],
        seq=row["seq"],
        kind=row["kind"],
        data=json.loads(row["data_json"]),
    )


async def _ledger(connection: AsyncConnection, experiment_id: str) -> list[RecordedLedgerEntry]:
    # Every campaign writes its own chain "ads/<experiment>/<scenario>/<campaign>".
    prefix = f"ads/{experiment_id}/"
    result = await connection.execute(
        select(LedgerRow.chain_id, LedgerRow.seq, LedgerRow.payload_json)
        .where(LedgerRow.chain_id.startswith(prefix, autoescape=True))
        .order_by(LedgerRow.chain_id, LedgerRow.seq)
    )
    return [RecordedLedgerEntry(chain_id=row.chain_id, seq=row.seq, payload_json=row.payload_json) for row in result]
