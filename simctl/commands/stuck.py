"""`simctl stuck`: fiber lifecycles whose state has not changed for a while, from Temporal visibility."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table
from temporalio.client import Client

from models.otto import FiberProgress
from models.settings import Settings
from simctl import visibility
from simctl.durations import parse_duration
from simctl.runner import configure_logging, run_async
from workers.stack import open_stack
from workflows.common import search_attributes as sa


class StuckFiber(BaseModel):
    workflow_id: str
    fiber_type: str | None
    state: str | None
    since: datetime | None
    initiator: str | None
    counterparty: str | None
    waiting_on: str | None


def stuck(
    ctx: typer.Context,
    older_than: Annotated[str, typer.Option("--older-than", help="state unchanged for at least this long")] = "5m",
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object per fiber")] = False,
) -> None:
    """List running fiber lifecycles whose state has not changed for --older-than."""
    settings: Settings = ctx.obj
    configure_logging(settings)
    found = run_async(_stuck(settings, timedelta(seconds=parse_duration(older_than))))
    if as_json:
        for fiber in found:
            typer.echo(fiber.model_dump_json())
        return
    console = Console()
    if not found:
        console.print(f"no fiber has been stuck for {older_than}")
        return
    table = Table(title=f"Fibers unchanged for {older_than}", title_justify="left")
    for column in ("workflow", "type", "state", "since", "waiting on", "initiator", "counterparty"):
        table.add_column(column)
    for fiber in found:
        table.add_row(
            fiber.workflow_id,
            fiber.fiber_type or "",
            fiber.state or "(not on chain yet)",
            fiber.since.isoformat(timespec="seconds") if fiber.since else "",
            fiber.waiting_on or "",
            fiber.initiator or "",
            fiber.counterparty or "",
        )
    console.print(table)


async def _stuck(settings: Settings, age: timedelta) -> list[StuckFiber]:
    async with open_stack(settings, worker="if-embedded") as stack:
        return await find_stuck(stack.client, age)


async def find_stuck(client: Client, age: timedelta) -> list[StuckFiber]:
    cutoff = datetime.now(UTC) - age
    # A fiber never seen on chain has no FiberStateSince yet: judge it by when its workflow started.
    query = visibility.all_of(
        visibility.of_type("FiberWorkflow"),
        visibility.running(),
        visibility.any_of(
            visibility.compare(sa.FIBER_STATE_SINCE, "<", cutoff),
            visibility.all_of(visibility.is_null(sa.FIBER_STATE_SINCE), visibility.compare("StartTime", "<", cutoff)),
        ),
    )
    found = []
    async for execution in client.list_workflows(query):
        attributes = execution.typed_search_attributes
        found.append(
            StuckFiber(
                workflow_id=execution.id,
                fiber_type=attributes.get(sa.FIBER_TYPE),
                state=attributes.get(sa.FIBER_STATE),
                since=attributes.get(sa.FIBER_STATE_SINCE),
                initiator=attributes.get(sa.INITIATOR),
                counterparty=attributes.get(sa.COUNTERPARTY),
                waiting_on=await _waiting_on(client, execution.id),
            )
        )
    return found


async def _waiting_on(client: Client, workflow_id: str) -> str | None:
    """Ask the workflow itself; with no worker to answer, visibility alone has to do."""
    try:
        progress = await asyncio.wait_for(
            client.get_workflow_handle(workflow_id).query("progress", result_type=FiberProgress), timeout=3
        )
    except Exception:
        return None
    return progress.waiting_on if progress else None
