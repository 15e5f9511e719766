"""EvolutionWorkflow: a run of the traffic simulator, one GenerationWorkflow child after another.

A new run takes its first population from the wallet pool (traits from the run's seed), registers each
agent once and records the run; a resumed run (``spec.resume``) starts from the last checkpoint in the
store instead, with the stored seed, and registers nobody who already has an identity. Each generation
writes its own checkpoint; this workflow carries only where the run stands (next generation, population
size, the ledger's head), and continues as new every ``continue_every`` generations so its history stays
short however long the run.

Signals: ``pause``, ``resume``, ``stop`` (after the current generation). Update: ``set_population_size``
(applied when the current generation picks the next population). Query: ``progress``. Each generation sets
the ``Generation`` search attribute and the gauges ``traffic_simulator_population_size``,
``traffic_simulator_generation`` and ``traffic_simulator_fitness_avg|max|min``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.otto.evolution import EvolutionActivities
    from models.evolution import (
        EvolutionProgress,
        EvolutionResult,
        EvolutionSpec,
        EvolutionState,
        GenerationSpec,
        GenerationStats,
        RunStart,
    )
    from models.ledger import ChainHead
    from sim.canonical import canonical_json
    from sim.hashchain import GENESIS_HASH
    from sim.otto.generation import initial_traits, ledger_chain
    from workflows.common import search_attributes as sa
    from workflows.otto.generation import STORE_TIMEOUT, GenerationWorkflow, enrol, with_traits

DEFAULT_POPULATION = 100
# A generation's checkpoint crosses Temporal as one activity input (every agent's record and the next
# population, about 2 KB per agent) and must stay well under the server's 2 MB payload limit.
MIN_POPULATION, MAX_POPULATION = 2, 500
# A generation that fails (a node down longer than the activities' retries) is run again: its fibers,
# allocations and checkpoint are idempotent, so the retry picks up where the failed attempt stopped.
GENERATION_RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), maximum_attempts=3)


@workflow.defn
class EvolutionWorkflow:
    def __init__(self) -> None:
        self._spec: EvolutionSpec | None = None
        self._state: EvolutionState | None = None
        self._paused = False
        self._stopping = False
        self._target: int | None = None
        self._running: int | None = None

    @workflow.signal
    def pause(self) -> None:
        self._paused = True

    @workflow.signal
    def resume(self) -> None:
        self._paused = False

    @workflow.signal
    def stop(self) -> None:
        """Stop after the generation now running (or at once, between generations)."""
        self._stopping = True

    @workflow.update
    def set_population_size(self, size: int) -> int:
        self._target = size
        return size

    @set_population_size.validator
    def _check_population_size(self, size: int) -> None:
        if not MIN_POPULATION <= size <= MAX_POPULATION:
            raise ValueError(f"population size must be {MIN_POPULATION} to {MAX_POPULATION}, not {size}")

    @workflow.query
    def progress(self) -> EvolutionProgress | None:
        if self._spec is None or self._state is None:
            return None
        state = self._current()
        return EvolutionProgress(
            run_id=self._spec.run_id,
            next_generation=state.next_generation,
            generations_done=state.generations_done,
            generations_target=self._spec.generations,
            population_size=state.population_size,
            target_size=state.target_size,
            paused=state.paused,
            stopping=state.stopping,
            running=self._running,
            last=state.last,
        )

    def _current(self) -> EvolutionState:
        assert self._state is not None
        return self._state.model_copy(
            update={
                "paused": self._paused,
                "stopping": self._stopping,
                "target_size": self._target if self._target is not None else self._state.target_size,
            }
        )

    @workflow.run
    async def run(self, spec: EvolutionSpec) -> EvolutionResult:
        self._spec = spec
        carried = spec.carried
        if carried is None:
            carried = await (self._resume(spec) if spec.resume else self._begin(spec))
        # Signals that arrived before this run began (across continue-as-new) add to the carried flags.
        self._paused = self._paused or carried.paused
        self._stopping = self._stopping or carried.stopping
        if self._target is None and carried.target_size != carried.population_size:
            self._target = carried.target_size
        self._state = carried
        workflow.upsert_search_attributes([sa.GENERATION.value_set(carried.next_generation)])

        played_here = 0
        while True:
            state = self._current()
            if state.stopping or (spec.generations is not None and state.generations_done >= spec.generations):
                break
            if state.deadline is not None and workflow.now() >= state.deadline:
                break
            if state.paused:
                await workflow.wait_condition(lambda: not self._paused or self._stopping)
                continue
            if played_here >= spec.continue_every:
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(spec.model_copy(update={"carried": self._current()}))
            self._state = await self._generation(spec, state)
            played_here += 1

        state = self._current()
        return EvolutionResult(
            run_id=spec.run_id,
            generations_done=state.generations_done,
            next_generation=state.next_generation,
            population_size=state.population_size,
            last=state.last,
        )

    async def _generation(self, spec: EvolutionSpec, state: EvolutionState) -> EvolutionState:
        self._running = state.next_generation
        summary = await workflow.execute_child_workflow(
            GenerationWorkflow.run,
            GenerationSpec(
                run_id=spec.run_id,
                generation=state.next_generation,
                seed=state.seed,
                target_size=state.target_size,
                endpoints=spec.endpoints,
                wallets=spec.wallets,
                ledger=state.ledger,
                concurrency=spec.concurrency,
                fiber_timeout_seconds=spec.fiber_timeout_seconds,
                acceleration=spec.acceleration,
                health=spec.health,
            ),
            id=f"{spec.run_id}/g{state.next_generation}",
            retry_policy=GENERATION_RETRY,
        )
        self._running = None
        stats = summary.stats
        _publish(spec.run_id, stats)
        workflow.upsert_search_attributes([sa.GENERATION.value_set(stats.generation + 1)])
        if self._target == stats.next_population_size:
            self._target = None
        return state.model_copy(
            update={
                "next_generation": stats.generation + 1,
                "generations_done": state.generations_done + 1,
                "population_size": stats.next_population_size,
                "target_size": self._target if self._target is not None else stats.next_population_size,
                "ledger": summary.ledger,
                "last": stats,
            }
        )

    async def _begin(self, spec: EvolutionSpec) -> EvolutionState:
        """A new run: the first population from the pool, each agent registered once, the run recorded."""
        size = spec.population or DEFAULT_POPULATION
        enrolled = await enrol(
            run_id=spec.run_id,
            generation=0,
            count=size,
            endpoints=spec.endpoints,
            wallets=spec.wallets,
            concurrency=spec.concurrency,
        )
        members = with_traits(enrolled, initial_traits(spec.seed, size))
        recorded = spec.model_dump(mode="json", exclude={"resume", "endpoints", "generations", "duration_seconds"})
        # Names this workflow as the run's author: a retried write matches, another run with this id does not.
        recorded["started_by"] = workflow.info().workflow_id + "/" + workflow.info().run_id
        await workflow.execute_activity_method(
            EvolutionActivities.begin_run,
            RunStart(run_id=spec.run_id, seed=spec.seed, spec_json=canonical_json(recorded), population=members),
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=RetryPolicy(
                initial_interval=timedelta(milliseconds=200),
                maximum_interval=timedelta(seconds=10),
                non_retryable_error_types=["RunConflict"],
            ),
        )
        return EvolutionState(
            seed=spec.seed,
            next_generation=0,
            population_size=len(members),
            target_size=len(members),
            ledger=ChainHead(chain_id=ledger_chain(spec.run_id), length=0, head_hash=GENESIS_HASH),
            deadline=_deadline(spec),
        )

    async def _resume(self, spec: EvolutionSpec) -> EvolutionState:
        """A stored run, from its last checkpoint: the stored seed, population and ledger head."""
        stored = await workflow.execute_activity_method(
            EvolutionActivities.load_run,
            spec.run_id,
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=RetryPolicy(
                initial_interval=timedelta(milliseconds=200),
                maximum_interval=timedelta(seconds=10),
                non_retryable_error_types=["RunNotFound"],
            ),
        )
        return EvolutionState(
            seed=stored.seed,
            next_generation=stored.next_generation,
            population_size=stored.population_size,
            target_size=spec.population or stored.population_size,
            ledger=stored.ledger,
            deadline=_deadline(spec),
        )


def _deadline(spec: EvolutionSpec) -> datetime | None:
    if spec.duration_seconds is None:
        return None
    return workflow.now() + timedelta(seconds=spec.duration_seconds)


def _publish(run_id: str, stats: GenerationStats) -> None:
    """The seed's population and fitness gauges, through the replay-safe meter."""
    meter = workflow.metric_meter()
    labels = {"run": run_id}
    meter.create_gauge("traffic_simulator_population_size").set(stats.next_population_size, labels)
    meter.create_gauge("traffic_simulator_generation").set(stats.generation, labels)
    meter.create_gauge_float("traffic_simulator_fitness_avg").set(stats.fitness_avg, labels)
    meter.create_gauge_float("traffic_simulator_fitness_max").set(stats.fitness_max, labels)
    meter.create_gauge_float("traffic_simulator_fitness_min").set(stats.fitness_min, labels)
