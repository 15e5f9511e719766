"""ExperimentWorkflow: one study — the world drawn from the seed, every scenario, every campaign.

The world is generated here (pure and seeded, so a replay draws the same one), recorded once, and
each (scenario, campaign) runs as a child CampaignWorkflow; the scenarios share the world and the
random streams, so their differences come from how they work.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.ads import AdsActivities
    from models.ads import CampaignSpec, CampaignSummary, ExperimentSetup, ExperimentSpec, ExperimentSummary
    from sim.ads.data import generate_world
    from sim.ads.negotiation import matches
    from workflows.ads.campaign import CampaignWorkflow
    from workflows.common import search_attributes as sa


@workflow.defn
class ExperimentWorkflow:
    def __init__(self) -> None:
        self._done: dict[str, int] = {}
        self._total: dict[str, int] = {}

    @workflow.query
    def progress(self) -> dict[str, list[int]]:
        """Per scenario: [campaigns finished, campaigns in all]."""
        return {scenario: [self._done.get(scenario, 0), total] for scenario, total in self._total.items()}

    @workflow.run
    async def run(self, spec: ExperimentSpec) -> ExperimentSummary:
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
            retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=10)),
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
                runs.append(self._run_campaign(child))
        summaries = await asyncio.gather(*runs)
        return ExperimentSummary(experiment_id=spec.id, campaigns=tuple(summaries))

    async def _run_campaign(self, spec: CampaignSpec) -> CampaignSummary:
        summary = await workflow.execute_child_workflow(
            CampaignWorkflow.run, spec, id=f"{spec.experiment_id}/{spec.scenario}/{spec.campaign.id}"
        )
        self._done[spec.scenario] = self._done.get(spec.scenario, 0) + 1
        return summary
