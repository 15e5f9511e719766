"""Self-healing on the real dev server and the embedded node (issue 9, items 4 and 5): the circuit breaker
opens when the chain fails every request, backs off min(1000 * 2^failures, 60000) ms on durable timers,
probes and closes when the faults stop, and /metrics and /health show it; an ML0 stall holds new lifecycles
back until snapshots move again, and the lifecycle in flight still ends."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from localnet.ottochain.server import OttoChainServer
from localnet.ports import free_port
from models.evolution import ChainHealthView, EvolutionResult, HealthEventKind, HealthSettings
from models.otto_health import HealthReport
from sim.otto.breaker import backoff_ms
from sim.otto.messages import CREATE_STATE_MACHINE
from tests.cli.helpers import environment, simctl
from tests.otto import test_evolution as evolution_tests
from tests.otto.test_evolution import evolution_spec, evolve
from tests.polling import eventually
from workers.client import connect
from workers.metrics import serve_metrics
from workers.stack import health_source
from workflows.otto.evolution import EvolutionWorkflow
from workflows.otto.generation import GenerationWorkflow

# A healthy generation first, then backoffs waited out on real timers: slow on a loaded machine.
pytestmark = pytest.mark.timeout(600)

# The evolution tests' fixtures: a pool of the run's own, a store, and the evolution's worker parts.
wallets = evolution_tests.wallets
store = evolution_tests.store
evolution_worker_parts = evolution_tests.evolution_worker_parts


def samples(text: str, name: str, run_id: str) -> dict[str, float]:
    """The run's samples of one metric, by their ``layer`` label (empty for gauges)."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.removesuffix("_total") == name and sample.labels.get("run") == run_id:
                found[sample.labels.get("layer", "")] = sample.value
    return found


async def first_generation(client: Client, task_queue: str, run_id: str, node: OttoChainServer, wallets: Path, **kw):
    """Generation 0 on a healthy chain: the population registered and checkpointed, ready to resume."""
    spec = evolution_spec(run_id, node.endpoints, wallets, population=4, generations=1, **kw)
    result = await evolve(client, task_queue, spec)
    assert result.generations_done == 1
    return spec


async def resume(client: Client, task_queue: str, spec, run_id: str) -> WorkflowHandle:
    return await client.start_workflow(
        EvolutionWorkflow.run,
        spec.model_copy(update={"resume": True}),
        id=f"evolve-{run_id}-resumed",
        task_queue=task_queue,
        execution_timeout=timedelta(seconds=240),
    )


def otto_status(temporal_address: str, state: Path, *args: str):
    return simctl(
        "--address", temporal_address, "--no-embedded", "--state-dir", str(state), "otto", "status", *args,
        env=environment(SIMCTL_METRICS_PORT="0", COLUMNS="200"),  # a table wide enough not to fold the run id
    )  # fmt: skip


async def generation_health(client: Client, run_id: str, generation: int) -> ChainHealthView | None:
    handle = client.get_workflow_handle(f"{run_id}/g{generation}")
    try:
        return await handle.query(GenerationWorkflow.health)
    except Exception:  # not started yet, or its first task not run yet
        return None


async def test_the_breaker_opens_under_faults_backs_off_and_closes_when_they_stop(
    temporal_address: str,
    settings_for,
    evolution_worker_parts,
    task_queue: str,
    node: OttoChainServer,
    wallets: Path,
    http: httpx.AsyncClient,
    tmp_path: Path,
):
    metrics = serve_metrics(free_port())
    try:
        client = await connect(settings_for(temporal_address=temporal_address), runtime=metrics.runtime)
        metrics.health.source = health_source(client, asyncio.get_running_loop())
        workflows, activities = evolution_worker_parts
        run_id = f"breaker-{uuid.uuid4().hex[:8]}"
        # One failure opens it: backoffs of 2, 4, 8, 16 s keep the test short (the schedule is the seed's).
        health = HealthSettings(breaker_threshold=1, poll_seconds=0.5)
        async with Worker(client, task_queue=task_queue, workflows=workflows, activities=activities):
            spec = await first_generation(client, task_queue, run_id, node, wallets, health=health)

            node.chain.faults.error_rate = 1.0  # every request but /debug answers 5xx
            handle = await resume(client, task_queue, spec, run_id)

            async def reopened() -> ChainHealthView | None:
                """Open again after a failed probe: threshold failures, then one more."""
                view = await generation_health(client, run_id, 1)
                return view if view is not None and view.breaker == "open" and view.failures >= 2 else None

            view = await eventually(reopened, timeout=90, what="the breaker open after a failed probe")
            assert view.backoff_ms == backoff_ms(view.failures) and view.waiting
            text = (await http.get(metrics.url)).text
            assert samples(text, "traffic_simulator_breaker_state", run_id) == {"": 2}
            assert samples(text, "traffic_simulator_bridge_backoff_ms", run_id) == {"": view.backoff_ms}
            assert samples(text, "traffic_simulator_bridge_failures", run_id)["breaker"] >= 2

            async def degraded() -> dict | None:
                response = await http.get(metrics.health_url)
                assert response.status_code == 200 and response.headers["content-type"] == "application/json"
                ours = [run for run in response.json()["runs"] if run["run_id"] == run_id]
                return response.json() if ours and ours[0]["breaker"] != "closed" else None

            body = await eventually(degraded, timeout=30, what="/health listing the run with its breaker open")
            (served,) = [run for run in body["runs"] if run["run_id"] == run_id]
            wanted = {"breaker", "failures", "backoff_ms", "ml0_lag_ms", "ml0_ordinal", "generation", "last_checkpoint"}
            assert wanted <= set(served)
            report = HealthReport.model_validate(body)
            (run,) = [run for run in report.runs if run.run_id == run_id]
            assert report.status == "degraded" and run.failures >= 2
            assert run.generation == 1 and run.running and run.population_size == 4
            assert run.ml0_ordinal is None, "no reading got through yet"

            # `simctl otto status`, as a process against the same server, shows the same.
            table, as_json, none = await asyncio.gather(
                *(
                    asyncio.to_thread(otto_status, temporal_address, tmp_path / name, *args)
                    for name, args in [("t", (run_id,)), ("j", (run_id, "--json")), ("n", ("no-such-run",))]
                )
            )
            node.chain.faults.error_rate = 0.0
            assert table.returncode == 0, table.stderr
            assert run_id in table.stdout and "open" in table.stdout, table.stdout
            (shown,) = HealthReport.model_validate_json(as_json.stdout).runs
            assert shown.run_id == run_id and shown.breaker != "closed" and shown.failures >= 2
            assert none.returncode == 0 and none.stdout.strip() == "no running evolution run 'no-such-run'"

            result: EvolutionResult = await handle.result()
            text = (await http.get(metrics.url)).text
    finally:
        metrics.close()

    assert result.generations_done == 1 and result.last is not None
    events = result.last.health_events
    kinds = [event.kind for event in events]
    assert kinds[0] is HealthEventKind.OPENED and kinds[-1] is HealthEventKind.CLOSED
    assert kinds.count(HealthEventKind.OPENED) >= 2, kinds
    # Each probe waited out the backoff the breaker opened with, and backoffs double.
    for opened, probe in itertools.pairwise(events):
        if opened.kind is HealthEventKind.OPENED:
            assert probe.kind is HealthEventKind.HALF_OPEN
            assert opened.backoff_ms == backoff_ms(opened.failures)
            assert (probe.at - opened.at).total_seconds() * 1000 >= opened.backoff_ms
    openings = [event for event in events if event.kind is HealthEventKind.OPENED]
    assert openings[0].failures == 1 and openings[1].backoff_ms == 2 * openings[0].backoff_ms
    assert samples(text, "traffic_simulator_breaker_state", run_id) == {"": 0}
    assert samples(text, "traffic_simulator_bridge_backoff_ms", run_id) == {"": 0}


async def test_an_ml0_stall_holds_new_lifecycles_until_snapshots_move(
    client: Client,
    evolution_worker_parts,
    run_worker,
    task_queue: str,
    node: OttoChainServer,
    wallets: Path,
    store: AsyncEngine,
):
    workflows, activities = evolution_worker_parts
    run_id = f"stall-{uuid.uuid4().hex[:8]}"
    # One lifecycle at a time, and a short lifetime: the one in flight when ML0 stalls ends as TIMEOUT.
    health = HealthSettings(stall_after_seconds=1.0, poll_seconds=0.2)
    async with run_worker(workflows=workflows, activities=activities):
        spec = await first_generation(
            client, task_queue, run_id, node, wallets, health=health, concurrency=1, fiber_timeout_seconds=8
        )
        node.chain.faults.snapshot_stall = True
        handle = await resume(client, task_queue, spec, run_id)

        async def holding() -> ChainHealthView | None:
            view = await generation_health(client, run_id, 1)
            return view if view is not None and not view.producing and view.waiting else None

        view = await eventually(holding, timeout=90, what="new lifecycles held back by the stall")
        assert view.breaker == "closed" and view.ml0_lag_ms is not None and view.ml0_lag_ms > 1000

        def created() -> int:
            pending = sum(1 for update in node.chain.pending if update.kind == CREATE_STATE_MACHINE)
            return len(node.chain.state.fibers) + pending

        generation = client.get_workflow_handle(f"{run_id}/g1")
        held = created()
        ended, planned = await generation.query(GenerationWorkflow.progress)
        await asyncio.sleep(2)
        assert created() == held, "no fiber created while ML0 is stalled"
        assert ended < planned, "lifecycles are still waiting to start"

        node.chain.faults.snapshot_stall = False
        result: EvolutionResult = await handle.result()

    assert result.generations_done == 1 and result.last is not None
    kinds = [event.kind for event in result.last.health_events]
    assert HealthEventKind.STALLED in kinds and kinds[-1] is HealthEventKind.RESUMED, kinds
    assert result.last.lifecycles == planned
    assert result.last.completed + result.last.failed == planned, "every lifecycle ended, none lost"


async def test_a_chain_that_fails_with_every_lifecycle_in_flight_still_opens_the_breaker(
    client: Client, evolution_worker_parts, run_worker, task_queue: str, node: OttoChainServer, wallets: Path
):
    """No new initiation asks the gate while every lifecycle is running: the generation's watch must notice."""
    workflows, activities = evolution_worker_parts
    run_id = f"inflight-{uuid.uuid4().hex[:8]}"
    health = HealthSettings(breaker_threshold=1, poll_seconds=0.5)
    async with run_worker(workflows=workflows, activities=activities):
        spec = await first_generation(client, task_queue, run_id, node, wallets, health=health)
        fibers_before = len(node.chain.state.fibers)
        node.chain.faults.latency = 0.3  # lifecycles that take seconds, so the outage finds them all in flight
        handle = await resume(client, task_queue, spec, run_id)
        generation = client.get_workflow_handle(f"{run_id}/g1")

        async def all_created() -> bool:
            try:
                ended, planned = await generation.query(GenerationWorkflow.progress)
            except Exception:  # the generation not started yet
                return False
            return planned > 0 and ended == 0 and len(node.chain.state.fibers) >= fibers_before + planned

        await eventually(all_created, timeout=90, what="every lifecycle of generation 1 created, none ended")
        node.chain.faults.error_rate = 1.0

        async def opened() -> ChainHealthView | None:
            view = await generation_health(client, run_id, 1)
            return view if view is not None and view.breaker == "open" else None

        await eventually(opened, timeout=60, what="the breaker open while every lifecycle is in flight")
        node.chain.faults.error_rate = 0.0
        node.chain.faults.latency = 0.0
        result: EvolutionResult = await handle.result()

    assert result.generations_done == 1 and result.last is not None
    kinds = [event.kind for event in result.last.health_events]
    assert kinds[0] is HealthEventKind.OPENED and kinds[-1] is HealthEventKind.CLOSED, kinds
    assert result.last.completed + result.last.failed == result.last.lifecycles, "every lifecycle ended"
