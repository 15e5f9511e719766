"""`simctl stuck` finds a fiber deliberately left waiting; the progress query says on whom."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta

from temporalio.client import Client

from models.otto import FiberProgress, FiberSpec
from simctl.commands.stuck import find_stuck
from tests.cli.helpers import simctl
from tests.otto.conftest import Pool
from tests.polling import eventually
from workflows.otto.fiber import FiberWorkflow


async def wait_for_progress(handle, predicate, what: str) -> FiberProgress:
    async def progress() -> FiberProgress | None:
        answer = await handle.query(FiberWorkflow.progress)
        return answer if answer is not None and predicate(answer) else None

    return await eventually(progress, what=what)


async def test_stuck_lists_a_fiber_whose_chain_stopped(
    client: Client, temporal_address: str, otto_worker, task_queue: str, pool: Pool, node
):
    spec = FiberSpec(
        fiber_type="TicTacToe",
        parties=pool.take(2),
        outcome="win",
        seed=1,
        endpoints=node.endpoints,
        wallets=str(pool.path),
        timeout_seconds=300,
    )
    workflow_id = f"stuck-{uuid.uuid4().hex[:10]}"
    async with otto_worker():
        handle = await client.start_workflow(FiberWorkflow.run, spec, id=workflow_id, task_queue=task_queue)
        await wait_for_progress(handle, lambda p: p.transitions >= 1, "a first transition")
        node.chain.faults.snapshot_stall = True  # moves are accepted but never reach ML0
        progress = await wait_for_progress(handle, lambda p: p.waiting_on is not None, "a move awaited")

        async def listed_as_stuck() -> bool:
            return workflow_id in {fiber.workflow_id for fiber in await find_stuck(client, timedelta(seconds=2))}

        # Visibility shows the fiber in one state for over 2 s: what the command below must report.
        await eventually(listed_as_stuck, what="the fiber unchanged for 2 s in visibility")

        result = await asyncio.to_thread(
            simctl, "--address", temporal_address, "--no-embedded", "stuck", "--older-than", "2s", "--json"
        )
        assert result.returncode == 0, result.stderr
        found = {entry["workflow_id"]: entry for entry in map(json.loads, result.stdout.splitlines())}
        assert workflow_id in found
        entry = found[workflow_id]
        assert entry["fiber_type"] == "TicTacToe" and entry["state"] == progress.state
        assert entry["waiting_on"] in {party.agent_id for party in spec.parties}
        assert entry["initiator"] == spec.parties[0].agent_id

        fresh = await asyncio.to_thread(
            simctl, "--address", temporal_address, "--no-embedded", "stuck", "--older-than", "10m", "--json"
        )
        assert workflow_id not in fresh.stdout, "a fiber stuck for seconds is not stuck for ten minutes"

        node.chain.faults.snapshot_stall = False
        outcome = await handle.result()
    assert outcome.status == "COMPLETED" and outcome.outcome == "win"
