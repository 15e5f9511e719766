"""The study's report: load an experiment's recorded rows, and write report.md, report.json, charts,
the event log (events.jsonl) and the narrative log (narrative.md).

Every figure comes from ``sim.ads.findings`` (a query over recorded rows); parameters are printed
in their own section and in their own JSON object, never as findings. The rows come from the store
only through ``store.ads`` and ``store.ads_report``: no SQL here.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from models.ads import ExperimentSpec, World
from models.ads_report import StudyRows
from report.charts import CHARTS, render_charts
from report.events import event_lines
from report.markdown import render_markdown
from report.narrative import render_narrative
from sim.ads.findings import Findings, sanity_checks
from sim.ads.statements import Statements, statements
from store import ads as ads_store
from store import ads_report as report_store
from store.files import write_atomically

__all__ = ["CHARTS", "load_study", "write_report"]


async def load_study(engine: AsyncEngine, experiment_id: str) -> tuple[ExperimentSpec, World, StudyRows]:
    """The experiment's spec, world and every recorded row; LookupError for an unknown id."""
    row = await ads_store.experiment(engine, experiment_id)
    if row is None:
        known = await ads_store.experiment_ids(engine)
        hint = (
            f" (known: {', '.join(known[:5])}{'…' if len(known) > 5 else ''})" if known else " (the store holds none)"
        )
        raise LookupError(f"no experiment {experiment_id!r} in the store{hint}")
    spec = ExperimentSpec.model_validate_json(row.spec_json)
    world = World.model_validate_json(row.world_json)
    return spec, world, await report_store.study_rows(engine, experiment_id)


# --- writing ----------------------------------------------------------------------------------------


def write_report(
    out_dir: Path, experiment_id: str, spec: ExperimentSpec, world: World, rows: StudyRows, findings: Findings
) -> list[Path]:
    """Write every report file atomically into ``out_dir``; returns the paths written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    checks = sanity_checks(spec, findings)
    said = statements(spec, findings)
    files: dict[str, bytes] = {
        "report.json": _report_json(spec, findings, said, checks),
        "report.md": render_markdown(experiment_id, spec, world, findings, checks, said).encode(),
        "events.jsonl": "".join(
            json.dumps(line, sort_keys=True, separators=(",", ":")) + "\n" for line in event_lines(rows)
        ).encode(),
        "narrative.md": render_narrative(experiment_id, spec, world, rows).encode(),
    }
    files.update(render_charts(findings))
    written = []
    for name, content in files.items():
        path = out_dir / name
        write_atomically(path, content)
        written.append(path)
    return written


def _report_json(spec: ExperimentSpec, findings: Findings, said: Statements, checks: list[str]) -> bytes:
    document = {
        "findings": findings.json_dict(),
        # The report's Findings and Conclusion sentences, generated from the figures above.
        "statements": said.model_dump(mode="json"),
        # The inputs, kept apart from the findings; no id, so equal seeds give equal bytes.
        "parameters": spec.model_dump(mode="json", exclude={"id"}),
        "checks": checks,
    }
    return (json.dumps(document, sort_keys=True, indent=2) + "\n").encode()
