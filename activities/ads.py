"""Ads activities: the experiment's inputs, one batched write per campaign-day, reading the ledger back."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.ledger import ledger_conflicts_are_final
from models.ads import AdsParams, DayRecord, ExperimentSetup, ExperimentSpec, LedgerView, WorldSize
from sim.ads.campaign import ledger_view
from sim.ads.hallucination import detect
from sim.ads.inventory import true_inventory
from sim.ads.slices import world_of
from store import ads as ads_store
from store import ledger

# Metric names: the ads seed's `rtb_` names where it fixes one (deals completed, deal latency, hallucinations,
# context rot events, with extra labels), the same `rtb_` prefix for the rest (README, Observability).
DEALS = Counter("rtb_deals_completed", "Deals struck", ["scenario"])
DAY_SECONDS = 86_400
DEAL_LATENCY = Histogram(
    "rtb_deal_latency_seconds",
    "Simulated seconds from a campaign's first contact with the counterparty (A: first auction for the product; "
    "B, C: first negotiation with the seller) to the deal; simulated time passes by whole days",
    ["scenario"],
    buckets=tuple(DAY_SECONDS * days for days in (0, 1, 2, 3, 5, 7, 14, 21, 30)),
)
DEAL_ROUNDS = Histogram(
    "rtb_deal_rounds",
    "Negotiation rounds a deal took (negotiation takes no simulated time)",
    ["scenario"],
    buckets=(0, 1, 2, 3, 4, 5, 6, 8),
)
HALLUCINATIONS = Counter(
    "rtb_hallucinations",
    "Claims the study's detector flags (relative error above the experiment's detection tolerance)",
    ["scenario", "agent_type"],
)
HALLUCINATIONS_INJECTED = Counter(
    "rtb_hallucinations_injected", "Fabricated claims the simulation injected", ["scenario", "agent_type"]
)
CONTEXT_LOSSES = Counter("rtb_context_rot_events", "Campaign-days on which an agent lost memory", ["scenario", "kind"])
SPEND = Counter("rtb_buyer_spend_micros", "Buyer spend, micros", ["scenario"])
FEES = Counter("rtb_exchange_fee_micros", "Exchange fees, micros", ["scenario"])
TAKE_RATE = Gauge(
    "rtb_take_rate",
    "Exchange fee / buyer spend per experiment and scenario (this worker's share of the experiment)",
    ["experiment", "scenario"],
)
# Gauges of the experiments a worker saw last; older ones are dropped so a long-lived worker's series stay bounded.
GAUGED_EXPERIMENTS = 20

# (experiment, scenario) -> [spend, fees] this worker recorded, for the take-rate gauge.
_totals: dict[tuple[str, str], list[int]] = {}
_gauged: dict[str, None] = {}


class AdsActivities:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._params: dict[str, AdsParams] = {}

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
        # Each product-day's truth as the campaigns' world meets it (sim.ads.inventory): for the report, never agents.
        inventory = []
        for product in world.products():
            for day in range(1, spec.days + 1):
                truth = true_inventory(spec.seed, product, day, spec.params)
                inventory.append(
                    {
                        "product_id": product.id,
                        "day": day,
                        "seller_id": product.seller_id,
                        "channel": product.channel,
                        "avails": truth.avails,
                        "fill_rate": truth.fill_rate,
                    }
                )
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
        if written is None:
            return False
        params = await self._experiment_params(record.experiment_id) if record.claims else None
        _count(record, written.first_contact, params)
        return True

    async def _experiment_params(self, experiment_id: str) -> AdsParams:
        """The experiment's parameters (its detection tolerance), read once per worker and experiment."""
        if experiment_id not in self._params:
            row = await ads_store.experiment(self._engine, experiment_id)
            if row is None:
                raise ApplicationError(f"experiment {experiment_id!r} is not registered", non_retryable=True)
            self._params[experiment_id] = ExperimentSpec.model_validate_json(row.spec_json).params
        return self._params[experiment_id]

    @activity.defn(name="ads.read_ledger")
    async def read_ledger(self, chain_id: str) -> list[dict]:
        """The chain's payloads up to its first broken link: only what the chain still vouches for."""
        payloads, _ = await ledger.read_vouched_payloads(self._engine, chain_id)
        return payloads

    @activity.defn(name="ads.read_ledger_view")
    async def read_ledger_view(self, chain_id: str) -> LedgerView:
        """What C's buyer takes from its chain each morning (``sim.ads.campaign.ledger_view``) and the recorded head."""
        payloads, head = await ledger.read_vouched_payloads(self._engine, chain_id)
        return ledger_view(payloads).model_copy(update={"head": head})


def _count(record: DayRecord, first_contact: dict[str, int], params: AdsParams | None) -> None:
    scenario = record.scenario
    for deal in record.deals:
        DEALS.labels(scenario).inc()
        DEAL_ROUNDS.labels(scenario).observe(deal.rounds)
        DEAL_LATENCY.labels(scenario).observe(
            (deal.created_day - first_contact.get(deal.id, deal.created_day)) * DAY_SECONDS
        )
    for claim in record.claims:
        if claim.injected:
            HALLUCINATIONS_INJECTED.labels(scenario, claim.agent_type).inc()
        if (
            params is not None
            and detect(claim.claimed, claim.actual, params.detection_tolerance, params.major_severity).flagged
        ):
            HALLUCINATIONS.labels(scenario, claim.agent_type).inc()
    for event in record.context:
        if event.items_lost:
            CONTEXT_LOSSES.labels(scenario, event.kind).inc()
    spend = sum(d.buyer_spend for d in record.deliveries)
    fees = sum(d.exchange_fee for d in record.deliveries)
    SPEND.labels(scenario).inc(spend)
    FEES.labels(scenario).inc(fees)
    _gauge_take_rate(record.experiment_id, scenario, spend, fees)


def _gauge_take_rate(experiment_id: str, scenario: str, spend: int, fees: int) -> None:
    if experiment_id not in _gauged:
        _gauged[experiment_id] = None
        while len(_gauged) > GAUGED_EXPERIMENTS:
            oldest = next(iter(_gauged))
            del _gauged[oldest]
            for key in [key for key in _totals if key[0] == oldest]:
                del _totals[key]
                TAKE_RATE.remove(*key)
    totals = _totals.setdefault((experiment_id, scenario), [0, 0])
    totals[0] += spend
    totals[1] += fees
    if totals[0]:
        TAKE_RATE.labels(experiment_id, scenario).set(totals[1] / totals[0])
