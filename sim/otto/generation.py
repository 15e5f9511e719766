"""One generation of the traffic simulator, as pure rules: who initiates which fiber with whom, what each
agent did, and who makes up the next population.

Everything is a function of its inputs and of random streams named by (seed, generation, purpose), so a
workflow that replays a generation, and a run resumed from a checkpoint, make the same choices.

The traits decide the plan:

- **activity level**: each agent initiates a lifecycle with probability equal to its activity level;
- **fiber weights**: the initiator draws the fiber type by its weights (types needing more parties than the
  population has are left out);
- **risk tolerance**: a candidate's risk is what its on-chain reputation says, by the same rule the parties
  apply to each other's moves (``sim.otto.fibers.decisions.risk_of``: 0 from twice a new identity's
  reputation up, 1 at none); an initiator accepts a counterparty whose risk is at most its tolerance. When
  too few candidates are acceptable it takes the least risky of the rest, so a cautious agent still trades,
  with the most reputable agents it can find.

Every agent takes part in at least one lifecycle per generation: counterparties are taken first from the
agents not yet in any lifecycle, and whoever is still left out initiates one itself (``forced``).
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Mapping, Sequence

from models.evolution import (
    AgentObservation,
    AgentRecord,
    Fitness,
    GenerationStats,
    Lifecycle,
    LifecycleResult,
    Member,
    Performance,
    Role,
    Selection,
)
from models.otto import FIBER_TYPES, AgentStats, AgentTraits
from sim.otto.agents import random_traits
from sim.otto.evolution import replaced_count
from sim.otto.fibers import fiber_kind
from sim.otto.fibers.decisions import risk_of

# Streams of one generation; a new purpose gets a new number, never a reused one.
STREAMS = {"traits": 1, "plan": 2, "select": 3, "grow": 4, "attest": 5}
_GENERATION_BITS = 40
_STREAM_BITS = 8


def stream(seed: int, generation: int, purpose: str) -> random.Random:
    """The random stream for (seed, generation, purpose).

    Derived by arithmetic, not ``hash()`` (salted per process) or a string seed: the three numbers are
    packed into one integer, which seeds ``random.Random`` the same way on every machine and version.
    """
    if seed < 0 or not 0 <= generation < 2**_GENERATION_BITS:
        raise ValueError(f"seed must be >= 0 and generation in [0, 2**{_GENERATION_BITS}), not {seed}, {generation}")
    packed = ((seed << _GENERATION_BITS | generation) << _STREAM_BITS) | STREAMS[purpose]
    return random.Random(packed)


def ledger_chain(run_id: str) -> str:
    """The hash chain of a run's generation summaries."""
    return f"otto/{run_id}"


def initial_traits(seed: int, count: int) -> list[AgentTraits]:
    """The traits a new run's agents start with, in population order: drawn from the run's seed."""
    rng = stream(seed, 0, "traits")
    return [random_traits(rng) for _ in range(count)]


def _fiber_type(traits: AgentTraits, size: int, rng: random.Random) -> str:
    feasible = [name for name in FIBER_TYPES if fiber_kind(name).min_parties <= size]
    weights = [max(0.0, traits.fiber_weights.get(name, 0.0)) for name in feasible]
    if sum(weights) <= 0:
        weights = [1.0] * len(feasible)
    return rng.choices(feasible, weights=weights)[0]


def plan_generation(
    population: Sequence[Member], reputations: Mapping[str, int], rng: random.Random
) -> list[Lifecycle]:
    """The generation's lifecycles: initiators by activity level, types by fiber weights, counterparties
    by risk tolerance against reputation, and every agent in at least one."""
    if len(population) < 2:
        raise ValueError(f"a generation needs at least 2 agents, not {len(population)}")
    ids = [member.agent_id for member in population]
    traits = {member.agent_id: member.traits for member in population}
    risks = {agent: risk_of(reputations.get(agent)) for agent in ids}
    covered: set[str] = set()
    lifecycles: list[Lifecycle] = []

    def initiate(initiator: str, *, forced: bool) -> None:
        own = traits[initiator]
        fiber_type = _fiber_type(own, len(ids), rng)
        needed = fiber_kind(fiber_type).min_parties - 1
        candidates = [agent for agent in ids if agent != initiator]
        acceptable = [agent for agent in candidates if risks[agent] <= own.risk_tolerance]
        fresh = [agent for agent in acceptable if agent not in covered]
        seen = [agent for agent in acceptable if agent in covered]
        rng.shuffle(fresh)
        rng.shuffle(seen)
        chosen = (fresh + seen)[:needed]
        if len(chosen) < needed:
            rest = [agent for agent in candidates if agent not in acceptable]
            rng.shuffle(rest)
            rest.sort(key=lambda agent: risks[agent])  # stable: ties keep the shuffled order
            chosen += rest[: needed - len(chosen)]
        parties = (initiator, *chosen)
        covered.update(parties)
        lifecycles.append(
            Lifecycle(
                index=len(lifecycles),
                fiber_type=fiber_type,
                parties=parties,
                seed=rng.getrandbits(62),
                forced=forced,
            )
        )

    draws = {agent: rng.random() for agent in ids}
    initiators = [agent for agent in ids if draws[agent] < traits[agent].activity_level]
    rng.shuffle(initiators)
    for agent in initiators:
        initiate(agent, forced=False)
    for agent in ids:
        if agent not in covered:
            initiate(agent, forced=True)
    return lifecycles


def measure(
    population: Sequence[Member],
    results: Sequence[LifecycleResult],
    before: Mapping[str, AgentObservation],
    after: Mapping[str, AgentObservation],
    attestations: tuple[Mapping[str, int], Mapping[str, int]] = ({}, {}),
) -> dict[str, tuple[Performance, AgentStats]]:
    """Each agent's generation: outcomes from the recorded lifecycles, reputation and earnings from the chain,
    and the attestations it issued and received (``(made, received)`` per agent, issued ones only)."""
    made, received = attestations
    measured = {}
    for member in population:
        agent = member.agent_id
        own = [result for result in results if agent in result.parties]
        completed = sum(1 for result in own if result.success)
        counterparties = sorted({party for result in own for party in result.parties if party != agent})
        fiber_types = sorted({result.fiber_type for result in own})
        start, end = before.get(agent), after.get(agent)
        reputation = end.reputation if end else (start.reputation if start else 0)
        earnings = (end.balance - start.balance) if start and end else 0
        measured[agent] = (
            Performance(
                agent_id=agent,
                completed=completed,
                settled=len(own),
                reputation=reputation,
                earnings=earnings,
                counterparties=len(counterparties),
                fiber_types=len(fiber_types),
            ),
            AgentStats(
                fibers_initiated=sum(1 for result in own if result.parties[0] == agent),
                fibers_completed=completed,
                fibers_failed=len(own) - completed,
                attestations_made=made.get(agent, 0),
                attestations_received=received.get(agent, 0),
                counterparties=counterparties,
                fiber_types=fiber_types,
            ),
        )
    return measured


def newcomer_count(size: int, target_size: int) -> int:
    """How many newcomers ``next_population`` takes on for a population of ``size`` and a target of
    ``target_size``, whatever the fitness: known when a generation starts, so their wallets can be registered
    while its lifecycles run (only their traits wait for selection)."""
    return max(0, replaced_count(size) + target_size - size)


def next_population(
    population: Sequence[Member], selection: Selection, target_size: int, rng: random.Random
) -> tuple[list[Member], list[AgentTraits], list[str]]:
    """Who carries on (in population order, with their new traits), the traits of the newcomers to
    allocate, and who retires.

    The worst 5% (REPLACED) retire and as many newcomers join with selection's random traits. A larger
    target adds newcomers with random traits; a smaller one retires the worst-ranked of the rest too.
    """
    placements = {placement.agent_id: placement for placement in selection.placements}
    retired = {agent for agent, placement in placements.items() if placement.role is Role.REPLACED}
    newcomers = list(selection.newcomers)
    staying = len(population) - len(retired)
    excess = staying + len(newcomers) - target_size
    if excess > 0:
        # Fewer places: newcomers are not taken on first, then the worst-ranked of those staying retire.
        dropped = min(excess, len(newcomers))
        newcomers = newcomers[: len(newcomers) - dropped]
        excess -= dropped
        by_rank = sorted(
            (placement for agent, placement in placements.items() if agent not in retired),
            key=lambda placement: -placement.rank,
        )
        retired |= {placement.agent_id for placement in by_rank[: min(excess, max(0, staying - 2))]}
    elif excess < 0:
        newcomers += [random_traits(rng) for _ in range(-excess)]
    kept = [
        member.model_copy(update={"traits": placements[member.agent_id].traits})
        for member in population
        if member.agent_id not in retired
    ]
    return kept, newcomers, sorted(retired, key=lambda agent: placements[agent].rank)


def records(
    population: Sequence[Member],
    measured: Mapping[str, tuple[Performance, AgentStats]],
    scores: Mapping[str, Fitness],
    selection: Selection,
    observed: Mapping[str, AgentObservation],
    retired: set[str],
) -> list[AgentRecord]:
    """The checkpoint's row per agent, in population order."""
    placements = {placement.agent_id: placement for placement in selection.placements}
    result = []
    for member in population:
        agent = member.agent_id
        performance, stats = measured[agent]
        placement = placements[agent]
        end = observed.get(agent)
        result.append(
            AgentRecord(
                agent_id=agent,
                traits=member.traits,
                stats=stats,
                balance=end.balance if end else 0,
                earnings=performance.earnings,
                reputation=performance.reputation,
                fitness=scores[agent],
                role=placement.role,
                rank=placement.rank,
                next_traits=None if agent in retired else placement.traits,
            )
        )
    return result


def generation_stats(
    generation: int,
    results: Sequence[LifecycleResult],
    scores: Sequence[Fitness],
    selection: Selection,
    *,
    population_size: int,
    next_population_size: int,
    newcomers: Sequence[str],
    retired: Sequence[str],
    reputation_queries: int,
) -> GenerationStats:
    by_type: dict[str, list[int]] = {}
    for result in results:
        counts = by_type.setdefault(result.fiber_type, [0, 0])
        counts[0] += int(result.success)
        counts[1] += 1
    totals = [score.total for score in scores]
    completed = sum(1 for result in results if result.success)
    return GenerationStats(
        generation=generation,
        population_size=population_size,
        next_population_size=next_population_size,
        lifecycles=len(results),
        completed=completed,
        failed=len(results) - completed,
        by_type={name: by_type[name] for name in FIBER_TYPES if name in by_type},
        fitness_avg=statistics.fmean(totals),
        fitness_max=max(totals),
        fitness_min=min(totals),
        mutation_rate=selection.mutation_rate,
        diversity=selection.diversity,
        newcomers=list(newcomers),
        retired=list(retired),
        reputation_queries=reputation_queries,
    )
