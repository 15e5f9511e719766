"""An otto evolution run whose standalone worker is SIGKILLed mid-run and restarted (issue 9's acceptance,
issue 13 item 1): the same checkpoints as an uncrashed run with the same seed, no fiber transition applied
twice, nobody registered twice, and the run's ledger passes the audit."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from activities.otto.keyring import Keyring
from localnet.ottochain.chain import Faults
from localnet.ottochain.server import OttoChainServer
from models.evolution import EvolutionResult
from models.settings import Settings
from models.task_queues import TaskQueue
from sim.canonical import canonical_json
from sim.otto.generation import ledger_chain
from simctl.commands.audit import run_audit
from store import otto as otto_store
from store.engine import open_store
from store.tables import OttoAgentStatsRow, OttoGenerationRow, OttoPopulationRow
from store.wallets import generate_pool
from tests.otto.conftest import PASSPHRASE
from tests.otto.test_evolution import checkpoint_rows, evolution_spec, identities, without_chain_ids
from workers.registry import QUEUES, WorkerResources
from workflows.otto.evolution import EvolutionWorkflow

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(900)]

SEED = 21
GENERATIONS = 3
KILLS = 5  # issue 13: at least five SIGKILLs per run


@pytest.fixture
def store_file(tmp_path: Path) -> Path:
    return tmp_path / "store.db"


@pytest.fixture
async def store(store_file: Path) -> AsyncIterator[AsyncEngine]:
    async with open_store(f"sqlite+aiosqlite:///{store_file}") as engine:
        yield engine


def chain_shape(node: OttoChainServer) -> list[tuple[str, str, int, tuple[str, ...]]]:
    """Every fiber as (definition digest, state, sequence number, its applied events), ids left out; and the
    check that no fiber took a sequence number or an update twice."""
    state = node.chain.state
    by_fiber: dict[str, list[tuple[int, str]]] = {}
    for applied in state.applied:
        by_fiber.setdefault(applied.fiber_id, []).append((applied.sequence_number, applied.event))
    hashes = Counter(a.update_hash for a in state.applied if a.update_hash is not None)
    assert not [h for h, n in hashes.items() if n > 1], "an update was applied twice"
    shape = []
    for fiber_id, fiber in state.fibers.items():
        moves = by_fiber.get(fiber_id, [])
        assert [seq for seq, _ in moves] == list(range(1, fiber.sequence_number + 1)), (
            f"fiber {fiber_id}: applied sequence numbers {[seq for seq, _ in moves]}, at {fiber.sequence_number}"
        )
        definition = canonical_json(fiber.definition)
        # The order of triggered events on an identity depends on which counterparty's fiber settled first.
        events = tuple(sorted(event for _, event in moves))
        shape.append((definition, fiber.current_state, fiber.sequence_number, events))
    return sorted(shape)


async def evolve_on_fresh_node(
    client: Client, wallets: Path, run_id: str, task_queue: str, during=None
) -> tuple[EvolutionResult, list, dict[str, list[str]]]:
    """A run on its own node (reputations start from the same place); ``during(result)`` awaits the result."""
    async with OttoChainServer(faults=Faults(snapshot_interval=0.05)) as node:
        # Fiber timeouts are workflow timers: generous, so a crash's lost minutes cannot turn into an outcome.
        spec = evolution_spec(
            run_id,
            node.endpoints,
            wallets,
            population=10,
            generations=GENERATIONS,
            seed=SEED,
            fiber_timeout_seconds=900,
        )
        handle = await client.start_workflow(
            EvolutionWorkflow.run,
            spec,
            id=f"evolve-{run_id}",
            task_queue=task_queue,
            execution_timeout=timedelta(seconds=840),
        )
        result = await (during(handle.result()) if during else handle.result())
        async with httpx.AsyncClient(timeout=10) as http:
            owned = await identities(http, node.endpoints)
        return result, chain_shape(node), owned


async def checkpoint(store: AsyncEngine, run_id: str) -> dict[str, Any]:
    """A run's checkpoints without its name, the ledger hashes (they cover the chain id) and chain-assigned ids."""
    generations = await otto_store.rows(store, OttoGenerationRow, run_id)
    lifecycles = [
        [{k: v for k, v in lc.items() if k != "fiber_id"} for lc in json.loads(row["lifecycles_json"])]
        for row in generations
    ]
    return {
        "generations": checkpoint_rows(generations, {"entry_hash", "lifecycles_json"}),
        "lifecycles": lifecycles,
        "stats": checkpoint_rows(await otto_store.rows(store, OttoAgentStatsRow, run_id), set()),
        "populations": [
            without_chain_ids(row)
            for row in checkpoint_rows(await otto_store.rows(store, OttoPopulationRow, run_id), set())
        ],
    }


async def test_an_evolution_killed_five_times_ends_with_the_uncrashed_checkpoints(
    client: Client,
    crashing_worker,
    run_worker,
    task_queue: str,
    temporal_address: str,
    tmp_path: Path,
    store_file: Path,
    store: AsyncEngine,
):
    wallets = tmp_path / "wallets.json"
    # Founders and every generation's newcomer: two runs at once never race to extend the pool.
    generate_pool(wallets, PASSPHRASE, count=10 + GENERATIONS, seed=5)
    worker = crashing_worker(
        TaskQueue.OTTO, SIMCTL_WALLET_PASSPHRASE=PASSPHRASE, SIMCTL_DATABASE_URL=f"sqlite:///{store_file}"
    )
    calm_id, crashed_id = f"calm-{uuid.uuid4().hex[:6]}", f"crash-{uuid.uuid4().hex[:6]}"

    def crashing(result):
        return worker.crash_while(result, kills=KILLS, seed=SEED, between=(1.5, 6.0), timeout=600)

    settings = Settings(
        temporal_address=temporal_address, database_url=f"sqlite:///{store_file}", embedded=False, state_dir=tmp_path
    )
    otto = next(spec for spec in QUEUES if spec.queue == TaskQueue.OTTO)
    async with httpx.AsyncClient(timeout=10) as http:
        resources = WorkerResources(settings=settings, engine=store, http=http, keyring=Keyring(PASSPHRASE))
        try:
            await worker.start()
            # The uncrashed run at the same time, by a worker in this process on the test's own queue.
            async with run_worker(workflows=otto.workflows, activities=otto.activities(resources)):
                async with asyncio.TaskGroup() as runs:  # one failing cancels the other
                    calm_run = runs.create_task(evolve_on_fresh_node(client, wallets, calm_id, task_queue))
                    crashed_run = runs.create_task(
                        evolve_on_fresh_node(client, wallets, crashed_id, TaskQueue.OTTO, during=crashing)
                    )
                calm, calm_chain, _ = calm_run.result()
                crashed, crashed_chain, owned = crashed_run.result()
            assert await worker.stop() == 0
        finally:
            worker.ensure_dead()

    assert len(worker.kills) == KILLS and worker.starts == KILLS + 1, worker.kills
    assert crashed.model_dump(exclude={"run_id"}) == calm.model_dump(exclude={"run_id"})
    assert crashed.generations_done == GENERATIONS
    assert await checkpoint(store, crashed_id) == await checkpoint(store, calm_id)
    # The chain saw the same fibers take the same moves, none twice (chain_shape checks each fiber's moves).
    assert crashed_chain == calm_chain

    # Nobody registered twice: every agent the run took has exactly one identity, the one its population names.
    taken = await otto_store.allocations(store, crashed_id)
    assert all(len(owned.get(address, [])) == 1 for address, _ in taken.values()), owned
    assert set(owned) == {address for address, _ in taken.values()}
    last = await otto_store.population(store, crashed_id, GENERATIONS)
    assert last is not None and all(owned[m.address] == [m.identity_fiber_id] for m in last)

    audit = await run_audit(settings, chain=ledger_chain(crashed_id), experiment=None, with_history=False)
    assert audit.ok and [(v.length, v.broken) for v in audit.verdicts] == [(GENERATIONS, None)]
