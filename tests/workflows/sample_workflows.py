"""Small workflows that exercise the shared building blocks the way domain workflows will."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.ledger import ChainHead
    from workflows.common.clock import ClockState, SimClock
    from workflows.common.ledger import ChainWriter, new_chain


class ChainSpec(BaseModel):
    chain_id: str
    days: int
    entries_per_day: int
    ledger_queue: str


@workflow.defn
class DailyChainWorkflow:
    """Writes ``entries_per_day`` entries per simulated day, flushing one batch per day."""

    @workflow.run
    async def run(self, spec: ChainSpec) -> ChainHead:
        writer = ChainWriter(new_chain(spec.chain_id), author="sample", task_queue=spec.ledger_queue)
        for day in range(spec.days):
            for index in range(spec.entries_per_day):
                # workflow.random() is seeded by the workflow: a replay draws the same numbers.
                writer.add(
                    {"day": day, "index": index, "draw": workflow.random().randint(0, 10**6)}, sim_time=day * 86_400
                )
            await writer.flush()
        return writer.cursor


class ClockRun(BaseModel):
    sim_days: list[int]
    real_elapsed_seconds: float


@workflow.defn
class ThirtyDaysWorkflow:
    @workflow.run
    async def run(self, acceleration: float) -> ClockRun:
        started = workflow.now()
        clock = SimClock(ClockState(acceleration=acceleration))
        days = [await clock.advance(86_400) // 86_400 for _ in range(30)]
        return ClockRun(sim_days=days, real_elapsed_seconds=(workflow.now() - started) / timedelta(seconds=1))
