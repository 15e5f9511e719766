"""CampaignWorkflow: one campaign in one scenario, day by simulated day, through its whole flight.

Each day reads like the business it models: in A the buyer bids through the exchange; in B and C the
buyer wakes up with whatever memory survived the night (in C, rebuilt from the ledger), looks for
deals if what it knows cannot carry the flight, and is served and pays. The day's records, ledger
entries included, go to the store in one activity; the ledger entries and their hashes are computed
here, so a replay of this history re-derives the chain exactly.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.ads import AdsActivities
    from activities.llm import NegotiationActivities
    from models.ads import CampaignSpec, CampaignSummary, DayRecord, Event, LedgerView, NegotiationRequest
    from sim.ads.campaign import (
        CampaignState,
        Day,
        auction_day,
        book,
        deliver_day,
        ledger_records,
        morning,
        needs_deals,
        offers,
        recover,
        restore,
        stream,
    )
    from sim.ads.slices import campaign_slice
    from workflows.common import search_attributes as sa
    from workflows.common.clock import ClockState, SimClock
    from workflows.common.ledger import ChainWriter, new_chain

STORE_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10))
DAY = 86_400
# Every search-attribute update is a visibility write; at full speed a day passes in well under a
# second, so SimDay is published at most this often (and always on the last day).
PROGRESS_EVERY = timedelta(seconds=5)
# C's buyer reads its ledger every morning and checks claims against it, not against the truth; the
# ledger carries quotes, negotiation steps and reported deliveries. Histories from before replay unpatched.
LEDGER_CHECKS = "ads-c-ledger-checks"
# Fabrication sizes drawn from a range that includes small ones (sim.ads.hallucination.GRADED).
GRADED_FABRICATIONS = "ads-graded-fabrications"
# Inventory truth by day, a restart hazard rising with the days since the last restart, second price plus the
# seed's $0.01, the buyer masked in the seller's record of an A deal (sim.ads.campaign, "world_fidelity").
WORLD_FIDELITY = "ads-world-fidelity"
# An LLM negotiation's calls and tokens (from the endpoint's `usage`) go to the event log, so the report
# can price them; histories from before record none.
LLM_USAGE_EVENTS = "ads-llm-usage-events"


@workflow.defn
class CampaignWorkflow:
    def __init__(self) -> None:
        self._day = 0
        self._published_at: datetime | None = None

    @workflow.query
    def day(self) -> int:
        return self._day

    @workflow.run
    async def run(self, spec: CampaignSpec) -> CampaignSummary:
        if spec.campaign is not None and spec.buyer is not None:
            campaign, buyer, products = spec.campaign, spec.buyer, spec.products
        else:
            if spec.world is None or spec.campaign_index is None:
                raise ApplicationError(
                    "a CampaignSpec names its campaign inline or by world and campaign_index", non_retryable=True
                )
            # Derived from the seed (pure, memoised per process): the input stays small however large the world.
            picked = campaign_slice(spec.seed, spec.world, spec.days, spec.campaign_index)
            campaign, buyer, products = picked.campaign, picked.buyer, picked.products
        state = CampaignState(
            scenario=spec.scenario,
            seed=spec.seed,
            campaign=campaign,
            buyer=buyer,
            products={p.id: p for p in products},
            params=spec.params,
            ledger_checks=spec.scenario == "C" and workflow.patched(LEDGER_CHECKS),
            graded_fabrications=spec.scenario != "A" and workflow.patched(GRADED_FABRICATIONS),
            world_fidelity=workflow.patched(WORLD_FIDELITY),
        )
        chain_id = f"ads/{spec.experiment_id}/{spec.scenario}/{campaign.id}"
        chain = ChainWriter(new_chain(chain_id), author=buyer.id)
        clock = SimClock(ClockState(acceleration=spec.acceleration, now=(campaign.start_day - 1) * DAY))
        llm_calls_left = spec.llm.calls_per_campaign if spec.llm else 0
        workflow.upsert_search_attributes(
            [
                sa.EXPERIMENT.value_set(spec.experiment_id),
                sa.SCENARIO.value_set(spec.scenario),
                sa.CAMPAIGN.value_set(campaign.id),
            ]
        )

        for day in range(campaign.start_day, campaign.end_day + 1):
            self._day = day
            self._publish_progress(day, last=day == campaign.end_day)
            today = Day()
            if spec.scenario == "A":
                auction_day(state, day, today)
            else:
                if state.ledger_checks and day > campaign.start_day:
                    view = await self._read_ledger_view(chain_id)
                    state.ledger = view
                    if view.head is not None:
                        # The buyer continues the chain the store vouches for, as it reads it.
                        chain = ChainWriter(view.head, author=buyer.id)
                lost = morning(state, day, today)
                if lost and state.ledger_checks:
                    restore(state, lost, state.ledger.memory, today)
                elif lost and spec.scenario == "C":
                    recover(state, day, lost, await self._read_ledger(chain_id), today)
                if needs_deals(state, day):
                    chosen = offers(state, day, today)
                    if chosen:
                        # Local: a cheap, deterministic computation whose result the history records.
                        outcome = await workflow.execute_local_activity_method(
                            NegotiationActivities.negotiate,
                            NegotiationRequest(
                                experiment_id=spec.experiment_id,
                                scenario=spec.scenario,
                                day=day,
                                campaign=campaign,
                                tier=buyer.tier,
                                offers=tuple(chosen),
                                params=spec.params,
                                seed=stream(spec.seed, campaign.id, day, "negotiation").getrandbits(63),
                                llm=spec.llm,
                                llm_calls_left=llm_calls_left,
                            ),
                            start_to_close_timeout=timedelta(minutes=5),
                            retry_policy=STORE_RETRY,
                        )
                        llm_calls_left -= outcome.llm_calls
                        if outcome.engine == "llm" and workflow.patched(LLM_USAGE_EVENTS):
                            today.event(
                                "llm",
                                calls=outcome.llm_calls,
                                fallbacks=outcome.llm_fallbacks,
                                prompt_tokens=outcome.llm_prompt_tokens,
                                completion_tokens=outcome.llm_completion_tokens,
                            )
                        book(state, day, list(outcome.negotiations), chosen, today)
                deliver_day(state, day, today)

            for author, payload in ledger_records(state, today):
                chain.add(payload, sim_time=clock.now, author=author)
            await workflow.execute_activity_method(
                AdsActivities.record_day,
                DayRecord(
                    experiment_id=spec.experiment_id,
                    scenario=spec.scenario,
                    campaign_id=campaign.id,
                    day=day,
                    deals=today.deals,
                    deliveries=today.deliveries,
                    claims=today.claims,
                    context=today.context,
                    events=[Event(day=day, kind=kind, data=data) for kind, data in today.events],
                    ledger=chain.take(),
                ),
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=STORE_RETRY,
            )
            await clock.advance(DAY)

        return CampaignSummary(
            scenario=spec.scenario,
            campaign_id=campaign.id,
            deals=len(state.deals),
            impressions=state.impressions,
            buyer_spend=state.spent,
            exchange_fee=state.exchange_fees,
            negotiations=state.negotiations,
        )

    def _publish_progress(self, day: int, *, last: bool) -> None:
        now = workflow.now()
        if last or self._published_at is None or now - self._published_at >= PROGRESS_EVERY:
            workflow.upsert_search_attributes([sa.SIM_DAY.value_set(day)])
            self._published_at = now

    async def _read_ledger_view(self, chain_id: str) -> LedgerView:
        return await workflow.execute_local_activity_method(
            AdsActivities.read_ledger_view,
            chain_id,
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=STORE_RETRY,
        )

    async def _read_ledger(self, chain_id: str) -> list[dict[str, Any]]:
        return await workflow.execute_local_activity_method(
            AdsActivities.read_ledger,
            chain_id,
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=STORE_RETRY,
        )
