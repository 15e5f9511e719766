"""ExperimentWorkflow: one study — the world drawn from the seed, every scenario, every campaign.

The world is a pure function of the spec: the registering activity generates it from the spec to store
it, and each (scenario, campaign) runs as a child CampaignWorkflow that derives its own slice from the
seed, so no payload grows with the world. The scenarios share the world and the random streams, so
their differences come from how they work.

Cost stays linear in the work: at most ``window`` children run at once (a new one starts as one ends),
the experiment keeps per-scenario totals rather than every campaign's summary (each campaign's figures
are in the store), and after ``runs_per_execution`` children it continues as new, so its history is
bounded whatever the study's size.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.ads import AdsActivities
    from models.ads import (
        CampaignSpec,
        CampaignSummary,
        ExperimentCarry,
        ExperimentSetup,
        ExperimentSpec,
        ExperimentSummary,
        ScenarioTotals,
        WorldSize,
    )
    from sim.ads.data import generate_world
    from sim.ads.negotiation import matches
    from sim.ads.slices import world_of
    from workflows.ads.campaign import CampaignWorkflow
    from workflows.common import search_attributes as sa

# Studies started before the windowed version ran every child at once; their histories replay that way.
WINDOWED = "ads-experiment-windowed"
REGISTER_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10))


@workflow.defn
class ExperimentWorkflow:
    # Children running at once: enough to keep the worker and the server busy, few enough that a first
    # workflow task's commands (and the server's backlog) stay the same size however large the study is.
    window = 100
    # Child runs per execution before continue-as-new: each adds fewer than ten events, so a run's
    # history stays under Temporal's 10,000-event warning.
    runs_per_execution = 1000

    def __init__(self) -> None:
        self._done: dict[str, int] = {}
        self._total: dict[str, int] = {}
        self._totals: dict[str, ScenarioTotals] = {}
        self._running = 0

    @workflow.query
    def progress(self) -> dict[str, list[int]]:
        """Per scenario: [campaigns finished, campaigns in all]."""
        return {scenario: [self._done.get(scenario, 0), total] for scenario, total in self._total.items()}

    @workflow.run
    async def run(self, spec: ExperimentSpec, carry: ExperimentCarry | None = None) -> ExperimentSummary:
        # The SDK applies the type hints only when the payloads match every parameter: a first run has
        # one (the spec), a continued run two, so the arguments may arrive as plain JSON values.
        spec = ExperimentSpec.model_validate(spec)
        carry = None if carry is None else ExperimentCarry.model_validate(carry)
        if not workflow.patched(WINDOWED):
            return await self._run_all_at_once(spec)
        workflow.upsert_search_attributes([sa.EXPERIMENT.value_set(spec.id)])
        size = WorldSize(buyers=spec.buyers, sellers=spec.sellers, campaigns_per_buyer=spec.campaigns_per_buyer)
        campaigns = world_of(spec.seed, size, spec.days).campaigns
        carry = carry or ExperimentCarry()
        if carry.next_run == 0:
            await workflow.execute_activity_method(
                AdsActivities.register_experiment,
                ExperimentSetup(spec=spec),
                start_to_close_timeout=timedelta(minutes=5),
                retry_policy=REGISTER_RETRY,
            )
        self._totals = {totals.scenario: totals for totals in carry.totals}
        for scenario in spec.scenarios:
            self._total[scenario] = len(campaigns)
            self._totals.setdefault(scenario, ScenarioTotals(scenario=scenario))
            self._done[scenario] = self._totals[scenario].campaigns

        runs = len(spec.scenarios) * len(campaigns)
        end = min(runs, carry.next_run + self.runs_per_execution)
        started = []
        for run in range(carry.next_run, end):
            await workflow.wait_condition(lambda: self._running < self.window)
            # Campaign by campaign, every scenario in turn: the scenarios advance together.
            index, nth = divmod(run, len(spec.scenarios))
            scenario = spec.scenarios[nth]
            child = CampaignSpec(
                experiment_id=spec.id,
                scenario=scenario,
                seed=spec.seed,
                days=spec.days,
                acceleration=spec.acceleration,
                params=spec.params,
                llm=spec.llm,
                world=size,
                campaign_index=index,
            )
            self._running += 1
            started.append(asyncio.create_task(self._run_campaign(child, campaigns[index].id)))
        await asyncio.gather(*started)

        totals = tuple(self._totals[scenario] for scenario in spec.scenarios)
        if end < runs:
            workflow.continue_as_new(args=[spec, ExperimentCarry(next_run=end, totals=totals)])
        return ExperimentSummary(experiment_id=spec.id, campaign_runs=runs, scenarios=totals)

    async def _run_campaign(self, spec: CampaignSpec, campaign_id: str) -> None:
        try:
            summary = await workflow.execute_child_workflow(
                CampaignWorkflow.run, spec, id=f"{spec.experiment_id}/{spec.scenario}/{campaign_id}"
            )
        finally:
            self._running -= 1
        self._totals[spec.scenario] = self._totals[spec.scenario].plus(summary)
        self._done[spec.scenario] = self._totals[spec.scenario].campaigns

    async def _run_all_at_once(self, spec: ExperimentSpec) -> ExperimentSummary:
        """The first version, kept so that the studies it ran still replay (``simctl audit``)."""
        workflow.upsert_search_attributes([sa.EXPERIMENT.value_set(spec.id)])
        world = generate_world(
            spec.seed,
            buyers=spec.buyers,
            sellers=spec.sellers,
            campaigns_per_buyer=spec.campaigns_per_buyer,
            days=spec.days,
        )
        await workflow.execute_activity_method(
            AdsActivities.register_experiment,
            ExperimentSetup(spec=spec, world=world),
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=REGISTER_RETRY,
        )
        products = world.products()
        runs = []
        for scenario in spec.scenarios:
            self._total[scenario] = len(world.campaigns)
            for campaign in world.campaigns:
                usable = tuple(product for product in products if matches(campaign, product))
                child = CampaignSpec(
                    experiment_id=spec.id,
                    scenario=scenario,
                    seed=spec.seed,
                    days=spec.days,
                    acceleration=spec.acceleration,
                    campaign=campaign,
                    buyer=world.buyer(campaign.buyer_id),
                    products=usable,
                    params=spec.params,
                    llm=spec.llm,
                )
                runs.append(self._run_legacy_campaign(child, campaign.id))
        summaries: list[CampaignSummary] = await asyncio.gather(*runs)
        totals = {scenario: ScenarioTotals(scenario=scenario) for scenario in spec.scenarios}
        for summary in summaries:
            totals[summary.scenario] = totals[summary.scenario].plus(summary)
        return ExperimentSummary(experiment_id=spec.id, campaign_runs=len(summaries), scenarios=tuple(totals.values()))

    async def _run_legacy_campaign(self, spec: CampaignSpec, campaign_id: str) -> CampaignSummary:
        summary = await workflow.execute_child_workflow(
            CampaignWorkflow.run, spec, id=f"{spec.experiment_id}/{spec.scenario}/{campaign_id}"
        )
        self._done[spec.scenario] = self._done.get(spec.scenario, 0) + 1
        return summary
