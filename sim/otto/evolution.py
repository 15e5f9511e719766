"""The genetic algorithm of the traffic simulator: fitness from measured performance, then selection.

Pure and seeded: a generation's selection is a function of the fitness table, the current traits and one
`random.Random`, so a workflow that replays it makes the same population, crash or no crash.

Fitness (the seed's weights): completion rate 0.30, reputation 0.25, earnings 0.20, unique counterparties
0.15, fiber-type diversity 0.10. Each term is normalised to [0, 1] on an absolute scale, so a population can
improve (a relative, min-max scale would pin the mean near 0.5 whatever the agents do), and each scale is
chosen so that one generation's ordinary work does not saturate it:

- completion: completed / settled lifecycles (0 for an agent that settled none);
- reputation: what it gained above the identity's initial score, ``g / (g + REPUTATION_HALF)`` (half credit
  at 50 points: ten completed contracts reported by counterparties);
- earnings: ``0.5 + 0.5 tanh(net / EARNINGS_SCALE)``: 0.5 for breaking even, a loss below, a gain above;
- network: distinct counterparties ``c / (c + NETWORK_HALF)`` (half credit at 5);
- diversity: distinct fiber types / the number of types.

Selection, by fitness rank (ties by agent id): the top 20% are elites, kept as they are and the parents of
this generation's offspring; the middle 60% survive unchanged; the bottom 20% less the worst 5% take a
child of two elites (uniform crossover of the behavioural traits, a blend of the fiber weights), mutated;
the worst 5% are retired and as many new random agents join. The mutation rate adapts: it rises above its
base as trait diversity falls below a target, so a converged population keeps exploring.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from models.evolution import Fitness, Performance, Placement, Role, Selection
from models.otto import FIBER_TYPES, AgentTraits
from sim.otto.agents import random_traits
from sim.otto.fibers.agent_identity import INITIAL_REPUTATION

WEIGHTS = {"completion": 0.30, "reputation": 0.25, "earnings": 0.20, "network": 0.15, "diversity": 0.10}

REPUTATION_HALF = 50.0
EARNINGS_SCALE = 100 * 10**8  # 100 tokens, in 1e-8 units
NETWORK_HALF = 5.0

ELITE_SHARE, BOTTOM_SHARE, REPLACED_SHARE = 0.20, 0.20, 0.05

BEHAVIOUR = ("activity_level", "risk_tolerance", "cooperativeness", "response_speed")
MIN_FIBER_WEIGHT = 1e-3  # a type never dies out entirely, so mutation can bring it back


@dataclass(frozen=True)
class MutationPolicy:
    base_rate: float = 0.10
    max_rate: float = 0.50
    # Below this mean trait deviation the population counts as converging and mutates more.
    target_diversity: float = 0.12
    step: float = 0.10  # standard deviation of one mutation of a behavioural trait

    def rate_for(self, diversity: float) -> float:
        boost = self.target_diversity / max(diversity, 1e-9)
        return min(self.max_rate, self.base_rate * max(1.0, boost))


def fitness(performance: Performance) -> Fitness:
    gained = max(0, performance.reputation - INITIAL_REPUTATION)
    terms = {
        "completion": performance.completed / performance.settled if performance.settled else 0.0,
        "reputation": gained / (gained + REPUTATION_HALF),
        "earnings": 0.5 + 0.5 * math.tanh(performance.earnings / EARNINGS_SCALE),
        "network": performance.counterparties / (performance.counterparties + NETWORK_HALF),
        "diversity": min(performance.fiber_types, len(FIBER_TYPES)) / len(FIBER_TYPES),
    }
    total = sum(WEIGHTS[name] * value for name, value in terms.items())
    return Fitness(agent_id=performance.agent_id, total=total, **terms)


def _count(share: float, size: int) -> int:
    # Half up, not Python's half-to-even: 5% of 10 agents is one agent, not none.
    return math.floor(share * size + 0.5)


def replaced_count(size: int) -> int:
    """How many of a population of ``size`` selection replaces: the worst 5%, never more than the bottom 20%."""
    return min(_count(REPLACED_SHARE, size), _count(BOTTOM_SHARE, size))


def ranked(scores: Sequence[Fitness]) -> list[Fitness]:
    return sorted(scores, key=lambda score: (-score.total, score.agent_id))


def trait_vector(traits: AgentTraits) -> list[float]:
    return [traits.fiber_weights.get(name, 0.0) for name in FIBER_TYPES] + [getattr(traits, name) for name in BEHAVIOUR]


def diversity(population: Sequence[AgentTraits]) -> float:
    """Mean over traits of the population's standard deviation of that trait."""
    if len(population) < 2:
        return 0.0
    columns = zip(*(trait_vector(traits) for traits in population), strict=True)
    return statistics.fmean(statistics.pstdev(column) for column in columns)


def crossover(first: AgentTraits, second: AgentTraits, rng: random.Random) -> AgentTraits:
    blend = rng.random()
    weights = {
        name: blend * first.fiber_weights.get(name, 0.0) + (1 - blend) * second.fiber_weights.get(name, 0.0)
        for name in FIBER_TYPES
    }
    behaviour = {name: getattr(first if rng.random() < 0.5 else second, name) for name in BEHAVIOUR}
    return AgentTraits(fiber_weights=_normalised(weights), **behaviour)


def mutate(traits: AgentTraits, rate: float, rng: random.Random, step: float) -> AgentTraits:
    behaviour = {}
    for name in BEHAVIOUR:
        value = getattr(traits, name)
        if rng.random() < rate:
            value = min(1.0, max(0.0, value + rng.gauss(0.0, step)))
        behaviour[name] = value
    weights = dict(traits.fiber_weights)
    for name in FIBER_TYPES:
        if rng.random() < rate:
            # Multiplicative, so a small weight moves in proportion rather than to zero.
            weights[name] = weights.get(name, 0.0) * math.exp(rng.gauss(0.0, 3 * step))
    return AgentTraits(fiber_weights=_normalised(weights), **behaviour)


def _normalised(weights: Mapping[str, float]) -> dict[str, float]:
    floored = {name: max(MIN_FIBER_WEIGHT, weights.get(name, 0.0)) for name in FIBER_TYPES}
    total = sum(floored.values())
    return {name: value / total for name, value in floored.items()}


def select(
    scores: Sequence[Fitness],
    traits: Mapping[str, AgentTraits],
    rng: random.Random,
    policy: MutationPolicy = MutationPolicy(),
) -> Selection:
    """The next generation's traits for every agent, by rank; the newcomers' traits for the retired places."""
    order = ranked(scores)
    size = len(order)
    n_elite = _count(ELITE_SHARE, size)
    n_bottom = _count(BOTTOM_SHARE, size)
    n_replaced = replaced_count(size)
    spread = diversity([traits[score.agent_id] for score in order])
    rate = policy.rate_for(spread)
    elites = [score.agent_id for score in order[:n_elite]] or [order[0].agent_id]

    placements: list[Placement] = []
    for rank, score in enumerate(order):
        agent = score.agent_id
        if rank < n_elite:
            placements.append(Placement(agent_id=agent, rank=rank, role=Role.ELITE, traits=traits[agent]))
        elif rank < size - n_bottom:
            placements.append(Placement(agent_id=agent, rank=rank, role=Role.SURVIVOR, traits=traits[agent]))
        elif rank < size - n_replaced:
            mother, father = rng.sample(elites, 2) if len(elites) >= 2 else (elites[0], elites[0])
            child = mutate(crossover(traits[mother], traits[father], rng), rate, rng, policy.step)
            placements.append(
                Placement(agent_id=agent, rank=rank, role=Role.OFFSPRING, traits=child, parents=(mother, father))
            )
        else:
            placements.append(Placement(agent_id=agent, rank=rank, role=Role.REPLACED, traits=traits[agent]))
    newcomers = [random_traits(rng) for _ in range(n_replaced)]
    return Selection(placements=placements, newcomers=newcomers, mutation_rate=rate, diversity=spread)
