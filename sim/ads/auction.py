"""Scenario A's exchange: sealed-bid auctions over buyer bids, and the exchange's take.

Ranking is by *bid* (highest wins; ties go to the smaller bidder id so results are
deterministic). The seed's peer ranked seller asks; that is not an auction.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence

from models.ads import AuctionResult, Bid, Deal, Product, SellerDealView

# Background demand values are drawn uniformly in [LOW, HIGH] x the product's base CPM
# (assumption: open-market bidders value the inventory around its list price, a little below on
# average, since list prices are the seller's opening ask).
COMPETING_VALUE_RANGE: tuple[float, float] = (0.6, 1.2)

# The seed's second-price increment, $0.01 on the CPM, in micros (AdsParams.second_price_increment).
SECOND_PRICE_INCREMENT = 10_000


def _ranked(bids: Sequence[Bid], floor: int) -> list[Bid]:
    return sorted((b for b in bids if b.cpm >= floor), key=lambda b: (-b.cpm, b.bidder_id))


def first_price(bids: Sequence[Bid], floor: int) -> AuctionResult:
    """Highest bid at or above the floor wins and pays its own bid."""
    ranked = _ranked(bids, floor)
    if not ranked:
        return AuctionResult(winner_id=None, clearing_cpm=None, bids=tuple(bids), floor=floor)
    return AuctionResult(winner_id=ranked[0].bidder_id, clearing_cpm=ranked[0].cpm, bids=tuple(bids), floor=floor)


def second_price(bids: Sequence[Bid], floor: int, increment: int = SECOND_PRICE_INCREMENT) -> AuctionResult:
    """Highest bid at or above the floor wins and pays the second-highest such bid plus ``increment``
    (the seed's Gap 16: "the second-highest bid + $0.01"), never more than its own bid (a tie pays the
    tied bid); alone above the floor it pays the floor (the reserve), with no increment.

    Studies before the ``ads-world-fidelity`` version cleared at the second bid exactly (``increment=0``).
    """
    ranked = _ranked(bids, floor)
    if not ranked:
        return AuctionResult(winner_id=None, clearing_cpm=None, bids=tuple(bids), floor=floor)
    winner = ranked[0]
    clearing = min(max(ranked[1].cpm + increment, floor), winner.cpm) if len(ranked) > 1 else floor
    return AuctionResult(winner_id=winner.bidder_id, clearing_cpm=clearing, bids=tuple(bids), floor=floor)


def shade(value_cpm: int, shading: float) -> int:
    """First-price bid for a value: shading x value, rounded down (never above the shaded value)."""
    return int(value_cpm * shading)


def exchange_split(buyer_spend: int, fee: float) -> tuple[int, int]:
    """(exchange fee, seller revenue): the exchange keeps ``fee`` of what the buyer spends.

    Not cpm x (1 + fee) charged and / (1 + fee) paid out, which is a take of fee / (1 + fee).
    """
    if not 0 <= fee < 1:
        raise ValueError(f"fee must be in [0, 1), got {fee}")
    exchange_fee = round(buyer_spend * fee)
    return exchange_fee, buyer_spend - exchange_fee


def competing_bids(rng: random.Random, product: Product, count: int, *, shading: float = 1.0) -> list[Bid]:
    """Background demand for one auction on ``product``: ``count`` bids named "bg-01"...

    Values are U(0.6, 1.2) x base CPM; ``shading`` < 1 turns values into first-price bids
    (pass the study's bid_shading for a first-price exchange, 1.0 for truthful second-price).
    One draw per bidder.
    """
    low, high = COMPETING_VALUE_RANGE
    bids = []
    for i in range(count):
        value = round(product.base_cpm * rng.uniform(low, high))
        bids.append(Bid(bidder_id=f"bg-{i + 1:02d}", cpm=shade(value, shading)))
    return bids


def masked_deal_id(seed: int, deal_id: str) -> str:
    """The exchange's deal id as a seller sees it: a digest of the study's seed and the deal, so it names the
    deal stably without the buyer and campaign that our own deal ids are built from."""
    return "xd-" + hashlib.sha256(f"{seed}/exchange/{deal_id}".encode()).hexdigest()[:16]


def seller_view(deal: Deal, fee: float, seed: int) -> SellerDealView:
    """What the exchange tells the seller about a deal won on its inventory: product, day, lot and the CPM
    net of the exchange's fee, with the buyer masked (the seed's exchange: "FORWARD to sellers with buyer
    identity masked"; the seller then cannot price by who buys)."""
    _, seller_cpm = exchange_split(deal.cpm, fee)
    return SellerDealView(
        exchange_deal_id=masked_deal_id(seed, deal.id),
        seller_id=deal.seller_id,
        product_id=deal.product_id,
        deal_type=deal.deal_type,
        day=deal.created_day,
        cpm=seller_cpm,
        daily_impressions=deal.daily_impressions,
    )
