"""`simctl up`: server (embedded if none answers) and worker in the foreground until Ctrl-C or SIGTERM."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from models.settings import Settings
from simctl.runner import configure_logging, run_async
from workers.service import stop_on_signals
from workers.stack import open_stack


def up(
    ctx: typer.Context,
    metrics_port: Annotated[
        int | None, typer.Option("--metrics-port", help="port of /metrics (0 = off) [SIMCTL_METRICS_PORT; 9464]")
    ] = None,
) -> None:
    """Run the Temporal server (embedded when none answers) and a worker until interrupted."""
    settings: Settings = ctx.obj
    if metrics_port is not None:
        settings = settings.model_copy(update={"metrics_port": metrics_port})
    configure_logging(settings, default="info")
    run_async(_up(settings))


async def _up(settings: Settings) -> None:
    console = Console(stderr=True, soft_wrap=True)
    stop = stop_on_signals()
    async with open_stack(
        settings,
        worker="always",
        metrics_port=settings.metrics_port or None,
        metrics_host=settings.metrics_host,
        queues=settings.task_queues,
    ) as stack:
        where = "embedded dev server" if stack.embedded else "existing server"
        console.print(f"Temporal   {settings.temporal_address} ({where}), namespace {settings.namespace}")
        console.print(f"Web UI     {settings.web_ui_url}")
        console.print(f"Worker     polling {', '.join(stack.queues)}")
        console.print(f"Metrics    {stack.metrics.url if stack.metrics else 'off'}")
        console.print(f"Store      {settings.store_url}")
        console.print("Press Ctrl-C to stop.")
        await stop.wait()
        console.print("stopping: worker first, then the server")
