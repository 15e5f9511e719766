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

from models.settings import WorkerRole
from models.task_queues import host_queue
from workers.registry import QUEUES, QueueSpec, WorkerResources
from workers.runner import project_runner

log = logging.getLogger(__name__)


def build_workers(
    client: Client, resources: WorkerResources, queues: Iterable[QueueSpec] = QUEUES, role: WorkerRole = "all"
) -> list[Worker]:
    """A worker per queue, and one more on this host's own queue for each spec with host activities; with a
    ``role``, only that half of each queue (a queue with nothing of that half gets no worker)."""
    workers = []
    for spec in queues:
        workflows = list(spec.workflows) if role != "activities" else []
        if role == "workflows" and not workflows:
            continue
        workers.append(
            Worker(
                client,
                task_queue=spec.queue.value,
                workflows=workflows,
                # A workflow's local activities run in the worker that runs it: a workflows-only worker registers
                # them all but polls no activity task.
                activities=list(spec.activities(resources)),
                no_remote_activities=role == "workflows",
                graceful_shutdown_timeout=timedelta(seconds=10),
                workflow_runner=project_runner(client.data_converter),
            )
        )
        if spec.host_activities is not None and role != "workflows":
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
    client: Client, resources: WorkerResources, queues: Iterable[QueueSpec] = QUEUES, role: WorkerRole = "all"
) -> AsyncIterator[list[str]]:
    """Poll every queue (and this host's own) until the block exits; in-flight tasks get a graceful shutdown."""
    async with AsyncExitStack() as stack:
        workers = build_workers(client, resources, queues, role)
        for worker in workers:
            await stack.enter_async_context(worker)
        names = [worker.task_queue for worker in workers]
        what = "" if role == "all" else f" ({role} only)"
        log.info("worker polling task queues%s: %s", what, ", ".join(names))
        yield names


def quiet_libraries() -> None:
    """Keep libraries' routine INFO lines out of a worker's log: alembic's migration steps, and httpx's line for
    every request (thousands a minute from the otto activities, each formatted and written)."""
    for name in ("alembic", "httpx"):
        logging.getLogger(name).setLevel(logging.WARNING)


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT, so a service can shut down in order instead of dying."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop
