"""What trading cost each scenario's buyer beyond the media it bought, measured from recorded rows.

Money components are made disjoint per delivery, so they add up to a total without counting a dollar
twice: the exchange fee comes off the spend first; of the rest, the share paid for reported impressions
that were never served is "unserved"; of the rest again, what a deal's billed CPM exceeds the CPM the
buyer agreed to (the seller billing its true price after a fabricated, deflated quote) is "above agreed".
The ledger is priced by ``sim.ads.costs.ledger_cost`` only where the scenario writes and relies on it;
LLM tokens come from the event log's ``llm`` events (the endpoint's ``usage``), priced at the token
prices of the study's LLM configuration (inputs). Counts that are not money (negotiation rounds,
messages, deals on fabricated quotes) are reported beside the money, not added to it.

Pure: recorded rows in, typed figures out; the confidence interval is a bootstrap over campaigns with a
fixed seed, so the same rows always give the same bytes.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from models.ads import MICROS, AdsParams, LlmConfig
from models.ads_report import RecordedClaim, RecordedDeal, RecordedDelivery, RecordedEvent, RecordedLedgerEntry
from sim.ads.costs import ledger_cost

QUOTE_CLAIMS = ("price", "inventory")  # what a seller's quote states
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 0


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class LlmUsage(_Model):
    """The LLM buyer's calls and tokens (event log, kind ``llm``) and their price."""

    calls: int
    fallbacks: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


class TradingCost(_Model):
    """One scenario's cost of trading beyond media; each field names the rows it sums."""

    scenario: str
    campaigns: int
    buyer_spend_micros: int  # ads_deliveries.buyer_spend
    impressions: int  # ads_deliveries.impressions (delivered)
    exchange_fee_micros: int  # ads_deliveries.exchange_fee
    unserved_impressions: int  # Σ max(0, reported − delivered) over ads_deliveries: paid for, never served
    unserved_spend_micros: int  # spend net of fee × (reported − delivered) ÷ reported
    deals_on_fabricated_quotes: int  # ads_deals whose quote that day carried an injected claim the buyer acted on
    above_agreed_micros: int  # served spend on deals billed above the agreed CPM (negotiation events)
    negotiations: int  # ads_events kind negotiation
    negotiation_rounds: int  # Σ rounds over those events
    negotiation_messages: int  # Σ steps (proposals, counters, answers)
    ledger_relied_on: bool  # the scenario's buyer writes and reads its chain (C)
    ledger_entries: int  # ledger_entries of the scenario's chains, counted where relied on, else 0
    ledger_cost_usd: float  # sim.ads.costs.ledger_cost over those entries' payload bytes
    llm: LlmUsage | None  # None: the study was not run with an LLM
    total_usd: float  # fee + unserved + above agreed + ledger + LLM tokens
    share_of_spend: float | None
    share_of_spend_ci: tuple[float, float] | None  # 95% percentile bootstrap over campaigns
    per_1000_impressions_usd: float | None


@dataclass
class _Campaign:
    """One campaign's money costs in USD, the unit the bootstrap resamples."""

    spend: float = 0.0
    cost: float = 0.0


def agreed_cpms(events: Sequence[RecordedEvent]) -> dict[tuple[str, int, str], int]:
    """(campaign, day, product) -> the CPM the buyer agreed to, from the negotiation events."""
    agreed = {}
    for event in events:
        if event.kind == "negotiation" and event.data.get("agreed_cpm") is not None:
            agreed[(event.campaign_id, event.day, event.data["product"])] = event.data["agreed_cpm"]
    return agreed


def fabricated_quote_deals(
    deals: Sequence[RecordedDeal], claims: Sequence[RecordedClaim], events: Sequence[RecordedEvent]
) -> list[RecordedDeal]:
    """Deals struck on a quote that carried an injected (fabricated) price or inventory claim that day,
    unless the buyer rejected that claim before acting (a ``claim_rejected`` event: C's ledger check)."""
    fabricated: dict[tuple[str, int, str], set[str]] = defaultdict(set)
    for claim in claims:
        if claim.injected and claim.claim_type in QUOTE_CLAIMS:
            fabricated[(claim.campaign_id, claim.day, claim.subject)].add(claim.claim_type)
    rejected = {
        (e.campaign_id, e.day, e.data.get("subject"), e.data.get("claim_type"))
        for e in events
        if e.kind == "claim_rejected"
    }
    struck = []
    for deal in deals:
        key = (deal.campaign_id, deal.created_day, deal.product_id)
        acted_on = {t for t in fabricated.get(key, ()) if (*key, t) not in rejected}
        if acted_on:
            struck.append(deal)
    return struck


def llm_usage(events: Sequence[RecordedEvent], llm: LlmConfig | None) -> LlmUsage | None:
    """The ``llm`` events' sums, priced; None when the study ran without an LLM."""
    if llm is None:
        return None
    rows = [e.data for e in events if e.kind == "llm"]
    prompt = sum(int(d.get("prompt_tokens", 0)) for d in rows)
    completion = sum(int(d.get("completion_tokens", 0)) for d in rows)
    return LlmUsage(
        calls=sum(int(d.get("calls", 0)) for d in rows),
        fallbacks=sum(int(d.get("fallbacks", 0)) for d in rows),
        prompt_tokens=prompt,
        completion_tokens=completion,
        cost_usd=_token_usd(prompt, completion, llm),
    )


def _token_usd(prompt: int, completion: int, llm: LlmConfig) -> float:
    return (prompt * llm.usd_per_million_prompt_tokens + completion * llm.usd_per_million_completion_tokens) / 1e6


def trading_cost(
    scenario: str,
    campaign_ids: Sequence[str],
    deals: Sequence[RecordedDeal],
    deliveries: Sequence[RecordedDelivery],
    claims: Sequence[RecordedClaim],
    events: Sequence[RecordedEvent],
    ledger: Sequence[RecordedLedgerEntry],
    *,
    params: AdsParams,
    llm: LlmConfig | None,
    ledger_relied_on: bool,
) -> TradingCost:
    """One scenario's rows (all of the same scenario) to its cost of trading."""
    per_campaign: dict[str, _Campaign] = {c: _Campaign() for c in campaign_ids}
    agreed = agreed_cpms(events)
    above_agreed: dict[str, tuple[int, int]] = {}  # deal id -> (billed, agreed)
    for deal in deals:
        price = agreed.get((deal.campaign_id, deal.created_day, deal.product_id))
        if price is not None and deal.cpm > price:
            above_agreed[deal.deal_id] = (deal.cpm, price)

    fee = unserved = above = unserved_impressions = 0
    for d in deliveries:
        net = d.buyer_spend - d.exchange_fee
        lost = net * (d.reported - d.impressions) // d.reported if d.reported > d.impressions else 0
        extra = 0
        if d.deal_id in above_agreed:
            billed, price = above_agreed[d.deal_id]
            extra = (net - lost) * (billed - price) // billed
        fee += d.exchange_fee
        unserved += lost
        above += extra
        unserved_impressions += max(0, d.reported - d.impressions)
        campaign = per_campaign.setdefault(d.campaign_id, _Campaign())
        campaign.spend += d.buyer_spend / MICROS
        campaign.cost += (d.exchange_fee + lost + extra) / MICROS

    entries, ledger_usd = 0, 0.0
    if ledger_relied_on:
        for chain_id, chain in _chains(ledger).items():
            priced = ledger_cost([len(e.payload_json.encode()) for e in chain], params)
            entries += priced.records
            ledger_usd += priced.usd
            # "ads/<experiment>/<scenario>/<campaign>": the campaign that wrote the chain pays for it.
            per_campaign.setdefault(chain_id.rsplit("/", 1)[-1], _Campaign()).cost += priced.usd

    usage = llm_usage(events, llm)
    if llm is not None:
        for event in events:
            if event.kind == "llm":
                tokens = _token_usd(
                    int(event.data.get("prompt_tokens", 0)), int(event.data.get("completion_tokens", 0)), llm
                )
                per_campaign.setdefault(event.campaign_id, _Campaign()).cost += tokens

    negotiations = [e.data for e in events if e.kind == "negotiation"]
    spend = sum(d.buyer_spend for d in deliveries)
    impressions = sum(d.impressions for d in deliveries)
    total = (fee + unserved + above) / MICROS + ledger_usd + (usage.cost_usd if usage else 0.0)
    return TradingCost(
        scenario=scenario,
        campaigns=len(per_campaign),
        buyer_spend_micros=spend,
        impressions=impressions,
        exchange_fee_micros=fee,
        unserved_impressions=unserved_impressions,
        unserved_spend_micros=unserved,
        deals_on_fabricated_quotes=len(fabricated_quote_deals(deals, claims, events)),
        above_agreed_micros=above,
        negotiations=len(negotiations),
        negotiation_rounds=sum(int(n.get("rounds", 0)) for n in negotiations),
        negotiation_messages=sum(len(n.get("steps", ())) for n in negotiations),
        ledger_relied_on=ledger_relied_on,
        ledger_entries=entries,
        ledger_cost_usd=ledger_usd,
        llm=usage,
        total_usd=total,
        share_of_spend=total / (spend / MICROS) if spend else None,
        share_of_spend_ci=bootstrap_ratio_ci([(c.cost, c.spend) for _, c in sorted(per_campaign.items())]),
        per_1000_impressions_usd=total / impressions * 1000 if impressions else None,
    )


def _chains(ledger: Sequence[RecordedLedgerEntry]) -> Mapping[str, list[RecordedLedgerEntry]]:
    chains: dict[str, list[RecordedLedgerEntry]] = defaultdict(list)
    for entry in ledger:
        chains[entry.chain_id].append(entry)
    return {chain_id: sorted(chains[chain_id], key=lambda e: e.seq) for chain_id in sorted(chains)}


def bootstrap_ratio_ci(
    units: Sequence[tuple[float, float]], resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED
) -> tuple[float, float] | None:
    """95% percentile interval of Σ numerator ÷ Σ denominator when the units (campaigns) are resampled
    with replacement; None with fewer than two units or nothing in the denominator."""
    if len(units) < 2 or not sum(d for _, d in units):
        return None
    rng = random.Random(seed)
    ratios = []
    for _ in range(resamples):
        sample = [units[rng.randrange(len(units))] for _ in units]
        denominator = sum(d for _, d in sample)
        if denominator:
            ratios.append(sum(n for n, _ in sample) / denominator)
    ratios.sort()
    return ratios[int(0.025 * (len(ratios) - 1))], ratios[int(0.975 * (len(ratios) - 1))]
