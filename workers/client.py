"""One way to connect: pydantic payloads, tracing, and the project's search attributes in place."""

from __future__ import annotations

import asyncio
import logging
import time

from google.protobuf.duration_pb2 import Duration
from temporalio.api.enums.v1 import IndexedValueType, TaskQueueType
from temporalio.api.namespace.v1 import NamespaceConfig
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.api.taskqueue.v1 import TaskQueue as TaskQueueRef
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, DescribeTaskQueueRequest, UpdateNamespaceRequest
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)
from temporalio.service import RPCError

from models import search_attributes
from models.search_attributes import IndexedType
from models.settings import Settings

log = logging.getLogger(__name__)
# The core SDK's own log lines (a workflow task over 5 s, a failed task), through Python logging.
CORE_LOG = logging.getLogger("temporalio.core")
_forwarding_runtime: Runtime | None = None

_INDEXED_VALUE_TYPES = {
    IndexedType.KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    IndexedType.INT: IndexedValueType.INDEXED_VALUE_TYPE_INT,
    IndexedType.DATETIME: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
}


def telemetry(metrics: PrometheusConfig | None = None) -> TelemetryConfig:
    """The core SDK writes its log lines to standard output unless told otherwise, and a command's standard output
    is what scripts read (``id=$(simctl start-campaign --wait)``): they go through Python logging, to stderr."""
    forwarded = LoggingConfig(
        filter=TelemetryFilter(core_level="WARN", other_level="ERROR"), forwarding=LogForwardingConfig(logger=CORE_LOG)
    )
    return TelemetryConfig(logging=forwarded, metrics=metrics)


def forwarding_runtime() -> Runtime:
    """The runtime of clients that serve no SDK metrics: one per process, as the SDK's default would be."""
    global _forwarding_runtime
    if _forwarding_runtime is None:
        _forwarding_runtime = Runtime(telemetry=telemetry())
    return _forwarding_runtime


class TemporalUnreachable(Exception):
    """No usable Temporal server at the configured address."""


async def connect(settings: Settings, *, runtime: Runtime | None = None, patience: float = 0.0) -> Client:
    """A client for the configured server; with ``patience``, keep trying that long (a server that
    has just started accepts connections a moment before its frontend reports healthy)."""
    deadline = time.monotonic() + patience
    while True:
        try:
            return await Client.connect(
                settings.temporal_address,
                namespace=settings.namespace,
                data_converter=pydantic_data_converter,
                interceptors=[TracingInterceptor()],
                runtime=runtime or forwarding_runtime(),
            )
        except RuntimeError as err:  # the core reports every connection failure this way
            if time.monotonic() < deadline:
                await asyncio.sleep(0.2)
                continue
            reason = str(err).removeprefix("Failed client connect: ").split("\n")[0]
            raise TemporalUnreachable(f"cannot connect to Temporal at {settings.temporal_address}: {reason}") from None


async def wait_for_namespace(client: Client, timeout: float = 30.0) -> None:
    """A freshly started server accepts connections a moment before its namespaces exist."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=client.namespace))
            return
        except RPCError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def ensure_search_attributes(client: Client) -> list[str]:
    """Register the custom search attributes a server lacks; returns the names added.

    `temporal server start-dev --search-attribute` only registers them on a new database, so a
    server started earlier, or by hand without the flags, is brought up to date here.
    """
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )
    missing = {
        attribute.name: _INDEXED_VALUE_TYPES[attribute.type]
        for attribute in search_attributes.ALL
        if attribute.name not in listed.custom_attributes
    }
    if missing:
        try:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(namespace=client.namespace, search_attributes=missing)
            )
        except RPCError as err:
            log.warning("could not register search attributes %s: %s", sorted(missing), err.message)
            return []
        log.info("registered search attributes %s", ", ".join(sorted(missing)))
    return sorted(missing)


async def pollers(client: Client, queue: str, kind: TaskQueueType.ValueType) -> list[str]:
    """Identities of the workers that recently polled ``queue`` for tasks of ``kind``."""
    response = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(namespace=client.namespace, task_queue=TaskQueueRef(name=queue), task_queue_type=kind)
    )
    return [poller.identity for poller in response.pollers]


async def ensure_retention(client: Client, days: int) -> None:
    """Keep closed workflows' histories at least ``days``: the audit replays them, and the dev
    server's default namespace keeps them only one day."""
    described = await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=client.namespace))
    if described.config.workflow_execution_retention_ttl.seconds >= days * 86400:
        return
    await client.workflow_service.update_namespace(
        UpdateNamespaceRequest(
            namespace=client.namespace,
            config=NamespaceConfig(workflow_execution_retention_ttl=Duration(seconds=days * 86400)),
        )
    )
    log.info("namespace %s now keeps closed workflows for %d days", client.namespace, days)
