"""`simctl otto …`: OttoChain fiber lifecycles and identity."""

from __future__ import annotations

import random
import uuid
from pathlib import Path
from typing import Annotated

import typer
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table
from temporalio.client import WorkflowFailureError

from models.otto import FiberOutcome, FiberSpec, OttoEndpoints, Party
from models.settings import Settings
from models.task_queues import TaskQueue
from sim.otto.fibers import fiber_kind
from simctl.commands.wallet import create_pool, open_wallets, passphrase
from simctl.durations import parse_duration
from simctl.errors import CliError
from simctl.ottochain import ottochain
from simctl.runner import configure_logging, run_async
from workers.stack import open_stack
from workflows.otto.fiber import FiberWorkflow

app = typer.Typer(help="OttoChain traffic: fiber lifecycles, identity, reputation.", no_args_is_help=True)

DEFAULT_POOL = 8


def with_passphrase(settings: Settings) -> Settings:
    """Settings whose in-process worker can open the wallet file (asking for the passphrase once)."""
    if settings.wallet_passphrase is not None:
        return settings
    return settings.model_copy(update={"wallet_passphrase": SecretStr(passphrase(settings))})


@app.command()
def fiber(
    ctx: typer.Context,
    fiber_type: Annotated[str, typer.Option("--type", help="SimpleOrder, TicTacToe, TokenEscrow, Contract, Voting, ApprovalWorkflow or Auction")],
    outcome: Annotated[str | None, typer.Option("--outcome", help="terminal outcome to play for (default: drawn from the seed)")] = None,
    seed: Annotated[int, typer.Option("--seed", help="seeds the parties' choices and the plan")] = 0,
    parties: Annotated[str | None, typer.Option("--parties", help="comma-separated agent ids, initiator first")] = None,
    wallets: Annotated[Path | None, typer.Option("--wallets", help="wallet file [.simctl/wallets.json]")] = None,
    bridge_url: Annotated[str | None, typer.Option("--bridge-url", help="OttoChain bridge (default: an embedded node)")] = None,
    timeout: Annotated[str, typer.Option("--timeout", help="give up (TIMEOUT) after this long, e.g. 90s, 10m")] = "10m",
    owners: Annotated[str, typer.Option("--owners", help="all (every party signs the create) or initiator (V1's bug)")] = "all",
    as_json: Annotated[bool, typer.Option("--json", help="print the outcome as JSON")] = False,
) -> None:
    """Run one fiber lifecycle through both sides and print its outcome."""
    settings: Settings = ctx.obj
    configure_logging(settings)
    try:
        kind = fiber_kind(fiber_type)
        if outcome is not None:
            kind.outcome(outcome)
    except ValueError as err:
        raise CliError(str(err)) from None
    if owners not in ("all", "initiator"):
        raise CliError(f"--owners must be all or initiator, not {owners!r}")
    timeout_seconds = parse_duration(timeout)
    settings = with_passphrase(settings)
    path = (wallets or settings.default_wallets).resolve()
    if not path.exists():
        Console(stderr=True).print(f"no wallet pool at {path}: generating {DEFAULT_POOL} agents")
        store = create_pool(path, settings.wallet_passphrase.get_secret_value(), count=DEFAULT_POOL, seed=seed)
    else:
        store = open_wallets(settings, path)
    chosen = _choose_parties(store.agents, parties, kind.min_parties, seed)
    spec = FiberSpec(
        fiber_type=kind.name,
        parties=chosen,
        outcome=outcome,
        seed=seed,
        endpoints=OttoEndpoints.embedded("http://unset"),
        wallets=str(path),
        timeout_seconds=timeout_seconds,
        owners=owners,
    )
    result = run_async(run_fiber(settings, spec, bridge_url))
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
    else:
        print_outcome(result)
    if result.status != "COMPLETED":
        raise typer.Exit(1)


def _choose_parties(agents, requested: str | None, count: int, seed: int) -> list[Party]:
    by_id = {agent.id: agent for agent in agents}
    if requested:
        ids = [part.strip() for part in requested.split(",") if part.strip()]
        unknown = [agent_id for agent_id in ids if agent_id not in by_id]
        if unknown:
            raise CliError(f"no agent {unknown[0]!r} in the wallet file")
    else:
        if len(agents) < count:
            raise CliError(f"the wallet pool has {len(agents)} agents; this fiber type needs {count}")
        ids = [agent.id for agent in random.Random(seed).sample(agents, count)]
    return [Party(agent_id=agent_id, address=by_id[agent_id].address) for agent_id in ids]


async def run_fiber(settings: Settings, spec: FiberSpec, bridge_url: str | None) -> FiberOutcome:
    # The node outlives the worker: activities may still be talking to it while the worker drains.
    async with ottochain(settings, bridge_url) as endpoints, open_stack(
        settings, worker="if-unpolled", needs=(TaskQueue.OTTO,)
    ) as stack:
        spec = spec.model_copy(update={"endpoints": endpoints})
        workflow_id = f"fiber-{spec.fiber_type}-{uuid.uuid4().hex[:12]}"
        handle = await stack.client.start_workflow(FiberWorkflow.run, spec, id=workflow_id, task_queue=TaskQueue.OTTO)
        try:
            return await handle.result()
        except WorkflowFailureError as err:
            cause = err.cause
            while getattr(cause, "cause", None) is not None:
                cause = cause.cause
            raise CliError(f"{workflow_id} failed: {getattr(cause, 'message', cause)}", exit_code=1) from None


def print_outcome(result: FiberOutcome) -> None:
    table = Table(show_header=False, title=f"{result.fiber_type} {result.fiber_id}", title_justify="left")
    status = result.status if result.status != "COMPLETED" else ("[green]COMPLETED[/green]" if result.success else "[yellow]COMPLETED[/yellow]")
    rows = {
        "status": status,
        "outcome": f"{result.outcome} (planned {result.planned_outcome})",
        "terminal state": result.terminal_state or "-",
        "success": str(result.success),
        "parties": ", ".join(result.parties),
        "transitions": str(result.transitions),
        "guard failures": str(result.guard_failures),
        "snapshots elapsed": str(result.ordinals),
        "wall time": f"{result.wall_seconds:.2f} s",
    }
    for key, value in rows.items():
        table.add_row(key, value)
    Console().print(table)
