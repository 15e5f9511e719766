"""The core SDK's own log lines reach Python logging (stderr), never standard output.

`make run` reads the study id from `simctl start-campaign --wait`'s standard output; under load the core warned
there that workflow tasks took over 5 s, and the next command got those lines as arguments. A workflow whose
task fails makes the core warn on demand.
"""

from __future__ import annotations

import logging
import uuid

import pytest
from temporalio import workflow
from temporalio.client import Client

from tests.polling import eventually


@workflow.defn
class BrokenWorkflow:
    @workflow.run
    async def run(self) -> None:
        raise RuntimeError("this workflow task always fails")


async def test_core_warnings_go_to_python_logging_not_stdout(
    client: Client, run_worker, task_queue: str, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.WARNING, logger="temporalio.core")
    async with run_worker(workflows=[BrokenWorkflow]):
        handle = await client.start_workflow(
            BrokenWorkflow.run, id=f"broken-{uuid.uuid4().hex[:8]}", task_queue=task_queue
        )
        try:

            def warned() -> bool:
                return any(
                    r.name.startswith("temporalio.core") and "Failing workflow task" in r.getMessage()
                    for r in caplog.records
                )

            await eventually(warned, timeout=30, interval=0.1, what="the core's warning, in Python logging")
        finally:
            await handle.terminate("test over")
    out, _ = capfd.readouterr()
    assert "Failing workflow task" not in out
