"""`ledger.append`: persist a batch of chain entries that a workflow computed."""

from __future__ import annotations

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


class LedgerActivities:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @activity.defn(name="ledger.append")
    async def append(self, batch: AppendBatch) -> AppendResult:
        try:
            result = await ledger.append(self._engine, batch)
        except ledger.LedgerConflict as conflict:
            raise ApplicationError(str(conflict), type="LedgerConflict", non_retryable=True) from None
        LEDGER_ENTRIES_WRITTEN.inc(result.written)
        LEDGER_RETRIES_ABSORBED.inc(result.already_present)
        return result
