"""The monero run's report: load a run's recorded rows, write report.md, report.json and the PNG charts.

Every figure comes from ``sim.monero.findings`` (computed over the rows ``store.monero_report`` reads); the
run's config is printed apart from the findings, in its own section and its own JSON object.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from models.monero import MoneroConfig
from models.monero_report import RunRows
from report.monero.charts import CHARTS, render_charts
from report.monero.markdown import render_markdown
from sim.monero.findings import Findings
from store import monero as monero_store
from store import monero_report as report_store
from store.files import write_atomically

__all__ = ["CHARTS", "load_run", "write_report"]


async def load_run(engine: AsyncEngine, run_id: str) -> tuple[MoneroConfig, RunRows]:
    """The run's config and every recorded row; LookupError for an unknown id."""
    rows = await report_store.run_rows(engine, run_id)
    if rows is None:
        known = await monero_store.run_ids(engine)
        hint = (
            f" (known: {', '.join(known[:5])}{'…' if len(known) > 5 else ''})" if known else " (the store holds none)"
        )
        raise LookupError(f"no monero run {run_id!r} in the store{hint}")
    return MoneroConfig.model_validate_json(rows.run.config_json), rows


def write_report(out_dir: Path, config: MoneroConfig, findings: Findings) -> list[Path]:
    """Every report file, each written atomically into ``out_dir``, charts first and report.md last (a directory
    with a report.md is complete); the paths written."""
    files: dict[str, bytes] = dict(render_charts(findings))
    files["report.json"] = _report_json(config, findings)
    files["report.md"] = render_markdown(config, findings).encode()
    written = []
    for name, content in files.items():
        path = Path(out_dir) / name
        write_atomically(path, content)
        written.append(path)
    return written


def _report_json(config: MoneroConfig, findings: Findings) -> bytes:
    document = {
        "findings": findings.json_dict(),
        # The inputs, kept apart from the findings.
        "parameters": config.model_dump(mode="json"),
        "checks": findings.checks,
    }
    return (json.dumps(document, sort_keys=True, indent=2) + "\n").encode()
