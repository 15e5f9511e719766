"""The campaign's days as pure steps (sim/ads/campaign.py), played without Temporal as the workflow plays them.

``play`` runs one campaign of the default world day by day: the morning, recovery from the ledger in C,
negotiation by the rules, booking, delivery, and the day's ledger records, which the next morning reads
back (optionally through a forger). So the tests see what C's buyer decides from its ledger alone.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from models.ads import AdsParams, Deal, Scenario, WorldSize
from sim.ads.campaign import (
    CampaignState,
    Day,
    auction_day,
    book,
    daily_need,
    deliver_day,
    ledger_records,
    ledger_view,
    median,
    memory_from_ledger,
    morning,
    needs_deals,
    offers,
    restore,
    verify,
)
from sim.ads.negotiation import negotiate
from sim.ads.slices import campaign_slice

SIZE = WorldSize(buyers=5, sellers=5, campaigns_per_buyer=10)
Ledger = list[dict[str, Any]]


def state_for(scenario: Scenario, *, index: int = 0, ledger_checks: bool = True, **params: Any) -> CampaignState:
    picked = campaign_slice(0, SIZE, 30, index)
    return CampaignState(
        scenario=scenario,
        seed=0,
        campaign=picked.campaign,
        buyer=picked.buyer,
        products={p.id: p for p in picked.products},
        params=AdsParams(**params),
        ledger_checks=ledger_checks,
    )


def play(
    state: CampaignState, *, until: int | None = None, forge: Callable[[int, Ledger], Ledger] | None = None
) -> tuple[list[Day], Ledger]:
    """Play the campaign's days; ``forge(day, ledger)`` may rewrite the ledger before the buyer reads it."""
    ledger: Ledger = []
    days = []
    last = state.campaign.end_day if until is None else until
    for day in range(state.campaign.start_day, last + 1):
        today = Day()
        if state.scenario == "A":
            auction_day(state, day, today)
        else:
            if forge is not None:
                ledger = forge(day, ledger)
            state.ledger = ledger_view(list(ledger))
            lost = morning(state, day, today)
            if lost and state.scenario == "C":
                restore(state, lost, state.ledger.memory, today)
            if needs_deals(state, day):
                chosen = offers(state, day, today)
                if chosen:
                    rng = random.Random(day)
                    made = [
                        negotiate(state.campaign, state.buyer.tier, o.product, o.quote, state.params, rng)
                        for o in chosen
                    ]
                    book(state, day, made, chosen, today)
            deliver_day(state, day, today)
        ledger.extend(payload for _, payload in ledger_records(state, today))
        days.append(today)
    return days, ledger


def rejected(days: list[Day], claim_type: str) -> list[dict[str, Any]]:
    return [
        data
        for today in days
        for kind, data in today.events
        if kind == "claim_rejected" and data["claim_type"] == claim_type
    ]


# --- pure helpers ---------------------------------------------------------------------------------


def test_median_is_robust_to_one_outlier_and_none_for_nothing():
    assert median([]) is None
    assert median([100, 101, 10_000]) == 101
    assert median([100, 104]) == 102


def test_verify_takes_a_claim_as_told_without_a_reference_and_replaces_one_beyond_tolerance():
    assert verify(150, None, 0.05) == (150, False)
    assert verify(104, 100, 0.05) == (104, False)
    assert verify(106, 100, 0.05) == (100, True)


# --- the ledger C keeps ---------------------------------------------------------------------------


def test_c_ledger_carries_quotes_negotiation_steps_deals_and_reported_deliveries_but_no_truth():
    state = state_for("C")
    _, ledger = play(state)
    kinds = {payload["type"] for payload in ledger}
    assert {"quote", "proposal", "accept", "deal", "delivery"} <= kinds, kinds
    deliveries = [p for p in ledger if p["type"] == "delivery"]
    assert deliveries and all(
        set(p) == {"type", "deal_id", "day", "reported", "paid", "buyer_spend"} for p in deliveries
    )
    assert all("impressions" not in p for p in ledger), "the true served count is ground truth, not a record"
    # Every deal the campaign struck is on its ledger, with the CPM it agreed.
    assert sorted(p["deal"]["id"] for p in ledger if p["type"] == "deal") == sorted(state.deals)


def test_b_ledger_holds_only_deals():
    _, ledger = play(state_for("B"))
    assert ledger and {payload["type"] for payload in ledger} == {"deal"}


def test_memory_from_ledger_rebuilds_deals_deliveries_spend_and_history():
    state = state_for("C", restart_probability=0.0, context_survival=1.0)
    _, ledger = play(state)
    rebuilt = memory_from_ledger(ledger)
    assert rebuilt == state.memory, "with nothing lost, the ledger alone reproduces the buyer's memory"


def test_c_recovers_what_it_lost_from_the_ledger_and_b_does_not():
    restarts: dict[str, Any] = {"restart_probability": 0.2}
    c_days, _ = play(state_for("C", **restarts))
    b_days, _ = play(state_for("B", **restarts))
    c_events = [e for d in c_days for e in d.context if e.items_lost]
    b_events = [e for d in b_days for e in d.context if e.items_lost]
    assert c_events and b_events
    c_lost = sum(e.items_lost for e in c_events)
    assert sum(e.items_recovered for e in c_events) > 0.9 * c_lost
    assert sum(e.recovered_correctly for e in c_events) > 0.9 * c_lost
    assert sum(e.items_recovered for e in b_events) == 0


# --- checking claims against the ledger -----------------------------------------------------------


def test_c_rejects_fabricated_delivery_reports_against_its_earlier_records_and_b_pays_them():
    params: dict[str, Any] = {"hallucination_rate": 0.3, "restart_probability": 0.0}
    c = state_for("C", **params)
    c_days, _ = play(c)
    b = state_for("B", **params)
    play(b)
    injected = [claim for d in c_days for claim in d.claims if claim.claim_type == "delivery" and claim.injected]
    assert injected and rejected(c_days, "delivery")
    overpaid_c = sum(d.reported - d.impressions for today in c_days for d in today.deliveries)
    b_days, _ = play(state_for("B", **params))
    overpaid_b = sum(d.reported - d.impressions for today in b_days for d in today.deliveries)
    assert overpaid_c < overpaid_b


def test_c_decides_from_its_ledger_not_the_truth_a_forged_ledger_makes_it_pay_a_fabrication():
    params: dict[str, Any] = {"hallucination_rate": 0.3, "restart_probability": 0.0, "context_survival": 1.0}
    state = state_for("C", **params)
    honest_days, _ = play(state)
    start = state.campaign.start_day
    late = [(start + i, r) for i, today in enumerate(honest_days) if i >= 3 for r in rejected([today], "delivery")]
    assert late, "no fabricated delivery report rejected after three days of records"
    day_of, claim = late[0]

    def forge(day: int, ledger: Ledger) -> Ledger:
        if day != day_of:
            return ledger
        return [
            {**p, "reported": claim["claimed"]} if p["type"] == "delivery" and p["deal_id"] == claim["subject"] else p
            for p in ledger
        ]

    forged_days, _ = play(state_for("C", **params), forge=forge)
    [paid] = [d.reported for d in forged_days[day_of - start].deliveries if d.deal_id == claim["subject"]]
    [honest_paid] = [d.reported for d in honest_days[day_of - start].deliveries if d.deal_id == claim["subject"]]
    assert honest_paid == claim["ledger"] < claim["claimed"] == paid
    assert claim not in rejected([forged_days[day_of - start]], "delivery")


def test_c_history_belief_is_the_count_of_deals_on_its_ledger():
    params: dict[str, Any] = {"hallucination_rate": 0.5, "restart_probability": 0.0}
    state = state_for("C", **params)
    _, ledger = play(state, until=10)
    seller = next(iter(sorted({d.seller_id for d in state.deals.values()})))
    forged: Ledger = (
        ledger
        + [{"type": "deal", "deal": {**next(p["deal"] for p in ledger if p["type"] == "deal"), "seller_id": seller}}]
        * 3
    )
    assert sum(1 for p in forged if p["type"] == "deal" and p["deal"]["seller_id"] == seller) > len(
        [d for d in state.deals.values() if d.seller_id == seller]
    )
    # Booking records the seller's history as the ledger counts it, so the forged deals are believed.
    today = Day()
    state.ledger = ledger_view(forged)
    chosen = offers(state, 11, today)
    if chosen:
        book(
            state,
            11,
            [
                negotiate(state.campaign, state.buyer.tier, o.product, o.quote, state.params, random.Random(0))
                for o in chosen
            ],
            chosen,
            today,
        )
    for deal in today.deals:
        assert state.memory[f"history:{deal.seller_id}"] >= sum(
            1 for p in forged if p["type"] == "deal" and p["deal"]["seller_id"] == deal.seller_id
        )


def test_a_first_quote_is_taken_as_told_and_later_ones_are_checked():
    state = state_for("C", hallucination_rate=1.0)
    today = Day()
    state.ledger = ledger_view([])
    offers(state, 1, today)
    assert not rejected([today], "price"), "nothing on the ledger to check the first quotes against"
    quotes = [p for _, p in today.records if p["type"] == "quote"]
    honest = [{**q, "cpm": state.products[q["product_id"]].base_cpm * 10} for q in quotes]
    later = Day()
    state.ledger = ledger_view(honest)
    offers(state, 2, later)
    assert rejected([later], "price"), "quotes far from the recorded ones are replaced by them"


# --- booking, delivery, the auction day -----------------------------------------------------------


def test_booking_shares_the_daily_need_between_agreed_deals_and_records_them():
    state = state_for("C", hallucination_rate=0.0)
    today = Day()
    day = state.campaign.start_day
    assert needs_deals(state, day)
    chosen = offers(state, day, today)
    made = [
        negotiate(state.campaign, state.buyer.tier, o.product, o.quote, state.params, random.Random(0)) for o in chosen
    ]
    need = daily_need(state, day)
    book(state, day, made, chosen, today)
    agreed = [n for n in made if n.agreed_cpm is not None]
    assert len(today.deals) == len(agreed) > 0
    assert sum(d.daily_impressions for d in today.deals) <= need
    assert all(isinstance(d, Deal) and state.memory[f"deal:{d.id}"]["cpm"] == state.agreed[d.id] for d in today.deals)
    assert [p["type"] for _, p in today.records if p["type"] == "deal"] == ["deal"] * len(agreed)


def test_delivery_never_spends_more_than_the_pacing_allowance_allows():
    # B pays what the seller reports: with honest noise in the reports it can pass its budget by the noise.
    state = state_for("B", hallucination_rate=0.0, report_noise=0.0)
    days, _ = play(state)
    assert state.spent <= state.campaign.budget
    for today in days:
        assert all(
            d.buyer_spend
            == d.reported * next(deal.cpm for deal in state.deals.values() if deal.id == d.deal_id) // 1000
            for d in today.deliveries
        )


def test_auction_day_wins_pays_at_most_the_budget_and_the_exchange_keeps_its_fee():
    state = state_for("A")
    days, ledger = play(state)
    deliveries = [d for today in days for d in today.deliveries]
    assert deliveries and state.spent <= state.campaign.budget
    assert all(abs(d.exchange_fee - round(d.buyer_spend * state.params.exchange_fee)) <= 1 for d in deliveries)
    assert {p["type"] for p in ledger} == {"deal"}


@pytest.mark.parametrize("scenario", ["B", "C"])
def test_the_same_seed_plays_the_same_campaign(scenario: Scenario):
    first, _ = play(state_for(scenario, hallucination_rate=0.2))
    second, _ = play(state_for(scenario, hallucination_rate=0.2))
    assert [d.deliveries for d in first] == [d.deliveries for d in second]
