"""Writing a hash chain from workflow code.

The workflow computes every entry and its hash (deterministic, pure: ``sim.hashchain``); the
``ledger.append`` activity only persists them. A replay of the history therefore re-derives the same
chain, and a retried append finds its entries already stored.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.ledger import LedgerActivities
    from models.ledger import AppendBatch, AppendResult, ChainHead, LedgerEntry
    from models.task_queues import TaskQueue
    from sim.hashchain import GENESIS_HASH, make_entry

APPEND_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=["LedgerConflict"],
)


def new_chain(chain_id: str) -> ChainHead:
    return ChainHead(chain_id=chain_id, length=0, head_hash=GENESIS_HASH)


class ChainWriter:
    """Stages entries on a chain and flushes them as one ``ledger.append`` batch.

    The cursor (a ``ChainHead``) is what a workflow carries across continue-as-new.
    """

    def __init__(self, cursor: ChainHead, *, author: str, task_queue: str = TaskQueue.PLATFORM) -> None:
        self._cursor = cursor
        self._author = author
        self._task_queue = task_queue
        self._staged: list[LedgerEntry] = []

    @property
    def cursor(self) -> ChainHead:
        return self._cursor

    @property
    def staged(self) -> int:
        return len(self._staged)

    def add(self, payload: dict[str, Any], *, sim_time: int, author: str | None = None) -> LedgerEntry:
        seq = self._cursor.length
        entry = make_entry(
            chain_id=self._cursor.chain_id,
            seq=seq,
            prev_hash=self._cursor.head_hash,
            payload=payload,
            author=author or self._author,
            sim_time=sim_time,
            # Derived from the workflow and the step, so every retry and every replay names the same row.
            idempotency_key=f"{workflow.info().workflow_id}/{self._cursor.chain_id}/{seq}",
        )
        self._staged.append(entry)
        self._cursor = ChainHead(chain_id=entry.chain_id, length=seq + 1, head_hash=entry.entry_hash)
        return entry

    def take(self) -> AppendBatch | None:
        """The staged entries as one batch, for an activity that persists them with other records."""
        if not self._staged:
            return None
        batch, self._staged = AppendBatch(entries=self._staged), []
        return batch

    async def flush(self) -> AppendResult | None:
        batch = self.take()
        if batch is None:
            return None
        return await workflow.execute_activity_method(
            LedgerActivities.append,
            batch,
            task_queue=self._task_queue,
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=APPEND_RETRY,
        )
