"""Buyer-seller negotiation over one product, after the IAB seller and buyer agents' rules.

Protocol (one ``Negotiation``): the seller opens with its quote (round 0, "propose"); then each
round the buyer answers the current ask (accept / counter / reject / walk_away) and the seller
answers a counter (accept / counter / final / reject). A deal's agreed CPM is the accepted price
of the last step.

Seller (IAB seller agent's NegotiationEngine, tightened so the per-round cap always holds):
- the reference price is the tier's list price (``pricing.list_price``); concession caps are
  shares of it;
- accept when the bid >= the list price or >= its last ask, but never below its floor;
- a bid under the floor is answered by moving to the floor (IAB: "counter at the floor"), but
  no further in one round than the per-round cap allows;
- otherwise give up the tier's buyer share of the gap, capped per round and in total;
- the counter is a final offer when it uses >= 80% of the remaining total cap or it is the
  tier's last round; past the last round it rejects.
IAB's own engine jumps straight to the floor or to base x (1 - total cap) there, breaking its
per-round cap; we keep every cap.

Buyer (IAB buyer agent + the seed's Gap 3 thresholds): accept an ask within 10% above target CPM
(and <= max CPM); reject one more than 20% above; in between, bid target + round x step x target,
never above max CPM, accepting instead when that bid would reach the ask. It walks away after
``params.max_rounds_buyer`` rounds, when the seller's ask stops moving, or on a final offer it
will not accept.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Coroutine, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from models.ads import AdsParams, Campaign, DealType, Negotiation, NegotiationStep, Product, Quote, Tier
from sim.ads.kpi import blended_rate, per_impression
from sim.ads.pricing import NEGOTIATION_LIMITS, effective_floor, list_price

SellerAction = Literal["accept", "counter", "final", "reject"]
BuyerAction = Literal["accept", "counter", "reject", "walk_away"]

ACCEPT_WITHIN = 0.10  # buyer accepts an ask up to 10% above its target CPM (seed Gap 3)
COUNTER_WITHIN = 0.20  # buyer counters up to 20% above target, rejects beyond (seed Gap 3)
FINAL_SHARE_OF_REMAINING = 0.8  # IAB: final offer once a concession uses >= 80% of the remaining cap


def seller_move(
    product: Product,
    tier: Tier,
    bid_cpm: int,
    round: int,
    last_counter: int,
    conceded: int,
    *,
    impressions: int = 0,
) -> tuple[SellerAction, int]:
    """The seller's answer to a bid in ``round`` (1-based).

    ``last_counter`` is its current ask; ``conceded`` the micros its ask has dropped so far in
    this negotiation; ``impressions`` the buy's volume, for the list price's volume discount.
    Returns (action, CPM): the bid for accept, the new ask for counter/final, the standing ask
    for reject.
    """
    limits = NEGOTIATION_LIMITS[tier]
    floor = effective_floor(product)
    reference = list_price(product, tier, impressions)
    if bid_cpm >= floor and (bid_cpm >= reference or bid_cpm >= last_counter):
        return "accept", bid_cpm  # IAB checks acceptance before the round limit
    if round > limits.max_rounds:
        return "reject", last_counter

    remaining = max(0, int(reference * limits.total) - conceded)
    per_round = int(reference * limits.per_round)
    # Under the floor: move to the floor, as far as the caps allow; else give up the buyer's share of the gap.
    wanted = last_counter - floor if bid_cpm < floor else int((last_counter - bid_cpm) * limits.buyer_share)
    step = max(0, min(wanted, per_round, remaining))
    ask = max(floor, last_counter - step)
    step = max(0, last_counter - ask)
    final = round == limits.max_rounds or step >= FINAL_SHARE_OF_REMAINING * remaining
    return ("final" if final else "counter"), ask


def buyer_bid(campaign: Campaign, round: int, params: AdsParams) -> int:
    """The buyer's bid in ``round``: target CPM plus one step per earlier round, at most max CPM."""
    return min(campaign.max_cpm, campaign.target_cpm + int(campaign.target_cpm * params.buyer_step * (round - 1)))


def buyer_move(campaign: Campaign, ask_cpm: int, round: int, params: AdsParams) -> tuple[BuyerAction, int]:
    """The buyer's answer to the seller's ask in ``round`` (1-based).

    Returns (action, CPM): the ask for accept/reject/walk_away, the bid for counter.
    """
    target = campaign.target_cpm
    if ask_cpm <= campaign.max_cpm and ask_cpm <= target * (1 + ACCEPT_WITHIN):
        return "accept", ask_cpm
    if round > params.max_rounds_buyer:
        return "walk_away", ask_cpm
    if ask_cpm > target * (1 + COUNTER_WITHIN):
        return "reject", ask_cpm
    bid = buyer_bid(campaign, round, params)
    if bid >= ask_cpm:  # the buyer would offer at least the ask: take the ask
        return "accept", ask_cpm
    return "counter", bid


def deal_type_for(campaign: Campaign, product: Product) -> DealType:
    """PG when the product sells only PG, or the buyer needs guaranteed volume (an impressions
    KPI) and PG is on offer; otherwise PD (first look at a fixed price), else what is sold."""
    if product.deal_types == ("PG",) or (campaign.kpi == "impressions" and "PG" in product.deal_types):
        return "PG"
    if "PD" in product.deal_types:
        return "PD"
    return product.deal_types[0]


def quote_for(product: Product, tier: Tier, campaign: Campaign) -> Quote:
    """The honest quote: the tier's list price for the campaign's volume and the true avails."""
    return Quote(
        product_id=product.id,
        seller_id=product.seller_id,
        cpm=list_price(product, tier, campaign.target_impressions),
        avails=product.daily_avails,
    )


@dataclass(frozen=True)
class Ask:
    """The seller's standing ask the buyer must answer in ``round``; ``last`` when it will not move."""

    round: int
    cpm: int
    last: bool


BuyerAnswer = tuple[BuyerAction, int]
Conversation = Generator[Ask, BuyerAnswer, Negotiation]
T = TypeVar("T")


def bargain(campaign: Campaign, tier: Tier, product: Product, quote: Quote, params: AdsParams) -> Conversation:
    """The negotiation as a conversation: yields each ask, receives the buyer's answer, returns the result.

    Whoever answers (the rules below, or a language model) the seller follows the same IAB rules.
    The seller opens at the quoted CPM, raised to its floor if below it (a seller never asks under
    its own floor, so a deflated quote cannot produce a below-floor deal). The volume discount uses
    the campaign's target impressions, as ``quote_for`` does.
    """
    impressions = campaign.target_impressions
    ask = max(quote.cpm, effective_floor(product))
    opening = ask
    steps = [NegotiationStep(round=0, actor="seller", action="propose", cpm=ask)]
    seller_final = False
    seller_stalled = False
    agreed: int | None = None
    round_ = 1
    while True:
        action, cpm = yield Ask(round=round_, cpm=ask, last=seller_final or seller_stalled)
        if action == "accept":
            cpm = ask  # accepting means taking the ask as it stands
        if action == "counter" and (seller_final or seller_stalled):
            action, cpm = "walk_away", ask
        steps.append(NegotiationStep(round=round_, actor="buyer", action=action, cpm=cpm))
        if action == "accept":
            agreed = cpm
            break
        if action != "counter":
            break
        reply, new_ask = seller_move(product, tier, cpm, round_, ask, opening - ask, impressions=impressions)
        steps.append(NegotiationStep(round=round_, actor="seller", action=reply, cpm=new_ask))
        if reply == "accept":
            agreed = new_ask
            break
        if reply == "reject":
            break
        seller_final = reply == "final"
        seller_stalled = new_ask >= ask
        ask = new_ask
        round_ += 1
    return Negotiation(
        campaign_id=campaign.id,
        seller_id=product.seller_id,
        product_id=product.id,
        steps=tuple(steps),
        agreed_cpm=agreed,
        deal_type=deal_type_for(campaign, product) if agreed is not None else None,
    )


def negotiate(
    campaign: Campaign, tier: Tier, product: Product, quote: Quote, params: AdsParams, rng: random.Random
) -> Negotiation:
    """Play the whole negotiation from ``quote`` (which may be fabricated) with the buyer's rules.

    The rules are deterministic; ``rng`` is accepted so callers pass one stream whether or not a
    future rule draws from it.
    """
    del rng

    async def rules(ask: Ask) -> BuyerAnswer:
        return buyer_move(campaign, ask.cpm, ask.round, params)

    return _at_once(converse(bargain(campaign, tier, product, quote, params), rules))


async def converse(conversation: Conversation, answer: Callable[[Ask], Awaitable[BuyerAnswer]]) -> Negotiation:
    """Drive ``conversation`` to its end: each ask goes to ``answer``, each answer back to the seller.

    The one loop for every buyer: the rules (``negotiate``) and a language model (``llm.negotiate``).
    """
    ask = next(conversation)
    try:
        while True:
            ask = conversation.send(await answer(ask))
    except StopIteration as finished:
        negotiation: Negotiation = finished.value
        return negotiation


def _at_once(coroutine: Coroutine[Any, Any, T]) -> T:
    """The result of a coroutine that never suspends (every answer it awaits is ready), with no event loop."""
    try:
        coroutine.send(None)
    except StopIteration as finished:
        result: T = finished.value
        return result
    coroutine.close()
    raise RuntimeError("a conversation driven at once waited for an answer")


def matches(campaign: Campaign, product: Product) -> bool:
    """A product a campaign can buy: on one of its channels, reaching at least one of its segments."""
    return product.channel in campaign.channels and bool(set(product.segments) & set(campaign.segments))


def expected_value(campaign: Campaign, product: Product, cpm: int) -> float:
    """Expected value per impression (micros) minus its cost.

    A KPI unit is worth what the buyer's max CPM implies for its channel mix:
    (max CPM / 1000) / blended KPI rate; an impression on ``product`` yields its channel's rate of
    KPI units. So a channel better at the KPI than the campaign's average is worth more.
    """
    unit_value = campaign.max_cpm / 1000 / blended_rate(campaign.kpi, campaign.channels)
    return unit_value * per_impression(campaign.kpi, product.channel) - cpm / 1000


def rank_products(campaign: Campaign, quotes: Sequence[Quote], products: Mapping[str, Product]) -> list[Quote]:
    """The buyer's consideration set (seed Gap 3): matching quotes with positive expected value,
    best value-for-money (EV / cost) first, ties by product id."""
    ranked: list[tuple[float, str, Quote]] = []
    for quote in quotes:
        product = products.get(quote.product_id)
        if product is None or quote.avails <= 0 or not matches(campaign, product):
            continue
        ev = expected_value(campaign, product, quote.cpm)
        if ev <= 0:
            continue
        cost = max(quote.cpm, 1) / 1000
        ranked.append((ev / cost, quote.product_id, quote))
    ranked.sort(key=lambda item: (-item[0], item[1]))
    return [quote for _, _, quote in ranked]
