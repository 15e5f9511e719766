"""What crosses the evolution's boundaries: measured performance, fitness, and a generation's selection."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from models.ledger import AppendBatch, ChainHead
from models.otto import AgentStats, AgentTraits, OttoEndpoints


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Performance(_Frozen):
    """One agent's generation, as measured: outcomes from recorded lifecycles, the rest read from the chain."""

    agent_id: str
    completed: int = Field(ge=0, description="lifecycles it took part in that reached a success terminal")
    settled: int = Field(ge=0, description="lifecycles it took part in that ended at all (success, failure, timeout)")
    reputation: int = Field(description="the reputation on its AgentIdentity fiber")
    earnings: int = Field(description="net change of its balance over the generation, in 1e-8 units")
    counterparties: int = Field(ge=0, description="distinct agents it shared a lifecycle with")
    fiber_types: int = Field(ge=0, description="distinct fiber types it took part in")


class Fitness(_Frozen):
    """Each term normalised to [0, 1], and their weighted sum."""

    agent_id: str
    completion: float
    reputation: float
    earnings: float
    network: float
    diversity: float
    total: float


class Role(StrEnum):
    """What selection did with an agent's place in the population."""

    ELITE = "elite"  # top 20%: kept as it is, and a parent of this generation's offspring
    SURVIVOR = "survivor"  # middle 60%: kept as it is
    OFFSPRING = "offspring"  # bottom 20% less the worst 5%: takes a mutated child of two elites
    REPLACED = "replaced"  # worst 5%: retired, its place goes to a new random agent


class Placement(_Frozen):
    agent_id: str
    rank: int
    role: Role
    traits: AgentTraits = Field(description="the traits it carries into the next generation")
    parents: tuple[str, str] | None = None


class Selection(_Frozen):
    """The next generation: every current agent's placement, and the traits the newcomers start with."""

    placements: list[Placement]
    newcomers: list[AgentTraits]
    mutation_rate: float
    diversity: float = Field(description="mean standard deviation of the traits before selection")


# --- a run of generations, as it crosses workflow, activity and store boundaries ----------------


class Member(_Frozen):
    """One place in the population: the agent (a wallet of the pool), its identity and its traits."""

    agent_id: str
    address: str
    identity_fiber_id: str | None = Field(None, description="its AgentIdentity fiber, once registered")
    traits: AgentTraits


class Lifecycle(_Frozen):
    """One fiber lifecycle a generation starts: who takes part (initiator first) and the seed it plays with."""

    index: int = Field(ge=0)
    fiber_type: str
    parties: tuple[str, ...] = Field(min_length=2, description="agent ids, initiator first")
    seed: int
    forced: bool = Field(False, description="initiated so that the initiator takes part in this generation at all")


class LifecycleResult(_Frozen):
    """How a lifecycle ended, as the generation counts it: a child that failed is FAILED, not lost."""

    index: int
    fiber_type: str
    parties: tuple[str, ...]
    fiber_id: str | None = None
    status: str = Field(description="COMPLETED, TIMEOUT or FAILED")
    success: bool
    outcome: str | None = None
    ended_by: str | None = Field(None, description="agent id whose move reached the terminal state")
    error: str | None = Field(None, description="why the child workflow failed, if it did")


class AgentObservation(_Frozen):
    """What the chain shows of an agent: its balance and the reputation on its AgentIdentity."""

    agent_id: str
    balance: int
    reputation: int
    identity_state: str | None = None
    completed_contracts: int = 0
    violations: int = 0


class AgentRecord(_Frozen):
    """One agent's generation in the checkpoint: the traits it played with, what it did, how it ranked."""

    agent_id: str
    traits: AgentTraits
    stats: AgentStats
    balance: int
    earnings: int
    reputation: int
    fitness: Fitness
    role: Role
    rank: int
    next_traits: AgentTraits | None = Field(None, description="the traits it carries on; None when retired")


class HealthEventKind(StrEnum):
    OPENED = "opened"  # the breaker opened (or opened again after a failed probe): new work waits ``backoff_ms``
    HALF_OPEN = "half_open"  # its backoff passed: one probe (an ML0 ordinal read) goes out
    CLOSED = "closed"  # the probe succeeded: new work starts again
    STALLED = "stalled"  # ML0's snapshot ordinal has not moved for longer than the stall limit: new work waits
    RESUMED = "resumed"  # the ordinal moved again


class HealthEvent(_Frozen):
    """One change of the chain path's health as a generation saw it (the breaker events a report charts).

    ``at`` is the generation workflow's clock; a breaker that is open from ``opened`` to ``closed`` kept new
    lifecycles from starting over that span, and likewise from ``stalled`` to ``resumed``."""

    kind: HealthEventKind
    at: datetime
    failures: int = Field(0, ge=0, description="consecutive chain-path failures when it happened")
    backoff_ms: int = Field(0, ge=0, description="opened: how long the breaker stays open before its probe")
    ordinal: int | None = Field(None, description="ML0's latest snapshot ordinal as last observed")
    lag_ms: int | None = Field(None, ge=0, description="how long ago that ordinal last moved")


class ChainHealthView(_Frozen):
    """The chain path's health now, as a running generation sees it (its `health` query, /health, status)."""

    breaker: str = Field("closed", description="closed, half_open or open")
    failures: int = Field(0, ge=0, description="consecutive chain-path failures")
    backoff_ms: int = Field(0, ge=0, description="the open breaker's backoff, min(1000 * 2^failures, 60000); else 0")
    retry_at: datetime | None = Field(None, description="when an open breaker lets its probe through")
    ml0_ordinal: int | None = None
    ml0_lag_ms: int | None = Field(None, ge=0, description="how long ago ML0's ordinal last moved")
    producing: bool = Field(True, description="ML0 is taking snapshots (unknown counts as producing)")
    waiting: bool = Field(False, description="new initiations are waiting for the breaker or for ML0")
    openings: int = Field(0, ge=0, description="times the breaker opened in this generation")
    observed_at: datetime | None = Field(None, description="the workflow time of these values")


class HealthSettings(_Frozen):
    """The self-healing knobs: when the breaker opens and how often ML0's ordinal is read."""

    breaker_threshold: int = Field(3, ge=1, description="consecutive chain-path failures that open the breaker")
    stall_after_seconds: float = Field(
        30.0, gt=0, description="ML0 counts as stalled when its snapshot ordinal has not moved for this long"
    )
    poll_seconds: float = Field(
        2.0, gt=0, description="a new initiation reads ML0's ordinal when the last reading is older than this"
    )


class GenerationStats(_Frozen):
    """A generation's figures: what the ledger entry records and the run's progress shows."""

    generation: int
    population_size: int
    next_population_size: int
    lifecycles: int
    completed: int = Field(description="lifecycles that reached a success terminal")
    failed: int = Field(description="lifecycles that ended any other way (failure terminal, TIMEOUT, FAILED)")
    by_type: dict[str, list[int]] = Field(default_factory=dict, description="fiber type: [completed, lifecycles]")
    fitness_avg: float
    fitness_max: float
    fitness_min: float
    mutation_rate: float
    diversity: float
    newcomers: list[str] = Field(default_factory=list, description="agents that joined for the next generation")
    retired: list[str] = Field(default_factory=list, description="agents that left after this generation")
    reputation_queries: int = 0
    health_events: list[HealthEvent] = Field(
        default_factory=list,
        description="the breaker's and ML0's changes during this generation, in order (empty when all was well)",
    )


class Checkpoint(BaseModel):
    """Everything one generation leaves in the store, written by one idempotent activity in one transaction."""

    run_id: str
    generation: int
    stats: GenerationStats
    agents: list[AgentRecord]
    lifecycles: list[LifecycleResult]
    next_population: list[Member]
    ledger: AppendBatch | None = None
    # Wall clock, kept out of the deterministic rows above: the same seed gives the same checkpoint.
    started_at: datetime | None = Field(None, description="when the generation began (workflow time)")
    finished_at: datetime | None = Field(None, description="when it wrote this checkpoint (workflow time)")


class EvolutionState(_Frozen):
    """What a run carries across continue-as-new (the population itself lives in the store)."""

    seed: int
    next_generation: int
    generations_done: int = Field(0, description="generations this run of the workflow chain has completed")
    population_size: int
    target_size: int
    ledger: ChainHead
    deadline: datetime | None = None
    paused: bool = False
    stopping: bool = False
    last: GenerationStats | None = None


class EvolutionSpec(_Frozen):
    """A run: what the CLI starts. On a resume the stored run's seed wins over this one's."""

    run_id: str = Field(min_length=1, max_length=100)
    seed: int = Field(0, ge=0)
    population: int | None = Field(
        None, ge=2, le=500, description="None: 100 for a new run, unchanged on resume (at most 500: MAX_POPULATION)"
    )
    generations: int | None = Field(10, ge=1, description="generations this workflow runs; None = until stopped")
    duration_seconds: float | None = Field(None, gt=0, description="stop after the generation that passes this")
    endpoints: OttoEndpoints
    wallets: str
    resume: bool = Field(False, description="start from the run's last checkpoint in the store")
    concurrency: int = Field(32, ge=1, le=1000, description="lifecycles running at once in a generation")
    continue_every: int = Field(10, ge=1, description="generations per workflow run before continue-as-new")
    fiber_timeout_seconds: float = Field(300.0, gt=0)
    acceleration: float = Field(0.0, ge=0, description="simulated seconds per real second for the lifecycles")
    health: HealthSettings = Field(default_factory=HealthSettings)
    carried: EvolutionState | None = Field(None, description="where the run stands, across continue-as-new")


class RunStart(BaseModel):
    """A new run's record and its first population (generation 0), written once."""

    run_id: str
    seed: int
    spec_json: str
    population: list[Member]


class RunState(_Frozen):
    """Where a stored run stands: the next generation to play, its population size, the ledger's head."""

    run_id: str
    seed: int
    next_generation: int
    population_size: int
    ledger: ChainHead


class AllocateAgents(_Frozen):
    """Wallets of the pool for new places in a run; the same request always gets the same agents."""

    run_id: str
    generation: int = Field(description="the generation they first play in")
    count: int = Field(ge=0)
    wallets: str


class AllocatedAgent(_Frozen):
    """A wallet of the pool taken on by a run, with the public profile it registers with."""

    agent_id: str
    address: str
    display_name: str = ""
    platform: str = "simctl"
    platform_user_id: str = ""


class PopulationRef(_Frozen):
    run_id: str
    generation: int


class ObserveAgents(_Frozen):
    endpoints: OttoEndpoints
    agents: list[Member]


class GenerationSpec(_Frozen):
    """One generation, by reference: the population is read from the store (run id, generation)."""

    run_id: str
    generation: int = Field(ge=0)
    seed: int = Field(ge=0)
    target_size: int = Field(ge=2, description="the population size the next generation should have")
    endpoints: OttoEndpoints
    wallets: str
    ledger: ChainHead
    concurrency: int = Field(32, ge=1)
    fiber_timeout_seconds: float = Field(300.0, gt=0)
    acceleration: float = Field(0.0, ge=0)
    health: HealthSettings = Field(default_factory=HealthSettings)


class GenerationSummary(_Frozen):
    """What a generation returns to its run: its figures and where the ledger now ends."""

    stats: GenerationStats
    ledger: ChainHead


class EvolutionProgress(_Frozen):
    """What the run's `progress` query answers."""

    run_id: str
    next_generation: int
    generations_done: int
    generations_target: int | None
    population_size: int
    target_size: int
    paused: bool
    stopping: bool
    running: int | None = Field(None, description="the generation in flight, if one is")
    last: GenerationStats | None = None


class EvolutionResult(_Frozen):
    run_id: str
    generations_done: int
    next_generation: int
    population_size: int
    last: GenerationStats | None = None
