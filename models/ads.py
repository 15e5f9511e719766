"""Programmatic-advertising models: the study's world, its negotiations, deals, deliveries and claims.

Money is integer micros (1 USD = 1,000,000) everywhere; a CPM is the price of 1000 impressions in
micros. Days are simulated days of the flight, 1-based.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.ledger import AppendBatch, ChainHead

MICROS = 1_000_000

Channel = Literal["display", "native", "video", "ctv", "mobile"]
Tier = Literal["PUBLIC", "SEAT", "AGENCY", "ADVERTISER"]
DealType = Literal["PG", "PD", "PA"]
KpiType = Literal["impressions", "clicks", "conversions", "viewability"]
Scenario = Literal["A", "B", "C"]
AgentType = Literal["buyer", "seller", "exchange"]
ClaimType = Literal["inventory", "price", "history", "delivery"]
AuctionType = Literal["first", "second"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- the world --------------------------------------------------------------------------------


class Product(_Frozen):
    id: str
    seller_id: str
    name: str
    channel: Channel
    base_cpm: int = Field(description="list CPM, micros")
    floor_cpm: int = Field(description="lowest CPM the seller takes, micros")
    daily_avails: int = Field(description="impressions the product offers per day")
    segments: tuple[str, ...]
    deal_types: tuple[DealType, ...]


class Seller(_Frozen):
    id: str
    name: str
    products: tuple[Product, ...]


class Buyer(_Frozen):
    id: str
    name: str
    tier: Tier


class Campaign(_Frozen):
    id: str
    buyer_id: str
    name: str
    budget: int = Field(description="micros")
    daily_budget: int = Field(description="micros")
    kpi: KpiType
    kpi_target: int = Field(description="impressions, clicks or conversions; viewable impressions for viewability")
    target_impressions: int
    target_cpm: int = Field(description="the CPM the buyer aims for, micros")
    max_cpm: int = Field(description="the most the buyer pays, micros")
    channels: tuple[Channel, ...]
    segments: tuple[str, ...]
    start_day: int = Field(ge=1)
    end_day: int


class World(_Frozen):
    """Everything generated from the seed: sellers with products, buyers, campaigns."""

    seed: int
    days: int
    sellers: tuple[Seller, ...]
    buyers: tuple[Buyer, ...]
    campaigns: tuple[Campaign, ...]

    def buyer(self, buyer_id: str) -> Buyer:
        return next(b for b in self.buyers if b.id == buyer_id)

    def products(self) -> list[Product]:
        return [product for seller in self.sellers for product in seller.products]


# --- parameters -------------------------------------------------------------------------------


class AdsParams(_Frozen):
    """Every tunable number of the study; a report lists these as parameters, never as findings."""

    exchange_fee: float = Field(0.15, ge=0, lt=1, description="scenario A: share of buyer spend the exchange keeps")
    auction: AuctionType = "first"
    bid_shading: float = Field(0.85, gt=0, le=1, description="first-price: bid = shading x value")
    second_price_increment: int = Field(
        10_000, ge=0, description="second-price: the winner pays the second bid plus this (micros CPM; seed: $0.01)"
    )
    competing_bidders: int = Field(4, ge=0, description="scenario A: background bidders per auction")
    context_survival: float = Field(0.98, ge=0, le=1, description="per-day chance a memory item survives")
    # The seed's ContextRotSimulator.trigger_restart: "0.5% chance per day, increasing" (base_probability = 0.005);
    # its code never increases it, so the rise is a parameter, off by default (docs/ads-calibration.md).
    restart_probability: float = Field(
        0.005,
        ge=0,
        le=1,
        description="per-day chance an agent restarts (memory wiped) on a fresh day: its first, or after a restart",
    )
    restart_hazard_growth: float = Field(
        0.0,
        ge=0,
        le=1,
        description="added to the restart probability per day since the agent was fresh (memory pressure)",
    )
    hallucination_rate: float = Field(0.05, ge=0, le=1, description="share of claims that are fabricated")
    hallucination_scenarios: tuple[Scenario, ...] = ("B", "C")
    detection_tolerance: float = Field(0.05, ge=0, description="relative error above which a claim is flagged")
    major_severity: float = Field(0.20, ge=0, description="relative error from which a flagged claim is major")
    max_rounds_buyer: int = Field(5, ge=1)
    buyer_step: float = Field(0.05, gt=0, description="buyer concession per round, share of target CPM")
    proposals_per_day: int = Field(3, ge=1, description="sellers a buyer proposes to when it needs deals")
    buyer_avails_share: float = Field(
        0.05, gt=0, le=1, description="share of a product's daily avails one buyer can book"
    )
    renegotiate_after_days: int = Field(3, ge=1, description="after a negotiation that found nothing, wait this long")
    min_deal_days: int = Field(3, ge=1, description="no new deal for fewer days than this before the flight ends")
    max_catchup: float = Field(2.0, ge=1, description="daily need never exceeds this multiple of the even pace")
    buyer_value_over_target: float = Field(0.10, ge=0, description="scenario A: value = target CPM x (1 + this)")
    # Inventory truth per (product, day): avails x U(1 - v, 1 + v) and a fill rate U(low, high); both assumptions
    # (the seed's inventory_reality table has them per day without values; docs/ads-calibration.md).
    avails_daily_variation: float = Field(
        0.10, ge=0, lt=1, description="a product's avails on a day are its typical avails x U(1 - this, 1 + this)"
    )
    fill_rate_low: float = Field(0.85, ge=0, le=1, description="a product's fill rate on a day is U(low, high)")
    fill_rate_high: float = Field(1.0, ge=0, le=1, description="see fill_rate_low")
    report_noise: float = Field(
        0.03,
        ge=0,
        description="honest counts (delivery, avails) deviate by N(0, this); docs/ads-calibration.md",
    )
    # Ledger costs (scenario C), every price a parameter.
    sui_reference_gas_price_mist: int = 1000
    sui_computation_units: int = 1000
    sui_storage_price_mist: int = 76
    sui_storage_units_per_byte: int = 100
    sui_object_overhead_units: int = 50
    sui_storage_rebate: float = 0.99
    walrus_unit_bytes: int = 1_048_576
    walrus_price_per_unit_epoch_frost: int = 100_000
    walrus_write_fee_per_unit_frost: int = 20_000
    walrus_encoding_expansion: float = 5.0
    walrus_epochs: int = 2
    ledger_batch_records: int = Field(50, ge=1, description="records per Walrus blob (Quilt-style batching)")
    sui_usd: float = 1.50
    wal_usd: float = 0.40

    @model_validator(mode="after")
    def _fill_range(self) -> AdsParams:
        if self.fill_rate_low > self.fill_rate_high:
            raise ValueError(f"fill_rate_low {self.fill_rate_low} is above fill_rate_high {self.fill_rate_high}")
        return self


# --- negotiation and auctions -----------------------------------------------------------------


class Quote(_Frozen):
    """What a seller says about a product: its price and what is available (either may be fabricated)."""

    product_id: str
    seller_id: str
    cpm: int
    avails: int


class NegotiationStep(_Frozen):
    round: int
    actor: AgentType
    action: Literal["propose", "counter", "final", "accept", "reject", "walk_away"]
    cpm: int


class Negotiation(_Frozen):
    """One buyer-seller negotiation over a product: every step, and the deal if one was struck."""

    campaign_id: str
    seller_id: str
    product_id: str
    steps: tuple[NegotiationStep, ...]
    agreed_cpm: int | None
    deal_type: DealType | None


class Bid(_Frozen):
    bidder_id: str
    cpm: int


class AuctionResult(_Frozen):
    winner_id: str | None
    clearing_cpm: int | None
    bids: tuple[Bid, ...]
    floor: int


class SellerDealView(_Frozen):
    """What a seller learns of a deal its inventory went to through scenario A's exchange: the exchange masks
    the buyer (the seed's exchange forwards "with buyer identity masked"), so there is no buyer, campaign or
    buyer-derived deal id here, only the exchange's opaque deal id and the price net of the exchange's margin."""

    exchange_deal_id: str
    seller_id: str
    product_id: str
    deal_type: DealType
    day: int
    cpm: int = Field(description="the clearing CPM less the exchange's fee, micros: what the seller is paid")
    daily_impressions: int


# --- what happens -----------------------------------------------------------------------------


class Deal(_Frozen):
    id: str
    scenario: Scenario
    campaign_id: str
    buyer_id: str
    seller_id: str
    product_id: str
    deal_type: DealType
    cpm: int
    daily_impressions: int
    start_day: int
    end_day: int
    rounds: int
    created_day: int


class Delivery(_Frozen):
    """One deal's day. ``impressions`` is the truth; ``reported`` is what the seller claimed and was paid for."""

    deal_id: str
    campaign_id: str
    seller_id: str
    day: int
    impressions: int
    reported: int
    clicks: int
    conversions: int
    viewable: int
    buyer_spend: int
    seller_revenue: int
    exchange_fee: int


class Claim(_Frozen):
    """A fact an agent asserted and a decision rested on, with the ground truth beside it."""

    id: str
    day: int
    agent_id: str
    agent_type: AgentType
    claim_type: ClaimType
    subject: str
    claimed: int
    actual: int
    injected: bool = Field(description="the simulation fabricated it (the injected set)")
    checked: bool = Field(description="the agent verified it against a record before acting (scenario C)")


class ContextEvent(_Frozen):
    day: int
    agent_id: str
    kind: Literal["decay", "restart"]
    items_before: int
    items_lost: int
    items_recovered: int
    recovered_correctly: int


class Event(_Frozen):
    """A line of the event log (JSON lines in the report)."""

    day: int
    kind: str
    data: dict[str, Any]


class LedgerView(BaseModel):
    """What C's buyer takes from its chain each morning, read from the payloads the chain vouches for (up to its
    first broken link): the median of each product's quoted CPM and avails, the median report of each deal,
    the deals recorded per seller and the memory the records rebuild; and the head the store records, which
    the buyer's next entries continue. Bounded by the campaign's products and deals, not the chain's length."""

    quotes: dict[str, tuple[int, int]] = Field(default_factory=dict)
    deliveries: dict[str, int] = Field(default_factory=dict)
    deals_with: dict[str, int] = Field(default_factory=dict)
    memory: dict[str, Any] = Field(default_factory=dict)
    head: ChainHead | None = None


class DayRecord(BaseModel):
    """One campaign-day, written in one `ads.record_day` activity: ground truth, events, ledger."""

    experiment_id: str
    scenario: Scenario
    campaign_id: str
    day: int
    deals: list[Deal] = Field(default_factory=list)
    deliveries: list[Delivery] = Field(default_factory=list)
    claims: list[Claim] = Field(default_factory=list)
    context: list[ContextEvent] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    ledger: AppendBatch | None = None

    @property
    def key(self) -> str:
        return f"{self.experiment_id}/{self.scenario}/{self.campaign_id}/{self.day}"


# --- workflow boundaries ----------------------------------------------------------------------


class LlmConfig(_Frozen):
    """An OpenAI-compatible chat endpoint that plays the buyer; the rules answer whenever it cannot."""

    url: str
    model: str = "gpt-4o-mini"
    calls_per_campaign: int = Field(20, ge=0, description="the budget: LLM calls one campaign may make")
    timeout_seconds: float = 20.0
    # Token prices are inputs (the default model's list price, USD per million tokens, openai.com/api/pricing);
    # the token counts they multiply are measured from the endpoint's `usage` field.
    usd_per_million_prompt_tokens: float = Field(0.15, ge=0)
    usd_per_million_completion_tokens: float = Field(0.60, ge=0)


class ExperimentSpec(_Frozen):
    id: str
    scenarios: tuple[Scenario, ...] = ("A", "B", "C")
    days: int = Field(30, ge=1)
    buyers: int = Field(5, ge=1)
    sellers: int = Field(5, ge=1)
    campaigns_per_buyer: int = Field(10, ge=1)
    seed: int = 0
    acceleration: float = Field(0.0, ge=0, description="simulated seconds per real second; 0 = no waiting")
    params: AdsParams = Field(default_factory=AdsParams)
    llm: LlmConfig | None = None


class WorldSize(_Frozen):
    """With the seed and the days, all ``generate_world`` needs: a world passed by reference, not inline."""

    buyers: int
    sellers: int
    campaigns_per_buyer: int


class CampaignSpec(_Frozen):
    """A child's input. A study names its campaign by ``world`` and ``campaign_index`` and the child derives
    its slice of the world from the seed, so the input is the same size however large the world is.
    Studies started before that carried ``campaign``, ``buyer`` and ``products`` inline; their histories
    still replay."""

    experiment_id: str
    scenario: Scenario
    seed: int
    days: int
    acceleration: float
    params: AdsParams
    llm: LlmConfig | None = None
    world: WorldSize | None = None
    campaign_index: int | None = Field(None, ge=0)
    campaign: Campaign | None = None
    buyer: Buyer | None = None
    products: tuple[Product, ...] = Field((), description="the products the campaign's channels and segments can use")


class CampaignSummary(_Frozen):
    scenario: Scenario
    campaign_id: str
    deals: int
    impressions: int
    buyer_spend: int
    exchange_fee: int
    negotiations: int


class Offer(_Frozen):
    product: Product
    quote: Quote


class NegotiationRequest(_Frozen):
    experiment_id: str
    scenario: Scenario
    day: int
    campaign: Campaign
    tier: Tier
    offers: tuple[Offer, ...]
    params: AdsParams
    seed: int
    llm: LlmConfig | None = None
    llm_calls_left: int = 0


class NegotiationOutcome(_Frozen):
    negotiations: tuple[Negotiation, ...]
    engine: Literal["rules", "llm"]
    llm_calls: int = 0
    llm_fallbacks: int = 0
    # Summed from each reply's `usage` (prompt_tokens, completion_tokens); 0 where the endpoint sent none.
    llm_prompt_tokens: int = 0
    llm_completion_tokens: int = 0


class ExperimentSetup(_Frozen):
    """``world`` inline only in studies started before the world was derived from the spec in the activity."""

    spec: ExperimentSpec
    world: World | None = None


class ScenarioTotals(_Frozen):
    """One scenario's campaign runs, summed: what an experiment returns instead of every campaign's summary."""

    scenario: Scenario
    campaigns: int = 0
    deals: int = 0
    impressions: int = 0
    buyer_spend: int = 0
    exchange_fee: int = 0
    negotiations: int = 0

    def plus(self, summary: CampaignSummary) -> ScenarioTotals:
        return self.model_copy(
            update={
                "campaigns": self.campaigns + 1,
                "deals": self.deals + summary.deals,
                "impressions": self.impressions + summary.impressions,
                "buyer_spend": self.buyer_spend + summary.buyer_spend,
                "exchange_fee": self.exchange_fee + summary.exchange_fee,
                "negotiations": self.negotiations + summary.negotiations,
            }
        )


class ExperimentCarry(_Frozen):
    """What an ExperimentWorkflow hands to its next run on continue-as-new: where it is, and the totals so far."""

    next_run: int = Field(0, ge=0, description="index of the next (scenario, campaign) run to start")
    totals: tuple[ScenarioTotals, ...] = ()


class ExperimentSummary(_Frozen):
    """Bounded whatever the study's size: every campaign's own figures are in the store."""

    experiment_id: str
    campaign_runs: int
    scenarios: tuple[ScenarioTotals, ...]
