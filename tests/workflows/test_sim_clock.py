"""Simulated time: durable timers when accelerated, none at all at acceleration 0."""

from __future__ import annotations

import uuid

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.workflows.sample_workflows import ThirtyDaysWorkflow


async def test_thirty_days_at_real_speed_pass_on_the_time_skipping_server(time_skipping_env: WorkflowEnvironment):
    queue = f"clock-{uuid.uuid4().hex[:8]}"
    async with Worker(time_skipping_env.client, task_queue=queue, workflows=[ThirtyDaysWorkflow]):
        result = await time_skipping_env.client.execute_workflow(
            ThirtyDaysWorkflow.run, 1.0, id=f"clock-{queue}", task_queue=queue
        )
    assert result.sim_days == list(range(1, 31))
    # One simulated second per real second: the workflow's own clock saw 30 days go by.
    assert result.real_elapsed_seconds >= 30 * 86_400


async def test_acceleration_scales_the_timers(time_skipping_env: WorkflowEnvironment):
    queue = f"clock-{uuid.uuid4().hex[:8]}"
    async with Worker(time_skipping_env.client, task_queue=queue, workflows=[ThirtyDaysWorkflow]):
        result = await time_skipping_env.client.execute_workflow(
            ThirtyDaysWorkflow.run, 86_400.0, id=f"clock-{queue}", task_queue=queue
        )
    assert 30 <= result.real_elapsed_seconds < 120, "a simulated day per real second"


async def test_acceleration_zero_runs_without_timers(client: Client, run_worker, task_queue: str):
    async with run_worker(workflows=[ThirtyDaysWorkflow]):
        handle = await client.start_workflow(
            ThirtyDaysWorkflow.run, 0.0, id=f"clock-{task_queue}", task_queue=task_queue
        )
        result = await handle.result()
    assert result.sim_days == list(range(1, 31))
    history = await handle.fetch_history()
    assert not [event for event in history.events if event.HasField("timer_started_event_attributes")]
