"""World fidelity (the ``ads-world-fidelity`` version) in a campaign's days: inventory truth by day that only the
world reads, a restart hazard that rises with the days since the last restart, second price plus the seed's
cent, and the buyer masked in the seller's record of an exchange deal."""

from __future__ import annotations

import json
from typing import Any

import pytest

from models.ads import AdsParams, Buyer, Deal, Scenario
from sim.ads.campaign import CampaignState, Day, deliver_day, morning, offers
from sim.ads.inventory import true_inventory
from tests.unit.ads.helpers import campaign, product
from tests.unit.ads.test_campaign import play, state_for


def faithful(scenario: Scenario, **params: Any) -> CampaignState:
    state = state_for(scenario, **params)
    state.world_fidelity = True
    return state


def test_delivery_serves_the_days_fill_capped_by_the_days_avails():
    p = product(avails=2_000_000, deal_types=("PD", "PA"))
    c = campaign(budget=10_000_000, impressions=50_000_000)
    deal = Deal(
        id="buyer-01-c01-B-d001",
        scenario="B",
        campaign_id=c.id,
        buyer_id=c.buyer_id,
        seller_id=p.seller_id,
        product_id=p.id,
        deal_type="PD",
        cpm=c.target_cpm,
        daily_impressions=50_000,
        start_day=1,
        end_day=30,
        rounds=1,
        created_day=1,
    )
    state = CampaignState(
        scenario="B",
        seed=5,
        campaign=c,
        buyer=Buyer(id=c.buyer_id, name="b", tier="PUBLIC"),
        products={p.id: p},
        params=AdsParams(),
        world_fidelity=True,
    )
    state.deals[deal.id] = deal
    state.memory[f"deal:{deal.id}"] = deal.model_dump()
    served = []
    for day in range(1, 31):
        today = Day()
        deliver_day(state, day, today)
        truth = true_inventory(5, p, day, state.params)
        share = int(truth.avails * state.params.buyer_avails_share)  # 5% of ~2M: ~100k, above the 50k booked
        [delivery] = today.deliveries
        assert delivery.impressions == min(int(50_000 * truth.fill_rate), share)
        served.append(delivery.impressions)
    assert len(set(served)) > 20, "the product's fill varies by day"


def test_the_buyers_share_follows_the_days_avails():
    state = faithful("B")
    p = next(iter(state.products.values()))
    shares = {state.share(p, day) for day in range(1, 31)}
    assert len(shares) > 20
    assert min(shares) < state.share(p) < max(shares), "the day's truth varies around the typical avails"


def test_the_buyer_acts_on_what_sellers_quote_never_on_the_days_truth():
    # No fabrication, honest noise only: every quoted avails differs a little from the day's truth, and the
    # quotes the buyer takes into negotiation carry the seller's figure.
    state = faithful("B", hallucination_rate=0.0, report_noise=0.03)
    day = state.campaign.start_day
    today = Day()
    chosen = offers(state, day, today)
    claims = {c.subject: c for c in today.claims if c.claim_type == "inventory"}
    assert chosen
    for offer in chosen:
        claim = claims[offer.product.id]
        assert claim.actual == state.share(offer.product, day), "the claim is checked against the day's truth"
        assert offer.quote.avails == claim.claimed, "the buyer uses the seller's figure"
    assert any(claims[o.product.id].claimed != claims[o.product.id].actual for o in chosen)


def test_restarts_follow_the_hazard_since_the_last_restart():
    # base 0, growth 1: no restart on a fresh day (the first, or the day after a restart), certain on the next.
    state = faithful("B", restart_probability=0.0, restart_hazard_growth=1.0, context_survival=1.0)
    start = state.campaign.start_day
    kinds = []
    for day in range(start, start + 4):
        today = Day()
        morning(state, day, today)
        kinds.append(today.context[-1].kind)
    assert kinds == ["decay", "restart", "decay", "restart"]
    assert state.last_restart_day == start + 3
    # Half a chance a day: a restart resets the hazard to the base.
    half = faithful("B", restart_probability=0.0, restart_hazard_growth=0.5)
    assert [half.restart_probability(start + d) for d in range(4)] == [0.0, 0.5, 1.0, 1.0]
    half.last_restart_day = start + 2
    assert [half.restart_probability(start + d) for d in (3, 4)] == [0.0, 0.5]
    # Before the version the probability was the constant parameter, whatever the growth.
    old = state_for("B", restart_probability=0.01, restart_hazard_growth=0.5)
    assert old.restart_probability(start + 20) == 0.01


def test_b_and_c_restart_on_the_same_days_under_a_rising_hazard():
    restarts = {}
    for scenario in ("B", "C"):
        days, _ = play(faithful(scenario, restart_hazard_growth=0.02))
        restarts[scenario] = [d.context[-1].day for d in days if d.context and d.context[-1].kind == "restart"]
    assert restarts["B"] and restarts["B"] == restarts["C"]


def test_a_second_price_exchange_clears_at_the_second_bid_plus_a_cent():
    state = faithful("A", auction="second")
    days, _ = play(state)
    won = [
        data for today in days for kind, data in today.events if kind == "auction" and data["winner"] == state.buyer.id
    ]
    assert won
    for data in won:
        above = sorted((cpm for _, cpm in data["bids"] if cpm >= data["floor"]), reverse=True)
        expected = min(above[1] + state.params.second_price_increment, above[0]) if len(above) > 1 else data["floor"]
        assert data["clearing_cpm"] == expected
    assert any(data["clearing_cpm"] == sorted(c for _, c in data["bids"])[-2] + 10_000 for data in won)


def test_the_sellers_record_of_an_exchange_deal_does_not_name_the_buyer():
    state = faithful("A")
    days, ledger = play(state)
    assert ledger and {p["type"] for p in ledger} == {"deal"}
    text = json.dumps(ledger)
    for identity in (state.buyer.id, state.buyer.name, state.campaign.id):
        assert identity not in text, identity
    # Each deal the exchange made appears once, by its opaque id, at the seller's net price.
    assert len({p["deal"]["exchange_deal_id"] for p in ledger}) == len(state.deals)
    first_cpm = {d.id: d.cpm for today in days for d in today.deals}
    fee = state.params.exchange_fee
    assert sorted(p["deal"]["cpm"] for p in ledger) == sorted(c - round(c * fee) for c in first_cpm.values())
    # Before the version the seller's record carried the buyer.
    _, old_ledger = play(state_for("A"))
    assert state.buyer.id in json.dumps(old_ledger)


@pytest.mark.parametrize("scenario", ["A", "B", "C"])
def test_the_same_seed_plays_the_same_faithful_campaign(scenario: Scenario):
    first, first_ledger = play(faithful(scenario, hallucination_rate=0.2, restart_hazard_growth=0.01))
    second, second_ledger = play(faithful(scenario, hallucination_rate=0.2, restart_hazard_growth=0.01))
    assert [(d.deliveries, d.context, d.claims) for d in first] == [(d.deliveries, d.context, d.claims) for d in second]
    assert first_ledger == second_ledger


def test_world_fidelity_changes_what_is_served():
    before, _ = play(state_for("B"))
    after, _ = play(faithful("B"))
    assert [d.deliveries for d in before] != [d.deliveries for d in after]
