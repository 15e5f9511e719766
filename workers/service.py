"""Running the workers: shared by `python -m workers.main`, `simctl up` and the CLI's in-process worker."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from models.task_queues import TaskQueue
from workers.registry import QUEUES, QueueSpec, WorkerResources

log = logging.getLogger(__name__)


def build_workers(client: Client, resources: WorkerResources, queues: Iterable[QueueSpec] = QUEUES) -> list[Worker]:
    return [
        Worker(
            client,
            task_queue=spec.queue.value,
            workflows=list(spec.workflows),
            activities=list(spec.activities(resources)),
            graceful_shutdown_timeout=timedelta(seconds=10),
        )
        for spec in queues
    ]


@asynccontextmanager
async def running_workers(
    client: Client, resources: WorkerResources, queues: Iterable[QueueSpec] = QUEUES
) -> AsyncIterator[list[TaskQueue]]:
    """Poll every queue until the block exits; in-flight tasks get a graceful shutdown."""
    specs = list(queues)
    async with AsyncExitStack() as stack:
        for worker in build_workers(client, resources, specs):
            await stack.enter_async_context(worker)
        names = [spec.queue for spec in specs]
        log.info("worker polling task queues: %s", ", ".join(names))
        yield names


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT, so a service can shut down in order instead of dying."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop
