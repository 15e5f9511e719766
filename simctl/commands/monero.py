"""`simctl monero …`: run a monero network on real monerod, follow it, export it for Shadow."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from localnet.monero.processes import MoneroMissing, require_binaries
from models.monero import ConfigError, MoneroConfig, parse_config
from models.monero_run import NetworkInput, NetworkSummary, RunSpec
from models.settings import Settings
from models.task_queues import TaskQueue
from sim.monero.shadow import shadow_config as export_shadow
from simctl import visibility
from simctl.errors import CliError, failure_message
from simctl.runner import configure_logging, run_async
from store.files import write_atomically
from workers.stack import open_stack
from workflows.monero.network import MoneroNetworkWorkflow

app = typer.Typer(help="A Monero network on real monerod in regtest (Debian package monero).", no_args_is_help=True)


def load_config(path: Path) -> MoneroConfig:
    try:
        text = path.read_text()
    except OSError as err:
        raise CliError(f"{path}: {err.strerror or err}") from None
    except UnicodeDecodeError as err:
        raise CliError(f"{path}: not UTF-8 text (byte {err.start})") from None
    try:
        return parse_config(text, str(path))
    except ConfigError as err:
        raise CliError(str(err)) from None


@app.command()
def run(
    ctx: typer.Context,
    config: Annotated[Path, typer.Option("--config", help="the run's config.yaml (examples/monero/config.yaml)")],
    run_id: Annotated[str | None, typer.Option("--id", help="name the run (default: generated)")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="follow the run until it ends and print its summary")] = False,
    genesis: Annotated[
        Path | None, typer.Option("--genesis", help="a genesis snapshot to start from (default: pre-mine one)")
    ] = None,
) -> None:
    """Start a monero network run (a MoneroNetworkWorkflow); print its id."""
    settings: Settings = ctx.obj
    configure_logging(settings)
    parsed = load_config(config)
    try:
        require_binaries()
    except MoneroMissing as missing:
        raise CliError(str(missing)) from None
    if run_id is not None and not visibility.matchable(run_id):
        raise CliError(f"--id must not contain a double quote or a backslash, not {run_id!r}")
    try:
        spec = RunSpec(
            run_id=run_id or f"monero-{parsed.simulation.seed}-{uuid.uuid4().hex[:6]}",
            config=parsed,
            genesis_dir=str(genesis.resolve()) if genesis else None,
        )
    except ValueError as err:
        raise CliError(f"--id: {str(err).splitlines()[-1].strip()}") from None
    run_async(_start(settings, spec, wait))


async def _start(settings: Settings, spec: RunSpec, wait: bool) -> None:
    console = Console(stderr=True)
    async with open_stack(settings, worker="always" if wait else "if-embedded") as stack:
        try:
            handle = await stack.client.start_workflow(
                MoneroNetworkWorkflow.run,
                NetworkInput(spec=spec),
                id=spec.run_id,
                task_queue=TaskQueue.MONERO,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            raise CliError(f"monero run {spec.run_id!r} already exists: choose another --id") from None
        typer.echo(spec.run_id)
        if not wait:
            if stack.embedded:
                console.print(
                    "the embedded server stops with this command; the run (and its monerod processes) continues "
                    "whenever a simctl process runs the worker (e.g. `simctl up`), or use --wait"
                )
            return
        finished = asyncio.Event()
        follow = asyncio.create_task(_follow(stack.client, spec.run_id, console, finished))
        try:
            summary: NetworkSummary = await handle.result()
        except WorkflowFailureError as err:
            follow.cancel()
            raise CliError(f"monero run {spec.run_id} failed: {failure_message(err)}", exit_code=1) from None
        finished.set()
        await follow
        console.print(_summary_line(summary))


def _summary_line(summary: NetworkSummary) -> str:
    pools = ", ".join(f"{pool} {count}" for pool, count in sorted(summary.blocks_by_pool.items()))
    reconciled = "reconciled" if summary.reconciled else "NOT reconciled"
    return (
        f"{summary.run_id}: {summary.rounds} blocks ({pools}), height {summary.final_height}; "
        f"{summary.payments_sent} payments sent, {summary.payments_mined} mined, {summary.payments_skipped} skipped; "
        f"marketplaces {reconciled}"
    )


async def _follow(client: Client, run_id: str, console: Console, finished: asyncio.Event) -> None:
    last = None
    with console.status("starting") as status:
        while not finished.is_set():
            progress = await _progress(client, run_id)
            if progress and progress != last:
                last = progress
                status.update(_progress_line(progress))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(finished.wait(), timeout=1)


async def _progress(client: Client, run_id: str) -> dict | None:
    try:
        return await client.get_workflow_handle(run_id).query(MoneroNetworkWorkflow.progress)
    except Exception:  # not started yet, between runs of a continue-as-new, or closed
        return None


def _progress_line(progress: dict) -> str:
    # The host whose queue the run's process activities go to (its processes are on that machine).
    host = progress.get("host_queue")
    where = f", on {host.partition('@')[2]}" if host else ""
    if "round" not in progress:
        return str(progress.get("phase", "")) + where
    return (
        f"{progress['phase']}: round {progress['round']}, height {progress['height']}, sim {progress['sim_time']} s, "
        f"payments {progress['payments_sent']} sent / {progress['payments_mined']} mined, "
        f"{progress['pending']} pending{where}"
    )


@app.command()
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """Monero runs known to the server: running ones with their progress, closed ones with their status."""
    settings: Settings = ctx.obj
    configure_logging(settings)
    runs = run_async(_status(settings))
    if as_json:
        typer.echo(json.dumps(runs, indent=2, sort_keys=True))
        return
    if not runs:
        typer.echo("no monero runs")
        return
    for entry in runs:
        progress = entry.get("progress")
        detail = _progress_line(progress) if progress else ""
        typer.echo(f"{entry['run_id']}  {entry['status']}  {detail}".rstrip())


async def _status(settings: Settings) -> list[dict]:
    async with open_stack(settings, worker="never") as stack:
        runs: list[dict] = []
        async for execution in stack.client.list_workflows(visibility.of_type("MoneroNetworkWorkflow")):
            status_name = execution.status.name if execution.status else "UNKNOWN"
            if any(run["run_id"] == execution.id for run in runs):
                continue  # earlier runs of a continue-as-new chain
            entry: dict = {"run_id": execution.id, "status": status_name}
            if execution.status == WorkflowExecutionStatus.RUNNING:
                entry["progress"] = await _progress(stack.client, execution.id)
            runs.append(entry)
        return runs


@app.command()
def report(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="the run's id (printed by `simctl monero run`)")],
    out: Annotated[Path, typer.Option("--out", help="directory for report.md, report.json and the PNG charts")],
) -> None:
    """Write the run's report; every figure is computed from the rows the run recorded in the store."""
    from report.monero import load_run, write_report
    from sim.monero.findings import compute_findings
    from simctl.store_reads import read_recorded

    settings: Settings = ctx.obj
    configure_logging(settings)
    config, rows = read_recorded(settings, f"no monero run {run_id!r}", lambda engine: load_run(engine, run_id))
    findings = compute_findings(config, rows)
    written = write_report(out, config, findings)
    unfinished = "" if rows.run.final_height is not None else " (the run has not finished: figures so far)"
    typer.echo(f"report of {run_id}: {len(written)} files in {out}{unfinished}")


@app.command("shadow-config")
def shadow_config(
    config: Annotated[Path, typer.Option("--config", help="the run's config.yaml")],
    out: Annotated[Path, typer.Option("--out", help="directory for shadow.yaml and configs/<host>.json")],
) -> None:
    """The same scenario for Shadow: shadow.yaml (one host per agent, the seed's process layout) and each agent's
    JSON config. Needs no monerod here: Shadow runs it."""
    parsed = load_config(config)
    export = export_shadow(parsed)
    # Agent configs first, shadow.yaml last: a directory with a shadow.yaml is complete.
    for host, agent in sorted(export.agent_configs.items()):
        text = json.dumps(agent, indent=2, sort_keys=True) + "\n"
        write_atomically(out / "configs" / f"{host}.json", text.encode())
    write_atomically(out / "shadow.yaml", yaml.safe_dump(export.shadow, sort_keys=False).encode())
    typer.echo(f"{out / 'shadow.yaml'}: {len(export.shadow['hosts'])} hosts")
