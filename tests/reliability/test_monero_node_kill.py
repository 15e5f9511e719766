"""A monerod (or a wallet-rpc) SIGKILLed mid-run (issue 13, item 2): the run relaunches it on its data
directory and port, it catches up, and the run completes as an uncrashed run with the same seed does: the same
blocks-per-pool sequence and payments, heights contiguous, no block or payment recorded twice, the marketplaces
reconcile.

The node killed is the first pool's, which also serves the bank's and users' wallets, so mining, propagation
and payments all meet the dead port; the wallet-rpc killed is a user's, which pays in most minutes. Both runs go
side by side, on workers in this process (as the monero_network fixture's), like the worker-crash test's
uncrashed run.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.worker import Worker

from activities.monero.host import HostActivities
from activities.monero.nodes import NodeActivities
from activities.monero.records import RecordActivities
from activities.monero.wallets import WalletActivities
from localnet.monero import processes
from models.monero_run import NetworkInput, NetworkSummary, RunSpec
from sim.monero import agents
from store import ledger
from store import monero as monero_store
from store.tables import MoneroBlockRow
from tests.polling import eventually
from tests.reliability.test_monero_crash import config, paid_once, payments, pools_in_order, stop_leftovers
from workers.registry import MONERO_WORKFLOWS, monero_activity_methods, monero_process_methods
from workflows.monero.network import MoneroNetworkWorkflow

pytestmark = [pytest.mark.reliability, pytest.mark.monerod, pytest.mark.timeout(900)]

# Scheduled blocks recorded before the kill: well inside the run's 10, after its setup.
KILL_AFTER_BLOCKS = 3
# From the kill to the run's end. Without a relaunch the run fails sooner: a payment's wallet-rpc finds no daemon.
RUN_AFTER_KILL_S = 360


async def scheduled_blocks(store: AsyncEngine, run_id: str) -> int:
    return sum(b["phase"] == "run" for b in await monero_store.rows(store, MoneroBlockRow, run_id))


def victim_of(kind: str) -> str:
    """The process killed: the first pool's monerod (the bank's and users' node too), or a user's wallet-rpc."""
    if kind == "node":
        return agents.place(config()).pool_node["pool_a"]
    return agents.users(config())[0]


@pytest.mark.parametrize("kind", ["node", "wallet"])
async def test_a_run_whose_process_is_killed_relaunches_it_and_mines_the_uncrashed_sequence(
    kind: str,
    client: Client,
    run_worker,
    task_queue: str,
    genesis_snapshot: Path,
    monero_http: httpx.AsyncClient,
    monero_engine: AsyncEngine,
    tmp_path: Path,
):
    store = monero_engine
    calm_id, killed_id = f"calm-{uuid.uuid4().hex[:6]}", f"kill-{uuid.uuid4().hex[:6]}"
    victim = victim_of(kind)
    run_dir = tmp_path / "state" / "monero" / killed_id
    # As the monero_network fixture serves one run: the shared queue and the host queue, here for both runs.
    nodes, wallets = NodeActivities(tmp_path / "state", monero_http), WalletActivities(monero_http)
    host = HostActivities("test-host", f"{task_queue}@test-host")
    activities = monero_activity_methods(nodes, wallets, RecordActivities(store), host)
    host_worker = Worker(
        client, task_queue=f"{task_queue}@test-host", activities=monero_process_methods(nodes, wallets)
    )

    async def run(run_id: str) -> NetworkSummary:
        spec = RunSpec(run_id=run_id, config=config(), genesis_dir=str(genesis_snapshot))
        return await client.execute_workflow(
            MoneroNetworkWorkflow.run, NetworkInput(spec=spec), id=run_id, task_queue=task_queue
        )

    try:
        async with (
            run_worker(workflows=MONERO_WORKFLOWS, activities=activities),
            host_worker,
            asyncio.TaskGroup() as runs,
        ):
            calm_run = runs.create_task(run(calm_id))
            killed_run = runs.create_task(run(killed_id))

            async def enough_blocks() -> bool:
                if killed_run.done():
                    killed_run.result()  # a failed run says why
                    raise AssertionError("the run finished before its node was killed")
                return await scheduled_blocks(store, killed_id) >= KILL_AFTER_BLOCKS

            await eventually(enough_blocks, timeout=600, interval=0.2, what=f"{KILL_AFTER_BLOCKS} blocks mined")
            record = processes.recorded(run_dir, victim)
            assert record is not None and processes.alive(*record), f"{victim} is not running before the kill"
            killed_pid = record[0]
            os.kill(killed_pid, signal.SIGKILL)
            killed_at = time.monotonic()
            at_kill = await scheduled_blocks(store, killed_id)

            def relaunched() -> int | None:
                again = processes.recorded(run_dir, victim)
                return again[0] if again and again[0] != killed_pid and processes.alive(*again) else None

            new_pid = await eventually(relaunched, timeout=120, interval=0.2, what=f"{victim} relaunched")
            relaunch_s = time.monotonic() - killed_at
            try:
                killed = await asyncio.wait_for(asyncio.shield(killed_run), RUN_AFTER_KILL_S)
            except TimeoutError:
                raise AssertionError(f"the run did not finish {RUN_AFTER_KILL_S} s after {victim} was killed") from None
            calm = await calm_run
        finish_s = time.monotonic() - killed_at
    finally:
        stop_leftovers(tmp_path / "state")
    print(
        f"\nkilled {victim} (PID {killed_pid}) after {at_kill} scheduled blocks; relaunched as PID {new_pid} "
        f"{relaunch_s:.1f} s later; the run ended {finish_s:.1f} s after the kill"
    )
    assert at_kill < killed.rounds, "the kill must fall mid-run"

    assert killed.rounds == calm.rounds == 10
    assert killed.blocks_by_pool == calm.blocks_by_pool
    assert killed.pool_sequence_digest == calm.pool_sequence_digest
    assert await pools_in_order(store, killed_id) == await pools_in_order(store, calm_id)
    assert await payments(store, killed_id) == await payments(store, calm_id)
    await paid_once(store, calm)
    await paid_once(store, killed)
    blocks = await monero_store.rows(store, MoneroBlockRow, killed_id)
    heights = sorted(b["height"] for b in blocks)
    assert heights == list(range(heights[0], heights[0] + len(heights))), "heights contiguous, none twice"
    assert heights[-1] + 1 == killed.final_height
    verdict = await ledger.verify_stored_chain(store, f"monero/{killed_id}")
    assert verdict.ok and verdict.length == len(blocks)
    assert processes.recorded_all(run_dir) == {}, "every process the run started is stopped"
