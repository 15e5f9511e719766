"""The otto report's reads on SQLite and PostgreSQL: a run's rows come back typed, with each generation's
wall-clock times in UTC whatever offset they were written with, and a retried checkpoint leaves one time row."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy.ext.asyncio import AsyncEngine

from models.evolution import AllocatedAgent, RunStart
from sim.hashchain import GENESIS_HASH
from store import otto as otto_store
from store import otto_report as report_store
from store.tables import OttoGenerationTimeRow
from tests.store.test_otto_store import RUN, checkpoint, members

START = datetime(2026, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=2)))


async def test_a_run_s_rows_and_times_read_back(engine: AsyncEngine) -> None:
    assert await report_store.run_rows(engine, RUN) is None, "an unknown run is None, not an empty report"
    founders = members(5)
    await otto_store.begin_run(engine, RunStart(run_id=RUN, seed=3, spec_json='{"seed":3}', population=founders))
    await otto_store.allocate(
        engine, RUN, 0, [AllocatedAgent(agent_id=m.agent_id, address=m.address) for m in founders]
    )
    first = checkpoint(0, GENESIS_HASH, founders).model_copy(
        update={"started_at": START, "finished_at": START + timedelta(seconds=42)}
    )
    assert await otto_store.write_checkpoint(engine, first)
    assert not await otto_store.write_checkpoint(engine, first), "a retried checkpoint writes nothing"
    assert first.ledger is not None
    # A checkpoint without times (written by code from before they were recorded) leaves no time row.
    assert await otto_store.write_checkpoint(engine, checkpoint(1, first.ledger.entries[0].entry_hash, founders))

    assert len(await otto_store.rows(engine, OttoGenerationTimeRow, RUN)) == 1
    rows = await report_store.run_rows(engine, RUN)
    assert rows is not None
    assert rows.seed == 3 and rows.spec == {"seed": 3}
    g0, g1 = rows.generations
    assert g0.started_at == datetime(2026, 3, 1, 7, 30, tzinfo=UTC) and g0.started_at.tzinfo is not None
    assert g0.finished_at is not None and (g0.finished_at - g0.started_at) == timedelta(seconds=42)
    assert g1.started_at is None and g1.finished_at is None
    assert g0.stats == first.stats and g0.lifecycles == []
    # The stats JSON these rows were written with has no health_events key only if the model lacks the field.
    stored = json.loads(first.stats.model_dump_json())
    assert (g0.health_events is None) == ("health_events" not in stored)
    assert [(a.generation, a.agent_id) for a in rows.agents] == [(g, m.agent_id) for g in (0, 1) for m in founders]
    assert rows.agents[0].traits == founders[0].traits and rows.agents[0].reputation == 10
    assert [a.agent_id for a in rows.allocations] == [m.agent_id for m in founders]
    assert {a.joined_generation for a in rows.allocations} == {0}
    assert [p.generation for p in rows.populations] == [0, 1, 2]
    assert rows.populations[0].agent_ids == [m.agent_id for m in founders]
