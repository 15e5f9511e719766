"""The standalone worker as a process we can SIGKILL at seeded random points and start again.

A run is started on the worker's task queues; ``crash_while`` kills the worker a given number of times while
the run's result is still pending, each time after a random delay drawn from a seeded stream, restarts it,
and then leaves the last worker to finish the run. Only the PIDs started here are ever signalled.
"""

from __future__ import annotations

import asyncio
import random
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.client import Client
from temporalio.service import RPCError

from models.task_queues import TaskQueue
from tests.cli.helpers import ROOT, environment
from tests.polling import eventually
from workers.client import pollers

T = TypeVar("T")


async def open_work(client: Client) -> list[str]:
    """Each running workflow with what it waits for: pending activities (attempt, last failure) and children."""
    lines = []
    async for execution in client.list_workflows("ExecutionStatus = 'Running'"):
        described = (await client.get_workflow_handle(execution.id, run_id=execution.run_id).describe()).raw_description
        lines.append(f"{execution.workflow_type} {execution.id}")
        for activity in described.pending_activities:
            failure = activity.last_failure.message[:200] if activity.HasField("last_failure") else ""
            lines.append(f"  activity {activity.activity_type.name} attempt {activity.attempt} {failure}")
        lines.extend(f"  child {child.workflow_type_name} {child.workflow_id}" for child in described.pending_children)
    return lines


def worker_environment(temporal_address: str, state_dir: Path, **extra: str) -> dict[str, str]:
    """What `python -m workers.main` reads: the test's server and state directory, no /metrics port."""
    return environment(
        TEMPORAL_ADDRESS=temporal_address,
        SIMCTL_STATE_DIR=str(state_dir),
        SIMCTL_METRICS_PORT="0",
        SIMCTL_LOG_LEVEL="info",
        **extra,
    )


@dataclass
class Kill:
    """One SIGKILL: how long after the worker (or the run, for the first) was polling, and the worker's PID."""

    after_seconds: float
    pid: int


@dataclass
class CrashingWorker:
    """`python -m workers.main` on every task queue, its output appended to ``log``."""

    client: Client
    env: dict[str, str]
    log: Path
    queue: TaskQueue
    process: subprocess.Popen[bytes] | None = None
    kills: list[Kill] = field(default_factory=list)
    starts: int = 0

    async def start(self, timeout: float = 120) -> None:
        """Start a worker and return once the server has seen it poll ``queue`` for workflow tasks."""
        assert self.process is None or self.process.poll() is not None, "a worker is already running"
        with self.log.open("ab") as out:
            # A file, not a pipe: nobody reads a pipe while the run goes on, and a full one would block the worker.
            self.process = subprocess.Popen(
                [sys.executable, "-m", "workers.main"], cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        self.starts += 1
        identity = f"{self.process.pid}@"

        async def polling() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"the worker exited with {self.process.returncode}:\n{self.output()[-4000:]}")
            try:
                seen = await pollers(self.client, self.queue, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW)
            except RPCError:
                # A loaded server sometimes cancels a describe call ("operation was canceled"): ask again.
                return False
            return any(poller.startswith(identity) for poller in seen)

        await eventually(polling, timeout=timeout, interval=0.2, what=f"worker {self.process.pid} polling")

    async def kill(self, after_seconds: float) -> None:
        """SIGKILL: no graceful shutdown, in-flight tasks are lost mid-way."""
        assert self.process is not None and self.process.poll() is None, "the worker died before its kill"
        self.process.send_signal(signal.SIGKILL)
        await asyncio.to_thread(self.process.wait, 30)
        self.kills.append(Kill(after_seconds=after_seconds, pid=self.process.pid))

    async def stop(self) -> int:
        """SIGTERM, as an operator stops it; the exit code."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.to_thread(self.process.wait, 30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return await asyncio.to_thread(self.process.wait, 30)

    def ensure_dead(self) -> None:
        """For a finally: never leave our worker behind (ours only, by its PID)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)

    @staticmethod
    async def _until(task: asyncio.Future[Any], progress: Callable[[], Awaitable[float]], share: float) -> None:
        while not task.done() and await progress() < share:
            await asyncio.wait({task}, timeout=0.1)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    async def crash_while(
        self,
        result: Awaitable[T],
        *,
        kills: int,
        seed: int,
        between: tuple[float, float],
        timeout: float,
        progress: Callable[[], Awaitable[float]] | None = None,
    ) -> T:
        """Await ``result`` with ``kills`` SIGKILLs of the worker, each followed by a restart.

        The kill points are drawn uniformly from ``between`` by a stream seeded with ``seed``: seconds after the
        worker started polling, or, with ``progress`` (the run's share done, 0 to 1), shares of the run, in
        order, so the kills spread over the run however fast this machine is today. Fails if ``result``
        arrives before every kill was made: a crash test must crash mid-run.
        """
        rng = random.Random(seed)
        shares = sorted(rng.uniform(*between) for _ in range(kills)) if progress else []
        task = asyncio.ensure_future(result)
        try:
            if self.process is None or self.process.poll() is not None:
                await self.start()
            for number in range(kills):
                polled = time.monotonic()
                if progress is None:
                    await asyncio.wait({task}, timeout=rng.uniform(*between))
                else:
                    await self._until(task, progress, shares[number])
                if task.done():
                    task.result()  # a failed run says why
                    raise AssertionError(f"the run finished before kill {number + 1} of {kills} ({self.kills})")
                await self.kill(time.monotonic() - polled)
                await self.start()
            try:
                return await asyncio.wait_for(task, timeout)
            except TimeoutError:
                raise AssertionError(
                    f"the run did not finish {timeout:g} s after the last restart ({self.kills}); still open:\n"
                    + "\n".join(await open_work(self.client))
                ) from None
        finally:
            if not task.done():
                task.cancel()
