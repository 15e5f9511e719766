"""Ads persistence: an experiment's inputs and ground truth, and each campaign-day's records.

A campaign-day is written in one transaction and marked in `ads_days`, so a retried write finds the
mark and writes nothing twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Insert, bindparam, insert, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from models.ads import DayRecord
from store import ledger
from store.engine import run_write
from store.tables import (
    AdsClaimRow,
    AdsContextRow,
    AdsDayRow,
    AdsDealRow,
    AdsDeliveryRow,
    AdsEventRow,
    AdsExperimentRow,
    AdsInventoryRow,
    Base,
)

# Built once: one campaign-day runs them all, and building a statement costs more than running it on SQLite.
_DAY_RECORDED = select(AdsDayRow.day).where(
    AdsDayRow.experiment_id == bindparam("experiment_id"),
    AdsDayRow.scenario == bindparam("scenario"),
    AdsDayRow.campaign_id == bindparam("campaign_id"),
    AdsDayRow.day == bindparam("day"),
)
_CONTACTS = (
    select(AdsEventRow.day, AdsEventRow.data_json)
    .where(
        AdsEventRow.experiment_id == bindparam("experiment_id"),
        AdsEventRow.scenario == bindparam("scenario"),
        AdsEventRow.campaign_id == bindparam("campaign_id"),
        AdsEventRow.day <= bindparam("day"),
        AdsEventRow.kind == bindparam("kind"),
    )
    .order_by(AdsEventRow.day, AdsEventRow.seq)
)
_INSERT: dict[type[Base], Insert] = {
    table: insert(table) for table in (AdsDayRow, AdsDealRow, AdsDeliveryRow, AdsClaimRow, AdsContextRow, AdsEventRow)
}


class ExperimentConflict(Exception):
    """An experiment id reused with other parameters."""


async def register_experiment(
    engine: AsyncEngine,
    *,
    experiment_id: str,
    seed: int,
    spec_json: str,
    world_json: str,
    inventory: Sequence[dict[str, Any]],
) -> bool:
    """Store an experiment's inputs and ground-truth inventory once; True if written now."""

    def write(connection: Connection) -> bool:
        existing = connection.execute(
            select(AdsExperimentRow.spec_json).where(AdsExperimentRow.id == experiment_id)
        ).scalar_one_or_none()
        if existing is not None:
            if existing != spec_json:
                raise ExperimentConflict(f"experiment {experiment_id!r} already exists with other parameters")
            return False
        connection.execute(
            insert(AdsExperimentRow).values(id=experiment_id, seed=seed, spec_json=spec_json, world_json=world_json)
        )
        if inventory:
            connection.execute(insert(AdsInventoryRow), [{"experiment_id": experiment_id, **row} for row in inventory])
        return True

    return await run_write(engine, write)


@dataclass(frozen=True)
class WrittenDay:
    """A campaign-day written now, with the day each of its new deals' counterparties was first contacted."""

    first_contact: dict[str, int]


async def record_day(engine: AsyncEngine, record: DayRecord) -> WrittenDay | None:
    """Write one campaign-day, its ledger entries included, atomically; None when a previous
    attempt already did."""
    try:
        return await run_write(engine, _record_day, record)
    except IntegrityError:
        # A concurrent attempt of the same day committed first.
        return None


def _record_day(connection: Connection, record: DayRecord) -> WrittenDay | None:
    key = {"experiment_id": record.experiment_id, "scenario": record.scenario}
    day_key = {**key, "campaign_id": record.campaign_id, "day": record.day}
    if connection.execute(_DAY_RECORDED, day_key).first() is not None:
        return None
    connection.execute(_INSERT[AdsDayRow], [day_key])
    if record.ledger is not None:
        ledger.append_within(connection, record.ledger)
    rows = {
        AdsDealRow: [{**key, "deal_id": d.id, **d.model_dump(exclude={"id", "scenario"})} for d in record.deals],
        AdsDeliveryRow: [{**key, **d.model_dump()} for d in record.deliveries],
        AdsClaimRow: [
            {**key, "claim_id": c.id, "campaign_id": record.campaign_id, **c.model_dump(exclude={"id"})}
            for c in record.claims
        ],
        AdsContextRow: [{**key, "campaign_id": record.campaign_id, **c.model_dump()} for c in record.context],
        AdsEventRow: [
            {
                **key,
                "campaign_id": record.campaign_id,
                "day": e.day,
                "seq": seq,
                "kind": e.kind,
                "data_json": json.dumps(e.data, sort_keys=True),
            }
            for seq, e in enumerate(record.events)
        ],
    }
    for table, values in rows.items():
        if values:
            connection.execute(_INSERT[table], values)
    return WrittenDay(first_contact=_first_contacts(connection, record) if record.deals else {})


def _first_contacts(connection: Connection, record: DayRecord) -> dict[str, int]:
    """Deal id -> the first day this campaign dealt with the deal's counterparty: in A its first auction
    for the product, in B and C its first negotiation with the seller (today's events included).
    Reads one campaign's events by primary-key prefix: the cost stays per campaign, not per study."""
    auction = record.scenario == "A"
    found = connection.execute(
        _CONTACTS,
        {
            "experiment_id": record.experiment_id,
            "scenario": record.scenario,
            "campaign_id": record.campaign_id,
            "day": record.day,
            "kind": "auction" if auction else "negotiation",
        },
    )
    first: dict[str, int] = {}
    for day, data_json in found:
        first.setdefault(json.loads(data_json)["product" if auction else "seller"], day)
    return {
        deal.id: first.get(deal.product_id if auction else deal.seller_id, deal.created_day) for deal in record.deals
    }


async def experiment(engine: AsyncEngine, experiment_id: str) -> AdsExperimentRow | None:
    async with engine.connect() as connection:
        row = (
            (await connection.execute(select(AdsExperimentRow.__table__).where(AdsExperimentRow.id == experiment_id)))
            .mappings()
            .one_or_none()
        )
    return AdsExperimentRow(**row) if row else None


async def experiment_ids(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        return sorted((await connection.execute(select(AdsExperimentRow.id))).scalars())


async def rows(engine: AsyncEngine, table: type[Base], experiment_id: str) -> list[dict[str, Any]]:
    """Every row of one ads table for an experiment, in primary-key order."""
    stored = inspect(table).local_table
    async with engine.connect() as connection:
        result = await connection.execute(
            select(stored).where(stored.c.experiment_id == experiment_id).order_by(*stored.primary_key)
        )
        return [dict(row) for row in result.mappings()]
