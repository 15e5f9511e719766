"""An evolution run's recorded rows as the otto report reads them, and the findings it computes from them.

``store.otto_report`` builds the rows from the otto_* tables; ``sim.otto.findings`` turns them into
``RunFindings``; ``report.otto`` renders those. The run id stays out of the findings, so two runs with the
same seed give the same figures apart from the wall-clock ones (uptime, generations per day).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from models.evolution import GenerationStats, LifecycleResult
from models.otto import AgentTraits


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- the rows ------------------------------------------------------------------------------------


class RecordedHealthEvent(_Frozen):
    """One change of the chain path's health a generation recorded (breaker opened/half_open/closed, ML0
    stalled/resumed), as its stats hold it."""

    kind: str
    at: datetime
    backoff_ms: int = 0


class RecordedGeneration(_Frozen):
    """A row of otto_generations (its figures and lifecycles) with its wall-clock times, where recorded."""

    generation: int
    stats: GenerationStats
    lifecycles: list[LifecycleResult]
    started_at: datetime | None = Field(None, description="when the GenerationWorkflow began (UTC)")
    finished_at: datetime | None = Field(None, description="when it wrote its checkpoint (UTC)")
    health_events: list[RecordedHealthEvent] | None = Field(
        None, description="the breaker's and ML0's changes; None when the row predates their recording"
    )


class RecordedAgentGeneration(_Frozen):
    """A row of otto_agent_stats: one agent's generation."""

    generation: int
    agent_id: str
    traits: AgentTraits
    fibers_initiated: int
    fibers_completed: int
    fibers_failed: int
    attestations_made: int
    attestations_received: int
    reputation: int
    earnings: int
    fitness: float
    role: str


class RecordedAllocation(_Frozen):
    """A row of otto_run_agents: a wallet of the pool the run took on, and the generation it joined for."""

    agent_id: str
    joined_generation: int


class RecordedPopulation(_Frozen):
    """A row of otto_populations: who plays a generation."""

    generation: int
    agent_ids: list[str]


class RunRows(_Frozen):
    """Every row one run recorded, each table in primary-key order."""

    seed: int
    spec: dict[str, Any] = Field(description="the run's recorded spec (inputs, not findings)")
    generations: list[RecordedGeneration]
    agents: list[RecordedAgentGeneration]
    allocations: list[RecordedAllocation]
    populations: list[RecordedPopulation]


# --- the findings --------------------------------------------------------------------------------


class TraitSpread(_Frozen):
    mean: float
    sd: float
    low: float
    high: float


class GenerationFindings(_Frozen):
    """One generation's figures, each from its recorded rows."""

    generation: int
    population: int
    initiated: int = Field(description="lifecycles its agents initiated (sum of the agents' fibers_initiated)")
    completed: int = Field(description="lifecycles that reached a success terminal")
    failed_terminal: int = Field(description="lifecycles that reached a failure terminal")
    timed_out: int
    child_failed: int = Field(description="FiberWorkflow children that failed (a chain refusal, a broken node)")
    in_flight: int = Field(description="initiated less every ended lifecycle: 0 once the generation is checkpointed")
    completion_rate: float | None
    completion_by_type: dict[str, list[int]] = Field(description="fiber type: [completed, lifecycles]")
    fitness_min: float
    fitness_avg: float
    fitness_max: float
    mutation_rate: float
    diversity: float
    traits: dict[str, TraitSpread] = Field(description="each scalar trait's spread over the agents that played")
    fiber_weights: dict[str, float] = Field(description="mean weight per fiber type over the agents that played")
    attestations_made: int
    newcomers: int
    retired: int
    started_at: datetime | None = None
    finished_at: datetime | None = None
    seconds: float | None = Field(None, description="finished_at - started_at")


class Totals(_Frozen):
    generations: int
    initiated: int
    completed: int
    failed_terminal: int
    timed_out: int
    child_failed: int
    in_flight: int
    completion_rate: float | None
    completion_by_type: dict[str, list[int]]


class Reuse(_Frozen):
    """Agents each generation re-used against those newly taken on, from the allocation rows."""

    founders: int = Field(description="agents allocated for generation 0")
    allocated: int = Field(description="allocation rows of the run")
    places_kept: int = Field(description="places of generations 1.. that selection kept (not a newcomer's)")
    reused: int = Field(description="kept places held by an agent allocated for an earlier generation")
    newcomers_requested: int = Field(description="newcomers selection asked for (the generations' stats)")
    newcomers_allocated: int = Field(description="allocation rows after generation 0")
    unexplained: int = Field(description="allocations beyond what selection asked for: agents made twice")
    rate: float | None = Field(description="reused / places_kept")


class Attestations(_Frozen):
    """Attestations held (received over the run) by each agent of the final population."""

    agents: int
    held: list[int] = Field(description="per agent of the final population, sorted")
    mean: float | None
    median: float | None
    in_range: int = Field(description="agents holding 3 to 5")
    made_total: int
    received_total: int


class Uptime(_Frozen):
    timed_generations: int
    first_started_at: datetime | None
    last_finished_at: datetime | None
    span_seconds: float | None = Field(description="first generation's start to the last one's checkpoint")
    running_seconds: float | None = Field(description="sum of the generations' own durations")
    running_share: float | None = Field(description="running_seconds / span_seconds")
    generations_per_day: float | None = Field(description="timed generations per day of span, extrapolated")


class BreakerFindings(_Frozen):
    """The circuit breaker's recorded events, if the run's rows carry any."""

    recorded: bool = Field(description="whether the run's rows record breaker events at all")
    source: str = Field(description="which recorded field the figures come from")
    by_generation: dict[int, dict[str, int]] = Field(default_factory=dict, description="generation: kind: events")
    waiting_seconds: dict[int, float] = Field(
        default_factory=dict, description="generation: seconds the breaker was open or ML0 stalled (closed spans)"
    )
    totals: dict[str, int] = Field(default_factory=dict)


class SuccessMetric(_Frozen):
    """A row of the seed's Success Metrics table, with this run's measured value."""

    metric: str
    seed_current: str = Field(description="what the seed reports V1 at")
    target: str
    measured: str
    value: float | None
    met: bool | None = Field(description="None where the rows cannot say")
    note: str = ""


class RunFindings(_Frozen):
    generations: list[GenerationFindings]
    totals: Totals
    reuse: Reuse
    attestations: Attestations
    uptime: Uptime
    breaker: BreakerFindings
    mean_fitness_last: float | None
    mean_fitness_run: float | None
    success: list[SuccessMetric]
    checks: list[str] = Field(description="consistency failures between the rows; empty when they agree")
