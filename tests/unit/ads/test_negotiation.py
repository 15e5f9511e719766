"""The IAB negotiation rules: seller limits by tier, buyer thresholds, deal types, ranking."""

from __future__ import annotations

import itertools
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from models.ads import AdsParams, Quote
from sim.ads.negotiation import buyer_move, deal_type_for, negotiate, quote_for, rank_products, seller_move
from sim.ads.pricing import NEGOTIATION_LIMITS, TIERS, effective_floor, list_price
from tests.unit.ads.helpers import campaign, product, usd

PARAMS = AdsParams()


# --- seller ------------------------------------------------------------------------------------


def test_seller_accepts_at_list_price_or_its_last_counter():
    p = product(base=15.0, floor=10.0)
    assert seller_move(p, "PUBLIC", usd(15), 1, usd(15), 0) == ("accept", usd(15))
    assert seller_move(p, "PUBLIC", usd(14), 2, usd(14), 0) == ("accept", usd(14))
    assert seller_move(p, "AGENCY", usd(13.5), 1, usd(14.5), 0) == ("accept", usd(13.5))  # list = 13.50


def test_seller_concedes_its_share_of_the_gap_within_the_per_round_cap():
    p = product(base=15.0, floor=10.0)
    # AGENCY: list 13.50, buyer share 50%, per-round cap 5% of 13.50 = 0.675.
    assert seller_move(p, "AGENCY", usd(13.0), 1, usd(13.5), 0) == ("counter", usd(13.25))
    assert seller_move(p, "AGENCY", usd(11.0), 1, usd(13.5), 0) == ("counter", usd(13.5 - 0.675))


def test_seller_below_floor_moves_to_the_floor_and_makes_it_final_in_the_last_round():
    p = product(base=15.0, floor=10.0)
    # ADVERTISER: list 12.75; floor 10.00 is within one round's cap of an ask at 10.50.
    assert seller_move(p, "ADVERTISER", usd(8.0), 2, usd(10.5), 0) == ("counter", usd(10.0))
    assert seller_move(p, "ADVERTISER", usd(8.0), 6, usd(10.5), 0) == ("final", usd(10.0))
    # Further away, the per-round cap still binds (0.765 a round).
    assert seller_move(p, "ADVERTISER", usd(8.0), 1, usd(12.75), 0) == ("counter", usd(12.75 - 0.765))


def test_seller_makes_a_final_offer_when_a_concession_uses_most_of_the_remaining_cap():
    p = product(base=10.0, floor=5.0)
    # PUBLIC: cap 3%/round = 0.30, 8% total = 0.80. With 0.60 conceded, 0.20 remains: final.
    assert seller_move(p, "PUBLIC", usd(8.0), 2, usd(9.4), usd(0.6)) == ("final", usd(9.2))
    # Nothing left to concede: a final offer at the standing ask.
    assert seller_move(p, "PUBLIC", usd(8.0), 2, usd(9.2), usd(0.8)) == ("final", usd(9.2))


def test_seller_rejects_past_max_rounds():
    p = product()
    for tier in TIERS:
        rounds = NEGOTIATION_LIMITS[tier].max_rounds
        assert seller_move(p, tier, usd(11), rounds + 1, usd(14), 0) == ("reject", usd(14))
        assert seller_move(p, tier, usd(14), rounds + 1, usd(14), 0) == ("accept", usd(14))


products = st.builds(
    lambda base, floor_share, avails: product(base=base, floor=round(base * floor_share, 2), avails=avails),
    st.floats(min_value=1.5, max_value=45.0).map(lambda x: round(x, 2)),
    st.floats(min_value=0.4, max_value=0.97),
    st.integers(min_value=1, max_value=10_000_000),
)


@settings(max_examples=300, deadline=None)
@given(
    products,
    st.sampled_from(TIERS),
    st.floats(min_value=0.0, max_value=1.5),
    st.floats(min_value=0.0, max_value=1.0),
    st.floats(min_value=0.0, max_value=1.2),
    st.integers(min_value=1, max_value=8),
    st.integers(min_value=0, max_value=60_000_000),
)
def test_seller_move_respects_tier_limits(p, tier, bid_share, ask_share, conceded_share, round_, impressions):
    limits = NEGOTIATION_LIMITS[tier]
    reference = list_price(p, tier, impressions)
    floor = effective_floor(p)
    last = floor + round((reference - floor) * ask_share)
    conceded = round(reference * limits.total * conceded_share)
    bid = round(reference * bid_share)
    action, cpm = seller_move(p, tier, bid, round_, last, conceded, impressions=impressions)
    assert cpm >= floor
    if round_ > limits.max_rounds:
        assert action in ("accept", "reject")  # no more counters past the tier's rounds
    if action == "accept":
        assert cpm == bid >= floor
    if action in ("counter", "final"):
        drop = last - cpm
        assert 0 <= drop <= reference * limits.per_round
        assert drop <= max(0.0, reference * limits.total - conceded)
        assert cpm > bid


# --- buyer -------------------------------------------------------------------------------------


def test_buyer_thresholds():
    c = campaign(target=10.0)  # max 12.00
    assert buyer_move(c, usd(10.99), 1, PARAMS) == ("accept", usd(10.99))
    assert buyer_move(c, usd(9.0), 1, PARAMS) == ("accept", usd(9.0))
    assert buyer_move(c, usd(11.5), 1, PARAMS) == ("counter", usd(10.0))  # opens at target
    assert buyer_move(c, usd(11.5), 3, PARAMS) == ("counter", usd(11.0))  # +5% of target a round
    assert buyer_move(c, usd(11.5), 5, PARAMS) == ("accept", usd(11.5))  # its bid (12.00) reaches the ask
    assert buyer_move(c, usd(12.01), 1, PARAMS) == ("reject", usd(12.01))
    assert buyer_move(c, usd(11.5), 6, PARAMS) == ("walk_away", usd(11.5))


def test_buyer_never_bids_above_max_cpm():
    c = campaign(target=10.0, max_cpm=10.5)
    moves = [buyer_move(c, usd(11.9), r, PARAMS) for r in range(1, 6)]
    assert all(cpm <= usd(10.5) for action, cpm in moves if action == "counter")
    assert buyer_move(c, usd(10.9), 1, PARAMS)[0] != "accept"  # within 10% of target but above max


# --- the whole negotiation ---------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(
    products,
    st.sampled_from(TIERS),
    st.floats(min_value=0.6, max_value=1.2),  # quoted CPM as a share of the list price (fabrications)
    st.floats(min_value=0.8, max_value=1.3),  # opening ask / target: accept, counter and reject bands
    st.floats(min_value=1.0, max_value=1.5),  # max as a multiple of target
    st.floats(min_value=0.01, max_value=0.2),
    st.integers(min_value=1, max_value=8),
    st.integers(min_value=1, max_value=60_000_000),
)
def test_negotiation_respects_tier_limits(p, tier, quote_share, ask_over_target, max_mult, step, rounds, impressions):
    limits = NEGOTIATION_LIMITS[tier]
    reference = list_price(p, tier, impressions)
    floor = effective_floor(p)
    quote = Quote(product_id=p.id, seller_id=p.seller_id, cpm=round(reference * quote_share), avails=p.daily_avails)
    target = max(0.01, round(max(quote.cpm, floor) / ask_over_target / 1e6, 2))
    c = campaign(target=target, max_cpm=round(target * max_mult, 2), impressions=impressions)
    params = AdsParams(buyer_step=step, max_rounds_buyer=rounds)
    n = negotiate(c, tier, p, quote, params, random.Random(0))

    asks = [s.cpm for s in n.steps if s.actor == "seller" and s.action in ("propose", "counter", "final")]
    assert asks[0] == max(quote.cpm, floor)  # opens at the quote, never under the floor
    assert all(ask >= floor for ask in asks)
    assert all(0 <= a - b <= reference * limits.per_round for a, b in itertools.pairwise(asks))
    assert asks[0] - min(asks) <= reference * limits.total
    assert all(s.round <= limits.max_rounds for s in n.steps if s.actor == "seller")
    assert all(s.round <= rounds for s in n.steps if s.actor == "buyer" and s.action == "counter")
    assert all(s.cpm <= c.max_cpm for s in n.steps if s.actor == "buyer" and s.action in ("counter", "accept"))
    if n.agreed_cpm is not None:
        last = n.steps[-1]
        assert last.action == "accept" and last.cpm == n.agreed_cpm
        assert floor <= n.agreed_cpm <= c.max_cpm
        assert n.deal_type in p.deal_types
    else:
        assert n.deal_type is None
        assert n.steps[-1].action in ("reject", "walk_away")
    assert (n.campaign_id, n.seller_id, n.product_id) == (c.id, p.seller_id, p.id)


def test_a_negotiation_that_converges_over_several_rounds():
    p = product(base=15.0, floor=10.0)
    c = campaign(target=12.0)  # max 14.40; AGENCY list 13.50 is 12.5% above target: counter
    n = negotiate(c, "AGENCY", p, quote_for(p, "AGENCY", c), PARAMS, random.Random(0))
    actions = [(s.actor, s.action, s.cpm) for s in n.steps]
    assert actions == [
        ("seller", "propose", usd(13.5)),
        ("buyer", "counter", usd(12.0)),
        ("seller", "counter", usd(12.825)),  # the 0.675 per-round cap binds before the 0.75 half-gap
        ("buyer", "accept", usd(12.825)),  # within 10% of target (13.20)
    ]
    assert n.agreed_cpm == usd(12.825) and n.deal_type == "PD"


def test_the_buyer_walks_away_when_the_seller_stops_moving():
    p = product(base=15.0, floor=14.0)
    c = campaign(target=12.0, max_cpm=13.0)  # the floor is above what the buyer will pay
    n = negotiate(c, "ADVERTISER", p, quote_for(p, "ADVERTISER", c), PARAMS, random.Random(0))
    assert n.agreed_cpm is None
    assert n.steps[-1] == n.steps[-1].model_copy(update={"actor": "buyer", "action": "walk_away"})
    asks = [s.cpm for s in n.steps if s.actor == "seller"]
    assert asks[-1] == asks[-2] == usd(14.0)


def test_a_deflated_quote_opens_low_but_not_under_the_floor():
    p = product(base=15.0, floor=10.0)
    c = campaign(target=9.6)
    fake = Quote(product_id=p.id, seller_id=p.seller_id, cpm=usd(10.5), avails=p.daily_avails)
    n = negotiate(c, "PUBLIC", p, fake, PARAMS, random.Random(0))
    assert n.steps[0].cpm == usd(10.5) and n.agreed_cpm == usd(10.5)  # accepted: within 10% of 9.60
    under = fake.model_copy(update={"cpm": usd(8.0)})
    assert negotiate(c, "PUBLIC", p, under, PARAMS, random.Random(0)).steps[0].cpm == usd(10.0)


def test_deal_type_choice():
    assert deal_type_for(campaign(kpi="clicks"), product(deal_types=("PG",))) == "PG"
    assert deal_type_for(campaign(kpi="impressions"), product(deal_types=("PG", "PD", "PA"))) == "PG"
    assert deal_type_for(campaign(kpi="clicks"), product(deal_types=("PG", "PD", "PA"))) == "PD"
    assert deal_type_for(campaign(kpi="impressions"), product(deal_types=("PD", "PA"))) == "PD"
    assert deal_type_for(campaign(kpi="clicks"), product(deal_types=("PA",))) == "PA"


# --- ranking -----------------------------------------------------------------------------------


def _quote(p, cpm, avails=None):
    avails = p.daily_avails if avails is None else avails
    return Quote(product_id=p.id, seller_id=p.seller_id, cpm=usd(cpm), avails=avails)


def test_rank_products_filters_and_orders_by_value_for_money():
    c = campaign(target=10.0, channels=("display", "video"), segments=("auto_intenders",))  # max 12.00
    cheap = product(id="seller-01-p1", channel="display", segments=("auto_intenders",))
    dear = product(id="seller-02-p1", channel="video", segments=("auto_intenders", "x"))
    tie = product(id="seller-00-p1", channel="display", segments=("auto_intenders",))
    wrong_channel = product(id="seller-03-p1", channel="ctv", segments=("auto_intenders",))
    wrong_segment = product(id="seller-04-p1", channel="display", segments=("luxury_shoppers",))
    sold_out = product(id="seller-05-p1", channel="display", segments=("auto_intenders",))
    too_dear = product(id="seller-06-p1", channel="display", segments=("auto_intenders",))
    catalogue = {p.id: p for p in (cheap, dear, tie, wrong_channel, wrong_segment, sold_out, too_dear)}
    quotes = [
        _quote(dear, 11.0),
        _quote(cheap, 6.0),
        _quote(tie, 6.0),
        _quote(wrong_channel, 1.0),
        _quote(wrong_segment, 1.0),
        _quote(sold_out, 1.0, avails=0),
        _quote(too_dear, 12.0),
    ]
    ranked = rank_products(c, quotes, catalogue)
    assert [q.product_id for q in ranked] == ["seller-00-p1", "seller-01-p1", "seller-02-p1"]


def test_rank_products_values_channels_by_their_kpi_rate():
    # A clicks campaign over display (CTR 0.1%) and video (0.4%), max CPM 12.00: a click is worth
    # 12.00 / 1000 / 0.25%, so a display impression is worth a 4.80 CPM and a video one 19.20.
    c = campaign(target=10.0, kpi="clicks", channels=("display", "video"))
    display = product(id="seller-01-p1", channel="display")
    video = product(id="seller-02-p1", channel="video")
    catalogue = {p.id: p for p in (display, video)}
    ranked = rank_products(c, [_quote(display, 4.0), _quote(video, 10.0)], catalogue)
    assert [q.product_id for q in ranked] == ["seller-02-p1", "seller-01-p1"]  # EV/cost 0.92 vs 0.20
    assert rank_products(c, [_quote(display, 4.9), _quote(video, 19.3)], catalogue) == []  # EV <= 0
