"""`simctl audit`: verify every hash chain in the store and name the first broken link."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from models.ledger import ChainVerdict
from models.settings import Settings
from simctl.errors import CliError
from simctl.runner import configure_logging, run_async
from store import ledger
from store.engine import open_store


def audit(
    ctx: typer.Context,
    chain: Annotated[str | None, typer.Option("--chain", help="verify only this chain")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print verdicts as JSON lines")] = False,
) -> None:
    """Verify the ledger's hash chains; exit 1 if any link is broken."""
    settings: Settings = ctx.obj
    configure_logging(settings)
    verdicts = run_async(verify_chains(settings, chain))
    if as_json:
        for verdict in verdicts:
            typer.echo(verdict.model_dump_json())
    else:
        print_verdicts(verdicts)
    if any(not verdict.ok for verdict in verdicts):
        raise typer.Exit(1)


async def verify_chains(settings: Settings, chain: str | None) -> list[ChainVerdict]:
    async with open_store(settings.store_url) as engine:
        chain_ids = await ledger.chain_ids(engine)
        if chain is not None:
            if chain not in chain_ids:
                raise CliError(f"no chain {chain!r} in the store at {settings.store_url}")
            chain_ids = [chain]
        return [await ledger.verify_stored_chain(engine, chain_id) for chain_id in chain_ids]


def print_verdicts(verdicts: list[ChainVerdict]) -> None:
    console = Console()
    if not verdicts:
        console.print("no chains in the store")
        return
    table = Table(title="Ledger chains", title_justify="left")
    table.add_column("chain")
    table.add_column("entries", justify="right")
    table.add_column("verdict")
    for verdict in verdicts:
        if verdict.ok:
            outcome = "[green]intact[/green]"
        else:
            broken = verdict.broken
            row = f", row id {broken.row_id}" if broken.row_id is not None else ""
            outcome = f"[red]BROKEN[/red] at seq {broken.seq}{row}: {broken.kind} — {broken.detail}"
        table.add_row(verdict.chain_id, str(verdict.length), outcome)
    console.print(table)
    broken_count = sum(not verdict.ok for verdict in verdicts)
    console.print(f"{len(verdicts) - broken_count} intact, {broken_count} broken")
