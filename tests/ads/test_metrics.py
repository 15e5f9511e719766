"""The seed's metrics, scraped over HTTP after a small study, agree with the rows the study recorded."""

from __future__ import annotations

import json
from collections import Counter

import httpx
from prometheus_client import start_http_server
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine

from models.ads import AdsParams
from sim.ads.hallucination import detect
from store import ads as ads_store
from store.tables import AdsClaimRow, AdsContextRow, AdsDealRow, AdsDeliveryRow, AdsEventRow
from tests.ads.conftest import SMALL
from workers.metrics import free_port

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
DAY = 86_400


async def scrape(http: httpx.AsyncClient, url: str) -> Samples:
    text = (await http.get(url)).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    """How much the samples of ``name`` matching ``labels`` grew (the registry is the test process's, shared)."""

    def total(samples: Samples) -> float:
        return sum(
            value
            for (sample, sample_labels), value in samples.items()
            if sample == name and set(labels.items()) <= set(sample_labels)
        )

    return total(after) - total(before)


async def test_the_seeds_metrics_after_a_small_study(study, sqlite_engine: AsyncEngine, ads_http: httpx.AsyncClient):
    server, thread = start_http_server(free_port(), addr="127.0.0.1")
    url = f"http://127.0.0.1:{server.server_port}/metrics"
    try:
        before = await scrape(ads_http, url)
        # Low memory survival and a high fabrication rate: every metric has something to count.
        params = AdsParams(context_survival=0.6, hallucination_rate=0.2)
        spec, _ = await study(sqlite_engine, seed=5, params=params, **{**SMALL, "days": 8})
        after = await scrape(ads_http, url)
    finally:
        server.shutdown()
        thread.join()

    deals = await ads_store.rows(sqlite_engine, AdsDealRow, spec.id)
    claims = await ads_store.rows(sqlite_engine, AdsClaimRow, spec.id)
    context = await ads_store.rows(sqlite_engine, AdsContextRow, spec.id)
    events = await ads_store.rows(sqlite_engine, AdsEventRow, spec.id)
    deliveries = await ads_store.rows(sqlite_engine, AdsDeliveryRow, spec.id)
    assert deals and claims and any(c["items_lost"] for c in context)

    # First contact, recomputed from the event log: A's first auction for a product, B's and C's first
    # negotiation with a seller.
    first: dict[tuple[str, str, str], int] = {}
    for event in events:
        if event["kind"] in ("auction", "negotiation"):
            data = json.loads(event["data_json"])
            counterparty = data["product"] if event["kind"] == "auction" else data["seller"]
            first.setdefault((event["scenario"], event["campaign_id"], counterparty), event["day"])
    latencies: dict[str, list[int]] = {"A": [], "B": [], "C": []}
    for deal in deals:
        counterparty = deal["product_id"] if deal["scenario"] == "A" else deal["seller_id"]
        latencies[deal["scenario"]].append(
            (deal["created_day"] - first[(deal["scenario"], deal["campaign_id"], counterparty)]) * DAY
        )
    assert any(latency > 0 for values in latencies.values() for latency in values), "some deals took days"

    for scenario in "ABC":
        in_scenario = [d for d in deals if d["scenario"] == scenario]
        assert delta(before, after, "rtb_deals_completed_total", scenario=scenario) == len(in_scenario)
        assert delta(before, after, "rtb_deal_latency_seconds_count", scenario=scenario) == len(in_scenario)
        assert delta(before, after, "rtb_deal_latency_seconds_sum", scenario=scenario) == sum(latencies[scenario])
        lost = sum(1 for c in context if c["scenario"] == scenario and c["items_lost"])
        assert delta(before, after, "rtb_context_rot_events_total", scenario=scenario) == lost

    injected = Counter(c["agent_type"] for c in claims if c["injected"])
    flagged = Counter(
        c["agent_type"]
        for c in claims
        if detect(c["claimed"], c["actual"], params.detection_tolerance, params.major_severity).flagged
    )
    assert injected and flagged
    for agent_type in ("buyer", "seller"):
        assert delta(before, after, "rtb_hallucinations_injected_total", agent_type=agent_type) == injected[agent_type]
        assert delta(before, after, "rtb_hallucinations_total", agent_type=agent_type) == flagged[agent_type]

    # The take rate is this experiment's alone, whatever else the worker ran before.
    spend = sum(d["buyer_spend"] for d in deliveries if d["scenario"] == "A")
    fees = sum(d["exchange_fee"] for d in deliveries if d["scenario"] == "A")
    take = after[("rtb_take_rate", (("experiment", spec.id), ("scenario", "A")))]
    assert abs(take - fees / spend) < 1e-12
    assert after[("rtb_take_rate", (("experiment", spec.id), ("scenario", "B")))] == 0
