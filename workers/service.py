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

from models.task_queues import host_queue
from workers.registry import QUEUES, QueueSpec, WorkerResources
from workers.runner import project_runner

log = logging.getLogger(__name__)


def build_workers(client: Client, resources: WorkerResources, queues: Iterable[QueueSpec] = QUEUES) -> list[Worker]:
    """A worker per queue, and one more on this host's own queue for each spec with host activities."""
    workers = []
    for spec in queues:
        workers.append(
            Worker(
                client,
                task_queue=spec.queue.value,
                workflows=list(spec.workflows),
                activities=list(spec.activities(resources)),
                graceful_shutdown_timeout=timedelta(seconds=10),
                workflow_runner=project_runner(client.data_converter),
            )
        )
        if spec.host_activities is not None:
            workers.append(
                Worker(
                    client,
                    task_queue=host_queue(spec.queue, resources.settings.host_id),
                    activities=list(spec.host_activities(resources)),
                    graceful_shutdown_timeout=timedelta(seconds=10),
                )
            )
    return workers


@asynccontextmanager
async def running_workers(
    client: Client, resources: WorkerResources, queues: Iterable[QueueSpec] = QUEUES
) -> AsyncIterator[list[str]]:
    """Poll every queue (and this host's own) until the block exits; in-flight tasks get a graceful shutdown."""
    async with AsyncExitStack() as stack:
        workers = build_workers(client, resources, queues)
        for worker in workers:
            await stack.enter_async_context(worker)
        names = [worker.task_queue for worker in workers]
        log.info("worker polling task queues: %s", ", ".join(names))
        yield names


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT, so a service can shut down in order instead of dying."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop
