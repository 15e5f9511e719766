"""The bare baseline every benchmark is measured against: N workflows x K no-op activities.

Sandboxed, with the project's data converter and workflow runner (workers/runner.py), on the same server: so a
domain benchmark's ratio to it shows what the domain's own work costs, not what Temporal costs.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Worker

from workers.runner import project_runner


@activity.defn(name="bench.noop")
async def noop(step: int) -> int:
    return step


@workflow.defn
class BaselineWorkflow:
    @workflow.run
    async def run(self, activities: int) -> int:
        for step in range(activities):
            await workflow.execute_activity(noop, step, start_to_close_timeout=timedelta(seconds=30))
        return activities


@dataclass(frozen=True)
class BaselineResult:
    workflows: int
    activities_per_workflow: int
    seconds: float

    @property
    def workflows_per_second(self) -> float:
        return self.workflows / self.seconds

    @property
    def activities_per_second(self) -> float:
        return self.workflows * self.activities_per_workflow / self.seconds


async def measure_baseline(client: Client, *, workflows: int, activities: int, warmup: int = 5) -> BaselineResult:
    """Start ``workflows`` concurrently, each running ``activities`` in sequence; time first start to last end."""
    task_queue = f"bench-baseline-{uuid.uuid4().hex[:8]}"
    runner = project_runner(client.data_converter)
    async with Worker(
        client, task_queue=task_queue, workflows=[BaselineWorkflow], activities=[noop], workflow_runner=runner
    ):
        await _run_batch(client, task_queue, warmup, activities)
        started = time.perf_counter()
        await _run_batch(client, task_queue, workflows, activities)
        elapsed = time.perf_counter() - started
    return BaselineResult(workflows=workflows, activities_per_workflow=activities, seconds=elapsed)


async def _run_batch(client: Client, task_queue: str, count: int, activities: int) -> None:
    run_id = uuid.uuid4().hex[:8]
    handles = await asyncio.gather(
        *(
            client.start_workflow(BaselineWorkflow.run, activities, id=f"bench-{run_id}-{index}", task_queue=task_queue)
            for index in range(count)
        )
    )
    await asyncio.gather(*(handle.result() for handle in handles))


# A local activity's result is a marker of this name (a patch is a marker too, of another name).
LOCAL_ACTIVITY_MARKER = "core_local_activity"


async def count_activities(client: Client, handles_or_query) -> tuple[int, int, int]:
    """(workflows, regular activities, local activities) in the histories of the workflows named by a
    visibility query or given as handles: what a benchmark's baseline must match."""
    if isinstance(handles_or_query, str):
        handles = [
            client.get_workflow_handle(execution.id, run_id=execution.run_id)
            async for execution in client.list_workflows(handles_or_query)
        ]
    else:
        handles = list(handles_or_query)
    regular, local = activities_in([await handle.fetch_history() for handle in handles])
    return len(handles), regular, local


def activities_in(histories: Iterable[WorkflowHistory]) -> tuple[int, int]:
    """(regular activities, local activities) in these histories."""
    regular = local = 0
    for history in histories:
        regular += sum(e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED for e in history.events)
        local += sum(
            e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
            and e.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY_MARKER
            for e in history.events
        )
    return regular, local
