"""report.md and the charts of an evolution run, rendered from hand-made rows with breaker and ML0 events."""

from __future__ import annotations

import struct

from report.otto.charts import CHARTS, render_charts
from report.otto.markdown import render_markdown
from sim.otto.findings import compute_findings
from tests.unit.otto.test_otto_findings import two_generations


def png_size(content: bytes) -> tuple[int, int]:
    assert content.startswith(b"\x89PNG\r\n\x1a\n") and content.endswith(b"IEND\xaeB`\x82")
    return struct.unpack(">II", content[16:24])


def test_breaker_events_are_tabled_and_every_chart_is_a_png() -> None:
    rows = two_generations()
    f = compute_findings(rows)
    markdown = render_markdown("run-x", rows.seed, rows.spec, f)
    assert "| gen | closed | half_open | opened | resumed | stalled | seconds waiting |" in markdown
    assert "| 1 | 1 | 1 | 2 | 1 | 1 | 150.0 |" in markdown
    assert "| Agent reuse across restarts | 0% | 100% | 100.0% (2 of 2 kept places re-used;" in markdown
    charts = render_charts(f)
    assert tuple(charts) == CHARTS
    assert all(png_size(content)[0] >= 1000 for content in charts.values())


def test_rows_from_before_health_events_say_so_instead_of_claiming_none() -> None:
    rows = two_generations()
    old = rows.model_copy(
        update={"generations": [g.model_copy(update={"health_events": None}) for g in rows.generations]}
    )
    markdown = render_markdown("run-x", old.seed, old.spec, compute_findings(old))
    assert "No breaker events recorded: this run's rows predate the recording of health events" in markdown
