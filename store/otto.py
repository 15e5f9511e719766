"""otto persistence: the simulator's runs, which wallets each run took on, and one checkpoint per generation.

A checkpoint (the generation's figures, every agent's stats, fitness and selection, the next population
and the ledger entry that seals the summary) is written in one transaction and keyed by (run, generation),
so a retried write finds it and writes nothing twice, and a resumed run starts from the last one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import Connection, func, insert, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from models.evolution import AllocatedAgent, Checkpoint, LifecycleResult, Member, RunStart
from models.ledger import ChainHead
from sim.hashchain import GENESIS_HASH
from sim.otto.generation import ledger_chain
from store import ledger
from store.engine import run_write
from store.tables import (
    Base,
    LedgerHeadRow,
    OttoAgentStatsRow,
    OttoGenerationRow,
    OttoGenerationTimeRow,
    OttoPopulationRow,
    OttoRunAgentRow,
    OttoRunRow,
)

_MEMBERS = TypeAdapter(list[Member])
_LIFECYCLES = TypeAdapter(list[LifecycleResult])


class RunConflict(Exception):
    """A run id reused with another seed or spec."""


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


async def allocations(engine: AsyncEngine, run_id: str) -> dict[str, tuple[str, int]]:
    """Every agent the run has taken on: agent id -> (address, the generation it joined for)."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(OttoRunAgentRow.agent_id, OttoRunAgentRow.address, OttoRunAgentRow.joined_generation).where(
                OttoRunAgentRow.run_id == run_id
            )
        )
        return {agent: (address, joined) for agent, address, joined in rows.all()}


async def joined(engine: AsyncEngine, run_id: str, generation: int) -> list[AllocatedAgent]:
    """The agents recorded as joining the run for ``generation``, by agent id."""
    async with engine.connect() as connection:
        return await connection.run_sync(_joined, run_id, generation)


async def allocate(
    engine: AsyncEngine, run_id: str, generation: int, agents: Sequence[AllocatedAgent]
) -> list[AllocatedAgent]:
    """Record ``agents`` as joining the run for ``generation`` and return every agent joining it then.

    An agent the run has taken on already (a concurrent attempt recorded it first) is not recorded twice:
    the write fails on the key and the recorded agents are read back."""

    def write(connection: Connection) -> list[AllocatedAgent]:
        if agents:
            connection.execute(
                insert(OttoRunAgentRow),
                [
                    {"run_id": run_id, "agent_id": a.agent_id, "address": a.address, "joined_generation": generation}
                    for a in agents
                ],
            )
        return _joined(connection, run_id, generation)

    try:
        return await run_write(engine, write)
    except IntegrityError:
        return await run_write(engine, lambda connection: _joined(connection, run_id, generation))


def _joined(connection: Connection, run_id: str, generation: int) -> list[AllocatedAgent]:
    rows = connection.execute(
        select(OttoRunAgentRow.agent_id, OttoRunAgentRow.address)
        .where(OttoRunAgentRow.run_id == run_id, OttoRunAgentRow.joined_generation == generation)
        .order_by(OttoRunAgentRow.agent_id)
    )
    return [AllocatedAgent(agent_id=agent, address=address) for agent, address in rows.all()]


async def begin_run(engine: AsyncEngine, start: RunStart) -> bool:
    """The run's record and the population of generation 0, once; True if written now."""

    def write(connection: Connection) -> bool:
        existing = connection.execute(
            select(OttoRunRow.seed, OttoRunRow.spec_json).where(OttoRunRow.run_id == start.run_id)
        ).one_or_none()
        if existing is not None:
            if (existing.seed, existing.spec_json) != (start.seed, start.spec_json):
                raise RunConflict(f"run {start.run_id!r} already exists with another seed or spec: resume it instead")
            return False
        connection.execute(insert(OttoRunRow).values(run_id=start.run_id, seed=start.seed, spec_json=start.spec_json))
        _insert_population(connection, start.run_id, 0, start.population)
        return True

    try:
        return await run_write(engine, write)
    except IntegrityError:
        return False


def _insert_population(connection: Connection, run_id: str, generation: int, members: Sequence[Member]) -> None:
    connection.execute(
        insert(OttoPopulationRow).values(
            run_id=run_id,
            generation=generation,
            size=len(members),
            members_json=_MEMBERS.dump_json(list(members)).decode(),
        )
    )


async def run(engine: AsyncEngine, run_id: str) -> OttoRunRow | None:
    async with engine.connect() as connection:
        row = (
            (await connection.execute(select(OttoRunRow.__table__).where(OttoRunRow.run_id == run_id)))
            .mappings()
            .one_or_none()
        )
    return OttoRunRow(**row) if row else None


async def run_ids(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        return sorted((await connection.execute(select(OttoRunRow.run_id))).scalars())


async def last_population(engine: AsyncEngine, run_id: str) -> tuple[int, int] | None:
    """The latest population stored for the run: (generation it plays, size)."""
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                select(OttoPopulationRow.generation, OttoPopulationRow.size)
                .where(OttoPopulationRow.run_id == run_id)
                .order_by(OttoPopulationRow.generation.desc())
                .limit(1)
            )
        ).one_or_none()
    return (row.generation, row.size) if row else None


async def population(engine: AsyncEngine, run_id: str, generation: int) -> list[Member] | None:
    async with engine.connect() as connection:
        members = (
            await connection.execute(
                select(OttoPopulationRow.members_json).where(
                    OttoPopulationRow.run_id == run_id, OttoPopulationRow.generation == generation
                )
            )
        ).scalar_one_or_none()
    return _MEMBERS.validate_json(members) if members is not None else None


async def chain_head(engine: AsyncEngine, run_id: str) -> ChainHead:
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                select(LedgerHeadRow.length, LedgerHeadRow.head_hash).where(
                    LedgerHeadRow.chain_id == ledger_chain(run_id)
                )
            )
        ).one_or_none()
    if row is None:
        return ChainHead(chain_id=ledger_chain(run_id), length=0, head_hash=GENESIS_HASH)
    return ChainHead(chain_id=ledger_chain(run_id), length=row.length, head_hash=row.head_hash)


async def write_checkpoint(engine: AsyncEngine, checkpoint: Checkpoint) -> bool:
    """The generation's checkpoint, its next population and its ledger entry, atomically; False when a
    previous attempt already wrote it."""
    try:
        return await run_write(engine, _write_checkpoint, checkpoint)
    except IntegrityError:
        return False  # a concurrent attempt of the same checkpoint committed first


def _write_checkpoint(connection: Connection, checkpoint: Checkpoint) -> bool:
    run_id, generation = checkpoint.run_id, checkpoint.generation
    done = connection.execute(
        select(OttoGenerationRow.generation).where(
            OttoGenerationRow.run_id == run_id, OttoGenerationRow.generation == generation
        )
    ).first()
    if done is not None:
        return False
    entry = None
    if checkpoint.ledger is not None:
        ledger.append_within(connection, checkpoint.ledger)
        entry = checkpoint.ledger.entries[-1]
    stats = checkpoint.stats
    connection.execute(
        insert(OttoGenerationRow).values(
            run_id=run_id,
            generation=generation,
            population_size=stats.population_size,
            lifecycles=stats.lifecycles,
            completed=stats.completed,
            failed=stats.failed,
            fitness_avg=stats.fitness_avg,
            fitness_max=stats.fitness_max,
            fitness_min=stats.fitness_min,
            mutation_rate=stats.mutation_rate,
            diversity=stats.diversity,
            stats_json=stats.model_dump_json(),
            lifecycles_json=_LIFECYCLES.dump_json(checkpoint.lifecycles).decode(),
            ledger_seq=entry.seq if entry else None,
            entry_hash=entry.entry_hash if entry else None,
        )
    )
    if checkpoint.agents:
        connection.execute(
            insert(OttoAgentStatsRow),
            [
                {
                    "run_id": run_id,
                    "generation": generation,
                    "agent_id": record.agent_id,
                    "traits_json": record.traits.model_dump_json(),
                    "fibers_initiated": record.stats.fibers_initiated,
                    "fibers_completed": record.stats.fibers_completed,
                    "fibers_failed": record.stats.fibers_failed,
                    "attestations_made": record.stats.attestations_made,
                    "attestations_received": record.stats.attestations_received,
                    "counterparties_json": _json(record.stats.counterparties),
                    "fiber_types_json": _json(record.stats.fiber_types),
                    "balance": record.balance,
                    "earnings": record.earnings,
                    "reputation": record.reputation,
                    "fitness": record.fitness.total,
                    "fitness_json": record.fitness.model_dump_json(),
                    "role": record.role.value,
                    "rank": record.rank,
                    "next_traits_json": record.next_traits.model_dump_json() if record.next_traits else None,
                }
                for record in checkpoint.agents
            ],
        )
    if checkpoint.started_at is not None and checkpoint.finished_at is not None:
        connection.execute(
            insert(OttoGenerationTimeRow).values(
                run_id=run_id,
                generation=generation,
                started_at=checkpoint.started_at.astimezone(UTC),
                finished_at=checkpoint.finished_at.astimezone(UTC),
            )
        )
    _insert_population(connection, run_id, generation + 1, checkpoint.next_population)
    return True


async def generations(engine: AsyncEngine, run_id: str) -> int:
    async with engine.connect() as connection:
        return (
            await connection.execute(
                select(func.count()).select_from(OttoGenerationRow).where(OttoGenerationRow.run_id == run_id)
            )
        ).scalar_one()


async def rows(engine: AsyncEngine, table: type[Base], run_id: str) -> list[dict[str, Any]]:
    """Every row of one otto table for a run, in primary-key order."""
    stored = inspect(table).local_table
    async with engine.connect() as connection:
        result = await connection.execute(select(stored).where(stored.c.run_id == run_id).order_by(*stored.primary_key))
        return [dict(row) for row in result.mappings()]
