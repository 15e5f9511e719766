"""The simulator's runs in the store, on SQLite and on PostgreSQL: one start, one allocation per generation,
one checkpoint per generation with its ledger entry, whatever the retries."""

from __future__ import annotations

import random

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from models.evolution import (
    AgentRecord,
    AllocatedAgent,
    Checkpoint,
    Fitness,
    GenerationStats,
    Member,
    Role,
    RunStart,
)
from models.ledger import AppendBatch
from models.otto import AgentStats
from sim.hashchain import GENESIS_HASH, make_entry
from sim.otto.agents import random_traits
from sim.otto.generation import ledger_chain
from store import ledger
from store import otto as otto_store
from store.tables import OttoAgentStatsRow

RUN = "run-1"


def members(count: int, offset: int = 0) -> list[Member]:
    rng = random.Random(offset)
    return [
        Member(
            agent_id=f"agent_{i:03d}", address=f"DAG{i:037d}", identity_fiber_id=f"id-{i}", traits=random_traits(rng)
        )
        for i in range(offset, offset + count)
    ]


def checkpoint(generation: int, prev_hash: str, population: list[Member]) -> Checkpoint:
    entry = make_entry(
        chain_id=ledger_chain(RUN),
        seq=generation,
        prev_hash=prev_hash,
        payload={"generation": generation},
        author="GenerationWorkflow",
        sim_time=generation,
        idempotency_key=f"{RUN}/g{generation}/{ledger_chain(RUN)}/{generation}",
    )
    stats = GenerationStats(
        generation=generation,
        population_size=len(population),
        next_population_size=len(population),
        lifecycles=3,
        completed=2,
        failed=1,
        fitness_avg=0.4,
        fitness_max=0.6,
        fitness_min=0.1,
        mutation_rate=0.1,
        diversity=0.2,
    )
    score = Fitness(agent_id="x", completion=1, reputation=0, earnings=0.5, network=0.2, diversity=0.1, total=0.5)
    agents = [
        AgentRecord(
            agent_id=m.agent_id,
            traits=m.traits,
            stats=AgentStats(fibers_completed=1, counterparties=["b"], fiber_types=["SimpleOrder"]),
            balance=0,
            earnings=0,
            reputation=10,
            fitness=score.model_copy(update={"agent_id": m.agent_id}),
            role=Role.SURVIVOR,
            rank=rank,
            next_traits=m.traits,
        )
        for rank, m in enumerate(population)
    ]
    return Checkpoint(
        run_id=RUN,
        generation=generation,
        stats=stats,
        agents=agents,
        lifecycles=[],
        next_population=population,
        ledger=AppendBatch(entries=[entry]),
    )


async def test_a_run_starts_once_and_another_start_under_its_name_conflicts(engine: AsyncEngine) -> None:
    start = RunStart(run_id=RUN, seed=3, spec_json='{"a":1}', population=members(4))
    assert await otto_store.begin_run(engine, start)
    assert not await otto_store.begin_run(engine, start), "a retried start writes nothing"
    with pytest.raises(otto_store.RunConflict):
        await otto_store.begin_run(engine, start.model_copy(update={"spec_json": '{"a":2}'}))
    assert await otto_store.population(engine, RUN, 0) == members(4)
    assert await otto_store.last_population(engine, RUN) == (0, 4)


async def test_an_allocation_is_recorded_once_per_generation(engine: AsyncEngine) -> None:
    first = [AllocatedAgent(agent_id="agent_002", address="B"), AllocatedAgent(agent_id="agent_001", address="A")]
    recorded = await otto_store.allocate(engine, RUN, 3, first)
    assert [a.agent_id for a in recorded] == ["agent_001", "agent_002"]
    assert await otto_store.joined(engine, RUN, 3) == recorded
    again = await otto_store.allocate(engine, RUN, 3, first)
    assert again == recorded, "a concurrent attempt's agents are read back, not recorded twice"
    more = await otto_store.allocate(engine, RUN, 3, [AllocatedAgent(agent_id="agent_009", address="Z")])
    assert [a.agent_id for a in more] == ["agent_001", "agent_002", "agent_009"]
    assert await otto_store.joined(engine, RUN, 4) == []
    assert (await otto_store.allocations(engine, RUN))["agent_001"] == ("A", 3)


async def test_a_checkpoint_is_written_once_with_its_ledger_entry(engine: AsyncEngine) -> None:
    population = members(5)
    await otto_store.begin_run(engine, RunStart(run_id=RUN, seed=3, spec_json="{}", population=population))
    first = checkpoint(0, GENESIS_HASH, population)
    assert await otto_store.write_checkpoint(engine, first)
    assert not await otto_store.write_checkpoint(engine, first), "a retried checkpoint writes nothing"
    assert first.ledger is not None
    second = checkpoint(1, first.ledger.entries[0].entry_hash, members(5, offset=5))
    assert await otto_store.write_checkpoint(engine, second)

    assert await otto_store.generations(engine, RUN) == 2
    assert len(await otto_store.rows(engine, OttoAgentStatsRow, RUN)) == 10
    assert await otto_store.last_population(engine, RUN) == (2, 5)
    assert await otto_store.population(engine, RUN, 2) == members(5, offset=5)
    head = await otto_store.chain_head(engine, RUN)
    assert second.ledger is not None and head.length == 2 and head.head_hash == second.ledger.entries[0].entry_hash
    assert (await ledger.verify_stored_chain(engine, ledger_chain(RUN))).ok
