"""A tampered ledger row is always named by the audit (issue 13, item 5): property-based, over a real store.

Each example writes a hash chain through ``store.ledger.append`` into a real SQLite store beside
another chain, then changes it behind the store's back, as someone with write access to the database would: a
row modified (one column, or every hash recomputed so the row is consistent in itself), deleted,
inserted (with the later rows moved up, consistent in itself and linked to its predecessor), or two
rows swapped. The audit's verdict (``verify_stored_chain``, what ``simctl audit`` prints) must name
the tampered row: its position, row id or sequence number and the kind of change; the other chain
stays intact. A last test runs ``simctl audit`` itself on such a store.

``SIMCTL_FUZZ_EXAMPLES`` sets the examples (default 10; this property takes 3x that).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from models.ledger import AppendBatch, ChainVerdict
from sim.canonical import canonical_json, sha256_hex
from sim.hashchain import GENESIS_HASH, entry_hash, make_entry
from simctl.app import run
from store import ledger
from store.engine import open_store
from store.tables import LedgerRow

pytestmark = pytest.mark.reliability

EXAMPLES = int(os.environ.get("SIMCTL_FUZZ_EXAMPLES", "10"))
OTHER = "deals/C"  # written once per store and never touched
COLUMNS = ("payload_json", "payload_hash", "prev_hash", "entry_hash", "author", "sim_time", "idempotency_key")


async def write_chain(engine: AsyncEngine, chain_id: str, length: int) -> None:
    prev, batch = GENESIS_HASH, []
    for seq in range(length):
        entry = make_entry(
            chain_id=chain_id,
            seq=seq,
            prev_hash=prev,
            payload={"deal": seq, "cpm": 1.5 + seq},
            author="exchange",
            sim_time=seq * 60,
            idempotency_key=f"wf/{chain_id}/{seq}",
        )
        batch.append(entry)
        prev = entry.entry_hash
    await ledger.append(engine, AppendBatch(entries=batch))


async def rows(engine: AsyncEngine, chain_id: str) -> list[dict[str, Any]]:
    async with engine.connect() as connection:
        found = await connection.execute(
            select(LedgerRow.__table__).where(LedgerRow.chain_id == chain_id).order_by(LedgerRow.seq)
        )
        return [dict(row) for row in found.mappings().all()]


def consistent(row: dict[str, Any], *, seq: int, prev_hash: str, payload: dict[str, Any]) -> dict[str, Any]:
    """``row`` rewritten with a new payload and every hash recomputed: consistent in itself."""
    payload_json = canonical_json(payload)
    payload_hash = sha256_hex(payload_json)
    fields = {
        "chain_id": row["chain_id"],
        "author": row["author"],
        "sim_time": row["sim_time"],
        "idempotency_key": row["idempotency_key"],
    }
    digest = entry_hash(seq=seq, payload_hash=payload_hash, prev_hash=prev_hash, **fields)
    return {
        **fields,
        "seq": seq,
        "payload_json": payload_json,
        "payload_hash": payload_hash,
        "prev_hash": prev_hash,
        "entry_hash": digest,
    }


@dataclass(frozen=True)
class Tampering:
    kind: str  # modify, rewrite, delete, insert, reorder
    at: int  # a position in the chain (reduced modulo its length)
    other: int  # reorder: the second position
    column: str  # modify: which column
    value: str


tamperings = st.builds(
    Tampering,
    kind=st.sampled_from(("modify", "rewrite", "delete", "insert", "reorder")),
    at=st.integers(0, 1000),
    other=st.integers(0, 1000),
    column=st.sampled_from(COLUMNS),
    value=st.text(min_size=1, max_size=20),
)


@dataclass(frozen=True)
class Expected:
    """What the verdict must say: the kind, and the position/row id or the sequence number."""

    kind: str
    position: int | None = None
    row_id: int | None = None
    seq: int | None = None


async def tamper(engine: AsyncEngine, chain_id: str, how: Tampering, length: int) -> Expected:
    stored = await rows(engine, chain_id)
    at = how.at % length
    row = stored[at]
    where = LedgerRow.id == row["id"]
    async with engine.begin() as connection:
        if how.kind == "modify":
            value: Any = how.value
            if how.column == "sim_time":
                value = row["sim_time"] + 1 + len(how.value)
            elif how.column.endswith("hash"):
                value = sha256_hex(how.value)
            elif how.column == "idempotency_key":
                value = f"{chain_id}/{how.value}"  # keys are unique in the store: one no other row holds
            elif how.column == "payload_json":
                value = json.dumps({"deal": how.value})
            await connection.execute(update(LedgerRow).where(where).values({how.column: value}))
            return Expected("modified", position=at, row_id=row["id"])
        if how.kind == "rewrite":
            forged = consistent(row, seq=at, prev_hash=row["prev_hash"], payload={"deal": how.value})
            await connection.execute(update(LedgerRow).where(where).values(forged))
            return Expected("modified", position=at, row_id=row["id"])
        if how.kind == "delete":
            await connection.execute(delete(LedgerRow).where(where))
            return Expected("deleted", seq=at)
        if how.kind == "insert":
            # Later rows move up one place (last first: (chain, seq) is unique), the new row takes ``at``.
            for later in reversed(stored[at:]):
                moved = update(LedgerRow).where(LedgerRow.id == later["id"]).values(seq=later["seq"] + 1)
                await connection.execute(moved)
            prev_hash = stored[at - 1]["entry_hash"] if at else GENESIS_HASH
            # A key of its own: idempotency keys are unique in the store.
            fresh = {**row, "idempotency_key": f"forged/{chain_id}/{how.value}"}
            forged = consistent(fresh, seq=at, prev_hash=prev_hash, payload={"deal": how.value})
            inserted = await connection.execute(insert(LedgerRow).values(forged).returning(LedgerRow.id))
            return Expected("inserted", position=at, row_id=inserted.scalar_one())
        other = how.other % length
        if other == at:
            other = (at + 1) % length
        first, second = sorted((at, other))
        a, b = stored[first], stored[second]
        await connection.execute(update(LedgerRow).where(LedgerRow.id == a["id"]).values(seq=-1))
        await connection.execute(update(LedgerRow).where(LedgerRow.id == b["id"]).values(seq=first))
        await connection.execute(update(LedgerRow).where(LedgerRow.id == a["id"]).values(seq=second))
        # Stored order is by seq: the first wrong row is b, now at ``first``.
        return Expected("reordered", position=first, row_id=b["id"])


def check(verdict: ChainVerdict, expected: Expected) -> None:
    broken = verdict.broken
    assert broken is not None, f"the audit found nothing; expected {expected}"
    assert broken.kind == expected.kind, f"{broken} named, expected {expected}"
    if expected.position is not None:
        assert (broken.position, broken.row_id) == (expected.position, expected.row_id), f"{broken} vs {expected}"
    if expected.seq is not None:
        assert broken.seq == expected.seq, f"{broken} vs {expected}"


async def tampered_chain(
    engine: AsyncEngine, chain_id: str, how: Tampering, length: int
) -> tuple[Expected, ChainVerdict, ChainVerdict]:
    await write_chain(engine, chain_id, length)
    intact = await ledger.verify_stored_chain(engine, chain_id)
    assert intact.broken is None, intact
    expected = await tamper(engine, chain_id, how, length)
    return expected, await ledger.verify_stored_chain(engine, chain_id), await ledger.verify_stored_chain(engine, OTHER)


class Store:
    """One migrated SQLite store for the whole property, on a loop of its own (hypothesis tests are sync)."""

    def __init__(self, url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._context = open_store(url)
        self.engine = self.loop.run_until_complete(self._context.__aenter__())
        self.loop.run_until_complete(write_chain(self.engine, OTHER, 4))
        self.chains = 0

    def tampered(self, how: Tampering, length: int) -> tuple[Expected, ChainVerdict, ChainVerdict]:
        self.chains += 1
        return self.loop.run_until_complete(tampered_chain(self.engine, f"deals/{self.chains}", how, length))

    def close(self) -> None:
        self.loop.run_until_complete(self._context.__aexit__(None, None, None))
        self.loop.close()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    opened = Store(f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('ledger') / 'store.db'}")
    yield opened
    opened.close()


@settings(max_examples=EXAMPLES * 3, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(how=tamperings, length=st.integers(2, 12))
def test_a_tampered_row_is_always_named(store: Store, how: Tampering, length: int):
    expected, verdict, other = store.tampered(how, length)
    check(verdict, expected)
    assert other.broken is None, f"the untouched chain was blamed: {other.broken}"


@pytest.mark.parametrize("kind", ["modify", "rewrite", "delete", "insert", "reorder"])
def test_simctl_audit_names_the_row(tmp_path: Path, kind: str):
    how = Tampering(kind=kind, at=2, other=4, column="author", value="mallory")
    store = Store(f"sqlite+aiosqlite:///{tmp_path / 'simctl.db'}")
    try:
        expected, _, _ = store.tampered(how, 6)
    finally:
        store.close()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = run(["--state-dir", str(tmp_path), "audit", "--no-history", "--json"])
    assert code == 1
    verdicts = {v["chain_id"]: v for v in json.loads(out.getvalue())["chains"]}
    assert verdicts[OTHER]["broken"] is None
    check(ChainVerdict.model_validate(verdicts["deals/1"]), expected)
