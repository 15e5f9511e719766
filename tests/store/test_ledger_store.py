"""The ledger in the store, on SQLite and on PostgreSQL: idempotent appends, and tampering caught."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.ledger import LedgerActivities
from models.ledger import AppendBatch, LedgerEntry
from sim.hashchain import GENESIS_HASH, make_entry
from store import ledger
from store.engine import open_store
from store.tables import LedgerHeadRow, LedgerRow

CHAIN = "exp-1/scenario-C"


def entries(
    count: int, *, chain: str = CHAIN, start: int = 0, prev: str = GENESIS_HASH, tag: str = ""
) -> list[LedgerEntry]:
    built = []
    for seq in range(start, start + count):
        entry = make_entry(
            chain_id=chain,
            seq=seq,
            prev_hash=prev,
            payload={"deal": seq, "cpm_micros": 2_500_000 + seq, "tag": tag},
            author="buyer-1",
            sim_time=seq * 3600,
            idempotency_key=f"wf-ledger/{chain}/{seq}",
        )
        built.append(entry)
        prev = entry.entry_hash
    return built


async def row_count(engine: AsyncEngine, chain: str = CHAIN) -> int:
    async with engine.connect() as connection:
        return (await connection.execute(select(func.count()).where(LedgerRow.chain_id == chain))).scalar_one()


async def test_append_activity_run_twice_leaves_one_row_per_entry(engine: AsyncEngine) -> None:
    """A retried activity (same batch, same idempotency keys) writes nothing the second time."""
    append = LedgerActivities(engine).append
    batch = AppendBatch(entries=entries(5))
    env = ActivityEnvironment()

    first = await env.run(append, batch)
    retried = await env.run(append, batch)

    assert (first.written, first.already_present) == (5, 0)
    assert (retried.written, retried.already_present) == (0, 5)
    assert await row_count(engine) == 5
    assert retried.head_hash == batch.entries[-1].entry_hash
    assert (await ledger.verify_stored_chain(engine, CHAIN)).ok


async def test_concurrent_duplicate_appends_write_once(engine: AsyncEngine) -> None:
    """An attempt that timed out may still be running when its retry starts: both must agree."""
    batch = AppendBatch(entries=entries(20))
    results = await asyncio.gather(*(ledger.append(engine, batch) for _ in range(4)))
    assert sum(result.written for result in results) == 20
    assert await row_count(engine) == 20
    assert (await ledger.verify_stored_chain(engine, CHAIN)).ok


async def test_batches_extend_the_chain_and_overlaps_are_absorbed(engine: AsyncEngine) -> None:
    chain = entries(10)
    await ledger.append(engine, AppendBatch(entries=chain[:4]))
    overlap = await ledger.append(engine, AppendBatch(entries=chain[2:10]))
    assert (overlap.written, overlap.already_present) == (6, 2)
    verdict = await ledger.verify_stored_chain(engine, CHAIN)
    assert verdict.ok and verdict.length == 10 and verdict.head_hash == chain[-1].entry_hash


async def test_reused_key_with_other_content_is_a_non_retryable_conflict(engine: AsyncEngine) -> None:
    await ledger.append(engine, AppendBatch(entries=entries(3)))
    forged = AppendBatch(entries=entries(3, tag="different"))
    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(LedgerActivities(engine).append, forged)
    assert raised.value.non_retryable and raised.value.type == "LedgerConflict"
    assert "written with other content" in raised.value.message
    assert await row_count(engine) == 3


async def test_batch_that_does_not_continue_the_head_is_refused(engine: AsyncEngine) -> None:
    chain = entries(6)
    await ledger.append(engine, AppendBatch(entries=chain[:2]))
    with pytest.raises(ledger.LedgerConflict, match="holds 2 entries"):
        await ledger.append(engine, AppendBatch(entries=chain[3:]))
    other_fork = entries(2, start=2, prev="f" * 64, tag="fork")
    with pytest.raises(ledger.LedgerConflict, match="holds 2 entries"):
        await ledger.append(engine, AppendBatch(entries=other_fork))
    assert await row_count(engine) == 2


async def test_batch_with_a_broken_internal_link_is_refused(engine: AsyncEngine) -> None:
    chain = entries(3)
    relinked = [chain[0], chain[1], chain[2].model_copy(update={"prev_hash": "e" * 64})]
    with pytest.raises(ledger.LedgerConflict, match="seq 2"):
        await ledger.append(engine, AppendBatch(entries=relinked))
    assert await row_count(engine) == 0


async def test_chains_are_independent(engine: AsyncEngine) -> None:
    await ledger.append(engine, AppendBatch(entries=entries(3, chain="a")))
    await ledger.append(engine, AppendBatch(entries=entries(2, chain="b")))
    assert await ledger.chain_ids(engine) == ["a", "b"]
    assert (await ledger.verify_stored_chain(engine, "a")).length == 3


async def test_migrations_are_idempotent(store_url: str, engine: AsyncEngine) -> None:
    await ledger.append(engine, AppendBatch(entries=entries(2)))
    async with open_store(store_url) as reopened:
        assert await row_count(reopened) == 2


# --- tampering with stored rows -------------------------------------------------------------


async def stored_chain(engine: AsyncEngine, length: int = 8) -> list[LedgerEntry]:
    chain = entries(length)
    await ledger.append(engine, AppendBatch(entries=chain))
    return chain


async def row_id(engine: AsyncEngine, seq: int) -> int:
    async with engine.connect() as connection:
        return (
            await connection.execute(select(LedgerRow.id).where(LedgerRow.chain_id == CHAIN, LedgerRow.seq == seq))
        ).scalar_one()


async def tamper(engine: AsyncEngine, *statements) -> None:
    async with engine.begin() as connection:
        for statement in statements:
            await connection.execute(statement)


async def test_modified_row_is_named(engine: AsyncEngine) -> None:
    await stored_chain(engine)
    target = await row_id(engine, 3)
    await tamper(
        engine, update(LedgerRow).where(LedgerRow.id == target).values(payload_json='{"deal":3,"cpm_micros":1}')
    )
    broken = (await ledger.verify_stored_chain(engine, CHAIN)).broken
    assert broken is not None
    assert (broken.kind, broken.seq, broken.row_id) == ("modified", 3, target)


async def test_deleted_row_is_named(engine: AsyncEngine) -> None:
    await stored_chain(engine)
    await tamper(engine, delete(LedgerRow).where(LedgerRow.chain_id == CHAIN, LedgerRow.seq == 5))
    broken = (await ledger.verify_stored_chain(engine, CHAIN)).broken
    assert broken is not None and (broken.kind, broken.seq) == ("deleted", 5)


async def test_deleted_last_row_is_named(engine: AsyncEngine) -> None:
    await stored_chain(engine)
    await tamper(engine, delete(LedgerRow).where(LedgerRow.chain_id == CHAIN, LedgerRow.seq == 7))
    broken = (await ledger.verify_stored_chain(engine, CHAIN)).broken
    assert broken is not None and (broken.kind, broken.seq) == ("deleted", 7)


async def test_inserted_row_is_named(engine: AsyncEngine) -> None:
    chain = await stored_chain(engine)
    forged = entries(1, start=8, prev=chain[-1].entry_hash, tag="forged")[0]
    await tamper(engine, insert(LedgerRow).values(**forged.model_dump()))
    broken = (await ledger.verify_stored_chain(engine, CHAIN)).broken
    assert broken is not None and (broken.kind, broken.seq) == ("inserted", 8)
    assert broken.row_id == await row_id(engine, 8)


async def test_reordered_rows_are_named(engine: AsyncEngine) -> None:
    await stored_chain(engine)
    first, second = await row_id(engine, 2), await row_id(engine, 6)
    # Exchange the two rows' places (through a free seq, the unique constraint being in force).
    await tamper(
        engine,
        update(LedgerRow).where(LedgerRow.id == first).values(seq=-1),
        update(LedgerRow).where(LedgerRow.id == second).values(seq=2),
        update(LedgerRow).where(LedgerRow.id == first).values(seq=6),
    )
    broken = (await ledger.verify_stored_chain(engine, CHAIN)).broken
    assert broken is not None and (broken.kind, broken.seq, broken.row_id) == ("reordered", 2, second)


async def test_vouched_payloads_stop_at_the_first_broken_link(engine: AsyncEngine) -> None:
    """What C's buyer reads each morning: the whole chain while it verifies, the part before a forged row after."""
    chain = await stored_chain(engine)
    payloads, head = await ledger.read_vouched_payloads(engine, CHAIN)
    assert payloads == [json.loads(entry.payload_json) for entry in chain]
    assert head is not None and (head.length, head.head_hash) == (len(chain), chain[-1].entry_hash)
    await tamper(
        engine, update(LedgerRow).where(LedgerRow.id == await row_id(engine, 3)).values(payload_json='{"deal":3}')
    )
    payloads, _ = await ledger.read_vouched_payloads(engine, CHAIN)
    assert payloads == [json.loads(entry.payload_json) for entry in chain[:3]]
    assert await ledger.read_vouched_payloads(engine, "no-such-chain") == ([], None)


async def test_deleted_head_record_is_reported(engine: AsyncEngine) -> None:
    await stored_chain(engine)
    await tamper(engine, delete(LedgerHeadRow).where(LedgerHeadRow.chain_id == CHAIN))
    verdict = await ledger.verify_stored_chain(engine, CHAIN)
    assert verdict.broken is not None and "head record is missing" in verdict.broken.detail
