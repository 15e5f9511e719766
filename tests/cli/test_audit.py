"""`simctl audit` on a real store: intact chains pass, a tampered row is named, exit codes say which."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import update

from models.ledger import AppendBatch
from sim.hashchain import GENESIS_HASH, make_entry
from store import ledger
from store.engine import open_store
from store.tables import LedgerRow
from tests.cli.helpers import simctl


async def write_chains(url: str) -> None:
    async with open_store(url) as engine:
        for chain_id in ("deals/A", "deals/C"):
            prev, batch = GENESIS_HASH, []
            for seq in range(6):
                entry = make_entry(
                    chain_id=chain_id,
                    seq=seq,
                    prev_hash=prev,
                    payload={"deal": seq},
                    author="exchange",
                    sim_time=seq,
                    idempotency_key=f"wf/{chain_id}/{seq}",
                )
                batch.append(entry)
                prev = entry.entry_hash
            await ledger.append(engine, AppendBatch(entries=batch))


async def tamper_payload(url: str, chain_id: str, seq: int) -> None:
    async with open_store(url) as engine, engine.begin() as connection:
        await connection.execute(
            update(LedgerRow)
            .where(LedgerRow.chain_id == chain_id, LedgerRow.seq == seq)
            .values(payload_json='{"deal":999}')
        )


async def test_audit_passes_intact_chains_and_names_a_tampered_row(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'simctl.db'}"
    await write_chains(url)

    clean = await asyncio.to_thread(simctl, "--state-dir", str(tmp_path), "audit")
    assert clean.returncode == 0, clean.stderr
    assert "(a) 2 intact, 0 broken" in clean.stdout
    assert "no ads experiments" in clean.stdout

    await tamper_payload(url, "deals/C", 3)
    tampered = await asyncio.to_thread(simctl, "--state-dir", str(tmp_path), "audit", "--json")
    assert tampered.returncode == 1
    report = json.loads(tampered.stdout)
    assert report["ok"] is False
    verdicts = {v["chain_id"]: v for v in report["chains"]}
    assert verdicts["deals/A"]["broken"] is None
    assert verdicts["deals/C"]["broken"]["seq"] == 3
    assert verdicts["deals/C"]["broken"]["kind"] == "modified"

    only_a = await asyncio.to_thread(simctl, "--state-dir", str(tmp_path), "audit", "--chain", "deals/A")
    assert only_a.returncode == 0


async def test_audit_of_an_unknown_chain_exits_2(tmp_path):
    async with open_store(f"sqlite+aiosqlite:///{tmp_path / 'simctl.db'}"):
        pass  # an empty store: the chain is what is missing
    result = await asyncio.to_thread(simctl, "--state-dir", str(tmp_path), "audit", "--chain", "nope")
    assert result.returncode == 2
    assert (
        result.stderr.strip() == f"simctl: no chain 'nope' in the store at sqlite+aiosqlite:///{tmp_path / 'simctl.db'}"
    )
