"""The monero row of bench/RELIABILITY.md: a monerod (or wallet-rpc) SIGKILLed mid-run (issue 13, item 2).

A monero run and an uncrashed run with the same seed go side by side on the project's monero workers (this
process, the bench's dev server). After a share of the scheduled blocks is recorded, one process of the faulted
run is SIGKILLed by its recorded PID: the first pool's monerod (also the bank's node) or a user's wallet-rpc.
The run's supervisor relaunches it; the row says how long that took, whether the run completed with the
uncrashed run's pool sequence and payments, and what was lost (a scheduled block or payment missing) or
duplicated (a height or transaction recorded twice). tests/reliability/test_monero_node_kill.py asserts the
same at a small size.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import uuid
from collections import Counter
from pathlib import Path

from temporalio.client import Client

from activities.monero.genesis import build_snapshot
from bench.monero_network import reference_config
from bench.reliability import Row
from localnet.monero import processes
from models.monero import MoneroConfig
from models.monero_run import NetworkInput, NetworkSummary, RunSpec
from models.settings import Settings
from models.task_queues import TaskQueue
from sim.monero import agents
from store import monero as monero_store
from store.tables import MoneroBlockRow, MoneroTransactionRow
from workers.registry import QUEUES, open_resources
from workers.service import running_workers
from workflows.monero.network import MoneroNetworkWorkflow


def victim_of(config: MoneroConfig, kind: str) -> str:
    if kind == "node":
        return agents.place(config).pool_node[agents.pools(config)[0]]
    return agents.users(config)[0]


async def monero_kill(
    client: Client, scratch: Path, *, kind: str = "node", users: int = 3, blocks: int = 20, seed: int = 7
) -> Row:
    """One SIGKILL of ``kind`` ("node" or "wallet") after a third of ``blocks`` scheduled blocks."""
    processes.require_binaries()
    scratch.mkdir(parents=True, exist_ok=True)
    config = reference_config(users=users, marketplaces=1, hours=blocks * 120 / 3600, seed=seed, frequency=0.3)
    genesis = scratch / "genesis"
    await build_snapshot(genesis, blocks=100)
    calm_id, faulted_id = f"calm-{uuid.uuid4().hex[:6]}", f"kill-{uuid.uuid4().hex[:6]}"
    victim = victim_of(config, kind)
    run_dir = scratch / "monero" / faulted_id
    queues = [spec for spec in QUEUES if spec.queue is TaskQueue.MONERO]
    settings = Settings(state_dir=scratch, metrics_port=0)

    async def run(run_id: str) -> NetworkSummary:
        spec = RunSpec(run_id=run_id, config=config, genesis_dir=str(genesis))
        return await client.execute_workflow(
            MoneroNetworkWorkflow.run, NetworkInput(spec=spec), id=run_id, task_queue=TaskQueue.MONERO
        )

    async with open_resources(settings) as resources, running_workers(client, resources, queues):
        store = resources.engine

        async def scheduled(run_id: str) -> list[dict]:
            return [b for b in await monero_store.rows(store, MoneroBlockRow, run_id) if b["phase"] == "run"]

        try:
            async with asyncio.TaskGroup() as runs:
                calm_run, faulted_run = runs.create_task(run(calm_id)), runs.create_task(run(faulted_id))
                while len(await scheduled(faulted_id)) < blocks // 3:
                    if faulted_run.done():
                        raise RuntimeError("the run finished before its kill")
                    await asyncio.sleep(0.2)
                record = processes.recorded(run_dir, victim)
                if record is None or not processes.alive(*record):
                    raise RuntimeError(f"{victim} is not running before its kill")
                os.kill(record[0], signal.SIGKILL)
                killed_at = time.monotonic()
                while (again := processes.recorded(run_dir, victim)) is None or again[0] == record[0]:
                    if faulted_run.done():
                        break
                    await asyncio.sleep(0.2)
                relaunch_s = time.monotonic() - killed_at
                faulted = await faulted_run
                ended_s = time.monotonic() - killed_at
                calm = await calm_run
        finally:  # a failed run may leave its processes running
            for run_id in (calm_id, faulted_id):
                for name in processes.recorded_all(scratch / "monero" / run_id):
                    processes.stop_recorded(scratch / "monero" / run_id, name, grace=5)
        calm_pools = [b["pool"] for b in sorted(await scheduled(calm_id), key=lambda b: b["height"])]
        faulted_blocks = sorted(await scheduled(faulted_id), key=lambda b: b["height"])
        all_heights = [b["height"] for b in await monero_store.rows(store, MoneroBlockRow, faulted_id)]
        sent = [
            r["tx_hash"]
            for r in await monero_store.rows(store, MoneroTransactionRow, faulted_id)
            if r["status"] != "skipped"
        ]
    same_sequence = [b["pool"] for b in faulted_blocks] == calm_pools
    lost = max(0, len(calm_pools) - len(faulted_blocks)) + len(faulted.unmined)
    duplicated = sum(n - 1 for n in Counter(all_heights).values()) + sum(n - 1 for n in Counter(sent).values())
    what = "the first pool's monerod (also the bank's node)" if kind == "node" else "a user's wallet-rpc"
    row = Row(
        scenario=f"monero run ({users} users, 3 pools, {blocks} blocks): {kind} SIGKILLed",
        faults=f"1 SIGKILL of {what} after {blocks // 3} of {blocks} scheduled blocks",
        runs=1,
        completed=(
            f"{faulted.rounds}/{blocks} blocks, {faulted.payments_mined}/{faulted.payments_sent} payments mined; "
            f"pool sequence {'equal to' if same_sequence else 'DIFFERENT from'} the uncrashed run's; "
            f"marketplaces {'reconciled' if faulted.reconciled else 'NOT reconciled'}"
        ),
        lost=lost,
        duplicated=duplicated,
        recover_s=[relaunch_s],
        details={"ended_s": ended_s, "same_sequence": same_sequence, "calm_rounds": calm.rounds},
    )
    if not same_sequence or not faulted.reconciled:
        row.note = "pool sequence or reconciliation differs: see details " + json.dumps(row.details)
    else:
        row.note = f"0 lost, 0 duplicated; relaunched, then the run ended {ended_s:.1f} s after the kill"
    return row
