"""`simctl localnet …`: run an embedded stand-in on its own, in the foreground."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from localnet.ottochain.chain import Faults
from models.settings import Settings
from simctl.ottochain import embedded_node
from simctl.runner import configure_logging, run_async
from workers.service import stop_on_signals

app = typer.Typer(help="Embedded stand-ins for the systems under simulation.", no_args_is_help=True)


@app.command()
def ottochain(
    ctx: typer.Context,
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="port on 127.0.0.1 (0 = any free port)")] = 9200,
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
    """Run an OttoChain node (bridge, DL1, ML0, CL1, indexer) on 127.0.0.1 until Ctrl-C."""
    settings: Settings = ctx.obj
    configure_logging(settings, default="info")
    faults = Faults(error_rate=error_rate, latency=latency, snapshot_interval=snapshot_interval, seed=seed)
    run_async(_serve(state_dir or settings.state_dir, port, faults, genesis))


async def _serve(state_dir: Path, port: int, faults: Faults, genesis: Path | None) -> None:
    console = Console(stderr=True, soft_wrap=True)
    stop = stop_on_signals()
    async with embedded_node(state_dir, port=port, faults=faults, genesis=genesis) as server:
        endpoints = server.endpoints
        console.print(f"OttoChain node at {server.base_url} (chain state in {state_dir / 'ottochain.json'})")
        console.print(f"bridge   {endpoints.bridge_url}")
        console.print(f"DL1      {endpoints.dl1_url}")
        console.print(f"ML0      {endpoints.ml0_url}")
        console.print(f"CL1      {endpoints.cl1_url}")
        console.print(f"indexer  {endpoints.indexer_url}")
        console.print(f"use: simctl otto fiber --type TicTacToe --bridge-url {endpoints.bridge_url}")
        console.print("Press Ctrl-C to stop.")
        await stop.wait()
