"""Ledger writes from workflow code on the real dev server: batching, retries, replay."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from activities.ledger import LedgerActivities
from models.ledger import AppendBatch, AppendResult
from store import ledger
from tests.workflows.sample_workflows import ChainSpec, DailyChainWorkflow


class LostReplyLedger:
    """The real append, but the first attempt of each batch 'crashes' after its rows are committed."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._real = LedgerActivities(engine)
        self.attempts = 0

    @activity.defn(name="ledger.append")
    async def append(self, batch: AppendBatch) -> AppendResult:
        self.attempts += 1
        result = await self._real.append(batch)
        if activity.info().attempt == 1:
            raise RuntimeError("worker lost before reporting the result")
        return result


async def test_daily_batches_build_one_verified_chain(client: Client, run_worker, task_queue: str, engine: AsyncEngine):
    spec = ChainSpec(chain_id=f"chain-{uuid.uuid4().hex[:8]}", days=5, entries_per_day=7, ledger_queue=task_queue)
    async with run_worker(workflows=[DailyChainWorkflow], activities=[LedgerActivities(engine).append]):
        handle = await client.start_workflow(
            DailyChainWorkflow.run, spec, id=f"wf-{spec.chain_id}", task_queue=task_queue
        )
        head = await handle.result()

    verdict = await ledger.verify_stored_chain(engine, spec.chain_id)
    assert verdict.ok
    assert verdict.length == head.length == 35
    assert verdict.head_hash == head.head_hash

    activities_run = [
        event
        for event in (await handle.fetch_history()).events
        if event.HasField("activity_task_scheduled_event_attributes")
    ]
    assert len(activities_run) == 5, "one ledger.append per simulated day, not one per entry"


async def test_retried_append_after_commit_writes_each_entry_once(
    client: Client, run_worker, task_queue: str, engine: AsyncEngine
):
    spec = ChainSpec(chain_id=f"chain-{uuid.uuid4().hex[:8]}", days=3, entries_per_day=4, ledger_queue=task_queue)
    flaky = LostReplyLedger(engine)
    async with run_worker(workflows=[DailyChainWorkflow], activities=[flaky.append]):
        head = await client.execute_workflow(
            DailyChainWorkflow.run, spec, id=f"wf-{spec.chain_id}", task_queue=task_queue
        )

    assert flaky.attempts == 6, "each of the 3 batches ran twice"
    entries, _, _ = await ledger.read_chain(engine, spec.chain_id)
    assert len(entries) == 12
    assert len({entry.idempotency_key for entry in entries}) == 12
    assert (await ledger.verify_stored_chain(engine, spec.chain_id)).ok
    assert head.length == 12


async def test_history_replays_to_the_same_chain(client: Client, run_worker, task_queue: str, engine: AsyncEngine):
    """Replaying the history with the current code re-derives every entry: the chain is auditable."""
    spec = ChainSpec(chain_id=f"chain-{uuid.uuid4().hex[:8]}", days=4, entries_per_day=3, ledger_queue=task_queue)
    async with run_worker(workflows=[DailyChainWorkflow], activities=[LedgerActivities(engine).append]):
        handle = await client.start_workflow(
            DailyChainWorkflow.run, spec, id=f"wf-{spec.chain_id}", task_queue=task_queue
        )
        await handle.result()

    history = await handle.fetch_history()
    replayed = await Replayer(workflows=[DailyChainWorkflow], data_converter=pydantic_data_converter).replay_workflow(
        history
    )
    assert replayed.replay_failure is None
