"""`simctl wallet …`: the persistent, encrypted agent pool (generate once, reuse across restarts)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from models.settings import Settings
from simctl.errors import CliError
from simctl.wallet_access import create_pool, open_wallets, passphrase, read_public
from store.files import write_atomically

app = typer.Typer(help="Generate, export, register, activate and fund the agent wallet pool.", no_args_is_help=True)

UNITS_PER_TOKEN = 100_000_000


@app.command()
def generate(
    ctx: typer.Context,
    count: Annotated[int, typer.Option("--count", min=1, max=100_000, help="agents to create")] = 200,
    output: Annotated[Path | None, typer.Option("--output", help="wallet file [.simctl/wallets.json]")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="seed for traits and profiles (keys stay random)")] = None,
) -> None:
    """Create COUNT agents with fresh secp256k1 keys, encrypted at rest."""
    settings: Settings = ctx.obj
    path = output or settings.default_wallets
    if path.exists():
        raise CliError(f"{path} exists: a pool is generated once and reused (choose another --output)")
    create_pool(path, passphrase(settings, confirm=True), count=count, seed=seed)
    typer.echo(f"{count} agents written to {path} (mode 0600)")


@app.command("export-genesis")
def export_genesis(
    ctx: typer.Context,
    input: Annotated[Path | None, typer.Option("--input", help="wallet file [.simctl/wallets.json]")] = None,
    output: Annotated[Path, typer.Option("--output", help="CSV to write")] = Path("genesis-agents.csv"),
    balance: Annotated[int, typer.Option("--balance", min=0, help="tokens per agent")] = 1000,
) -> None:
    """Write `address,balance` lines (balance in 1e-8 units) for the metagraph's genesis.csv."""
    settings: Settings = ctx.obj
    path = input or settings.default_wallets
    store = open_wallets(settings, path)
    units = balance * UNITS_PER_TOKEN
    write_atomically(output, "".join(f"{agent.address},{units}\n" for agent in store.agents).encode("ascii"))
    store.data.genesis_export = str(output)
    store.save()
    typer.echo(f"{len(store.agents)} genesis lines written to {output}")


@app.command("list")
def list_agents(
    ctx: typer.Context,
    wallets: Annotated[Path | None, typer.Option("--wallets", help="wallet file [.simctl/wallets.json]")] = None,
) -> None:
    """Show the pool: id, address, platform, status, identity fiber."""
    settings: Settings = ctx.obj
    store = open_wallets(settings, wallets or settings.default_wallets)
    table = Table()
    for column in ("id", "address", "platform", "status", "identity fiber"):
        table.add_column(column)
    for agent in store.agents:
        table.add_row(agent.id, agent.address, agent.platform, agent.status, agent.identity_fiber_id or "")
    Console().print(table)


@app.command()
def register(
    ctx: typer.Context,
    wallets: Annotated[Path | None, typer.Option("--wallets", help="wallet file [.simctl/wallets.json]")] = None,
    bridge_url: Annotated[
        str | None, typer.Option("--bridge-url", help="OttoChain bridge (default: an embedded node)")
    ] = None,
) -> None:
    """Register every agent's own wallet with the bridge; agents that already have an identity are reused."""
    _identities(ctx.obj, wallets, bridge_url, activate=False)


@app.command()
def activate(
    ctx: typer.Context,
    wallets: Annotated[Path | None, typer.Option("--wallets", help="wallet file [.simctl/wallets.json]")] = None,
    bridge_url: Annotated[
        str | None, typer.Option("--bridge-url", help="OttoChain bridge (default: an embedded node)")
    ] = None,
) -> None:
    """Activate every agent's identity (registering first where needed)."""
    _identities(ctx.obj, wallets, bridge_url, activate=True)


@app.command()
def fund(
    ctx: typer.Context,
    amount: Annotated[int, typer.Option("--amount", min=1, help="top every agent up to this many tokens")] = 1000,
    funder: Annotated[
        str | None, typer.Option("--from", help="agent id that pays (default: the network's faucet)")
    ] = None,
    wallets: Annotated[Path | None, typer.Option("--wallets", help="wallet file [.simctl/wallets.json]")] = None,
    bridge_url: Annotated[
        str | None, typer.Option("--bridge-url", help="OttoChain bridge (default: an embedded node)")
    ] = None,
) -> None:
    """Top every agent up to --amount tokens, by faucet or by transfers from a funder agent."""
    from simctl.otto_identity import fund_agents

    settings: Settings = ctx.obj
    # Checked against the file's public part before the passphrase is asked for.
    if funder is not None and all(a.id != funder for a in read_public(_path(settings, wallets)).agents):
        raise CliError(f"no agent {funder!r} in the wallet file")
    settings, store = _opened(settings, wallets)
    results = fund_agents(settings, store, amount * UNITS_PER_TOKEN, funder, bridge_url)
    table = Table(title=f"Balances (target {amount} tokens)", title_justify="left")
    for column in ("address", "before", "after", "paid"):
        table.add_column(column, justify="right" if column != "address" else "left")
    for result in results:
        table.add_row(result.address, _tokens(result.before), _tokens(result.after), _tokens(result.paid))
    Console().print(table)


def _identities(settings: Settings, wallets: Path | None, bridge_url: str | None, *, activate: bool) -> None:
    from simctl.otto_identity import ensure_identities

    settings, store = _opened(settings, wallets)
    results = ensure_identities(settings, store, bridge_url, activate=activate)
    for result in results:
        agent = store.agent(result.agent_id)
        status = "active" if result.state == "ACTIVE" else "registered"
        store.replace(agent.model_copy(update={"identity_fiber_id": result.fiber_id, "status": status}))
    store.save()
    new = sum(r.registered_now for r in results)
    activated = sum(r.activated_now for r in results)
    typer.echo(
        f"{len(results)} agents: {new} registered now, {len(results) - new} already registered (reused)"
        + (f", {activated} activated now" if activate else "")
    )


def _opened(settings: Settings, wallets: Path | None):
    from simctl.otto_session import with_passphrase

    settings = with_passphrase(settings)
    return settings, open_wallets(settings, _path(settings, wallets))


def _path(settings: Settings, wallets: Path | None) -> Path:
    return (wallets or settings.default_wallets).resolve()


def _tokens(units: int) -> str:
    return f"{units / UNITS_PER_TOKEN:,.2f}"
