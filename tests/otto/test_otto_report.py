"""`simctl otto report` on a real short evolution (dev server, embedded node): report.json's figures against the
store's rows, valid PNGs, the seed's Success Metrics table, and an unknown run refused in one line with nothing
written."""

from __future__ import annotations

import asyncio
import itertools
import json
import struct
import subprocess
import uuid
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from localnet.ottochain.server import OttoChainServer
from report.otto import CHARTS
from simctl import app as cli
from store import otto as otto_store
from store.tables import OttoAgentStatsRow, OttoGenerationRow, OttoGenerationTimeRow, OttoPopulationRow
from tests.cli.helpers import simctl as run_simctl
from tests.otto.test_evolution import (  # noqa: F401  (fixtures, found by pytest by name)
    evolution_spec,
    evolution_worker,
    evolution_worker_parts,
    evolve,
    store,
    wallets,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(content: bytes) -> tuple[int, int]:
    assert content.startswith(PNG_SIGNATURE)
    length, kind = struct.unpack(">I4s", content[8:16])
    assert kind == b"IHDR" and length == 13
    assert content.endswith(b"IEND\xaeB`\x82"), "a PNG ends with its IEND chunk"
    return struct.unpack(">II", content[16:24])


async def simctl(*args: str) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it: its own process (it runs its own event loop)."""
    return await asyncio.to_thread(run_simctl, *args)


async def test_the_report_of_a_real_run_agrees_with_the_store(
    client: Client,
    evolution_worker,  # noqa: F811
    task_queue: str,
    node: OttoChainServer,
    wallets: Path,  # noqa: F811
    store: AsyncEngine,  # noqa: F811
    tmp_path: Path,
):
    run_id = f"report-{uuid.uuid4().hex[:8]}"
    async with evolution_worker:
        await evolve(client, task_queue, evolution_spec(run_id, node.endpoints, wallets, population=6, generations=2))
        # A restart: the run resumed from its last checkpoint for one more generation.
        await evolve(
            client,
            task_queue,
            evolution_spec(run_id, node.endpoints, wallets, resume=True, generations=1, population=None),
            workflow_id=f"evolve-{run_id}",
        )
    database = ["--database-url", str(store.url.render_as_string(hide_password=False))]

    # An unknown run: one line naming the known ones, exit 2, nothing written.
    missing = tmp_path / "missing"
    refused = await simctl(*database, "otto", "report", "no-such-run", "--out", str(missing))
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1 and "no run 'no-such-run'" in refused.stderr and run_id in refused.stderr
    assert not missing.exists()

    out = tmp_path / "report"
    done = await simctl(*database, "otto", "report", run_id, "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"report of {run_id}: {2 + len(CHARTS)} files in {out}\n"
    assert {p.name for p in out.iterdir()} == {"report.md", "report.json", *CHARTS}, "no temporary file left"
    for chart in CHARTS:
        width, height = png_size((out / chart).read_bytes())
        assert width >= 1000 and height >= 550
    document = json.loads((out / "report.json").read_text())
    f = document["findings"]
    assert document["checks"] == [] == f["checks"]
    assert document["parameters"]["seed"] == 7

    generations = await otto_store.rows(store, OttoGenerationRow, run_id)
    agents = await otto_store.rows(store, OttoAgentStatsRow, run_id)
    lifecycles = [lc for row in generations for lc in json.loads(row["lifecycles_json"])]
    t = f["totals"]
    # initiated = completed + failed + in flight, from independent counts: agents' own rows and the lifecycles.
    assert t["initiated"] == sum(a["fibers_initiated"] for a in agents) == len(lifecycles)
    assert t["initiated"] == t["completed"] + t["failed_terminal"] + t["timed_out"] + t["child_failed"] + t["in_flight"]
    assert t["in_flight"] == 0 and t["generations"] == 3
    assert t["completed"] == sum(row["completed"] for row in generations) == sum(lc["success"] for lc in lifecycles)
    assert t["child_failed"] == sum(lc["status"] == "FAILED" for lc in lifecycles)
    assert t["completion_rate"] == pytest.approx(t["completed"] / t["initiated"])
    for found, row in zip(f["generations"], generations, strict=True):
        assert found["generation"] == row["generation"] and found["population"] == row["population_size"] == 6
        assert (found["fitness_min"], found["fitness_avg"], found["fitness_max"]) == (
            row["fitness_min"],
            row["fitness_avg"],
            row["fitness_max"],
        )
        assert found["completion_by_type"] == json.loads(row["stats_json"])["by_type"]
        assert sum(pair[1] for pair in found["completion_by_type"].values()) == row["lifecycles"]
        own = [a for a in agents if a["generation"] == row["generation"]]
        coop = [json.loads(a["traits_json"])["cooperativeness"] for a in own]
        assert found["traits"]["cooperativeness"]["mean"] == pytest.approx(sum(coop) / len(coop))
    assert f["mean_fitness_last"] == generations[-1]["fitness_avg"]

    # Attestations held by the final population: what each received over the run.
    [final] = [p for p in await otto_store.rows(store, OttoPopulationRow, run_id) if p["generation"] == 3]
    held = sorted(
        sum(a["attestations_received"] for a in agents if a["agent_id"] == member["agent_id"])
        for member in json.loads(final["members_json"])
    )
    assert f["attestations"]["held"] == held and f["attestations"]["agents"] == 6
    assert f["attestations"]["received_total"] == sum(a["attestations_received"] for a in agents)

    # Reuse from the allocation rows, across the restart too: the founders, then exactly the newcomers
    # selection asked for.
    taken = await otto_store.allocations(store, run_id)
    asked = sum(len(json.loads(row["stats_json"])["newcomers"]) for row in generations)
    r = f["reuse"]
    assert (r["allocated"], r["founders"], r["newcomers_requested"], r["unexplained"]) == (len(taken), 6, asked, 0)
    assert len(taken) == 6 + asked
    assert r["rate"] == 1.0 and r["places_kept"] == r["reused"] == 3 * 6 - asked

    # Uptime and pace from the generations' recorded times.
    times = await otto_store.rows(store, OttoGenerationTimeRow, run_id)
    assert [row["generation"] for row in times] == [0, 1, 2]
    assert all(row["started_at"] < row["finished_at"] for row in times)
    assert all(a["finished_at"] <= b["started_at"] for a, b in itertools.pairwise(times))
    u = f["uptime"]
    span = (times[-1]["finished_at"] - times[0]["started_at"]).total_seconds()
    running = sum((row["finished_at"] - row["started_at"]).total_seconds() for row in times)
    assert u["timed_generations"] == 3 and u["span_seconds"] == pytest.approx(span)
    assert u["running_seconds"] == pytest.approx(running) and 0 < u["running_share"] < 1, (
        "the restart is time no generation ran"
    )
    assert u["generations_per_day"] == pytest.approx(3 * 86400 / span)

    # Breaker events: whatever the stats recorded, counted as recorded.
    recorded = [json.loads(row["stats_json"]).get("health_events") for row in generations]
    assert f["breaker"]["recorded"] == all(events is not None for events in recorded)
    assert sum(f["breaker"]["totals"].values()) == sum(len(events or []) for events in recorded)

    metrics = {m["metric"]: m for m in f["success"]}
    assert list(metrics) == [
        "Fiber completion rate",
        "Agent reuse across restarts",
        "Attestations per agent",
        "Mean fitness score",
        "Uptime without crash",
        "Generations per day",
    ]
    assert metrics["Fiber completion rate"]["value"] == pytest.approx(t["completion_rate"])
    assert metrics["Agent reuse across restarts"]["met"] is True
    assert metrics["Uptime without crash"]["met"] is False, "a run of three generations is not a day long"
    markdown = (out / "report.md").read_text()
    assert "## Success Metrics" in markdown and "| Generations per day | ~50 |" in markdown
    assert all(f"]({chart})" in markdown for chart in CHARTS)


def test_a_report_without_a_store_creates_none(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    state, out = tmp_path / "state", tmp_path / "out"
    assert cli.run(["--state-dir", str(state), "otto", "report", "nope", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == f"simctl: no run 'nope': no results store at {(state / 'simctl.db').resolve()}\n"
    assert list(tmp_path.iterdir()) == [], "neither a store nor a state directory nor a report"
