"""`simctl status`: the server, the namespace, who polls each task queue, and workflows by type."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from temporalio.api.enums.v1 import NamespaceState, TaskQueueType
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, GetSystemInfoRequest
from temporalio.client import Client

from models.settings import Settings
from models.status import QueueStatus, StatusReport, WorkflowCount
from simctl import visibility
from simctl.commands.ads import running_studies
from simctl.runner import configure_logging, run_async
from workers.client import pollers
from workers.registry import QUEUES, workflow_types
from workers.stack import Stack, open_stack


def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Show the Temporal server, namespace, worker pollers per task queue and workflows by type."""
    settings: Settings = ctx.obj
    configure_logging(settings)
    report = run_async(_status(settings))
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        print_status(report)


async def _status(settings: Settings) -> StatusReport:
    async with open_stack(settings, worker="if-embedded") as stack:
        return await collect_status(stack, wait_for_pollers=stack.embedded)


async def collect_status(stack: Stack, *, wait_for_pollers: bool = False) -> StatusReport:
    client = stack.client
    system = await client.workflow_service.get_system_info(GetSystemInfoRequest())
    namespace = await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=client.namespace))
    queues = await _queue_status(client)
    # Our own worker has just started: give its first polls a moment to register.
    deadline = time.monotonic() + 5
    while wait_for_pollers and time.monotonic() < deadline and not all(_polled(q) for q in queues):
        await asyncio.sleep(0.2)
        queues = await _queue_status(client)
    return StatusReport(
        address=stack.settings.temporal_address,
        server_version=system.server_version,
        embedded=stack.embedded,
        web_ui=stack.settings.web_ui_url,
        namespace=client.namespace,
        namespace_state=NamespaceState.Name(namespace.namespace_info.state).removeprefix("NAMESPACE_STATE_").lower(),
        retention_days=namespace.config.workflow_execution_retention_ttl.ToTimedelta().total_seconds() / 86400,
        task_queues=queues,
        executions_by_status=await _count_by_status(client, ""),
        workflows=[await _workflow_count(client, name) for name in workflow_types()],
        studies=await running_studies(client),
    )


def _polled(queue: QueueStatus) -> bool:
    return queue.activity_pollers > 0


async def _queue_status(client: Client) -> list[QueueStatus]:
    result = []
    for spec in QUEUES:
        workflow_pollers = await pollers(client, spec.queue, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW)
        activity_pollers = await pollers(client, spec.queue, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY)
        result.append(
            QueueStatus(
                name=spec.queue.value,
                workflow_pollers=len(workflow_pollers),
                activity_pollers=len(activity_pollers),
                identities=sorted(set(workflow_pollers) | set(activity_pollers)),
            )
        )
    return result


async def _count_by_status(client: Client, query: str) -> dict[str, int]:
    counted = await client.count_workflows(visibility.group_by(query, "ExecutionStatus"))
    return {str(group.group_values[0]): group.count for group in counted.groups}


async def _workflow_count(client: Client, workflow_type: str) -> WorkflowCount:
    by_status = await _count_by_status(client, visibility.of_type(workflow_type))
    running = by_status.get("Running", 0)
    return WorkflowCount(workflow_type=workflow_type, running=running, closed=sum(by_status.values()) - running)


def print_status(report: StatusReport) -> None:
    console = Console()
    mode = "embedded dev server (started by simctl)" if report.embedded else "external server"
    console.print(f"[bold]Temporal[/bold] {report.server_version} at {report.address} — {mode}")
    console.print(f"Web UI       {report.web_ui}")
    console.print(
        f"Namespace    {report.namespace} ({report.namespace_state}, retention {report.retention_days:g} days)"
    )
    executions = ", ".join(f"{status} {count}" for status, count in sorted(report.executions_by_status.items()))
    console.print(f"Executions   {executions or 'none yet'}")

    queues = Table(title="Task queues", title_justify="left")
    queues.add_column("queue")
    queues.add_column("workflow pollers", justify="right")
    queues.add_column("activity pollers", justify="right")
    queues.add_column("workers")
    for queue in report.task_queues:
        queues.add_row(
            queue.name,
            str(queue.workflow_pollers),
            str(queue.activity_pollers),
            ", ".join(queue.identities) or "[red]none: run `python -m workers.main`[/red]",
        )
    console.print(queues)

    for study in report.studies:
        console.print(f"Study {study.experiment_id} (running)")
        for progress in study.scenarios:
            share = progress.campaign_days_reached / progress.campaign_days if progress.campaign_days else 0
            bar = "█" * round(share * 30) + "░" * (30 - round(share * 30))
            reached = f"{progress.campaign_days_reached}/{progress.campaign_days}"
            console.print(f"  scenario {progress.scenario} {bar} {reached} campaign-days")

    if report.workflows:
        workflows = Table(title="Workflows", title_justify="left")
        workflows.add_column("type")
        workflows.add_column("running", justify="right")
        workflows.add_column("closed", justify="right")
        for count in report.workflows:
            workflows.add_row(count.workflow_type, str(count.running), str(count.closed))
        console.print(workflows)
