"""The evolution run's report: load a run's recorded rows, and write report.md, report.json and the charts.

Every figure comes from ``sim.otto.findings`` over the rows ``store.otto_report`` reads; the run's inputs
are printed apart from them. No SQL here.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from models.otto_report import RunFindings, RunRows
from report.otto.charts import CHARTS, render_charts
from report.otto.markdown import render_markdown
from store import otto as otto_store
from store import otto_report as report_store
from store.files import write_atomically

__all__ = ["CHARTS", "load_run", "write_report"]


async def load_run(engine: AsyncEngine, run_id: str) -> RunRows:
    """Every recorded row of the run; LookupError for a run the store does not hold."""
    rows = await report_store.run_rows(engine, run_id)
    if rows is None:
        known = await otto_store.run_ids(engine)
        hint = (
            f" (known: {', '.join(known[:5])}{'…' if len(known) > 5 else ''})" if known else " (the store holds none)"
        )
        raise LookupError(f"no run {run_id!r} in the store{hint}")
    return rows


def write_report(out_dir: Path, run_id: str, rows: RunRows, findings: RunFindings) -> list[Path]:
    """Every report file, each written atomically into ``out_dir``; returns the paths written."""
    files: dict[str, bytes] = {
        "report.json": _report_json(run_id, rows, findings),
        "report.md": render_markdown(run_id, rows.seed, rows.spec, findings).encode(),
        **render_charts(findings),
    }
    written = []
    for name, content in files.items():
        path = Path(out_dir) / name
        write_atomically(path, content)
        written.append(path)
    return written


def _report_json(run_id: str, rows: RunRows, findings: RunFindings) -> bytes:
    document = {
        "run_id": run_id,
        "findings": findings.model_dump(mode="json"),
        # The inputs, apart from the findings.
        "parameters": {"seed": rows.seed, "spec": rows.spec},
        "checks": findings.checks,
    }
    return (json.dumps(document, sort_keys=True, indent=2) + "\n").encode()
