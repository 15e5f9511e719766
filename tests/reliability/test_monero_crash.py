"""A monero run on real monerod whose standalone worker is SIGKILLed mid-run and restarted (issue 10's
acceptance, issue 13 item 1): the same blocks-per-pool sequence as an uncrashed run with the same seed, no
payment made twice (store rows, and every transaction the chain mined is one the store recorded once), the
marketplaces reconcile, and no monerod or wallet-rpc is left behind."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from localnet.monero import processes
from models.monero import MoneroConfig
from models.monero_run import NetworkInput, NetworkSummary, RunSpec
from models.task_queues import TaskQueue
from store import ledger
from store import monero as monero_store
from store.tables import MoneroBlockRow, MoneroTransactionRow
from tests.monero.configs import small_config
from workflows.monero.network import UNLOCK_BLOCKS, MoneroNetworkWorkflow

pytestmark = [pytest.mark.reliability, pytest.mark.monerod, pytest.mark.timeout(900)]

SEED = 7
# The kill stream's seed and the kills (issue 13: at least five per run), at shares of the run's blocks.
KILLS = 5
KILL_SEED = 15
BLOCKS = 10
# Blocks a run mines: the funding and its unlock (setup), then the scheduled rounds.
ALL_BLOCKS = UNLOCK_BLOCKS + 1 + BLOCKS


def stop_leftovers(state_dir: Path) -> None:
    """A failed run may leave its processes running: stop those recorded under ``state_dir`` (by PID and marker)."""
    for run_dir in (state_dir / "monero").glob("*"):
        for name in processes.recorded_all(run_dir):
            processes.stop_recorded(run_dir, name, grace=5)


async def pools_in_order(store: AsyncEngine, run_id: str) -> list[str]:
    blocks = await monero_store.rows(store, MoneroBlockRow, run_id)
    return [b["pool"] for b in sorted(blocks, key=lambda b: b["height"]) if b["phase"] == "run"]


async def payments(store: AsyncEngine, run_id: str) -> list[dict[str, Any]]:
    """The run's transactions as the seed decides them: no run id, hash, fee or wall-clock time, and no mined
    height: a scheduled round does not wait for relayed payments to reach the mining pool's node, so on real
    monerod the block that takes a payment (and whether a settle block is needed) depends on propagation."""
    rows = await monero_store.rows(store, MoneroTransactionRow, run_id)
    keep = ("kind", "payer", "marketplace", "vendor_index", "amount", "status", "sim_time")
    return sorted(
        ({"payment_id": r["payment_id"].removeprefix(run_id)} | {k: r[k] for k in keep} for r in rows),
        key=lambda r: r["payment_id"],
    )


async def paid_once(store: AsyncEngine, summary: NetworkSummary) -> None:
    """Every transaction the chain mined is one the store holds, once; each sent payment was mined."""
    rows = await monero_store.rows(store, MoneroTransactionRow, summary.run_id)
    sent = [r for r in rows if r["status"] != "skipped"]
    hashes = [r["tx_hash"] for r in sent]
    assert len(set(hashes)) == len(hashes) and None not in hashes
    blocks = await monero_store.rows(store, MoneroBlockRow, summary.run_id)
    mined = [tx for b in blocks for tx in json.loads(b["tx_hashes_json"])]
    assert len(set(mined)) == len(mined), "a transaction mined twice"
    assert set(mined) == set(hashes), "the chain mined a transaction the run did not record (a second payment)"
    assert all(r["status"] == "mined" for r in sent)
    assert summary.payments_mined == summary.payments_sent == sum(r["kind"] == "payment" for r in sent) > 0
    # The vendors' wallets (get_transfers at reconciliation) received exactly what was sent, nothing more.
    assert summary.reconciled, summary.reconciliations
    for reconciliation in summary.reconciliations:
        assert not reconciliation.unexpected
        assert all(v.received_count == v.expected_count for v in reconciliation.vendors)


def config() -> MoneroConfig:
    return small_config(
        blocks=BLOCKS,
        users=2,
        marketplaces=1,
        pools=(("pool_a", 0.6), ("pool_b", 0.4)),
        frequency=0.3,
        vendors=2,
        seed=SEED,
    )


async def test_a_run_killed_five_times_mines_the_uncrashed_pool_sequence_and_pays_once(
    client: Client, crashing_worker, monero_network, genesis_snapshot: Path, tmp_path: Path, monero_engine: AsyncEngine
):
    store = monero_engine
    worker = crashing_worker(TaskQueue.MONERO, SIMCTL_DATABASE_URL=f"sqlite:///{tmp_path / 'monero.db'}")
    calm_id, crashed_id = f"calm-{uuid.uuid4().hex[:6]}", f"crash-{uuid.uuid4().hex[:6]}"
    # Continue-as-new every 4 rounds: the kills also meet a run carried across runs.
    spec = RunSpec(run_id=crashed_id, config=config(), genesis_dir=str(genesis_snapshot), rounds_per_run=4)

    async def blocks_done() -> float:
        return len(await monero_store.rows(store, MoneroBlockRow, crashed_id)) / ALL_BLOCKS

    try:
        await worker.start()
        handle = await client.start_workflow(
            MoneroNetworkWorkflow.run,
            NetworkInput(spec=spec),
            id=crashed_id,
            task_queue=TaskQueue.MONERO,
            execution_timeout=timedelta(seconds=840),
        )
        # The uncrashed run at the same time, by a worker in this process on the test's own queue.
        async with asyncio.TaskGroup() as runs:  # one failing cancels the other
            calm_run = runs.create_task(monero_network(config(), run_id=calm_id, rounds_per_run=4))
            # Kill points as shares of the blocks the run mines, so they spread over setup and rounds alike.
            crashing = runs.create_task(
                worker.crash_while(
                    handle.result(), kills=KILLS, seed=KILL_SEED, between=(0.0, 0.8), timeout=600, progress=blocks_done
                )
            )
        calm: NetworkSummary = calm_run.result().summary
        crashed: NetworkSummary = crashing.result()
        assert await worker.stop() == 0
    finally:
        worker.ensure_dead()
        stop_leftovers(Path(worker.env["SIMCTL_STATE_DIR"]))
        stop_leftovers(tmp_path / "state")  # the monero_network fixture's
    assert len(worker.kills) == KILLS, worker.kills

    assert crashed.rounds == calm.rounds == BLOCKS
    assert crashed.blocks_by_pool == calm.blocks_by_pool
    assert crashed.pool_sequence_digest == calm.pool_sequence_digest
    assert await pools_in_order(store, crashed_id) == await pools_in_order(store, calm_id)
    assert await payments(store, crashed_id) == await payments(store, calm_id)
    await paid_once(store, calm)
    await paid_once(store, crashed)
    verdict = await ledger.verify_stored_chain(store, f"monero/{crashed_id}")
    assert verdict.ok and verdict.length == len(await monero_store.rows(store, MoneroBlockRow, crashed_id))
    state = Path(worker.env["SIMCTL_STATE_DIR"]) / "monero"
    assert processes.recorded_all(state / crashed_id) == {}, "every process the run started is stopped"
