"""The cost of trading on hand-built rows: every expected figure worked out by hand here."""

from __future__ import annotations

import json
from typing import Any

import pytest

from models.ads import AdsParams, LlmConfig
from models.ads_report import RecordedClaim, RecordedDeal, RecordedDelivery, RecordedEvent, RecordedLedgerEntry
from sim.ads.costs import ledger_cost
from sim.ads.trading_costs import bootstrap_ratio_ci, fabricated_quote_deals, llm_usage, trading_cost
from tests.unit.ads.helpers import usd

PARAMS = AdsParams()
C1, C2 = "buyer-01-c01", "buyer-01-c02"
PRODUCT = "seller-01-p1"


def deal(campaign: str, name: str, *, cpm: float, day: int = 1, product: str = PRODUCT) -> RecordedDeal:
    return RecordedDeal(
        scenario="B",
        deal_id=f"{campaign}-{name}",
        campaign_id=campaign,
        buyer_id="buyer-01",
        seller_id="seller-01",
        product_id=product,
        deal_type="PD",
        cpm=usd(cpm),
        daily_impressions=1000,
        start_day=day,
        end_day=30,
        rounds=2,
        created_day=day,
    )


def delivery(
    campaign: str, name: str, *, served: int, reported: int, spend: float, fee: float = 0.0, day: int = 1
) -> RecordedDelivery:
    return RecordedDelivery(
        scenario="B",
        deal_id=f"{campaign}-{name}",
        day=day,
        campaign_id=campaign,
        seller_id="seller-01",
        impressions=served,
        reported=reported,
        clicks=0,
        conversions=0,
        viewable=0,
        buyer_spend=usd(spend),
        seller_revenue=usd(spend - fee),
        exchange_fee=usd(fee),
    )


def claim(campaign: str, day: int, claim_type: str, *, injected: bool, subject: str = PRODUCT) -> RecordedClaim:
    return RecordedClaim(
        scenario="B",
        claim_id=f"{campaign}/{day}/{claim_type}",
        campaign_id=campaign,
        day=day,
        agent_id="seller-01",
        agent_type="seller",
        claim_type=claim_type,
        subject=subject,
        claimed=80 if injected else 100,
        actual=100,
        injected=injected,
        checked=False,
    )


def event(campaign: str, day: int, kind: str, **data: Any) -> RecordedEvent:
    return RecordedEvent(scenario="B", campaign_id=campaign, day=day, seq=0, kind=kind, data=data)


def negotiation(campaign: str, day: int, *, agreed: float | None, rounds: int, steps: int) -> RecordedEvent:
    return event(
        campaign,
        day,
        "negotiation",
        seller="seller-01",
        product=PRODUCT,
        rounds=rounds,
        agreed_cpm=None if agreed is None else usd(agreed),
        steps=[[1, "seller", "propose", 1]] * steps,
    )


def cost(**rows: Any):
    fields: dict[str, Any] = {"deals": [], "deliveries": [], "claims": [], "events": [], "ledger": []}
    fields.update(rows)
    options = {"llm": fields.pop("llm", None), "ledger_relied_on": fields.pop("ledger_relied_on", False)}
    return trading_cost(
        "B",
        [C1, C2],
        fields["deals"],
        fields["deliveries"],
        fields["claims"],
        fields["events"],
        fields["ledger"],
        params=PARAMS,
        **options,
    )


def test_money_components_are_disjoint_and_add_up() -> None:
    # A deal agreed at $8 but billed $10; its delivery reported 1000, served 800, for $10 of spend of which $1 fee.
    # Net $9: never served = 9 × 200/1000 = $1.80; served net $7.20 × (10 − 8)/10 = $1.44 above agreed.
    result = cost(
        deals=[deal(C1, "d1", cpm=10)],
        deliveries=[delivery(C1, "d1", served=800, reported=1000, spend=10, fee=1)],
        events=[negotiation(C1, 1, agreed=8, rounds=3, steps=5)],
    )
    assert result.exchange_fee_micros == usd(1)
    assert result.unserved_spend_micros == usd(1.80) and result.unserved_impressions == 200
    assert result.above_agreed_micros == usd(1.44)
    assert result.total_usd == pytest.approx(1 + 1.80 + 1.44)
    assert result.share_of_spend == pytest.approx(4.24 / 10)
    assert result.per_1000_impressions_usd == pytest.approx(4.24 / 800 * 1000)
    assert (result.negotiations, result.negotiation_rounds, result.negotiation_messages) == (1, 3, 5)
    assert result.llm is None, "no LLM configured: not run with an LLM, not zero tokens"
    assert result.ledger_entries == 0 and result.ledger_cost_usd == 0.0


def test_a_faithful_report_at_the_agreed_price_costs_nothing_beyond_media() -> None:
    result = cost(
        deals=[deal(C1, "d1", cpm=8)],
        deliveries=[delivery(C1, "d1", served=1000, reported=1000, spend=8)],
        events=[negotiation(C1, 1, agreed=8, rounds=1, steps=2)],
    )
    assert result.total_usd == 0.0 and result.share_of_spend == 0.0
    # Under-reporting (served more than reported) is not a cost to the buyer.
    under = cost(deliveries=[delivery(C1, "d1", served=1200, reported=1000, spend=8)])
    assert under.unserved_spend_micros == 0 and under.unserved_impressions == 0


def test_deals_on_fabricated_quotes_count_only_what_the_buyer_acted_on() -> None:
    deals = [
        deal(C1, "d1", cpm=10, day=1),  # day-1 price claim injected: counts
        deal(C1, "d2", cpm=10, day=2),  # day-2 inventory claim injected but rejected by the ledger check
        deal(C2, "d1", cpm=10, day=1),  # C2's claims honest: does not count
        deal(C1, "d3", cpm=10, day=3, product="seller-01-p2"),  # injected claim is about another product
        deal(C1, "d4", cpm=10, day=4),  # a history claim is not a quote: does not count
    ]
    claims = [
        claim(C1, 1, "price", injected=True),
        claim(C1, 1, "inventory", injected=False),
        claim(C1, 2, "inventory", injected=True),
        claim(C2, 1, "price", injected=False),
        claim(C1, 3, "price", injected=True),
        claim(C1, 4, "history", injected=True),
    ]
    events = [event(C1, 2, "claim_rejected", claim_type="inventory", subject=PRODUCT, claimed=80, ledger=100)]
    struck = fabricated_quote_deals(deals, claims, events)
    assert [d.deal_id for d in struck] == [f"{C1}-d1"]
    # Rejecting the price claim does not excuse an inventory claim acted on the same day.
    both = [claim(C1, 2, "price", injected=True), claim(C1, 2, "inventory", injected=True)]
    rejected_price = [event(C1, 2, "claim_rejected", claim_type="price", subject=PRODUCT)]
    assert [d.deal_id for d in fabricated_quote_deals(deals, both, rejected_price)] == [f"{C1}-d2"]
    assert cost(deals=deals, claims=claims, events=events).deals_on_fabricated_quotes == 1


def test_llm_tokens_from_the_event_log_priced_by_the_configuration() -> None:
    llm = LlmConfig(url="http://model", usd_per_million_prompt_tokens=2.0, usd_per_million_completion_tokens=8.0)
    events = [
        event(C1, 1, "llm", calls=3, fallbacks=1, prompt_tokens=300_000, completion_tokens=10_000),
        event(C2, 2, "llm", calls=2, fallbacks=0, prompt_tokens=200_000, completion_tokens=15_000),
        negotiation(C1, 1, agreed=None, rounds=2, steps=3),
    ]
    usage = llm_usage(events, llm)
    assert usage is not None
    assert (usage.calls, usage.fallbacks, usage.prompt_tokens, usage.completion_tokens) == (5, 1, 500_000, 25_000)
    assert usage.cost_usd == pytest.approx(0.5 * 2.0 + 0.025 * 8.0)  # $1.20
    result = cost(events=events, llm=llm, deliveries=[delivery(C1, "d1", served=100, reported=100, spend=12)])
    assert result.total_usd == pytest.approx(1.20) and result.share_of_spend == pytest.approx(0.1)
    assert llm_usage(events, None) is None
    assert llm_usage([], llm) == usage.model_copy(
        update={"calls": 0, "fallbacks": 0, "prompt_tokens": 0, "completion_tokens": 0, "cost_usd": 0.0}
    ), "run with an LLM that was never called: zero tokens, not 'not run'"


def test_the_ledger_is_priced_only_where_the_scenario_relies_on_it() -> None:
    payloads = [{"type": "quote", "cpm": n} for n in range(3)]
    chain = [
        RecordedLedgerEntry(chain_id=f"ads/x/y/B/{C1}", seq=seq, payload_json=json.dumps(p))
        for seq, p in enumerate(payloads)
    ]
    expected = ledger_cost([len(json.dumps(p).encode()) for p in payloads], PARAMS)
    relied = cost(ledger=chain, ledger_relied_on=True)
    assert expected.usd > 0
    assert relied.ledger_entries == 3 and relied.ledger_cost_usd == pytest.approx(expected.usd)
    assert relied.total_usd == pytest.approx(expected.usd)
    assert cost(ledger=chain).ledger_cost_usd == 0.0


def test_bootstrap_interval_brackets_the_ratio_and_is_reproducible() -> None:
    units = [(1.0, 10.0), (3.0, 10.0), (0.0, 10.0), (2.0, 10.0)]  # Σ 6 / Σ 40 = 15%
    low, high = bootstrap_ratio_ci(units) or (None, None)
    assert low is not None and high is not None
    assert 0.0 <= low < 0.15 < high <= 0.30
    assert bootstrap_ratio_ci(units) == (low, high), "a fixed seed: the same rows give the same bytes"
    assert bootstrap_ratio_ci([(1.0, 1.0)]) is None and bootstrap_ratio_ci([(0.0, 0.0), (1.0, 0.0)]) is None
    assert bootstrap_ratio_ci([(1.0, 10.0), (1.0, 10.0)]) == (0.1, 0.1)
