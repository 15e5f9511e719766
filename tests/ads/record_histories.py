"""Record the histories that tests/ads/test_replay.py replays: one tiny study, every scenario.

    .venv/bin/python -m tests.ads.record_histories [TAG]   (needs nothing running: starts what it needs)

Writes ``[TAG-]experiment.json`` (the ExperimentWorkflow) and ``[TAG-]campaign-<scenario>-<campaign>.json``
(each CampaignWorkflow) to tests/ads/histories/; without a tag it overwrites the baseline files. Re-record
only on purpose: for a new workflow type, or after a deliberate, versioned change (``workflow.patched()``)
whose new branch the saved histories should cover; then pass a tag (e.g. ``v2``) so the old histories stay
beside the new ones and keep proving that the old branch replays. Never re-record to make a failing
replay pass: that failure says the histories ``simctl audit`` replays no longer replay.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import uuid
from pathlib import Path

import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Worker

from activities.ads import AdsActivities
from activities.llm import NegotiationActivities
from bench.server import benchmark_client
from models.ads import AdsParams, ExperimentSpec
from sim.ads.data import generate_world
from store.engine import open_store
from workflows.ads.campaign import CampaignWorkflow
from workflows.ads.experiment import ExperimentWorkflow

OUT = Path(__file__).parent / "histories"

# Tiny on purpose (the files stay small), yet every path of a campaign's day is taken: seed 41 starts the
# one campaign on day 1, so B and C have time to negotiate (min_deal_days), and the low survival makes
# the buyer forget overnight, so C rebuilds its memory from the ledger (the read_ledger local activity).
# A non-zero acceleration puts the simulated days on durable timers.
SPEC = ExperimentSpec(
    id="ads-replay",
    scenarios=("A", "B", "C"),
    days=3,
    buyers=1,
    sellers=2,
    campaigns_per_buyer=1,
    seed=41,
    acceleration=86_400 * 20,
    params=AdsParams(context_survival=0.5),
)


def local_activities(history: WorkflowHistory) -> list[str]:
    """The local activities a history records, by their markers' activity type."""
    names = []
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            details = event.marker_recorded_event_attributes.details
            if "data" in details:
                names.append(json.loads(details["data"].payloads[0].data).get("activity_type", ""))
    return names


def check_coverage(campaigns: dict[str, WorkflowHistory]) -> None:
    """The histories must exercise what a replay is meant to check; a changed world should fail loudly here."""
    assert {name.split("-")[1] for name in campaigns} == set(SPEC.scenarios)
    for name, history in campaigns.items():
        scenario = name.split("-")[1]
        called = local_activities(history)
        if scenario in "BC":
            assert "llm.negotiate" in called, f"{name}: no negotiation"
        if scenario == "C":
            # Before the ledger-checks version C read the chain only to recover; since, every morning after the first.
            assert {"ads.read_ledger", "ads.read_ledger_view"} & set(called), f"{name}: no read of the ledger"
        timers = [e for e in history.events if e.event_type == EventType.EVENT_TYPE_TIMER_FIRED]
        assert timers, f"{name}: no simulated day waited on a timer"


async def fetch(client: Client, workflow_id: str) -> WorkflowHistory:
    return await client.get_workflow_handle(workflow_id).fetch_history()


def save(name: str, history: WorkflowHistory) -> Path:
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(json.loads(history.to_json()), indent=1) + "\n")
    return path


async def main(tag: str = "") -> None:
    with tempfile.TemporaryDirectory() as scratch:
        async with (
            benchmark_client(None, in_memory=True) as (client, _),
            open_store(f"sqlite+aiosqlite:///{Path(scratch) / 'study.db'}") as engine,
            httpx.AsyncClient() as http,
        ):
            store = AdsActivities(engine)
            queue = f"record-{uuid.uuid4().hex[:6]}"
            async with Worker(
                client,
                task_queue=queue,
                workflows=[ExperimentWorkflow, CampaignWorkflow],
                activities=[
                    store.register_experiment,
                    store.record_day,
                    store.read_ledger,
                    store.read_ledger_view,
                    NegotiationActivities(http).negotiate,
                ],
            ):
                await client.execute_workflow(ExperimentWorkflow.run, SPEC, id=SPEC.id, task_queue=queue)
            experiment = await fetch(client, SPEC.id)
            world = generate_world(
                SPEC.seed,
                buyers=SPEC.buyers,
                sellers=SPEC.sellers,
                campaigns_per_buyer=SPEC.campaigns_per_buyer,
                days=SPEC.days,
            )
            campaigns = {
                f"campaign-{scenario}-{c.id}": await fetch(client, f"{SPEC.id}/{scenario}/{c.id}")
                for scenario in SPEC.scenarios
                for c in world.campaigns
            }
    check_coverage(campaigns)
    OUT.mkdir(exist_ok=True)
    prefix = f"{tag}-" if tag else ""
    for name, history in {"experiment": experiment, **campaigns}.items():
        path = save(prefix + name, history)
        print(f"{path}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:2]))
