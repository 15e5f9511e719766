"""A generation's pure rules: the random streams, the plan from the traits, what is measured, the next population."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from models.evolution import AgentObservation, LifecycleResult, Member, Role
from models.otto import FIBER_TYPES, AgentTraits
from sim.otto.agents import random_traits
from sim.otto.evolution import fitness, select
from sim.otto.fibers import fiber_kind
from sim.otto.generation import (
    initial_traits,
    measure,
    newcomer_count,
    next_population,
    plan_generation,
    stream,
)


def traits(
    *, activity: float = 0.5, risk_tolerance: float = 0.5, weights: dict[str, float] | None = None
) -> AgentTraits:
    return AgentTraits(
        fiber_weights=weights or {name: 1 / len(FIBER_TYPES) for name in FIBER_TYPES},
        activity_level=activity,
        risk_tolerance=risk_tolerance,
        cooperativeness=0.5,
        response_speed=0.5,
    )


def member(index: int, own: AgentTraits) -> Member:
    return Member(agent_id=f"agent_{index:03d}", address=f"DAG{index:037d}", identity_fiber_id=None, traits=own)


def population(size: int, seed: int = 3) -> list[Member]:
    rng = random.Random(seed)
    return [member(index, random_traits(rng)) for index in range(size)]


def test_streams_are_named_by_seed_generation_and_purpose() -> None:
    draws = {
        (seed, generation, purpose): stream(seed, generation, purpose).random()
        for seed in (0, 1, 2**40)
        for generation in (0, 1, 7)
        for purpose in ("plan", "select")
    }
    assert len(set(draws.values())) == len(draws), "every (seed, generation, purpose) has its own stream"
    assert stream(5, 3, "plan").random() == stream(5, 3, "plan").random()
    with pytest.raises(ValueError):
        stream(-1, 0, "plan")


def test_initial_traits_come_from_the_seed() -> None:
    assert initial_traits(4, 10) == initial_traits(4, 10)
    assert initial_traits(4, 10) != initial_traits(5, 10)
    assert initial_traits(4, 10)[:3] == initial_traits(4, 3), "a smaller population is a prefix"


@pytest.mark.parametrize("seed", range(20))
def test_every_agent_takes_part_in_at_least_one_lifecycle(seed: int) -> None:
    agents = population(23, seed)
    reputations = {m.agent_id: random.Random(seed).randint(0, 40) for m in agents}
    plan = plan_generation(agents, reputations, random.Random(seed))
    taking_part = {agent for lifecycle in plan for agent in lifecycle.parties}
    assert taking_part == {m.agent_id for m in agents}
    for lifecycle in plan:
        assert len(set(lifecycle.parties)) == len(lifecycle.parties) == fiber_kind(lifecycle.fiber_type).min_parties
    assert [lifecycle.index for lifecycle in plan] == list(range(len(plan)))


def test_the_same_stream_gives_the_same_plan() -> None:
    agents = population(30)
    reputations = {m.agent_id: 10 for m in agents}
    assert plan_generation(agents, reputations, stream(9, 4, "plan")) == plan_generation(
        agents, reputations, stream(9, 4, "plan")
    )
    assert plan_generation(agents, reputations, stream(9, 4, "plan")) != plan_generation(
        agents, reputations, stream(9, 5, "plan")
    )


def test_activity_level_decides_who_initiates() -> None:
    busy = [member(i, traits(activity=1.0)) for i in range(10)]
    idle = [member(10 + i, traits(activity=0.0)) for i in range(10)]
    initiated: Counter[str] = Counter()
    forced: Counter[str] = Counter()
    for seed in range(30):
        for lifecycle in plan_generation(busy + idle, {}, random.Random(seed)):
            (forced if lifecycle.forced else initiated)[lifecycle.parties[0]] += 1
    assert set(initiated) == {m.agent_id for m in busy}, "activity 1 always initiates, activity 0 never by choice"
    assert all(initiated[m.agent_id] == 30 for m in busy)
    assert not set(forced) & {m.agent_id for m in busy}


def test_fiber_weights_decide_the_type() -> None:
    only_orders = {name: (1.0 if name == "SimpleOrder" else 0.0) for name in FIBER_TYPES}
    only_votes = {name: (1.0 if name == "Voting" else 0.0) for name in FIBER_TYPES}
    agents = [member(0, traits(activity=1.0, weights=only_orders)), member(1, traits(activity=1.0, weights=only_votes))]
    agents += [member(2 + i, traits(activity=0.0)) for i in range(6)]
    plan = plan_generation(agents, {}, random.Random(1))
    by_initiator = {lifecycle.parties[0]: lifecycle.fiber_type for lifecycle in plan if not lifecycle.forced}
    assert by_initiator == {"agent_000": "SimpleOrder", "agent_001": "Voting"}


def test_a_type_needing_more_parties_than_the_population_is_not_drawn() -> None:
    only_votes = {name: (1.0 if name == "Voting" else 0.0) for name in FIBER_TYPES}
    agents = [member(i, traits(activity=1.0, weights=only_votes)) for i in range(3)]
    plan = plan_generation(agents, {}, random.Random(2))
    assert plan and all(fiber_kind(lifecycle.fiber_type).min_parties <= 3 for lifecycle in plan)


def test_risk_tolerance_decides_whom_an_initiator_accepts() -> None:
    only_orders = {name: (1.0 if name == "SimpleOrder" else 0.0) for name in FIBER_TYPES}
    cautious = member(0, traits(activity=1.0, risk_tolerance=0.0, weights=only_orders))
    daring = member(1, traits(activity=1.0, risk_tolerance=1.0, weights=only_orders))
    others = [member(2 + i, traits(activity=0.0, weights=only_orders)) for i in range(8)]
    reputations = {m.agent_id: 10 + index for index, m in enumerate([cautious, daring, *others])}
    best = max(reputations, key=lambda agent: reputations[agent])
    chosen: dict[str, Counter[str]] = {cautious.agent_id: Counter(), daring.agent_id: Counter()}
    for seed in range(40):
        for lifecycle in plan_generation([cautious, daring, *others], reputations, random.Random(seed)):
            if lifecycle.parties[0] in chosen:
                chosen[lifecycle.parties[0]][lifecycle.parties[1]] += 1
    assert set(chosen[cautious.agent_id]) == {best}, "tolerance 0: nobody is safe enough, so the most reputable"
    assert len(chosen[daring.agent_id]) > 4, "tolerance 1 accepts anyone"


def test_a_cautious_initiator_accepts_the_proven_and_a_daring_one_the_unproven_too() -> None:
    only_orders = {name: (1.0 if name == "SimpleOrder" else 0.0) for name in FIBER_TYPES}
    cautious = member(0, traits(activity=1.0, risk_tolerance=0.2, weights=only_orders))
    proven = [member(1 + i, traits(activity=0.0, weights=only_orders)) for i in range(3)]
    unproven = [member(4 + i, traits(activity=0.0, weights=only_orders)) for i in range(3)]
    reputations = {m.agent_id: 30 for m in proven} | {m.agent_id: 10 for m in unproven}
    chosen = Counter(
        lifecycle.parties[1]
        for seed in range(40)
        for lifecycle in plan_generation([cautious, *proven, *unproven], reputations, random.Random(seed))
        if lifecycle.parties[0] == cautious.agent_id
    )
    assert set(chosen) == {m.agent_id for m in proven}, "a new identity (10) is too risky at tolerance 0.2"


def result(index: int, fiber_type: str, parties: tuple[str, ...], success: bool, status: str = "COMPLETED"):
    return LifecycleResult(index=index, fiber_type=fiber_type, parties=parties, status=status, success=success)


def test_measure_counts_outcomes_and_reads_the_chain() -> None:
    agents = population(3)
    a, b, c = (m.agent_id for m in agents)
    results = [
        result(0, "SimpleOrder", (a, b), True),
        result(1, "Contract", (b, c), False),
        result(2, "TicTacToe", (c, a), False, status="FAILED"),
    ]
    before = {m.agent_id: AgentObservation(agent_id=m.agent_id, balance=100, reputation=10) for m in agents}
    after = dict(before)
    after[a] = AgentObservation(agent_id=a, balance=150, reputation=15)
    measured = measure(agents, results, before, after)
    performance, stats = measured[a]
    assert (performance.completed, performance.settled, performance.reputation, performance.earnings) == (1, 2, 15, 50)
    assert (performance.counterparties, performance.fiber_types) == (2, 2)
    assert (stats.fibers_initiated, stats.fibers_completed, stats.fibers_failed) == (1, 1, 1)
    assert stats.counterparties == sorted([b, c]) and stats.fiber_types == ["SimpleOrder", "TicTacToe"]
    assert measured[b][1].fibers_initiated == 1 and measured[b][0].completed == 1


def _selection(agents: list[Member], seed: int = 1):
    rng = random.Random(seed)
    scores = [
        fitness(
            measure(
                [m],
                [result(0, "SimpleOrder", (m.agent_id, "x"), rng.random() < 0.5)],
                {},
                {},
            )[m.agent_id][0]
        )
        for m in agents
    ]
    return select(scores, {m.agent_id: m.traits for m in agents}, random.Random(seed))


def test_the_replaced_retire_and_newcomers_take_their_places() -> None:
    agents = population(40)
    selection = _selection(agents)
    kept, newcomers, retired = next_population(agents, selection, 40, random.Random(0))
    replaced = {p.agent_id for p in selection.placements if p.role is Role.REPLACED}
    assert set(retired) == replaced and len(replaced) == 2
    assert len(kept) + len(newcomers) == 40 and newcomers == selection.newcomers
    placements = {p.agent_id: p for p in selection.placements}
    assert all(m.traits == placements[m.agent_id].traits for m in kept), "survivors carry selection's traits"
    assert [m.agent_id for m in kept] == [m.agent_id for m in agents if m.agent_id not in replaced], "order kept"


@pytest.mark.parametrize("size", [1, 2, 3, 9, 10, 11, 19, 20, 21, 40, 100, 101])
def test_the_newcomers_are_counted_before_the_generation_is_scored(size: int) -> None:
    """The generation registers its newcomers while its lifecycles run, so their number must not depend on the
    scores: any fitness, any target size, the count known at the start is the count selection takes on."""
    agents = population(size, seed=size)
    for scores_seed in range(3):
        selection = _selection(agents, seed=scores_seed)
        for target in sorted({1, max(1, size - 7), max(1, size - 1), size, size + 1, size + 9}):
            _, newcomers, _ = next_population(agents, selection, target, random.Random(0))
            assert len(newcomers) == newcomer_count(size, target), (size, target)


def test_a_changed_target_size_grows_or_shrinks_the_population() -> None:
    agents = population(20)
    selection = _selection(agents)
    kept, newcomers, retired = next_population(agents, selection, 25, random.Random(0))
    assert len(kept) + len(newcomers) == 25 and len(retired) == 1
    kept, newcomers, retired = next_population(agents, selection, 15, random.Random(0))
    assert len(kept) + len(newcomers) == 15 and not newcomers
    ranks = {p.agent_id: p.rank for p in selection.placements}
    assert sorted(ranks[agent] for agent in retired) == list(range(15, 20)), "the worst-ranked leave"
