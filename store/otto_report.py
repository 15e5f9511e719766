"""The otto report's reads: every row one evolution run recorded, as the typed rows of ``models.otto_report``.

Each table is read in primary-key order, so the report is the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from models.evolution import GenerationStats, LifecycleResult, Member
from models.otto import AgentTraits
from models.otto_report import (
    RecordedAgentGeneration,
    RecordedAllocation,
    RecordedGeneration,
    RecordedHealthEvent,
    RecordedPopulation,
    RunRows,
)
from store.tables import (
    OttoAgentStatsRow,
    OttoGenerationRow,
    OttoGenerationTimeRow,
    OttoPopulationRow,
    OttoRunAgentRow,
    OttoRunRow,
)

_LIFECYCLES = TypeAdapter(list[LifecycleResult])
_MEMBERS = TypeAdapter(list[Member])


def _utc(moment: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; the store writes UTC only.
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _health_events(stats_json: str) -> list[RecordedHealthEvent] | None:
    # Read from the stored JSON rather than GenerationStats: a row written before health events were
    # recorded has no such key, which must stay distinguishable from a generation without events.
    events = json.loads(stats_json).get("health_events")
    return None if events is None else [RecordedHealthEvent.model_validate(event) for event in events]


async def run_rows(engine: AsyncEngine, run_id: str) -> RunRows | None:
    """Every recorded row of one run; None when the store holds no such run."""
    async with engine.connect() as connection:
        run = (
            await connection.execute(select(OttoRunRow.seed, OttoRunRow.spec_json).where(OttoRunRow.run_id == run_id))
        ).one_or_none()
        if run is None:
            return None
        times = {
            row.generation: (_utc(row.started_at), _utc(row.finished_at))
            for row in await connection.execute(
                select(
                    OttoGenerationTimeRow.generation,
                    OttoGenerationTimeRow.started_at,
                    OttoGenerationTimeRow.finished_at,
                ).where(OttoGenerationTimeRow.run_id == run_id)
            )
        }
        generations = [
            RecordedGeneration(
                generation=row.generation,
                stats=GenerationStats.model_validate_json(row.stats_json),
                lifecycles=_LIFECYCLES.validate_json(row.lifecycles_json),
                started_at=times.get(row.generation, (None, None))[0],
                finished_at=times.get(row.generation, (None, None))[1],
                health_events=_health_events(row.stats_json),
            )
            for row in await connection.execute(
                select(OttoGenerationRow.generation, OttoGenerationRow.stats_json, OttoGenerationRow.lifecycles_json)
                .where(OttoGenerationRow.run_id == run_id)
                .order_by(OttoGenerationRow.generation)
            )
        ]
        agents = [
            RecordedAgentGeneration(
                generation=row.generation,
                agent_id=row.agent_id,
                traits=AgentTraits.model_validate_json(row.traits_json),
                fibers_initiated=row.fibers_initiated,
                fibers_completed=row.fibers_completed,
                fibers_failed=row.fibers_failed,
                attestations_made=row.attestations_made,
                attestations_received=row.attestations_received,
                reputation=row.reputation,
                earnings=row.earnings,
                fitness=row.fitness,
                role=row.role,
            )
            for row in await connection.execute(
                select(OttoAgentStatsRow.__table__)
                .where(OttoAgentStatsRow.run_id == run_id)
                .order_by(OttoAgentStatsRow.generation, OttoAgentStatsRow.agent_id)
            )
        ]
        allocations = [
            RecordedAllocation(agent_id=row.agent_id, joined_generation=row.joined_generation)
            for row in await connection.execute(
                select(OttoRunAgentRow.agent_id, OttoRunAgentRow.joined_generation)
                .where(OttoRunAgentRow.run_id == run_id)
                .order_by(OttoRunAgentRow.agent_id)
            )
        ]
        populations = [
            RecordedPopulation(
                generation=row.generation,
                agent_ids=[member.agent_id for member in _MEMBERS.validate_json(row.members_json)],
            )
            for row in await connection.execute(
                select(OttoPopulationRow.generation, OttoPopulationRow.members_json)
                .where(OttoPopulationRow.run_id == run_id)
                .order_by(OttoPopulationRow.generation)
            )
        ]
    return RunRows(
        seed=run.seed,
        spec=json.loads(run.spec_json),
        generations=generations,
        agents=agents,
        allocations=allocations,
        populations=populations,
    )
