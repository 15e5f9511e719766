"""Ads activities: the experiment's inputs, one batched write per campaign-day, reading the ledger back."""

from __future__ import annotations

import json
from collections import defaultdict

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.ledger import ledger_conflicts_are_final
from models.ads import DayRecord, ExperimentSetup, WorldSize
from sim.ads.slices import world_of
from sim.hashchain import verify_chain
from store import ads as ads_store
from store import ledger

# Metric names: the ads seed's `rtb_` names where it fixes one (deals completed, hallucinations, context
# rot events, with extra labels), the same `rtb_` prefix for the rest (README, Observability).
DEALS = Counter("rtb_deals_completed", "Deals struck", ["scenario"])
DEAL_ROUNDS = Histogram(
    "rtb_deal_rounds",
    "Negotiation rounds a deal took (deal latency, in rounds: negotiation takes no simulated time)",
    ["scenario"],
    buckets=(0, 1, 2, 3, 4, 5, 6, 8),
)
HALLUCINATIONS = Counter("rtb_hallucinations", "Fabricated claims injected", ["scenario", "agent_type"])
CONTEXT_LOSSES = Counter("rtb_context_rot_events", "Campaign-days on which an agent lost memory", ["scenario", "kind"])
SPEND = Counter("rtb_buyer_spend_micros", "Buyer spend, micros", ["scenario"])
FEES = Counter("rtb_exchange_fee_micros", "Exchange fees, micros", ["scenario"])
TAKE_RATE = Gauge(
    "rtb_take_rate", "Exchange fee / buyer spend, by scenario (this worker's share of the study)", ["scenario"]
)

_totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])


class AdsActivities:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @activity.defn(name="ads.register_experiment")
    async def register_experiment(self, setup: ExperimentSetup) -> bool:
        """The spec, the world and its ground-truth inventory. The world comes inline only from studies
        started before; otherwise it is generated here from the spec, so the input stays small."""
        spec = setup.spec
        world = setup.world or world_of(
            spec.seed,
            WorldSize(buyers=spec.buyers, sellers=spec.sellers, campaigns_per_buyer=spec.campaigns_per_buyer),
            spec.days,
        )
        inventory = [
            {
                "product_id": product.id,
                "day": day,
                "seller_id": product.seller_id,
                "channel": product.channel,
                "avails": product.daily_avails,
            }
            for product in world.products()
            for day in range(1, spec.days + 1)
        ]
        try:
            return await ads_store.register_experiment(
                self._engine,
                experiment_id=spec.id,
                seed=spec.seed,
                spec_json=spec.model_dump_json(),
                world_json=world.model_dump_json(),
                inventory=inventory,
            )
        except ads_store.ExperimentConflict as conflict:
            raise ApplicationError(str(conflict), type="ExperimentConflict", non_retryable=True) from None

    @activity.defn(name="ads.record_day")
    async def record_day(self, record: DayRecord) -> bool:
        """The day's rows and its ledger entries, in one transaction."""
        with ledger_conflicts_are_final():
            written = await ads_store.record_day(self._engine, record)
        if written:
            _count(record)
        return written

    @activity.defn(name="ads.read_ledger")
    async def read_ledger(self, chain_id: str) -> list[dict]:
        """The chain's payloads up to its first broken link: only what the chain still vouches for."""
        entries, _, head = await ledger.read_chain(self._engine, chain_id)
        verdict = verify_chain(entries, chain_id=chain_id, head=head)
        usable = entries if verdict.broken is None else entries[: verdict.broken.position]
        return [json.loads(entry.payload_json) for entry in usable]


def _count(record: DayRecord) -> None:
    scenario = record.scenario
    for deal in record.deals:
        DEALS.labels(scenario).inc()
        DEAL_ROUNDS.labels(scenario).observe(deal.rounds)
    for claim in record.claims:
        if claim.injected:
            HALLUCINATIONS.labels(scenario, claim.agent_type).inc()
    for event in record.context:
        if event.items_lost:
            CONTEXT_LOSSES.labels(scenario, event.kind).inc()
    spend = sum(d.buyer_spend for d in record.deliveries)
    fees = sum(d.exchange_fee for d in record.deliveries)
    SPEND.labels(scenario).inc(spend)
    FEES.labels(scenario).inc(fees)
    totals = _totals[scenario]
    totals[0] += spend
    totals[1] += fees
    if totals[0]:
        TAKE_RATE.labels(scenario).set(totals[1] / totals[0])
