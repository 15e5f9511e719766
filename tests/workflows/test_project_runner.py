"""The project's workflow runner (workers/runner.py): still the sandbox, and only where no codec needs contexts."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from temporalio import activity, workflow
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import PayloadCodec
from temporalio.worker.workflow_sandbox import RestrictedWorkflowAccessError, SandboxedWorkflowRunner

from workers.runner import ContextFreeSandboxedRunner, project_runner


@activity.defn(name="test.echo")
async def echo(text: str) -> str:
    return text


@workflow.defn
class SandboxProbeWorkflow:
    """Reads the wall clock, which the sandbox refuses, and runs an activity (payloads both ways)."""

    @workflow.run
    async def run(self, text: str) -> list[str]:
        try:
            datetime.now()
            clock = "read"
        except RestrictedWorkflowAccessError:
            clock = "refused"
        echoed = await workflow.execute_activity(echo, text, start_to_close_timeout=timedelta(seconds=30))
        return [clock, echoed]


class _Identity(PayloadCodec):
    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(payloads)


def test_a_converter_with_a_codec_gets_the_sdks_runner_unchanged():
    assert isinstance(project_runner(pydantic_data_converter), ContextFreeSandboxedRunner)
    with_codec = dataclasses.replace(pydantic_data_converter, payload_codec=_Identity())
    assert type(project_runner(with_codec)) is SandboxedWorkflowRunner


async def test_workflows_still_run_in_the_sandbox(client: Client, run_worker, task_queue: str):
    async with run_worker(workflows=[SandboxProbeWorkflow], activities=[echo]) as worker:
        assert isinstance(worker.config()["workflow_runner"], ContextFreeSandboxedRunner)
        result = await client.execute_workflow(
            SandboxProbeWorkflow.run, "ping", id=f"probe-{uuid.uuid4().hex[:8]}", task_queue=task_queue
        )
    assert result == ["refused", "ping"]
