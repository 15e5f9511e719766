"""Ids with quotes reach Temporal's visibility quoted: the server parses every query simctl builds,
and `start-campaign --wait`, `status` and `audit --experiment` work for a study named with a quote."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid

from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from simctl import visibility
from tests.cli.helpers import Service, environment, simctl
from tests.polling import eventually
from workers.metrics import free_port
from workflows.common import search_attributes as sa


async def test_the_dev_server_parses_quoted_values_and_matches_a_single_quote(client: Client):
    """Nothing polls the queue: the workflows only carry search attributes, and are terminated after."""
    tag = uuid.uuid4().hex[:8]
    values = {
        name: f"{tag}-{text}" for name, text in {"quote": "it's", "double": 'say "hi"', "backslash": "a\\b"}.items()
    }
    handles = [
        await client.start_workflow(
            "CampaignWorkflow",
            id=f"quoted-{tag}-{name}",
            task_queue=f"nobody-{tag}",
            search_attributes=TypedSearchAttributes([SearchAttributePair(sa.EXPERIMENT, value)]),
        )
        for name, value in values.items()
    ]
    try:

        async def found(value: str) -> list[str]:
            return [execution.id async for execution in client.list_workflows(visibility.experiment_campaigns(value))]

        assert await eventually(lambda: found(values["quote"]), what="the workflow tagged it's") == [
            f"quoted-{tag}-quote"
        ]
        # Parsed without error; SQLite visibility matches neither (why start-campaign refuses such ids).
        assert await found(values["double"]) == [] and not visibility.matchable(values["double"])
        assert await found(values["backslash"]) == [] and not visibility.matchable(values["backslash"])
        assert await found(f'{tag}" OR WorkflowType = "CampaignWorkflow') == [], "a value cannot widen the query"
    finally:
        for handle in handles:
            await handle.terminate("test over")


async def test_a_study_named_with_a_quote_runs_shows_in_status_and_audits(tmp_path):
    experiment = f"it's-{uuid.uuid4().hex[:6]}"
    address = f"127.0.0.1:{free_port()}"
    env = environment(SIMCTL_UI_PORT=str(free_port()), SIMCTL_METRICS_PORT="0")
    base = ("--address", address, "--state-dir", str(tmp_path))
    # One campaign of one simulated day that lasts ~30 s of real time, so `status` can see it running.
    started = await Service.start(
        sys.executable,
        "-m",
        "simctl",
        *base,
        "start-campaign",
        "--wait",
        "--id",
        experiment,
        "--scenarios",
        "C",
        "--days",
        "1",
        "--buyers",
        "1",
        "--sellers",
        "1",
        "--campaigns-per-buyer",
        "1",
        "--acceleration",
        "2880",
        env=env,
    )
    try:
        await started.wait_for(rf"^{experiment}$", timeout=120)

        async def running() -> dict | None:
            result = await asyncio.to_thread(simctl, *base, "--no-embedded", "status", "--json", env=env)
            assert result.returncode == 0, result.stderr
            studies = {s["experiment_id"]: s for s in json.loads(result.stdout)["studies"]}
            return studies.get(experiment)

        shown = await eventually(running, timeout=25, interval=0.5, what="the running study in `simctl status`")
        assert [s["scenario"] for s in shown["scenarios"]] == ["C"]
        assert shown["scenarios"][0]["campaign_days"] == 1

        assert started.process.stdout is not None
        rest = await asyncio.wait_for(started.process.stdout.read(), timeout=120)
        output = started.output + rest.decode(errors="replace")
        assert await started.process.wait() == 0, output
        assert f"{experiment}: 1 campaign runs completed" in output
    finally:
        started.kill()

    audit = await asyncio.to_thread(simctl, *base, "audit", "--experiment", experiment, "--json", env=env)
    assert audit.returncode == 0, audit.stderr + audit.stdout
    report = json.loads(audit.stdout)
    assert report["ok"] and report["experiments"] == [experiment]
    assert report["history"]["histories"] == 1, "the campaign's history was found by its quoted Experiment"
    assert report["history"]["chains_checked"] == len(report["chains"]), "(a tiny study may strike no deal)"
    assert not report["history"]["mismatches"] and not report["history"]["replay_failures"]


def test_an_id_visibility_cannot_match_is_refused(tmp_path):
    result = simctl("--state-dir", str(tmp_path), "start-campaign", "--id", 'say "hi"')
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--id must not contain a double quote or a backslash" in result.stderr
