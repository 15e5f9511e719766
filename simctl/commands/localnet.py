"""`simctl localnet …`: run an embedded stand-in on its own, in the foreground."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from localnet.ottochain.chain import Faults
from models.settings import Settings, bind_host
from simctl.ottochain import embedded_node
from simctl.runner import configure_logging, run_async
from workers.service import stop_on_signals

app = typer.Typer(help="Embedded stand-ins for the systems under simulation.", no_args_is_help=True)


def _checked_host(value: str | None) -> str | None:
    try:
        return None if value is None else bind_host(value)
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None


@app.command()
def ottochain(
    ctx: typer.Context,
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="port to listen on (0 = any free port)")] = 9200,
    host: Annotated[
        str | None,
        typer.Option(
            "--host",
            callback=_checked_host,
            help="address to listen on; 0.0.0.0 lets other machines and containers use the node "
            "[SIMCTL_OTTO_NODE_HOST; 127.0.0.1]",
        ),
    ] = None,
    state_dir: Annotated[
        Path | None, typer.Option("--chain-dir", help="where the chain persists [the state directory]")
    ] = None,
    genesis: Annotated[
        Path | None,
        typer.Option("--genesis", exists=True, dir_okay=False, help="genesis CSV (address,balance in 1e-8 units)"),
    ] = None,
    snapshot_interval: Annotated[
        float, typer.Option("--snapshot-interval", min=0.01, help="seconds between snapshots")
    ] = 0.2,
    error_rate: Annotated[
        float, typer.Option("--error-rate", min=0, max=1, help="share of requests failing with 5xx")
    ] = 0.0,
    latency: Annotated[float, typer.Option("--latency", min=0, help="seconds added to every request")] = 0.0,
    seed: Annotated[int, typer.Option("--seed", help="seeds the fault injection")] = 0,
) -> None:
    """Run an OttoChain node (bridge, DL1, ML0, CL1, indexer) until Ctrl-C; on 127.0.0.1 unless --host says."""
    settings: Settings = ctx.obj
    if host is not None:
        settings = settings.model_copy(update={"otto_node_host": host})
    configure_logging(settings, default="info")
    faults = Faults(error_rate=error_rate, latency=latency, snapshot_interval=snapshot_interval, seed=seed)
    run_async(_serve(state_dir or settings.state_dir, settings.otto_node_host, port, faults, genesis))


async def _serve(state_dir: Path, host: str, port: int, faults: Faults, genesis: Path | None) -> None:
    console = Console(stderr=True, soft_wrap=True)
    stop = stop_on_signals()
    async with embedded_node(state_dir, host=host, port=port, faults=faults, genesis=genesis) as server:
        endpoints = server.endpoints
        console.print(f"OttoChain node at {server.base_url} (chain state in {state_dir / 'ottochain.db'})")
        console.print(f"listening on {server.listening_on}")
        console.print(f"bridge   {endpoints.bridge_url}")
        console.print(f"DL1      {endpoints.dl1_url}")
        console.print(f"ML0      {endpoints.ml0_url}")
        console.print(f"CL1      {endpoints.cl1_url}")
        console.print(f"indexer  {endpoints.indexer_url}")
        console.print(f"use: simctl otto fiber --type TicTacToe --bridge-url {endpoints.bridge_url}")
        console.print("Press Ctrl-C to stop.")
        await stop.wait()
