"""The evolving simulator on the real dev server and the embedded node: EvolutionWorkflow over
GenerationWorkflow children, checkpoints and the ledger in the store, identities on chain."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.worker import Worker

from activities.otto.evolution import EvolutionActivities
from activities.otto.fibers import FiberActivities
from activities.otto.identity import IdentityActivities
from activities.otto.keyring import Keyring
from localnet.ottochain.chain import Faults
from localnet.ottochain.server import OttoChainServer
from localnet.ports import free_port
from models.evolution import EvolutionProgress, EvolutionResult, EvolutionSpec, LifecycleResult
from models.otto import OttoEndpoints
from sim.otto.fibers.agent_identity import (
    ATTESTATION_REPUTATION,
    COMPLETION_REPUTATION,
    INITIAL_REPUTATION,
    VIOLATION_PENALTY,
    VOUCH_REPUTATION,
)
from sim.otto.generation import ledger_chain
from sim.otto.social import contract_reports
from store import ledger
from store import otto as otto_store
from store.engine import open_store
from store.tables import OttoAgentStatsRow, OttoGenerationRow, OttoPopulationRow
from store.wallets import generate_pool
from tests.otto.conftest import PASSPHRASE
from tests.polling import eventually
from workers.client import connect
from workers.metrics import serve_metrics
from workflows.otto.evolution import EvolutionWorkflow
from workflows.otto.fiber import FiberWorkflow
from workflows.otto.generation import GenerationWorkflow
from workflows.otto.identity import AttestationWorkflow, IdentityWorkflow


@pytest.fixture
def wallets(tmp_path: Path) -> Path:
    """A pool of the run's own: runs take newcomers from it and extend it when it runs out."""
    path = tmp_path / "wallets.json"
    generate_pool(path, PASSPHRASE, count=10, seed=5)
    return path


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with open_store(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}") as engine:
        yield engine


@pytest.fixture
def evolution_worker_parts(http: httpx.AsyncClient, store: AsyncEngine):
    """The workflows and activities a worker needs to run an evolution, keys from the test pool's passphrase."""
    keyring = Keyring(PASSPHRASE)
    fibers = FiberActivities(http, keyring)
    identity = IdentityActivities(http, keyring)
    evolution = EvolutionActivities(store, http, keyring)
    workflows = [EvolutionWorkflow, GenerationWorkflow, FiberWorkflow, IdentityWorkflow, AttestationWorkflow]
    activities = [
        *fibers.all(),
        *identity.all(),
        evolution.observe_agents,
        evolution.latest_ordinal,
        evolution.allocate_agents,
        evolution.begin_run,
        evolution.load_run,
        evolution.load_population,
        evolution.write_checkpoint,
    ]
    return workflows, activities


@pytest.fixture
def evolution_worker(run_worker, evolution_worker_parts):
    workflows, activities = evolution_worker_parts
    return run_worker(workflows=workflows, activities=activities)


def evolution_spec(run_id: str, endpoints: OttoEndpoints, wallets: Path, **overrides) -> EvolutionSpec:
    values = {
        "run_id": run_id,
        "seed": 7,
        "population": 10,
        "generations": 5,
        "endpoints": endpoints,
        "wallets": str(wallets),
        "continue_every": 2,
        "fiber_timeout_seconds": 120,
        "acceleration": 0.0,
    }
    return EvolutionSpec(**(values | overrides))


async def evolve(client: Client, task_queue: str, spec: EvolutionSpec, workflow_id: str | None = None):
    return await client.execute_workflow(
        EvolutionWorkflow.run,
        spec,
        id=workflow_id or f"evolve-{spec.run_id}",
        task_queue=task_queue,
        execution_timeout=timedelta(seconds=240),
    )


async def identities(http: httpx.AsyncClient, endpoints: OttoEndpoints) -> dict[str, list[str]]:
    """Owner address -> its AgentIdentity fibers, as the bridge lists them."""
    response = await http.get(f"{endpoints.bridge_url}/agent")
    owned: dict[str, list[str]] = {}
    for fiber_id, record in response.json()["agents"].items():
        owned.setdefault(record["stateData"]["owner"], []).append(fiber_id)
    return owned


def checkpoint_rows(rows: list[dict], drop: set[str]) -> list[dict]:
    return [{key: value for key, value in row.items() if key not in drop | {"run_id"}} for row in rows]


def without_chain_ids(row: dict) -> dict:
    """A population row with what the chain assigns (identity fiber ids) left out."""
    members = json.loads(row["members_json"])
    for member in members:
        member.pop("identity_fiber_id")
    return {**row, "members_json": members}


async def test_a_run_of_five_generations_checkpoints_each_on_the_ledger(
    client: Client,
    evolution_worker,
    task_queue: str,
    node: OttoChainServer,
    wallets: Path,
    store: AsyncEngine,
    http: httpx.AsyncClient,
):
    run_id = f"run-{uuid.uuid4().hex[:8]}"
    async with evolution_worker:
        result: EvolutionResult = await evolve(client, task_queue, evolution_spec(run_id, node.endpoints, wallets))

    assert result.generations_done == 5 and result.next_generation == 5 and result.population_size == 10
    generations = await otto_store.rows(store, OttoGenerationRow, run_id)
    assert [row["generation"] for row in generations] == [0, 1, 2, 3, 4]
    assert all(row["population_size"] == 10 and row["lifecycles"] >= 5 for row in generations)
    stats = await otto_store.rows(store, OttoAgentStatsRow, run_id)
    assert len(stats) == 50
    assert all(row["fibers_completed"] + row["fibers_failed"] >= 1 for row in stats), "everyone takes part"
    assert Counter(row["role"] for row in stats if row["generation"] == 0) == {
        "elite": 2,
        "survivor": 6,
        "offspring": 1,
        "replaced": 1,
    }
    for row in generations:
        summary = json.loads(row["stats_json"])
        assert summary["completed"] + summary["failed"] == row["lifecycles"]
        assert summary["fitness_min"] <= summary["fitness_avg"] <= summary["fitness_max"]
        assert len(summary["newcomers"]) == len(summary["retired"]) == 1

    verdict = await ledger.verify_stored_chain(store, ledger_chain(run_id))
    assert verdict.broken is None and verdict.length == 5
    entries, _, _ = await ledger.read_chain(store, ledger_chain(run_id))
    assert [json.loads(entry.payload_json)["generation"] for entry in entries] == [0, 1, 2, 3, 4]
    assert [row["entry_hash"] for row in generations] == [entry.entry_hash for entry in entries]

    owned = await identities(http, node.endpoints)
    taken = await otto_store.allocations(store, run_id)
    assert len(taken) == 10 + 5, "ten founders and one newcomer per generation"
    assert all(len(owned.get(address, [])) == 1 for address, _ in taken.values()), "each registered exactly once"
    last = await otto_store.population(store, run_id, 5)
    assert last is not None and all(owned[m.address] == [m.identity_fiber_id] for m in last)


async def test_reputation_moves_with_what_agents_did(
    client: Client,
    evolution_worker,
    task_queue: str,
    node: OttoChainServer,
    wallets: Path,
    store: AsyncEngine,
    http: httpx.AsyncClient,
):
    """Completions and violations are reported on the counterparties' identities by the generation itself,
    attestations are issued at the traits' rate, and the chain's reputation is exactly their sum."""
    run_id = f"rep-{uuid.uuid4().hex[:8]}"
    async with evolution_worker:
        await evolve(client, task_queue, evolution_spec(run_id, node.endpoints, wallets, generations=3))

    taken = await otto_store.allocations(store, run_id)
    address = {agent: addr for agent, (addr, _) in taken.items()}
    agents = (await http.get(f"{node.endpoints.bridge_url}/agent")).json()["agents"]
    ours = set(address.values())
    by_owner = {
        record["stateData"]["owner"]: record["stateData"]
        for record in agents.values()
        if record["stateData"]["owner"] in ours
    }
    results = [
        LifecycleResult.model_validate(lc)
        for row in await otto_store.rows(store, OttoGenerationRow, run_id)
        for lc in json.loads(row["lifecycles_json"])
    ]
    expected = contract_reports(results)
    assert any(r.kind == "completion" for r in expected), "a run with no completion tests nothing"
    for report in expected:
        data = by_owner[address[report.subject]]
        held = data["completions"] if report.kind == "completion" else data["violationReports"]
        assert [(h["from"], h["contractId"]) for h in held if h["contractId"] == report.contract_id] == [
            (address[report.reporter], report.contract_id)
        ], report

    raised = lowered = 0
    for data in by_owner.values():
        gained = (
            INITIAL_REPUTATION
            + VOUCH_REPUTATION * len(data["vouches"])
            + ATTESTATION_REPUTATION * len(data["attestations"])
            + COMPLETION_REPUTATION * data["completedContracts"]
        )
        if data["violations"] == 0:
            assert data["reputation"] == gained
        else:
            assert gained - VIOLATION_PENALTY * data["violations"] <= data["reputation"] < gained, (
                "a violation lowers reputation"
            )
            lowered += 1
        raised += data["completedContracts"] > 0 and data["reputation"] > INITIAL_REPUTATION
    assert raised > 0
    violated = {r.subject for r in expected if r.kind == "violation"}
    assert violated, "a run with no violation tests nothing"
    assert lowered == len(violated)

    stats = await otto_store.rows(store, OttoAgentStatsRow, run_id)
    made = sum(row["attestations_made"] for row in stats)
    received = sum(row["attestations_received"] for row in stats)
    assert made == received > 0
    held_now = sum(len(d["vouches"]) + len(d["attestations"]) for d in by_owner.values())
    assert held_now == received, "every attestation counted is on chain, and nothing else is"


async def test_the_same_seed_gives_the_same_checkpoints(
    client: Client, evolution_worker, task_queue: str, wallets: Path, store: AsyncEngine
):
    runs = []
    async with evolution_worker:
        for _ in range(2):
            # A fresh chain each time: reputations start from the same place.
            async with OttoChainServer(faults=Faults(snapshot_interval=0.05)) as node:
                run_id = f"same-{uuid.uuid4().hex[:8]}"
                spec = evolution_spec(run_id, node.endpoints, wallets, population=6, generations=3, seed=21)
                await evolve(client, task_queue, spec)
                runs.append(run_id)

    first, second = runs
    # Everything but the run's name, the ledger hashes (they cover the chain id) and what the chain assigns.
    for table, drop in (
        (OttoGenerationRow, {"entry_hash", "lifecycles_json"}),
        (OttoAgentStatsRow, set()),
    ):
        assert checkpoint_rows(await otto_store.rows(store, table, first), drop) == checkpoint_rows(
            await otto_store.rows(store, table, second), drop
        ), table.__tablename__
    populations = [
        [without_chain_ids(row) for row in checkpoint_rows(await otto_store.rows(store, OttoPopulationRow, run), set())]
        for run in runs
    ]
    assert populations[0] == populations[1]
    lifecycles = [
        [
            [{k: v for k, v in lc.items() if k != "fiber_id"} for lc in json.loads(row["lifecycles_json"])]
            for row in await otto_store.rows(store, OttoGenerationRow, run)
        ]
        for run in runs
    ]
    assert lifecycles[0] == lifecycles[1]
    assert len(lifecycles[0]) == 3


async def test_a_resumed_run_reuses_every_agent_and_continues_the_ledger(
    client: Client,
    evolution_worker,
    task_queue: str,
    node: OttoChainServer,
    wallets: Path,
    store: AsyncEngine,
    http: httpx.AsyncClient,
):
    run_id = f"resume-{uuid.uuid4().hex[:8]}"
    async with evolution_worker:
        handle = await client.start_workflow(
            EvolutionWorkflow.run,
            evolution_spec(run_id, node.endpoints, wallets, generations=None),
            id=f"evolve-{run_id}",
            task_queue=task_queue,
        )
        # The worker dies mid-run, as far as the run is concerned: it is terminated between checkpoints.
        await eventually(lambda: otto_store.generations(store, run_id), timeout=120, what="a first checkpoint")
        await handle.terminate("simulated crash")
        done = await otto_store.generations(store, run_id)
        before = await identities(http, node.endpoints)
        restored = await otto_store.population(store, run_id, done)
        assert restored is not None

        resumed = await evolve(
            client,
            task_queue,
            evolution_spec(run_id, node.endpoints, wallets, resume=True, generations=2, seed=999),
            workflow_id=f"evolve-{run_id}",
        )

    assert resumed.next_generation == done + 2 and resumed.generations_done == 2
    assert await otto_store.generations(store, run_id) == done + 2
    verdict = await ledger.verify_stored_chain(store, ledger_chain(run_id))
    assert verdict.broken is None and verdict.length == done + 2, "the resumed run continues the same chain"

    after = await identities(http, node.endpoints)
    for member in restored:
        assert before[member.address] == after[member.address] == [member.identity_fiber_id], member.agent_id
    taken = await otto_store.allocations(store, run_id)
    newcomers = {address for address, generation in taken.values() if generation > done}
    assert set(after) - set(before) <= newcomers, "after the restart only newcomers are registered"
    assert all(len(fibers) == 1 for fibers in after.values()), "nobody has two identities"


SEED_METRICS = (
    "traffic_simulator_population_size",
    "traffic_simulator_generation",
    "traffic_simulator_fitness_avg",
    "traffic_simulator_fitness_max",
    "traffic_simulator_fitness_min",
    "traffic_simulator_reputation_queries",
    "traffic_simulator_fibers_initiated",
)


async def test_the_seeds_metric_names_are_served_during_a_run(
    temporal_address: str,
    settings_for,
    evolution_worker_parts,
    task_queue: str,
    node: OttoChainServer,
    wallets: Path,
    http: httpx.AsyncClient,
):
    """A worker with a /metrics endpoint, as `python -m workers.main` runs one, scraped after a generation."""
    metrics = serve_metrics(free_port())
    try:
        client = await connect(settings_for(temporal_address=temporal_address), runtime=metrics.runtime)
        workflows, activities = evolution_worker_parts
        async with Worker(client, task_queue=task_queue, workflows=workflows, activities=activities):
            run_id = f"metrics-{uuid.uuid4().hex[:8]}"
            spec = evolution_spec(run_id, node.endpoints, wallets, population=4, generations=1)
            await evolve(client, task_queue, spec)
            text = (await http.get(metrics.url)).text
    finally:
        metrics.close()
    served = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if not line.startswith("#")}
    missing = [name for name in SEED_METRICS if not any(s.removesuffix("_total") == name for s in served)]
    assert not missing, f"not served: {missing}"
    ended = {"traffic_simulator_fibers_completed", "traffic_simulator_fibers_failed"}
    assert any(s.removesuffix("_total") in ended for s in served), "lifecycles that ended are counted"
    population = [line for line in text.splitlines() if line.startswith("traffic_simulator_population_size{")]
    assert any(f'run="{run_id}"' in line and float(line.rsplit(" ", 1)[1]) == 4 for line in population), population


async def test_a_run_obeys_resize_pause_resume_and_stop_across_continue_as_new(
    client: Client, evolution_worker, task_queue: str, node: OttoChainServer, wallets: Path, store: AsyncEngine
):
    run_id = f"steer-{uuid.uuid4().hex[:8]}"
    spec = evolution_spec(run_id, node.endpoints, wallets, population=4, generations=None, continue_every=1)
    async with evolution_worker:
        await client.start_workflow(
            EvolutionWorkflow.run,
            spec,
            id=f"evolve-{run_id}",
            task_queue=task_queue,
            execution_timeout=timedelta(seconds=240),
        )
        # The latest run, across continue-as-new; typed by hand (mypy 2.4 cannot infer the typed form's types).
        handle = client.get_workflow_handle(f"evolve-{run_id}", result_type=EvolutionResult)
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(EvolutionWorkflow.set_population_size, 1)
        assert await handle.execute_update(EvolutionWorkflow.set_population_size, 6) == 6

        async def size_reached() -> bool:
            latest = await otto_store.last_population(store, run_id)
            return latest is not None and latest[1] == 6

        await eventually(size_reached, timeout=120, what="a population of 6")
        await handle.signal(EvolutionWorkflow.pause)

        async def paused() -> EvolutionProgress | None:
            state = await handle.query(EvolutionWorkflow.progress)
            return state if state is not None and state.paused and state.running is None else None

        held = await eventually(paused, timeout=120, what="the run paused between generations")
        assert await otto_store.generations(store, run_id) == held.next_generation
        await asyncio.sleep(2)
        assert await otto_store.generations(store, run_id) == held.next_generation, "no generation while paused"

        await handle.signal(EvolutionWorkflow.resume)
        await eventually(
            lambda: _more_than(store, run_id, held.next_generation), timeout=120, what="a generation after resume"
        )
        await handle.signal(EvolutionWorkflow.stop)
        result: EvolutionResult = await handle.result()

    assert result.generations_done == await otto_store.generations(store, run_id) > held.next_generation
    assert result.population_size == 6
    verdict = await ledger.verify_stored_chain(store, ledger_chain(run_id))
    assert verdict.broken is None and verdict.length == result.next_generation


async def _more_than(store: AsyncEngine, run_id: str, count: int) -> bool:
    return await otto_store.generations(store, run_id) > count


async def test_a_run_with_a_duration_ends_on_its_own(
    client: Client, evolution_worker, task_queue: str, node: OttoChainServer, wallets: Path
):
    run_id = f"timed-{uuid.uuid4().hex[:8]}"
    spec = evolution_spec(run_id, node.endpoints, wallets, population=4, generations=None, duration_seconds=3)
    async with evolution_worker:
        result = await evolve(client, task_queue, spec)
    assert result.generations_done >= 1
