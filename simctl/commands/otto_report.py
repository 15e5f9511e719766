"""`simctl otto report RUN_ID --out DIR`: an evolution run's report from the rows it recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from models.settings import Settings
from simctl.errors import CliError
from simctl.runner import configure_logging


def report(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="the run's id (printed by `simctl otto evolve`)")],
    out: Annotated[Path, typer.Option("--out", help="directory for report.md, report.json and the charts")],
) -> None:
    """Write the run's report: the seed's Success Metrics table measured, and charts by generation."""
    from report.otto import load_run, write_report
    from sim.otto.findings import compute_findings
    from simctl.store_reads import read_recorded

    settings: Settings = ctx.obj
    configure_logging(settings)
    if out.exists() and not out.is_dir():
        raise CliError(f"--out {out} is not a directory")
    rows = read_recorded(settings, f"no run {run_id!r}", lambda engine: load_run(engine, run_id))
    findings = compute_findings(rows)
    written = write_report(out, run_id, rows, findings)
    typer.echo(f"report of {run_id}: {len(written)} files in {out}")
