"""The study's payloads do not grow with its world, and how its children are batched does not change its report."""

from __future__ import annotations

import uuid

from temporalio import workflow
from temporalio.client import Client

# The workflow class below makes the sandbox re-import this module: the project's modules come through
# as they do in the workflow modules.
with workflow.unsafe.imports_passed_through():
    import httpx
    from sqlalchemy.ext.asyncio import AsyncEngine

    from activities.ads import AdsActivities
    from activities.llm import NegotiationActivities
    from models.ads import AdsParams, CampaignSpec, ExperimentCarry, ExperimentSpec, ExperimentSummary
    from report import load_study, write_report
    from sim.ads.data import generate_world
    from sim.ads.findings import compute_findings
    from sim.ads.negotiation import matches
    from store import ads as ads_store
    from store.tables import AdsDayRow
    from tests.ads.conftest import SMALL
    from workflows.ads.campaign import CampaignWorkflow
    from workflows.ads.experiment import ExperimentWorkflow

# gRPC's default message limit, which a workflow task's completion (every command it carries) must fit in.
GRPC_LIMIT = 4 * 1024 * 1024
# Many sellers, so every campaign can use many products, and one day, so the run itself is short.
LARGE_WORLD = {"buyers": 5, "sellers": 200, "campaigns_per_buyer": 10, "days": 1}


def inline_first_task_bytes(spec: ExperimentSpec) -> int:
    """What the first version's first workflow task carried: every child's input, products inline."""
    world = generate_world(
        spec.seed,
        buyers=spec.buyers,
        sellers=spec.sellers,
        campaigns_per_buyer=spec.campaigns_per_buyer,
        days=spec.days,
    )
    products = world.products()
    return sum(
        len(
            CampaignSpec(
                experiment_id=spec.id,
                scenario=scenario,
                seed=spec.seed,
                days=spec.days,
                acceleration=spec.acceleration,
                params=spec.params,
                campaign=campaign,
                buyer=world.buyer(campaign.buyer_id),
                products=tuple(p for p in products if matches(campaign, p)),
            ).model_dump_json()
        )
        for scenario in spec.scenarios
        for campaign in world.campaigns
    )


async def largest_event(client: Client, workflow_id: str) -> tuple[int, int, int]:
    """(events, bytes, largest event's bytes) of the latest run of a workflow's history."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    sizes = [event.ByteSize() for event in history.events]
    return len(sizes), sum(sizes), max(sizes)


async def test_a_world_too_large_to_pass_inline_runs_with_small_payloads(study, sqlite_engine: AsyncEngine, client):
    spec, summary = await study(sqlite_engine, seed=7, **LARGE_WORLD)
    assert inline_first_task_bytes(spec) > GRPC_LIMIT, "the world is large enough to break the inline design"

    campaigns = LARGE_WORLD["buyers"] * LARGE_WORLD["campaigns_per_buyer"]
    assert summary.campaign_runs == 3 * campaigns
    assert [(t.scenario, t.campaigns) for t in summary.scenarios] == [
        ("A", campaigns),
        ("B", campaigns),
        ("C", campaigns),
    ]
    assert len(await ads_store.rows(sqlite_engine, AdsDayRow, spec.id)) == 3 * campaigns
    assert sum(t.deals for t in summary.scenarios) > 0

    events, size, largest = await largest_event(client, spec.id)
    assert largest < 16 * 1024, f"an experiment event of {largest} bytes: something is passed inline"
    assert size < GRPC_LIMIT / 4, (events, size)
    world = generate_world(7, **{k: v for k, v in LARGE_WORLD.items() if k != "days"}, days=1)
    _, _, child_largest = await largest_event(client, f"{spec.id}/C/{world.campaigns[0].id}")
    assert child_largest < 64 * 1024, child_largest


async def runs_of(client: Client, workflow_id: str) -> int:
    """How many runs a workflow's chain of continue-as-new holds, followed back from its latest run."""
    count, run_id = 0, ""
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id or None).fetch_history()
        count += 1
        started = history.events[0].workflow_execution_started_event_attributes
        if not started.continued_execution_run_id:
            return count
        run_id = started.continued_execution_run_id


@workflow.defn(name="ExperimentWorkflow")
class ExperimentInSmallBatches(ExperimentWorkflow):
    """The same workflow with two children at a time and continue-as-new after every five."""

    window = 2
    runs_per_execution = 5

    @workflow.run
    async def run(self, spec: ExperimentSpec, carry: ExperimentCarry | None = None) -> ExperimentSummary:
        return await super().run(spec, carry)


async def test_batching_and_continue_as_new_give_the_same_report(
    client: Client, run_worker, task_queue: str, ads_http: httpx.AsyncClient, sqlite_engine: AsyncEngine, tmp_path
):
    """12 campaign runs: once in one execution, once over three (5 + 5 + 2), the report's bytes equal."""
    store = AdsActivities(sqlite_engine)
    activities = [
        store.register_experiment,
        store.record_day,
        store.read_ledger,
        store.read_ledger_view,
        NegotiationActivities(ads_http).negotiate,
    ]
    reports = {}
    for name, experiment in (("one", ExperimentWorkflow), ("batched", ExperimentInSmallBatches)):
        spec = ExperimentSpec(
            id=f"scale-{name}-{uuid.uuid4().hex[:6]}", seed=5, params=AdsParams(context_survival=0.7), **SMALL
        )
        async with run_worker(workflows=[experiment, CampaignWorkflow], activities=activities):
            handle = await client.start_workflow(ExperimentWorkflow.run, spec, id=spec.id, task_queue=task_queue)
            summary = await handle.result()
        assert summary.campaign_runs == 12
        assert await runs_of(client, spec.id) == (1 if name == "one" else 3)
        loaded = await load_study(sqlite_engine, spec.id)
        out = tmp_path / name
        write_report(out, spec.id, *loaded, compute_findings(*loaded))
        reports[name] = ((out / "report.json").read_bytes(), summary.scenarios)
    assert reports["one"] == reports["batched"]
