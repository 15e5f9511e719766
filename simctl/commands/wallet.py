"""`simctl wallet …`: the persistent, encrypted agent pool (generate once, reuse across restarts)."""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import track
from rich.table import Table

from models.settings import Settings
from sim.otto.agents import agent_id, public_profile
from sim.otto.signing import new_keypair
from simctl.errors import CliError
from store.files import write_atomically
from store.wallets import WalletError, WalletStore

app = typer.Typer(help="Generate, export, register, activate and fund the agent wallet pool.", no_args_is_help=True)

UNITS_PER_TOKEN = 100_000_000


def passphrase(settings: Settings, *, confirm: bool = False) -> str:
    if settings.wallet_passphrase is not None:
        return settings.wallet_passphrase.get_secret_value()
    if not sys.stdin.isatty():
        raise CliError("set SIMCTL_WALLET_PASSPHRASE (no terminal to ask for the wallet passphrase)")
    return typer.prompt("Wallet passphrase", hide_input=True, confirmation_prompt=confirm)


def open_wallets(settings: Settings, path: Path) -> WalletStore:
    try:
        return WalletStore.open(path, passphrase(settings))
    except WalletError as err:
        raise CliError(str(err)) from None


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


def create_pool(path: Path, secret: str, *, count: int, seed: int | None) -> WalletStore:
    """A new wallet file of ``count`` agents: fresh keys, traits and profiles drawn from ``seed``."""
    try:
        store = WalletStore.create(path, secret)
    except WalletError as err:
        raise CliError(str(err)) from None
    rng = random.Random(seed)
    for index in track(range(count), description="generating keys", console=Console(stderr=True), transient=True):
        pair = new_keypair()
        store.add(agent_id(index), pair.address, pair.private_key, public_key=pair.public_key_id, **public_profile(index, rng))
    store.save()
    return store


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
