"""Everything a process needs to run simulations: server (found or embedded), client, store, workers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Collection
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from localnet.temporal_dev import DevServer, DevServerConfig, port_open
from models.settings import Settings
from models.task_queues import TaskQueue
from workers.client import (
    TemporalUnreachable,
    connect,
    ensure_retention,
    ensure_search_attributes,
    wait_for_namespace,
)
from workers.health import evolution_health
from workers.metrics import HealthSource, MetricsEndpoint, serve_metrics
from workers.registry import QUEUES, open_resources
from workers.service import running_workers

log = logging.getLogger(__name__)

LOCAL_HOSTS = ("localhost", "127.0.0.1")
EMBEDDED_RETENTION_DAYS = 30


# "always": commands that wait for their own workflows run a worker, so they finish even when no other
#   worker runs (a server's poller list cannot tell a live worker from one that exited a minute ago).
# "if-embedded": a server we started has no other worker; an existing one is assumed to have its own.
WorkerMode = Literal["always", "never", "if-embedded"]


@dataclass
class Stack:
    settings: Settings
    client: Client
    server: DevServer | None = None
    engine: AsyncEngine | None = None
    queues: list[str] = field(default_factory=list)  # the shared queues polled, and this host's own
    metrics: MetricsEndpoint | None = None

    @property
    def embedded(self) -> bool:
        return self.server is not None


def dev_server_config(settings: Settings, *, headless: bool = False) -> DevServerConfig:
    if settings.temporal_host not in LOCAL_HOSTS:
        raise TemporalUnreachable(
            f"no Temporal server answers at {settings.temporal_address}, "
            "and an embedded one can only run on this machine"
        )
    state = settings.state_dir.resolve()
    return DevServerConfig(
        port=settings.temporal_port,
        ui_port=settings.ui_port,
        db_file=state / "temporal.db",
        log_file=state / "temporal-server.log",
        headless=headless,
        namespaces=(settings.namespace,),
    )


HEALTH_TIMEOUT_SECONDS = 10


def health_source(client: Client, loop: asyncio.AbstractEventLoop) -> HealthSource:
    """/health's answer, computed on this process's event loop (where the client lives) for the HTTP thread."""

    def answer() -> dict:
        future = asyncio.run_coroutine_threadsafe(evolution_health(client), loop)
        try:
            return future.result(timeout=HEALTH_TIMEOUT_SECONDS).model_dump(mode="json")
        finally:
            future.cancel()  # a no-op once done; stops a read that outlived its caller

    return answer


@asynccontextmanager
async def open_stack(
    settings: Settings,
    *,
    worker: WorkerMode,
    metrics_port: int | None = None,
    metrics_host: str = "127.0.0.1",
    queues: Collection[TaskQueue] | None = None,
) -> AsyncIterator[Stack]:
    """Connect to Temporal, starting an embedded dev server when none answers and ``settings.embedded``.

    With a worker, also open the store and poll every task queue in this process (only ``queues``, if given).
    """
    async with AsyncExitStack() as exits:
        metrics = serve_metrics(metrics_port, metrics_host) if metrics_port else None
        if metrics is not None:
            exits.callback(metrics.close)

        server = None
        if not await port_open(settings.temporal_host, settings.temporal_port):
            if not settings.embedded:
                raise TemporalUnreachable(f"no Temporal server answers at {settings.temporal_address}")
            server = await exits.enter_async_context(DevServer(dev_server_config(settings)))

        client = await connect(settings, runtime=metrics.runtime if metrics else None, patience=30 if server else 0)
        await wait_for_namespace(client)
        await ensure_search_attributes(client)
        if server is not None:
            await ensure_retention(client, EMBEDDED_RETENTION_DAYS)
        stack = Stack(settings=settings, client=client, server=server, metrics=metrics)
        if metrics is not None:
            metrics.health.source = health_source(client, asyncio.get_running_loop())
            exits.callback(setattr, metrics.health, "source", None)

        if worker == "always" or (worker == "if-embedded" and server is not None):
            resources = await exits.enter_async_context(open_resources(settings))
            stack.engine = resources.engine
            specs = [spec for spec in QUEUES if queues is None or spec.queue in queues]
            running = running_workers(client, resources, specs, settings.worker_role)
            stack.queues = await exits.enter_async_context(running)
        yield stack
