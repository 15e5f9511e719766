"""Record the histories that tests/monero/test_replay.py replays: one small run on real monerod.

    .venv/bin/python -m tests.monero.record_histories TAG   (needs monerod; starts its own in-memory dev server)

Writes ``TAG-<workflow>.json`` to tests/monero/histories/: the run (MoneroNetworkWorkflow), its first funding
payment, a user's payment, its first scheduled round, the marketplace and its reconciliation. It runs the
worker as ``python -m workers.main`` does (the registry's monero queue), so it records whatever the code on the
import path decides: the ``v1`` files were recorded by the code before host queues (this script run from an
export of that commit), ``v2`` by the code with them. Re-record only on purpose, for a new workflow type or
a deliberate, versioned change, under a new tag; never to make a failing replay pass.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path

from temporalio.client import Client, WorkflowHistory

from activities.monero.genesis import build_snapshot
from bench.server import benchmark_client
from models.monero_run import NetworkInput, NetworkSummary, RunSpec
from models.settings import Settings
from models.task_queues import TaskQueue
from tests.monero.configs import small_config
from workers.client import ensure_search_attributes
from workers.registry import QUEUES, open_resources
from workers.service import running_workers
from workflows.monero.network import MoneroNetworkWorkflow

OUT = Path(__file__).parent / "histories"
RUN_ID = "monero-replay"
# Small on purpose (the files stay small), yet every workflow type runs and users pay (seed 7 at 0.5 a minute).
CONFIG = small_config(
    blocks=2, users=2, marketplaces=1, pools=(("pool_a", 0.6), ("pool_b", 0.4)), frequency=0.5, vendors=2
)


async def child_ids(client: Client, workflow_id: str) -> list[str]:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return [
        event.start_child_workflow_execution_initiated_event_attributes.workflow_id
        for event in history.events
        if event.HasField("start_child_workflow_execution_initiated_event_attributes")
    ]


def save(name: str, history: WorkflowHistory) -> Path:
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(json.loads(history.to_json()), indent=1) + "\n")
    return path


async def main(tag: str) -> None:
    with tempfile.TemporaryDirectory(prefix="monero-record-") as scratch:
        genesis = Path(scratch) / "genesis"
        await build_snapshot(genesis, blocks=100)
        async with benchmark_client(None, in_memory=True) as (client, _):
            await ensure_search_attributes(client)
            settings = Settings(
                temporal_address="127.0.0.1:1",  # unused: the client above is connected
                state_dir=Path(scratch) / "state",
                database_url=f"sqlite:///{Path(scratch) / 'simctl.db'}",
                metrics_port=0,
                host_id="recorder",  # not this machine's name in the saved files (ignored by the code before hosts)
            )
            spec = RunSpec(run_id=RUN_ID, config=CONFIG, genesis_dir=str(genesis))
            monero = [queue for queue in QUEUES if queue.queue in (TaskQueue.MONERO, TaskQueue.PLATFORM)]
            async with open_resources(settings) as resources, running_workers(client, resources, monero):
                summary: NetworkSummary = await client.execute_workflow(
                    MoneroNetworkWorkflow.run, NetworkInput(spec=spec), id=RUN_ID, task_queue=TaskQueue.MONERO
                )
            assert summary.payments_sent > 0 and summary.reconciled, summary
            children = await child_ids(client, RUN_ID)
            market = next(c for c in children if "/market/" in c and not c.endswith("/reconcile"))
            chosen = {
                "network": RUN_ID,
                "funding": f"{RUN_ID}/fund/0",
                "payment": next(c for c in children if "/pay/" in c),
                "round": f"{RUN_ID}/block/run-{next(int(c.rsplit('-', 1)[1]) for c in children if '/block/run-' in c)}",
                "marketplace": market,
                "reconcile": f"{market}/reconcile",
            }
            histories = {
                name: await client.get_workflow_handle(workflow_id).fetch_history()
                for name, workflow_id in chosen.items()
            }
    OUT.mkdir(exist_ok=True)
    for name, history in histories.items():
        path = save(f"{tag}-{name}", history)
        print(f"{path}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
