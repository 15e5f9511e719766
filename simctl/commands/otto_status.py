"""`simctl otto status [RUN_ID]`: running evolution runs with their breaker, ML0 lag, generation and last
checkpoint, as the worker's /health reports them (``workers.health``)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from models.otto_health import HealthReport, RunHealth
from models.settings import Settings
from simctl.runner import configure_logging, run_async
from workers.health import evolution_health
from workers.stack import open_stack


def status(
    ctx: typer.Context,
    run_id: Annotated[str | None, typer.Argument(help="only this run (default: every running run)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the /health JSON instead of a table")] = False,
) -> None:
    """Running evolution runs: generation, last checkpoint, circuit breaker and ML0 health."""
    settings: Settings = ctx.obj
    configure_logging(settings)
    report = run_async(_read(settings, run_id))
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    if not report.runs:
        typer.echo(f"no running evolution run {run_id!r}" if run_id else "no running evolution runs")
        return
    Console().print(table(report))


async def _read(settings: Settings, run_id: str | None) -> HealthReport:
    async with open_stack(settings, worker="never") as stack:
        return await evolution_health(stack.client, run_id)


def table(report: HealthReport) -> Table:
    shown = Table(title=f"evolution runs: {report.status}")
    for column in ("run", "generation", "last checkpoint", "fitness avg", "breaker", "backoff", "ML0", "initiation"):
        shown.add_column(column)
    for run in report.runs:
        shown.add_row(
            run.run_id,
            f"{run.generation}{'' if run.running else ' (next)'}",
            "-" if run.last_checkpoint is None else str(run.last_checkpoint),
            "-" if run.last_fitness_avg is None else f"{run.last_fitness_avg:.3f}",
            _breaker(run),
            f"{run.backoff_ms} ms" if run.backoff_ms else "-",
            _ml0(run),
            _initiation(run),
        )
    return shown


def _breaker(run: RunHealth) -> str:
    style = {"closed": "green", "half_open": "yellow", "open": "red"}.get(run.breaker, "white")
    failures = f" ({run.failures} failures)" if run.failures else ""
    return f"[{style}]{run.breaker}[/]{failures}"


def _ml0(run: RunHealth) -> str:
    if run.ml0_ordinal is None:
        return "-"
    lag = f", lag {run.ml0_lag_ms / 1000:.1f} s" if run.ml0_lag_ms is not None else ""
    state = "[green]producing[/]" if run.producing else "[red]stalled[/]"
    return f"{state} at {run.ml0_ordinal}{lag}"


def _initiation(run: RunHealth) -> str:
    if run.paused:
        return "paused"
    if run.waiting:
        return "[yellow]waiting[/]"
    return "stopping" if run.stopping else "on"
