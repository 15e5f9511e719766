"""Auctions rank bids, clear correctly and satisfy revenue equivalence; the exchange keeps its fee."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.ads import AdsParams, AuctionResult, Bid, Deal
from sim.ads.auction import (
    SECOND_PRICE_INCREMENT,
    competing_bids,
    exchange_split,
    first_price,
    masked_deal_id,
    second_price,
    seller_view,
    shade,
)
from tests.unit.ads.helpers import product, usd

BIDS = [Bid(bidder_id="a", cpm=usd(9)), Bid(bidder_id="b", cpm=usd(12)), Bid(bidder_id="c", cpm=usd(10))]


def test_second_price_clears_at_the_second_highest_bid_plus_the_seeds_cent():
    # The seed's Gap 16: "Winner pays the second-highest bid + $0.01", and AdsParams defaults to it.
    assert SECOND_PRICE_INCREMENT == usd(0.01) == AdsParams().second_price_increment
    result = second_price(BIDS, floor=usd(5))
    assert (result.winner_id, result.clearing_cpm) == ("b", usd(10.01))
    assert result.bids == tuple(BIDS) and result.floor == usd(5)
    # Studies before the increment (increment 0) cleared at the second bid exactly.
    assert second_price(BIDS, floor=usd(5), increment=0).clearing_cpm == usd(10)


def test_second_price_alone_above_the_floor_pays_the_floor_without_increment():
    result = second_price(BIDS, floor=usd(11))
    assert (result.winner_id, result.clearing_cpm) == ("b", usd(11))
    alone = second_price([Bid(bidder_id="only", cpm=usd(20))], floor=usd(7))
    assert (alone.winner_id, alone.clearing_cpm) == ("only", usd(7))
    assert second_price([Bid(bidder_id="only", cpm=usd(20))], floor=0).clearing_cpm == 0  # no reserve: free


def test_second_price_never_charges_more_than_the_winning_bid():
    close = [Bid(bidder_id="w", cpm=usd(10) + 4_000), Bid(bidder_id="r", cpm=usd(10))]
    assert second_price(close, floor=usd(5)).clearing_cpm == usd(10) + 4_000  # not 10.01
    # The second bid plus the cent under the floor: the floor still holds.
    assert second_price(close, floor=usd(10) + 2_000, increment=0).clearing_cpm == usd(10) + 2_000


def test_first_price_pays_its_own_shaded_bid():
    bids = [Bid(bidder_id="x", cpm=shade(usd(20), 0.85)), Bid(bidder_id="y", cpm=shade(usd(18), 0.85))]
    result = first_price(bids, floor=usd(5))
    assert (result.winner_id, result.clearing_cpm) == ("x", usd(17))


def test_no_bid_clears_the_floor():
    for auction in (first_price, second_price):
        result = auction(BIDS, floor=usd(13))
        assert result.winner_id is None and result.clearing_cpm is None


def test_ties_go_to_the_smaller_bidder_id():
    bids = [Bid(bidder_id="z", cpm=usd(10)), Bid(bidder_id="m", cpm=usd(10))]
    assert first_price(bids, 0).winner_id == "m"
    assert second_price(bids, 0).clearing_cpm == usd(10)  # the tied bid, the cent capped away


@given(
    st.lists(st.integers(min_value=0, max_value=usd(50)), min_size=0, max_size=8),
    st.integers(min_value=0, max_value=usd(30)),
)
def test_auction_invariants(cpms, floor):
    bids = [Bid(bidder_id=f"b{i}", cpm=c) for i, c in enumerate(cpms)]
    above = sorted((c for c in cpms if c >= floor), reverse=True)
    for auction in (first_price, second_price):
        result = auction(bids, floor)
        if not above:
            assert result.winner_id is None
            continue
        winner = next(b for b in bids if b.bidder_id == result.winner_id)
        assert winner.cpm == above[0] >= floor  # the highest bid wins, never one below the floor
        assert result.clearing_cpm is not None and floor <= result.clearing_cpm <= winner.cpm
    expected = min(above[1] + SECOND_PRICE_INCREMENT, above[0]) if len(above) > 1 else floor
    if above:
        assert second_price(bids, floor).clearing_cpm == expected
        assert second_price(bids, floor, increment=0).clearing_cpm == (above[1] if len(above) > 1 else floor)
        assert first_price(bids, floor).clearing_cpm == above[0]


@pytest.mark.parametrize("n", [2, 3, 5])
def test_revenue_equivalence(n):
    # Values ~ U[0, 1] (scaled to $1 = 1e6 micros). Truthful second price and first price bidding
    # (n-1)/n of value both earn (n-1)/(n+1) in expectation.
    rng = random.Random(n)
    trials = 20_000
    scale = 1_000_000
    first_total = second_total = 0
    for _ in range(trials):
        values = [round(rng.random() * scale) for _ in range(n)]
        # The theory is Vickrey's: no increment.
        bids = [Bid(bidder_id=str(i), cpm=v) for i, v in enumerate(values)]
        second_total += _cleared(second_price(bids, 0, increment=0))
        shaded = [Bid(bidder_id=str(i), cpm=shade(v, (n - 1) / n)) for i, v in enumerate(values)]
        first_total += _cleared(first_price(shaded, 0))
    expected = (n - 1) / (n + 1)
    assert first_total / trials / scale == pytest.approx(expected, rel=0.02)
    assert second_total / trials / scale == pytest.approx(expected, rel=0.02)


@given(st.integers(min_value=0, max_value=10**13), st.sampled_from([0.0, 0.1, 0.15, 0.2, 0.333]))
def test_exchange_keeps_exactly_its_fee_share(spend, fee):
    exchange_fee, seller = exchange_split(spend, fee)
    assert exchange_fee + seller == spend
    assert exchange_fee >= 0 and seller >= 0
    assert abs(exchange_fee - spend * fee) <= 0.5 + 1e-9 * spend  # integer rounding (and float) only
    if spend >= 1_000_000:
        assert exchange_fee / spend == pytest.approx(fee, abs=1e-6)


def test_exchange_split_is_not_the_peer_formula():
    # A $15 CPM at 15%: the exchange keeps $2.25 and the seller $12.75 (not 15 / 1.15 = 13.04).
    assert exchange_split(usd(15), 0.15) == (usd(2.25), usd(12.75))
    with pytest.raises(ValueError):
        exchange_split(100, 1.0)


def test_competing_bids_are_deterministic_and_around_base():
    p = product(base=20.0, floor=15.0)
    bids = competing_bids(random.Random(1), p, 2000)
    assert bids == competing_bids(random.Random(1), p, 2000)
    assert [b.bidder_id for b in bids[:2]] == ["bg-01", "bg-02"]
    assert all(usd(12) <= b.cpm <= usd(24) for b in bids)
    assert sum(b.cpm for b in bids) / len(bids) == pytest.approx(usd(18), rel=0.02)
    shaded = competing_bids(random.Random(1), p, 2000, shading=0.5)
    assert [s.cpm for s in shaded] == [shade(b.cpm, 0.5) for b in bids]


def _cleared(result: AuctionResult) -> int:
    # With no floor, every auction with a bidder clears.
    assert result.clearing_cpm is not None
    return result.clearing_cpm


def test_the_sellers_view_of_an_exchange_deal_masks_the_buyer():
    deal = Deal(
        id="buyer-03-c07-A-d002",
        scenario="A",
        campaign_id="buyer-03-c07",
        buyer_id="buyer-03",
        seller_id="seller-02",
        product_id="seller-02-p1",
        deal_type="PA",
        cpm=usd(12),
        daily_impressions=40_000,
        start_day=4,
        end_day=30,
        rounds=0,
        created_day=4,
    )
    view = seller_view(deal, fee=0.15, seed=9)
    dumped = view.model_dump_json()
    for identity in ("buyer", "buyer-03", "c07", deal.id):
        assert identity not in dumped, identity
    assert (view.seller_id, view.product_id, view.day, view.daily_impressions) == (
        "seller-02",
        "seller-02-p1",
        4,
        40_000,
    )
    assert view.cpm == usd(12) - exchange_split(usd(12), 0.15)[0] == usd(10.2)  # net of the exchange's margin
    # Stable for a deal, distinct across deals and seeds.
    assert view.exchange_deal_id == masked_deal_id(9, deal.id) != masked_deal_id(9, "buyer-03-c07-A-d003")
    assert masked_deal_id(9, deal.id) != masked_deal_id(10, deal.id)
