"""Audit checks against Temporal: (b) the store holds exactly what the histories say was written,
and (c) every history replays with the current code, so each chain is re-derivable from history.

Campaign workflows compute their ledger entries and pass them to `ads.record_day`; the activity's
input in the workflow's history is therefore the authoritative statement of what was written.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from models.ads import DayRecord
from models.ledger import LedgerEntry
from simctl import visibility
from workers.registry import QUEUES

RECORD_ACTIVITY = "ads.record_day"


@dataclass
class HistoryFinding:
    chain_id: str
    detail: str


@dataclass
class HistoryAudit:
    histories: int = 0
    chains_checked: int = 0
    mismatches: list[HistoryFinding] = field(default_factory=list)
    replay_failures: list[HistoryFinding] = field(default_factory=list)


async def campaign_histories(client: Client, experiment_id: str) -> list[WorkflowHistory]:
    histories = []
    async for execution in client.list_workflows(visibility.experiment_campaigns(experiment_id)):
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        histories.append(await handle.fetch_history())
    return histories


def written_entries(history: WorkflowHistory) -> list[LedgerEntry]:
    """Every ledger entry the workflow handed to `ads.record_day`, in the order it did so."""
    converter = pydantic_data_converter.payload_converter
    entries: list[LedgerEntry] = []
    for event in history.events:
        if event.event_type != EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            continue
        attributes = event.activity_task_scheduled_event_attributes
        if attributes.activity_type.name != RECORD_ACTIVITY:
            continue
        [record] = converter.from_payloads(attributes.input.payloads, [DayRecord])
        if record.ledger is not None:
            entries.extend(record.ledger.entries)
    return entries


def compare(chain_id: str, in_history: list[LedgerEntry], in_store: list[LedgerEntry]) -> list[HistoryFinding]:
    """Differences between what the history says was written and what the store holds."""
    findings: list[HistoryFinding] = []
    expected = {entry.idempotency_key: entry for entry in in_history}
    stored = {entry.idempotency_key: entry for entry in in_store}
    for key, entry in expected.items():
        row = stored.get(key)
        if row is None:
            findings.append(
                HistoryFinding(chain_id, f"entry seq {entry.seq} is in history but not in the store (deleted)")
            )
        elif row != entry:
            fields = [name for name in LedgerEntry.model_fields if getattr(row, name) != getattr(entry, name)]
            findings.append(
                HistoryFinding(
                    chain_id, f"entry seq {entry.seq} differs from history in {', '.join(fields)} (modified)"
                )
            )
    for key, row in stored.items():
        if key not in expected:
            findings.append(
                HistoryFinding(chain_id, f"stored entry seq {row.seq} was never written by a workflow (inserted)")
            )
    return findings


async def replay(histories: list[WorkflowHistory]) -> list[HistoryFinding]:
    workflows = [workflow for spec in QUEUES for workflow in spec.workflows]
    replayer = Replayer(workflows=workflows, data_converter=pydantic_data_converter)
    failures = []
    for history in histories:
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        if result.replay_failure is not None:
            failures.append(HistoryFinding(history.workflow_id, f"replay failed: {result.replay_failure}"))
    return failures
