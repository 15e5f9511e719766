"""`ledger.append`: persist a batch of chain entries that a workflow computed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from models.ledger import AppendBatch, AppendResult
from store import ledger

LEDGER_ENTRIES_WRITTEN = Counter(
    "simctl_ledger_entries_written_total", "Ledger entries persisted (retries that found them stored excluded)"
)
LEDGER_RETRIES_ABSORBED = Counter(
    "simctl_ledger_entries_already_present_total", "Ledger entries a retried append found already stored"
)


@contextmanager
def ledger_conflicts_are_final() -> Iterator[None]:
    """A ledger conflict (a stored key with other content, or a batch that does not continue the chain's
    head) fails the activity for good: a retry would meet the same rows. Every ledger-writing activity
    maps it here, so the workflow always sees the same failure type."""
    try:
        yield
    except ledger.LedgerConflict as conflict:
        raise ApplicationError(str(conflict), type="LedgerConflict", non_retryable=True) from None


class LedgerActivities:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @activity.defn(name="ledger.append")
    async def append(self, batch: AppendBatch) -> AppendResult:
        with ledger_conflicts_are_final():
            result = await ledger.append(self._engine, batch)
        LEDGER_ENTRIES_WRITTEN.inc(result.written)
        LEDGER_RETRIES_ABSORBED.inc(result.already_present)
        return result
