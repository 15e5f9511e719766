"""The health of running evolution runs, read from Temporal: each run's `progress` query and, while a
generation is in flight, that generation's `health` query (breaker state, ML0 ordinal and lag).

Served by the worker as /health (next to /metrics) and shown by `simctl otto status`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from models.evolution import ChainHealthView
from models.otto_health import HealthReport, RunHealth
from workflows.otto.evolution import EvolutionWorkflow
from workflows.otto.generation import GenerationWorkflow

RUNNING_EVOLUTIONS = 'WorkflowType = "EvolutionWorkflow" AND ExecutionStatus = "Running"'


async def run_health(client: Client, workflow_id: str) -> RunHealth | None:
    """One run's health, or None when it is not running (or has not started its first generation)."""
    handle = client.get_workflow_handle(workflow_id)
    try:
        description = await handle.describe()
        if description.status != WorkflowExecutionStatus.RUNNING:
            return None
        progress = await handle.query(EvolutionWorkflow.progress)
    except RPCError:
        return None
    if progress is None:
        return None
    health: ChainHealthView | None = None
    if progress.running is not None:
        generation = client.get_workflow_handle(f"{progress.run_id}/g{progress.running}")
        try:
            health = await generation.query(GenerationWorkflow.health)
        except RPCError:
            health = None  # between its start and its first task, or just ended
    last = progress.last
    return RunHealth(
        run_id=progress.run_id,
        workflow_id=workflow_id,
        generation=progress.running if progress.running is not None else progress.next_generation,
        running=progress.running is not None,
        paused=progress.paused,
        stopping=progress.stopping,
        population_size=progress.population_size,
        last_checkpoint=last.generation if last is not None else None,
        last_fitness_avg=last.fitness_avg if last is not None else None,
        **RunHealth.chain_fields(health),
    )


async def evolution_health(client: Client, run_id: str | None = None) -> HealthReport:
    """Every running evolution run (or only ``run_id``): ok unless a breaker is not closed or ML0 stalled."""
    runs: list[RunHealth] = []
    error = None
    try:
        async for execution in client.list_workflows(RUNNING_EVOLUTIONS):
            found = await run_health(client, execution.id)
            if found is not None and (run_id is None or found.run_id == run_id):
                runs.append(found)
    except RPCError as err:
        error = f"Temporal did not answer: {err.message}"
    degraded = error is not None or any(run.breaker != "closed" or run.producing is False for run in runs)
    return HealthReport(
        status="degraded" if degraded else "ok",
        checked_at=datetime.now(UTC),
        runs=sorted(runs, key=lambda run: run.run_id),
        error=error,
    )
