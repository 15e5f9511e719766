"""One campaign's days, as pure steps the CampaignWorkflow calls in order.

Scenario A: the buyer bids through an exchange; each matching product's daily lot goes to an auction
against background demand, the exchange keeps its fee, and the exchange's records are authoritative.

Scenarios B and C: the buyer negotiates directly with sellers and keeps what it knows in memory
(deal terms, delivered counts, spend, history per seller). Memory decays a little every day and is
wiped on a restart. Sellers' quotes and delivery reports, and the buyer's own recollection of
history, are sometimes fabricated. In B the buyer acts on memory and claims as they are; in C it
checks every claim against the ledger before acting and rebuilds lost memory from the ledger.

Since the ``ledger_checks`` version (``CampaignState.ledger_checks``), C's ledger carries what the
seed's C records: every quote as the seller gave it, every proposal, counter, accept and reject of a
negotiation, every deal, and every delivery as the seller reported it and as the buyer paid it. C's buyer
then verifies a claim only against what that ledger holds (the median of the product's earlier quotes,
the deal's earlier recorded deliveries, the deals it recorded with the seller) and never reads the
sellers' true records: a claim with nothing to check against is taken as told, and a forged ledger is
believed. Earlier studies' C compared claims with the truth directly; their histories still replay.

Since the ``world_fidelity`` version (``CampaignState.world_fidelity``) the world is less of a constant:
each product's avails and fill rate vary by day (``sim.ads.inventory``, ground truth the buyer never
reads), the restart probability may rise with the days since the buyer's last restart
(``sim.ads.context.restart_hazard``), a second-price exchange clears at the second bid plus the seed's
$0.01, and the seller's record of an exchange deal in A masks the buyer (``sim.ads.auction.seller_view``).

Every random draw comes from a stream named by (seed, campaign, day, purpose) and shared by the
scenarios, so B and C face the same rot and the same fabrications: the difference between them is
what the ledger does, not luck. The day's inventory comes from a stream of (seed, product, day), shared
by every campaign too.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from typing import Any

from models.ads import (
    AdsParams,
    AgentType,
    Bid,
    Buyer,
    Campaign,
    Claim,
    ClaimType,
    ContextEvent,
    Deal,
    Delivery,
    LedgerView,
    Negotiation,
    NegotiationStep,
    Offer,
    Product,
    Quote,
    Scenario,
)
from sim.ads.auction import competing_bids, exchange_split, first_price, second_price, seller_view, shade
from sim.ads.context import decay, restart_hazard, restarted
from sim.ads.delivery import deliver
from sim.ads.hallucination import detect, inject
from sim.ads.inventory import InventoryDay, true_inventory
from sim.ads.kpi import kpi_value
from sim.ads.negotiation import quote_for, rank_products
from sim.ads.pricing import effective_floor

HISTORY_PREFERENCE = 0.1  # rank boost per remembered past deal with a seller (at most 5 count)


def stream(seed: int, campaign_id: str, day: int, purpose: str) -> random.Random:
    """A random stream for one purpose on one campaign-day, the same in every scenario and replay."""
    digest = hashlib.sha256(f"{seed}/{campaign_id}/{day}/{purpose}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


@dataclass
class Day:
    """What one campaign-day produced, ready for the store and the ledger."""

    deals: list[Deal] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    context: list[ContextEvent] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # (author, payload) ledger records in the order they happened (scenario C with ledger checks).
    records: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def event(self, event_kind: str, /, **data: Any) -> None:
        self.events.append((event_kind, data))


@dataclass
class CampaignState:
    """The campaign's truth (the sellers' and the exchange's records) and the buyer's memory."""

    scenario: Scenario
    seed: int
    campaign: Campaign
    buyer: Buyer
    products: dict[str, Product]
    params: AdsParams
    deals: dict[str, Deal] = field(default_factory=dict)
    agreed: dict[str, int] = field(default_factory=dict)  # deal id -> the CPM the buyer agreed to
    memory: dict[str, Any] = field(default_factory=dict)
    spent: int = 0
    impressions: int = 0
    clicks: int = 0
    conversions: int = 0
    viewable: int = 0
    exchange_fees: int = 0
    negotiations: int = 0
    last_empty_negotiation: int | None = None
    # C checks claims against the ledger payloads read this morning (``ledger``), not against the truth.
    ledger_checks: bool = False
    graded_fabrications: bool = False  # fabrication sizes include small ones (sim.ads.hallucination.GRADED)
    ledger: LedgerView = field(default_factory=LedgerView)
    # Inventory by day, a rising restart hazard, the second-price increment, a masked buyer in A.
    world_fidelity: bool = False
    last_restart_day: int | None = None  # the buyer's last restart; None: none since the campaign started

    # --- the buyer's memory, as keyed items that can be lost one by one ------------------------

    def remembered_deals(self) -> list[Deal]:
        return [Deal.model_validate(value) for key, value in sorted(self.memory.items()) if key.startswith("deal:")]

    def believed_spend(self) -> int:
        return int(self.memory.get("spend", 0))

    def believed_delivered(self) -> int:
        return sum(int(v) for k, v in self.memory.items() if k.startswith("delivered:"))

    def history(self, seller_id: str) -> int:
        return int(self.memory.get(f"history:{seller_id}", 0))

    def true_history(self, seller_id: str) -> int:
        return sum(1 for deal in self.deals.values() if deal.seller_id == seller_id)

    @property
    def kpi(self) -> int:
        return kpi_value(self.campaign.kpi, self.impressions, self.clicks, self.conversions, self.viewable)

    @property
    def checks_claims(self) -> bool:
        return self.scenario == "C"

    @property
    def checks_ledger(self) -> bool:
        return self.scenario == "C" and self.ledger_checks

    @property
    def fabricates(self) -> bool:
        return self.scenario in self.params.hallucination_scenarios

    def share(self, product: Product, day: int | None = None) -> int:
        """The daily impressions of ``product`` that one buyer can really book (on ``day``, with world fidelity:
        a share of that day's true avails rather than of the product's typical avails)."""
        avails = product.daily_avails if day is None else self.inventory(product, day).avails
        return max(1, int(avails * self.params.buyer_avails_share))

    def inventory(self, product: Product, day: int) -> InventoryDay:
        """Ground truth of ``product`` on ``day``: its typical avails and no fill before world fidelity."""
        if not self.world_fidelity:
            return InventoryDay(avails=product.daily_avails, fill_rate=1.0)
        return true_inventory(self.seed, product, day, self.params)

    def day_fill(self, product: Product, day: int) -> float | None:
        """The product's true fill rate on ``day`` with world fidelity; None: each deal-day draws its own."""
        return self.inventory(product, day).fill_rate if self.world_fidelity else None

    def truth_day(self, day: int) -> int | None:
        """The day whose inventory truth the world uses: ``day`` with world fidelity, else None (constant)."""
        return day if self.world_fidelity else None

    def restart_probability(self, day: int) -> float:
        """Today's chance the buyer restarts: rising with the days since its last restart (world fidelity)."""
        params = self.params
        if not self.world_fidelity:
            return params.restart_probability
        # The agent starts fresh on the campaign's first day and on the day after each restart.
        fresh = self.campaign.start_day if self.last_restart_day is None else self.last_restart_day + 1
        return restart_hazard(max(0, day - fresh), params.restart_probability, params.restart_hazard_growth)


# --- mornings: context rot and restarts (B, C) --------------------------------------------------


def morning(state: CampaignState, day: int, today: Day) -> dict[str, Any]:
    """Decay or wipe the buyer's memory; returns what was lost (key -> value before the loss)."""
    rng = stream(state.seed, state.campaign.id, day, "context")
    before = dict(state.memory)
    if restarted(rng, state.restart_probability(day)):
        kind, state.memory = "restart", {}
        state.last_restart_day = day
    else:
        kind = "decay"
        state.memory, _ = decay(state.memory, rng, state.params.context_survival)
    lost = {key: value for key, value in before.items() if key not in state.memory}
    today.context.append(
        ContextEvent(
            day=day,
            agent_id=state.buyer.id,
            kind=kind,
            items_before=len(before),
            items_lost=len(lost),
            items_recovered=0,
            recovered_correctly=0,
        )
    )
    if lost:
        today.event("context_lost", agent=state.buyer.id, cause=kind, lost=sorted(lost))
    return lost


def memory_from_ledger(payloads: list[dict[str, Any]]) -> dict[str, Any]:
    """Rebuild the buyer's memory from its campaign's ledger records (scenario C)."""
    memory: dict[str, Any] = {}
    for payload in payloads:
        if payload.get("type") == "deal":
            deal = payload["deal"]
            memory[f"deal:{deal['id']}"] = {**deal, "cpm": payload.get("agreed_cpm", deal["cpm"])}
            memory[f"history:{deal['seller_id']}"] = memory.get(f"history:{deal['seller_id']}", 0) + 1
        elif payload.get("type") == "delivery":
            key = f"delivered:{payload['deal_id']}"
            memory[key] = memory.get(key, 0) + payload["paid"]
            memory["spend"] = memory.get("spend", 0) + payload["buyer_spend"]
    return memory


def median(values: list[int]) -> int | None:
    """The middle of ``values`` (the lower-rounded mean of the middle two), None for none: one forged or
    fabricated record among honest ones cannot move the reference a claim is checked against."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) // 2


def ledger_view(payloads: list[dict[str, Any]]) -> LedgerView:
    """What C's buyer takes from its chain's payloads: references to check claims against, and its memory."""
    quotes: dict[str, list[tuple[int, int]]] = {}
    reports: dict[str, list[int]] = {}
    deals_with: dict[str, int] = {}
    for payload in payloads:
        kind = payload.get("type")
        if kind == "quote":
            quotes.setdefault(payload["product_id"], []).append((int(payload["cpm"]), int(payload["avails"])))
        elif kind == "delivery" and "reported" in payload:
            reports.setdefault(payload["deal_id"], []).append(int(payload["reported"]))
        elif kind == "deal":
            seller = payload["deal"]["seller_id"]
            deals_with[seller] = deals_with.get(seller, 0) + 1
    return LedgerView(
        quotes={
            product: (median([q[0] for q in seen]) or 0, median([q[1] for q in seen]) or 0)
            for product, seen in quotes.items()
        },
        deliveries={deal: median(seen) or 0 for deal, seen in reports.items()},
        deals_with=deals_with,
        memory=memory_from_ledger(payloads),
    )


def verify(claimed: int, reference: int | None, tolerance: float) -> tuple[int, bool]:
    """(the value the buyer acts on, rejected?): a claim further than ``tolerance`` from the ledger's
    reference is replaced by the reference; with no reference it is taken as told."""
    if reference is None or not detect(claimed, reference, tolerance, major=1.0).flagged:
        return claimed, False
    return reference, True


def recover(state: CampaignState, day: int, lost: dict[str, Any], ledger: list[dict[str, Any]], today: Day) -> None:
    """Restore lost items from the ledger; count how many come back exactly as they were."""
    restore(state, lost, memory_from_ledger(ledger), today)


def restore(state: CampaignState, lost: dict[str, Any], rebuilt: dict[str, Any], today: Day) -> None:
    """Restore lost items from memory ``rebuilt`` from the ledger; count how many come back as they were."""
    recovered = {key: rebuilt[key] for key in lost if key in rebuilt}
    state.memory.update(recovered)
    correct = sum(1 for key, value in recovered.items() if value == lost[key])
    event = today.context[-1]
    today.context[-1] = event.model_copy(update={"items_recovered": len(recovered), "recovered_correctly": correct})
    today.event("context_recovered", agent=state.buyer.id, recovered=len(recovered), correct=correct, lost=len(lost))


# --- negotiation (B, C) -------------------------------------------------------------------------


def needs_deals(state: CampaignState, day: int) -> bool:
    """The buyer looks for deals when what it knows of cannot carry the rest of the flight."""
    campaign = state.campaign
    if campaign.end_day - day + 1 < state.params.min_deal_days or state.believed_spend() >= campaign.budget:
        return False
    if (
        state.last_empty_negotiation is not None
        and day - state.last_empty_negotiation < state.params.renegotiate_after_days
    ):
        return False
    booked = sum(deal.daily_impressions for deal in state.remembered_deals() if deal.end_day >= day)
    return booked < 0.9 * daily_need(state, day)


def daily_need(state: CampaignState, day: int) -> int:
    """What the buyer wants per day to reach its target, catching up at most ``max_catchup`` x pace."""
    campaign = state.campaign
    remaining_days = max(1, campaign.end_day - day + 1)
    remaining = max(0, campaign.target_impressions - state.believed_delivered())
    pace = campaign.target_impressions / (campaign.end_day - campaign.start_day + 1)
    return int(min(remaining / remaining_days, state.params.max_catchup * pace))


def offers(state: CampaignState, day: int, today: Day) -> list[Offer]:
    """Quotes from every seller of a matching product, as the buyer will use them.

    Sellers may fabricate (deflated price, inflated inventory) and the buyer may misremember its
    history with a seller. Every such claim is recorded beside the truth; in C the buyer uses the
    truth because it checked, in B what it was told.
    """
    rng = stream(state.seed, state.campaign.id, day, "quotes")
    rate = state.params.hallucination_rate if state.fabricates else 0.0
    honest: dict[str, Quote] = {}
    used: list[Quote] = []
    for product in sorted(state.products.values(), key=lambda p: p.id):
        truth = quote_for(product, state.buyer.tier, state.campaign).model_copy(
            update={"avails": state.share(product, state.truth_day(day))}
        )
        honest[product.id] = truth
        graded = state.graded_fabrications
        price, price_injected = inject("price", truth.cpm, rng, rate, graded=graded)
        avails, avails_injected = observe(
            "inventory", truth.avails, rng, rate, state.params.report_noise, graded=graded
        )
        _claim(state, today, day, product.seller_id, "seller", "price", product.id, price, truth.cpm, price_injected)
        _claim(
            state,
            today,
            day,
            product.seller_id,
            "seller",
            "inventory",
            product.id,
            avails,
            truth.avails,
            avails_injected,
        )
        if state.checks_ledger:
            used.append(_checked_quote(state, today, day, truth, price, avails))
        else:
            used.append(truth if state.checks_claims else truth.model_copy(update={"cpm": price, "avails": avails}))

    beliefs: dict[str, int] = {}
    for seller_id in sorted({p.seller_id for p in state.products.values()}):
        # A buyer only recalls a history it remembers (C reads it from the ledger); its own stream
        # per seller keeps the draws aligned whatever B has forgotten.
        remembered = state.checks_claims or f"history:{seller_id}" in state.memory
        if not remembered:
            continue
        true_count = state.true_history(seller_id)
        recalled, injected = inject(
            "history", true_count, stream(state.seed, state.campaign.id, day, f"history/{seller_id}"), rate
        )
        _claim(state, today, day, state.buyer.id, "buyer", "history", seller_id, recalled, true_count, injected)
        if state.checks_ledger:
            beliefs[seller_id] = state.ledger.deals_with.get(seller_id, 0)
        else:
            beliefs[seller_id] = true_count if state.checks_claims else recalled

    ranked = rank_products(state.campaign, used, state.products)
    # A buyer leans towards sellers it believes it has dealt with (stable sort keeps EV order otherwise).
    ranked.sort(key=lambda q: -min(beliefs.get(q.seller_id, 0), 5) * HISTORY_PREFERENCE)
    chosen = ranked[: state.params.proposals_per_day]
    today.event("quotes", considered=len(used), chosen=[q.product_id for q in chosen])
    return [Offer(product=state.products[q.product_id], quote=q) for q in chosen]


def _checked_quote(state: CampaignState, today: Day, day: int, truth: Quote, price: int, avails: int) -> Quote:
    """The quote C acts on: each figure checked against the product's earlier quotes on the ledger. The
    quote goes on the ledger as the seller gave it."""
    reference = state.ledger.quotes.get(truth.product_id)
    tolerance = state.params.detection_tolerance
    used_cpm, price_rejected = verify(price, reference[0] if reference else None, tolerance)
    used_avails, avails_rejected = verify(avails, reference[1] if reference else None, tolerance)
    for rejected, claim_type, claimed, used_value in (
        (price_rejected, "price", price, used_cpm),
        (avails_rejected, "inventory", avails, used_avails),
    ):
        if rejected:
            today.event(
                "claim_rejected", claim_type=claim_type, subject=truth.product_id, claimed=claimed, ledger=used_value
            )
    today.records.append(
        (
            truth.seller_id,
            {
                "type": "quote",
                "day": day,
                "seller_id": truth.seller_id,
                "product_id": truth.product_id,
                "cpm": price,
                "avails": avails,
            },
        )
    )
    return truth.model_copy(update={"cpm": used_cpm, "avails": used_avails})


def _claim(
    state: CampaignState,
    today: Day,
    day: int,
    agent_id: str,
    agent_type: AgentType,
    claim_type: ClaimType,
    subject: str,
    claimed: int,
    actual: int,
    injected: bool,
) -> None:
    if not state.fabricates:
        return
    today.claims.append(
        Claim(
            id=f"{state.campaign.id}/{day}/{len(today.claims)}",
            day=day,
            agent_id=agent_id,
            agent_type=agent_type,
            claim_type=claim_type,
            subject=subject,
            claimed=claimed,
            actual=actual,
            injected=injected,
            checked=state.checks_claims,
        )
    )


def book(state: CampaignState, day: int, negotiations: list[Negotiation], offered: list[Offer], today: Day) -> None:
    """Turn agreed negotiations into deals and share the remaining daily need between them.

    The seller's record is authoritative: a price the seller's agent never really offered (a
    fabricated quote) is billed at the seller's true list price, whatever the buyer agreed.
    """
    state.negotiations += 1
    agreed = [n for n in negotiations if n.agreed_cpm is not None]
    if state.checks_ledger:
        for negotiation in negotiations:
            for step in negotiation.steps:
                author = state.buyer.id if step.actor == "buyer" else negotiation.seller_id
                today.records.append((author, _step_record(day, negotiation, step)))
    for negotiation in negotiations:
        today.event(
            "negotiation",
            seller=negotiation.seller_id,
            product=negotiation.product_id,
            rounds=max(s.round for s in negotiation.steps),
            agreed_cpm=negotiation.agreed_cpm,
            steps=[[s.round, s.actor, s.action, s.cpm] for s in negotiation.steps],
        )
    if not agreed:
        state.last_empty_negotiation = day
        return
    state.last_empty_negotiation = None
    quotes = {offer.product.id: offer.quote for offer in offered}
    need = max(
        1, daily_need(state, day) - sum(d.daily_impressions for d in state.remembered_deals() if d.end_day >= day)
    )
    for negotiation in agreed:
        assert negotiation.agreed_cpm is not None
        product = state.products[negotiation.product_id]
        honest_cpm = quote_for(product, state.buyer.tier, state.campaign).cpm
        fabricated_price = quotes[product.id].cpm < honest_cpm
        billed = max(negotiation.agreed_cpm, honest_cpm) if fabricated_price else negotiation.agreed_cpm
        daily = max(1, min(quotes[product.id].avails, need // len(agreed)))
        deal = Deal(
            id=f"{state.campaign.id}-{state.scenario}-d{len(state.deals) + 1:03d}",
            scenario=state.scenario,
            campaign_id=state.campaign.id,
            buyer_id=state.buyer.id,
            seller_id=product.seller_id,
            product_id=product.id,
            deal_type=negotiation.deal_type or "PD",
            cpm=billed,
            daily_impressions=daily,
            start_day=day,
            end_day=state.campaign.end_day,
            rounds=max(s.round for s in negotiation.steps),
            created_day=day,
        )
        state.deals[deal.id] = deal
        state.agreed[deal.id] = negotiation.agreed_cpm
        state.memory[f"deal:{deal.id}"] = deal.model_copy(update={"cpm": negotiation.agreed_cpm}).model_dump()
        today.deals.append(deal)
        if state.checks_ledger:
            # C counts its history with the seller on its own ledger, today's deals included.
            state.memory[f"history:{deal.seller_id}"] = state.ledger.deals_with.get(deal.seller_id, 0) + sum(
                1 for d in today.deals if d.seller_id == deal.seller_id
            )
            today.records.append((deal.seller_id, _deal_record(deal, negotiation.agreed_cpm)))
        else:
            # The seller's confirmation states the relationship ("your deal #n with us"), so a booking
            # re-teaches the count even after the buyer forgot it.
            state.memory[f"history:{deal.seller_id}"] = state.true_history(deal.seller_id)


STEP_RECORD = {
    "propose": "proposal",
    "counter": "counter",
    "final": "counter",
    "accept": "accept",
    "reject": "reject",
    "walk_away": "reject",
}


def _step_record(day: int, negotiation: Negotiation, step: NegotiationStep) -> dict[str, Any]:
    return {
        "type": STEP_RECORD[step.action],
        "day": day,
        "seller_id": negotiation.seller_id,
        "product_id": negotiation.product_id,
        "round": step.round,
        "actor": step.actor,
        "action": step.action,
        "cpm": step.cpm,
    }


def _deal_record(deal: Deal, agreed_cpm: int) -> dict[str, Any]:
    return {"type": "deal", "deal": deal.model_dump(), "agreed_cpm": agreed_cpm}


# --- delivery and payment -----------------------------------------------------------------------


def deliver_day(state: CampaignState, day: int, today: Day) -> None:
    """Serve the deals the buyer still activates; pay for what the seller reports (B) or what the
    impression log shows (C). Pacing spreads what the buyer believes is left of its budget: the
    DSP stops bidding once the day's allowance is spent, and the seller reports what was served."""
    rng = stream(state.seed, state.campaign.id, day, "delivery")
    rate = state.params.hallucination_rate if state.fabricates else 0.0
    remaining_days = max(1, state.campaign.end_day - day + 1)
    allowance = max(0, state.campaign.budget - state.believed_spend()) // remaining_days
    for believed in state.remembered_deals():
        deal = state.deals[believed.id]
        product = state.products[deal.product_id]
        capped = product.model_copy(update={"daily_avails": state.share(product, state.truth_day(day))})
        served = deliver(deal, capped, state.campaign, day, rng, fill_rate=state.day_fill(product, day))
        affordable = allowance * 1000 // deal.cpm if deal.cpm else 0
        impressions, clicks, conversions, viewable = served
        if impressions > affordable:
            scale = affordable / impressions
            impressions, clicks, conversions, viewable = (int(count * scale) for count in served)
        reported, injected = observe(
            "delivery", impressions, rng, rate, state.params.report_noise, graded=state.graded_fabrications
        )
        if impressions == 0:
            continue
        _claim(state, today, day, deal.seller_id, "seller", "delivery", deal.id, reported, impressions, injected)
        if state.checks_ledger:
            # Checked against the deal's earlier reports on the ledger; never pay more than the seller bills.
            reference = state.ledger.deliveries.get(deal.id)
            paid, rejected = verify(reported, reference, state.params.detection_tolerance)
            if paid > reported:  # an under-report costs the seller, not the buyer: paid as billed
                paid, rejected = reported, False
            if rejected:
                today.event("claim_rejected", claim_type="delivery", subject=deal.id, claimed=reported, ledger=paid)
        else:
            paid = impressions if state.checks_claims else reported
        spend = paid * deal.cpm // 1000
        allowance = max(0, allowance - spend)
        _settle(state, deal, day, today, impressions, paid, clicks, conversions, viewable, spend, fee=0)
        if state.checks_ledger:
            record = {"type": "delivery", "deal_id": deal.id, "day": day, "reported": reported}
            today.records.append((deal.seller_id, {**record, "paid": paid, "buyer_spend": spend}))


def observe(
    claim_type: ClaimType, actual: int, rng: random.Random, rate: float, noise: float, *, graded: bool = False
) -> tuple[int, bool]:
    """A count as an agent reports it: fabricated at ``rate``, otherwise honest with measurement
    noise (counts from two systems never agree exactly). Draws the same randoms either way."""
    claimed, injected = inject(claim_type, actual, rng, rate, graded=graded)
    deviation = rng.gauss(0.0, noise) if noise else 0.0
    return (claimed, True) if injected else (max(0, round(actual * (1 + deviation))), False)


def _settle(
    state: CampaignState,
    deal: Deal,
    day: int,
    today: Day,
    impressions: int,
    paid: int,
    clicks: int,
    conversions: int,
    viewable: int,
    spend: int,
    fee: int,
) -> None:
    state.spent += spend
    state.impressions += impressions
    state.clicks += clicks
    state.conversions += conversions
    state.viewable += viewable
    state.exchange_fees += fee
    state.memory[f"delivered:{deal.id}"] = int(state.memory.get(f"delivered:{deal.id}", 0)) + paid
    state.memory["spend"] = state.believed_spend() + spend
    delivery = Delivery(
        deal_id=deal.id,
        campaign_id=state.campaign.id,
        seller_id=deal.seller_id,
        day=day,
        impressions=impressions,
        reported=paid,
        clicks=clicks,
        conversions=conversions,
        viewable=viewable,
        buyer_spend=spend,
        seller_revenue=spend - fee,
        exchange_fee=fee,
    )
    today.deliveries.append(delivery)


# --- scenario A: the exchange ---------------------------------------------------------------------


def auction_day(state: CampaignState, day: int, today: Day) -> None:
    """The campaign bids on each matching product's daily lot; the exchange keeps its fee.

    The buyer values an impression at its max CPM and shades first-price bids; background demand
    competes for the same lot. The exchange's records are authoritative (no memory to lose).
    """
    campaign, params = state.campaign, state.params
    if not campaign.start_day <= day <= campaign.end_day or state.spent >= campaign.budget:
        return
    rng = stream(state.seed, campaign.id, day, "auction")
    remaining_days = max(1, campaign.end_day - day + 1)
    allowance = (campaign.budget - state.spent) // remaining_days
    honest = [
        # The buyer ranks on the catalogue's typical avails: the day's true inventory is the exchange's to serve.
        quote_for(p, state.buyer.tier, campaign).model_copy(update={"avails": state.share(p)})
        for p in state.products.values()
    ]
    candidates = (
        rank_products(campaign, honest, state.products)[: params.proposals_per_day]
        or sorted(honest, key=lambda q: q.product_id)[:1]
    )
    need = max(1, (campaign.target_impressions - state.impressions) // remaining_days)
    lot = max(1, need // len(candidates))
    for quote in candidates:
        product = state.products[quote.product_id]
        value = min(campaign.max_cpm, round(campaign.target_cpm * (1 + params.buyer_value_over_target)))
        own = Bid(
            bidder_id=state.buyer.id, cpm=shade(value, params.bid_shading) if params.auction == "first" else value
        )
        background = competing_bids(
            rng, product, params.competing_bidders, shading=params.bid_shading if params.auction == "first" else 1.0
        )
        bids, floor = [own, *background], effective_floor(product)
        if params.auction == "first":
            result = first_price(bids, floor)
        else:
            # The seed's +$0.01 increment since world fidelity; before, the second bid exactly.
            result = second_price(bids, floor, params.second_price_increment if state.world_fidelity else 0)
        today.event(
            "auction",
            product=product.id,
            floor=result.floor,
            clearing_cpm=result.clearing_cpm,
            winner=result.winner_id,
            bids=[[b.bidder_id, b.cpm] for b in result.bids],
        )
        if result.winner_id != state.buyer.id or result.clearing_cpm is None:
            continue
        deal = _exchange_deal(state, product, day, result.clearing_cpm, lot, today)
        impressions, clicks, conversions, viewable = deliver(
            deal,
            product.model_copy(update={"daily_avails": state.share(product, state.truth_day(day))}),
            campaign,
            day,
            rng,
            fill_rate=state.day_fill(product, day),
        )
        spend = min(impressions * result.clearing_cpm // 1000, allowance)
        if spend <= 0:
            continue
        if spend < impressions * result.clearing_cpm // 1000:
            scale = spend / (impressions * result.clearing_cpm // 1000)
            impressions, clicks, conversions, viewable = (
                int(v * scale) for v in (impressions, clicks, conversions, viewable)
            )
        allowance -= spend
        fee, _ = exchange_split(spend, params.exchange_fee)
        _settle(state, deal, day, today, impressions, impressions, clicks, conversions, viewable, spend, fee=fee)


def _exchange_deal(state: CampaignState, product: Product, day: int, cpm: int, lot: int, today: Day) -> Deal:
    """The private-auction deal id the exchange gives a campaign on a product the first time it wins."""
    existing = next((d for d in state.deals.values() if d.product_id == product.id), None)
    if existing is not None:
        return existing.model_copy(update={"cpm": cpm, "daily_impressions": lot})
    deal = Deal(
        id=f"{state.campaign.id}-A-d{len(state.deals) + 1:03d}",
        scenario="A",
        campaign_id=state.campaign.id,
        buyer_id=state.buyer.id,
        seller_id=product.seller_id,
        product_id=product.id,
        deal_type="PA",
        cpm=cpm,
        daily_impressions=lot,
        start_day=day,
        end_day=state.campaign.end_day,
        rounds=0,
        created_day=day,
    )
    state.deals[deal.id] = deal
    state.agreed[deal.id] = cpm
    today.deals.append(deal)
    return deal


# --- the ledger ---------------------------------------------------------------------------------


def ledger_records(state: CampaignState, today: Day) -> list[tuple[str, dict[str, Any]]]:
    """(author, payload) for the day's ledger entries: deal records in every scenario; in C also
    every delivery as the impression log has it, which is what lets C recover and verify. With ledger
    checks, C's records are everything it heard and did today, in order (``Day.records``)."""
    if state.checks_ledger:
        return list(today.records)
    if state.scenario == "A" and state.world_fidelity:
        # The seller's record of an exchange deal is what the exchange told it: the buyer masked.
        return [
            (
                deal.seller_id,
                {"type": "deal", "deal": seller_view(deal, state.params.exchange_fee, state.seed).model_dump()},
            )
            for deal in today.deals
        ]
    records: list[tuple[str, dict[str, Any]]] = [
        (deal.seller_id, {"type": "deal", "deal": deal.model_dump(), "agreed_cpm": state.agreed[deal.id]})
        for deal in today.deals
    ]
    if state.scenario == "C":
        for delivery in today.deliveries:
            records.append(
                (
                    delivery.seller_id,
                    {
                        "type": "delivery",
                        "deal_id": delivery.deal_id,
                        "day": delivery.day,
                        "impressions": delivery.impressions,
                        "paid": delivery.reported,
                        "buyer_spend": delivery.buyer_spend,
                    },
                )
            )
    return records
