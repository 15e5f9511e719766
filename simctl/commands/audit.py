"""`simctl audit`: three checks, each reported on its own.

(a) every hash chain in the store is intact (the first broken link is named);
(b) for the ads experiments, the store holds exactly the ledger entries the campaign workflows'
    histories say were written;
(c) every campaign history replays with the current code, so each chain is re-derivable from history.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from models.ledger import ChainVerdict
from models.settings import Settings
from simctl.errors import CliError
from simctl.history_audit import HistoryAudit, campaign_histories, compare, replay, written_entries
from simctl.runner import configure_logging, run_async
from store import ads as ads_store
from store import ledger
from store.engine import open_store, sqlite_file
from workers.stack import open_stack


@dataclass
class AuditReport:
    verdicts: list[ChainVerdict]
    experiments: list[str] = field(default_factory=list)
    history: HistoryAudit | None = None

    @property
    def ok(self) -> bool:
        history_ok = self.history is None or not (self.history.mismatches or self.history.replay_failures)
        return all(verdict.ok for verdict in self.verdicts) and history_ok


def audit(
    ctx: typer.Context,
    chain: Annotated[str | None, typer.Option("--chain", help="verify only this chain")] = None,
    experiment: Annotated[
        str | None, typer.Option("--experiment", help="check only this ads experiment against its history")
    ] = None,
    history: Annotated[
        bool, typer.Option("--history/--no-history", help="checks (b) and (c) against Temporal [on]")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Verify the ledger: chains intact, store equal to history, histories replayable. Exit 1 on any failure."""
    settings: Settings = ctx.obj
    configure_logging(settings)
    report = run_async(run_audit(settings, chain, experiment, history))
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "ok": report.ok,
                    "chains": [verdict.model_dump() for verdict in report.verdicts],
                    "experiments": report.experiments,
                    "history": asdict(report.history) if report.history else None,
                },
                indent=2,
            )
        )
    else:
        print_report(report)
    if not report.ok:
        raise typer.Exit(1)


async def run_audit(settings: Settings, chain: str | None, experiment: str | None, with_history: bool) -> AuditReport:
    store_file = sqlite_file(settings.store_url)
    if store_file is not None and not store_file.exists():
        # Opening the store would create it: an audit reads, and leaves no empty store behind.
        raise CliError(f"nothing to audit: no results store at {store_file}")
    async with open_store(settings.store_url) as engine:
        chain_ids = await ledger.chain_ids(engine)
        if chain is not None:
            if chain not in chain_ids:
                raise CliError(f"no chain {chain!r} in the store at {settings.store_url}")
            chain_ids = [chain]
        experiments = await ads_store.experiment_ids(engine)
        if experiment is not None:
            if experiment not in experiments:
                raise CliError(f"no experiment {experiment!r} in the store at {settings.store_url}")
            experiments = [experiment]
            chain_ids = [c for c in chain_ids if c.startswith(f"ads/{experiment}/")]
        report = AuditReport(
            verdicts=[await ledger.verify_stored_chain(engine, c) for c in chain_ids], experiments=experiments
        )
        if with_history and experiments:
            report.history = await _check_histories(settings, engine, experiments, chain)
    return report


async def _check_histories(settings: Settings, engine, experiments: list[str], only_chain: str | None) -> HistoryAudit:
    findings = HistoryAudit()
    async with open_stack(settings, worker="never") as stack:
        for experiment in experiments:
            histories = await campaign_histories(stack.client, experiment)
            findings.histories += len(histories)
            written: dict[str, list] = {}
            for history in histories:
                for entry in written_entries(history):
                    written.setdefault(entry.chain_id, []).append(entry)
            stored_chains = [c for c in await ledger.chain_ids(engine) if c.startswith(f"ads/{experiment}/")]
            for chain_id in sorted(set(written) | set(stored_chains)):
                if only_chain is not None and chain_id != only_chain:
                    continue
                stored, _, _ = await ledger.read_chain(engine, chain_id)
                findings.chains_checked += 1
                findings.mismatches.extend(compare(chain_id, written.get(chain_id, []), stored))
            findings.replay_failures.extend(await replay(histories))
    return findings


def print_report(report: AuditReport) -> None:
    console = Console()
    if not report.verdicts:
        console.print("(a) no chains in the store")
    else:
        table = Table(title="(a) Ledger chains", title_justify="left")
        table.add_column("chain")
        table.add_column("entries", justify="right")
        table.add_column("verdict")
        for verdict in report.verdicts:
            broken = verdict.broken
            if broken is None:
                outcome = "[green]intact[/green]"
            else:
                row = f", row id {broken.row_id}" if broken.row_id is not None else ""
                outcome = f"[red]BROKEN[/red] at seq {broken.seq}{row}: {broken.kind} — {broken.detail}"
            table.add_row(verdict.chain_id, str(verdict.length), outcome)
        console.print(table)
        broken_count = sum(not verdict.ok for verdict in report.verdicts)
        console.print(f"(a) {len(report.verdicts) - broken_count} intact, {broken_count} broken")
    if report.history is None:
        console.print("(b), (c) not run" if report.experiments else "(b), (c) no ads experiments in the store")
        return
    history = report.history
    if history.mismatches:
        for finding in history.mismatches:
            console.print(f"(b) [red]MISMATCH[/red] {finding.chain_id}: {finding.detail}")
    console.print(
        f"(b) {history.chains_checked} chains compared with {history.histories} histories: "
        f"{len(history.mismatches)} mismatches"
    )
    for finding in history.replay_failures:
        console.print(f"(c) [red]REPLAY FAILED[/red] {finding.chain_id}: {finding.detail}")
    console.print(f"(c) {history.histories} histories replayed: {len(history.replay_failures)} failures")
