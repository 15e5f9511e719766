"""Ledger persistence: idempotent batch appends and chain reads."""

from __future__ import annotations

import json
from typing import Any, cast

from sqlalchemy import Connection, bindparam, insert, select, union, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from models.ledger import AppendBatch, AppendResult, ChainBreak, ChainHead, ChainVerdict, LedgerEntry
from sim.hashchain import GENESIS_HASH, LinkFields, chain_intact, verify_chain, verify_segment
from store.engine import run_write
from store.tables import LedgerHeadRow, LedgerRow

_COLUMNS = (
    "chain_id",
    "seq",
    "payload_json",
    "payload_hash",
    "prev_hash",
    "entry_hash",
    "author",
    "sim_time",
    "idempotency_key",
)


# Built once: a chain is read and appended to for every campaign-day, and building a statement (and its cache key)
# costs more than running it on SQLite.
_CHAIN = (
    select(LedgerRow.__table__).where(LedgerRow.chain_id == bindparam("chain_id")).order_by(LedgerRow.seq, LedgerRow.id)
)
_HEAD = select(LedgerHeadRow.__table__).where(LedgerHeadRow.chain_id == bindparam("chain_id"))
# A chain's links as `sim.hashchain.chain_intact` takes them (LinkFields), in the order `_CHAIN` reads them.
_LINKS = (
    select(
        LedgerRow.seq,
        LedgerRow.payload_json,
        LedgerRow.payload_hash,
        LedgerRow.prev_hash,
        LedgerRow.entry_hash,
        LedgerRow.author,
        LedgerRow.sim_time,
        LedgerRow.idempotency_key,
    )
    .where(LedgerRow.chain_id == bindparam("chain_id"))
    .order_by(LedgerRow.seq, LedgerRow.id)
)
_HEAD_FOR_UPDATE = (
    select(LedgerHeadRow.length, LedgerHeadRow.head_hash)
    .where(LedgerHeadRow.chain_id == bindparam("chain_id"))
    .with_for_update()
)
_STORED_KEYS = select(LedgerRow.idempotency_key, LedgerRow.entry_hash).where(
    LedgerRow.idempotency_key.in_(bindparam("keys", expanding=True))
)
_INSERT_ENTRIES = insert(LedgerRow)
_INSERT_HEAD = insert(LedgerHeadRow)
_MOVE_HEAD = (
    update(LedgerHeadRow)
    .where(LedgerHeadRow.chain_id == bindparam("moved_chain_id"))
    .values(length=bindparam("new_length"), head_hash=bindparam("new_head_hash"))
)


class LedgerConflict(Exception):
    """A batch that contradicts what the store holds. Retrying cannot help."""


async def append(engine: AsyncEngine, batch: AppendBatch) -> AppendResult:
    """Write the batch's entries that are not stored yet; entries already present are checked, not rewritten.

    A retry of the same batch (same idempotency keys) therefore writes nothing twice.
    """
    for attempt in range(3):
        try:
            return await run_write(engine, append_within, batch)
        except IntegrityError:
            # A concurrent attempt of the same batch won the race: the next pass sees its rows.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def append_within(connection: Connection, batch: AppendBatch) -> AppendResult:
    """``append`` inside a caller's transaction, so other records can commit with the entries."""
    broken = verify_segment(batch.entries, prev_hash=batch.entries[0].prev_hash)
    if broken is not None:
        raise LedgerConflict(f"chain {batch.chain_id}: batch entry seq {broken.seq}: {broken.detail}")
    head = connection.execute(_HEAD_FOR_UPDATE, {"chain_id": batch.chain_id}).one_or_none()
    length, head_hash = (head.length, head.head_hash) if head else (0, GENESIS_HASH)

    keys = [entry.idempotency_key for entry in batch.entries]
    rows = connection.execute(_STORED_KEYS, {"keys": keys})
    stored: dict[str, str] = dict(rows.all())
    for entry in batch.entries:
        if entry.idempotency_key in stored and stored[entry.idempotency_key] != entry.entry_hash:
            raise LedgerConflict(
                f"chain {batch.chain_id}: idempotency key {entry.idempotency_key!r} was written with other content"
            )
    fresh = batch.entries[len(stored) :]
    if any(entry.idempotency_key in stored for entry in fresh):
        raise LedgerConflict(f"chain {batch.chain_id}: batch interleaves stored and new entries")

    if fresh:
        first = fresh[0]
        if first.seq != length or first.prev_hash != head_hash:
            raise LedgerConflict(
                f"chain {batch.chain_id}: holds {length} entries ending in {head_hash[:12]}, "
                f"but the batch continues seq {first.seq} from {first.prev_hash[:12]}"
            )
        connection.execute(_INSERT_ENTRIES, [entry.model_dump(include=set(_COLUMNS)) for entry in fresh])
        length, head_hash = fresh[-1].seq + 1, fresh[-1].entry_hash
        if head:
            moved = {"moved_chain_id": batch.chain_id, "new_length": length, "new_head_hash": head_hash}
            connection.execute(_MOVE_HEAD, moved)
        else:
            connection.execute(_INSERT_HEAD, [{"chain_id": batch.chain_id, "length": length, "head_hash": head_hash}])

    return AppendResult(
        chain_id=batch.chain_id,
        written=len(fresh),
        already_present=len(stored),
        length=length,
        head_hash=head_hash,
    )


async def chain_ids(engine: AsyncEngine) -> list[str]:
    query = union(select(LedgerRow.chain_id), select(LedgerHeadRow.chain_id))
    async with engine.connect() as connection:
        return sorted((await connection.execute(query)).scalars())


async def read_chain(engine: AsyncEngine, chain_id: str) -> tuple[list[LedgerEntry], list[int], ChainHead | None]:
    """Entries in seq order (ties by row id), their row ids, and the recorded head."""
    async with engine.connect() as connection:
        rows = (await connection.execute(_CHAIN, {"chain_id": chain_id})).mappings().all()
        head = (await connection.execute(_HEAD, {"chain_id": chain_id})).mappings().one_or_none()
    # Typed by the table's columns already: built without a second validation (a chain is read whole, often).
    entries = [LedgerEntry.model_construct(**{name: row[name] for name in _COLUMNS}) for row in rows]
    return entries, [row["id"] for row in rows], ChainHead.model_validate(dict(head)) if head else None


async def read_vouched_payloads(engine: AsyncEngine, chain_id: str) -> tuple[list[dict[str, Any]], ChainHead | None]:
    """The chain's payloads up to its first broken link (all of them when it verifies), and the recorded head:
    what ``read_chain`` and ``verify_chain`` give, read in one transaction and, for an intact chain (the usual
    case, read every morning by C's buyer), without building and validating an entry per link."""
    return await run_write(engine, _vouched_payloads, chain_id)


def _vouched_payloads(connection: Connection, chain_id: str) -> tuple[list[dict[str, Any]], ChainHead | None]:
    links = cast(list[LinkFields], [tuple(row) for row in connection.execute(_LINKS, {"chain_id": chain_id})])
    stored_head = connection.execute(_HEAD, {"chain_id": chain_id}).mappings().one_or_none()
    head = ChainHead.model_validate(dict(stored_head)) if stored_head else None
    usable = links
    if not chain_intact(links, chain_id=chain_id, head=head):
        entries = [
            LedgerEntry.model_construct(
                chain_id=chain_id,
                seq=seq,
                payload_json=payload_json,
                payload_hash=payload_hash,
                prev_hash=prev_hash,
                entry_hash=entry_hash,
                author=author,
                sim_time=sim_time,
                idempotency_key=key,
            )
            for seq, payload_json, payload_hash, prev_hash, entry_hash, author, sim_time, key in links
        ]
        broken = verify_chain(entries, chain_id=chain_id, head=head).broken
        usable = links if broken is None else links[: broken.position]
    return [json.loads(link[1]) for link in usable], head


async def verify_stored_chain(engine: AsyncEngine, chain_id: str) -> ChainVerdict:
    entries, row_ids, head = await read_chain(engine, chain_id)
    if head is None and entries:
        missing = ChainBreak(
            position=len(entries), seq=len(entries), kind="deleted", detail="the chain's head record is missing"
        )
        return ChainVerdict(chain_id=chain_id, length=len(entries), head_hash=entries[-1].entry_hash, broken=missing)
    verdict = verify_chain(entries, chain_id=chain_id, head=head)
    if verdict.broken is not None and verdict.broken.position < len(row_ids):
        located = verdict.broken.model_copy(update={"row_id": row_ids[verdict.broken.position]})
        verdict = verdict.model_copy(update={"broken": located})
    return verdict
