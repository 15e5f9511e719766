"""The pure genetic algorithm: fitness terms and their scales, selection shares, crossover, adaptive mutation."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from models.evolution import Fitness, Performance, Role
from models.otto import FIBER_TYPES, AgentTraits
from sim.otto.agents import random_traits
from sim.otto.evolution import (
    BEHAVIOUR,
    WEIGHTS,
    MutationPolicy,
    crossover,
    diversity,
    fitness,
    mutate,
    select,
)
from sim.otto.fibers.agent_identity import INITIAL_REPUTATION

IDLE = Performance(
    agent_id="idle",
    completed=0,
    settled=0,
    reputation=INITIAL_REPUTATION,
    earnings=0,
    counterparties=0,
    fiber_types=0,
)


def test_weights_are_the_seeds_and_sum_to_one() -> None:
    assert WEIGHTS == {"completion": 0.30, "reputation": 0.25, "earnings": 0.20, "network": 0.15, "diversity": 0.10}
    assert math.isclose(sum(WEIGHTS.values()), 1.0)


def test_an_idle_agent_scores_only_for_breaking_even() -> None:
    score = fitness(IDLE)
    assert (score.completion, score.reputation, score.earnings, score.network, score.diversity) == (0, 0, 0.5, 0, 0)
    assert score.total == pytest.approx(0.10)


@pytest.mark.parametrize(
    ("term", "change"),
    [
        ("completion", {"completed": 3, "settled": 4}),
        ("reputation", {"reputation": INITIAL_REPUTATION + 15}),
        ("earnings", {"earnings": 40 * 10**8}),
        ("network", {"counterparties": 3}),
        ("diversity", {"fiber_types": 4}),
    ],
)
def test_each_term_moves_the_total_by_its_weight(term: str, change: dict[str, int]) -> None:
    before, after = fitness(IDLE), fitness(IDLE.model_copy(update=change))
    moved = getattr(after, term) - getattr(before, term)
    assert 0 < moved < 1  # a generation's ordinary work does not saturate the term
    assert after.total - before.total == pytest.approx(WEIGHTS[term] * moved)
    others = set(WEIGHTS) - {term}
    assert all(getattr(after, name) == getattr(before, name) for name in others)


def test_losses_score_below_breaking_even_and_violations_do_not_go_negative() -> None:
    loser = fitness(IDLE.model_copy(update={"earnings": -50 * 10**8, "reputation": 0}))
    assert loser.earnings < 0.5 and loser.reputation == 0.0


def _population(size: int, seed: int = 7) -> tuple[list[Fitness], dict[str, AgentTraits]]:
    rng = random.Random(seed)
    traits = {f"agent_{i:03d}": random_traits(rng) for i in range(size)}
    scores = [
        fitness(
            Performance(
                agent_id=agent,
                completed=rng.randint(0, 5),
                settled=5,
                reputation=INITIAL_REPUTATION + rng.randint(0, 30),
                earnings=rng.randint(-10, 10) * 10**8,
                counterparties=rng.randint(0, 6),
                fiber_types=rng.randint(1, 7),
            )
        )
        for agent in traits
    ]
    return scores, traits


@pytest.mark.parametrize(("size", "shares"), [(100, (20, 60, 15, 5)), (10, (2, 6, 1, 1)), (40, (8, 24, 6, 2))])
def test_selection_shares_by_rank(size: int, shares: tuple[int, int, int, int]) -> None:
    scores, traits = _population(size)
    selection = select(scores, traits, random.Random(1))
    roles = Counter(placement.role for placement in selection.placements)
    assert (roles[Role.ELITE], roles[Role.SURVIVOR], roles[Role.OFFSPRING], roles[Role.REPLACED]) == shares
    assert len(selection.newcomers) == shares[3]
    # Roles follow rank: nobody outranked by a survivor is an elite, and so on down.
    order = [placement.role for placement in sorted(selection.placements, key=lambda p: p.rank)]
    expected = [Role.ELITE, Role.SURVIVOR, Role.OFFSPRING, Role.REPLACED]
    assert order == sorted(order, key=expected.index)
    ranked_totals = [next(s.total for s in scores if s.agent_id == p.agent_id) for p in selection.placements]
    assert ranked_totals == sorted(ranked_totals, reverse=True)


def test_elites_and_survivors_keep_their_traits_and_offspring_descend_from_elites() -> None:
    scores, traits = _population(100)
    selection = select(scores, traits, random.Random(2))
    elites = {p.agent_id for p in selection.placements if p.role is Role.ELITE}
    for placement in selection.placements:
        if placement.role in (Role.ELITE, Role.SURVIVOR):
            assert placement.traits == traits[placement.agent_id]
        if placement.role is Role.OFFSPRING:
            assert placement.parents is not None and set(placement.parents) <= elites
            assert placement.parents[0] != placement.parents[1]
            assert math.isclose(sum(placement.traits.fiber_weights.values()), 1.0)


def test_same_seed_same_selection_other_seed_other_offspring() -> None:
    scores, traits = _population(50)
    first = select(scores, traits, random.Random(3))
    assert first == select(scores, traits, random.Random(3))
    assert first != select(scores, traits, random.Random(4))


def test_crossover_takes_each_behaviour_from_a_parent_and_blends_weights() -> None:
    rng = random.Random(5)
    mother, father = random_traits(rng), random_traits(rng)
    child = crossover(mother, father, rng)
    for name in BEHAVIOUR:
        assert getattr(child, name) in (getattr(mother, name), getattr(father, name))
    for name in FIBER_TYPES:
        low, high = sorted((mother.fiber_weights[name], father.fiber_weights[name]))
        # Blended, then renormalised (the blend already sums to one, so only rounding moves it).
        assert low - 1e-9 <= child.fiber_weights[name] <= high + 1e-9


def test_mutation_keeps_traits_in_range_and_weights_summing_to_one() -> None:
    rng = random.Random(6)
    traits = random_traits(rng)
    for _ in range(200):
        traits = mutate(traits, 1.0, rng, step=0.3)
        assert all(0.0 <= getattr(traits, name) <= 1.0 for name in BEHAVIOUR)
        assert math.isclose(sum(traits.fiber_weights.values()), 1.0)
        assert min(traits.fiber_weights.values()) > 0


def test_mutation_rate_rises_as_diversity_collapses() -> None:
    policy = MutationPolicy()
    rng = random.Random(8)
    varied = [random_traits(rng) for _ in range(50)]
    clones = [varied[0]] * 50
    assert diversity(clones) == 0.0
    assert policy.rate_for(diversity(varied)) == policy.base_rate
    assert policy.rate_for(diversity(clones)) == policy.max_rate
    half = policy.rate_for(policy.target_diversity / 2)
    assert policy.base_rate < half < policy.max_rate


def test_selection_pressure_moves_the_population_towards_what_fitness_rewards() -> None:
    # A toy world where cooperative agents complete more: the mean cooperativeness must rise.
    rng = random.Random(9)
    traits = {f"a{i:02d}": random_traits(rng) for i in range(40)}
    start = sum(t.cooperativeness for t in traits.values()) / len(traits)
    for generation in range(30):
        scores = [
            fitness(
                IDLE.model_copy(update={"agent_id": agent, "settled": 10, "completed": round(10 * t.cooperativeness)})
            )
            for agent, t in traits.items()
        ]
        selection = select(scores, traits, random.Random(generation))
        traits = {p.agent_id: p.traits for p in selection.placements if p.role is not Role.REPLACED}
        for index, newcomer in enumerate(selection.newcomers):
            traits[f"g{generation}n{index}"] = newcomer
    end = sum(t.cooperativeness for t in traits.values()) / len(traits)
    assert end > start + 0.2
