"""World fidelity in a real study (dev server, store): the recorded inventory truth varies by day and is what the
world served from, a second-price exchange clears at the second bid plus $0.01, sellers' records of A's deals
name no buyer, and B and C restart on the same days under a rising hazard."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from models.ads import AdsParams, World
from sim.ads.inventory import true_inventory
from store.tables import (
    AdsContextRow,
    AdsDealRow,
    AdsDeliveryRow,
    AdsEventRow,
    AdsExperimentRow,
    AdsInventoryRow,
    LedgerRow,
)

PARAMS = AdsParams(auction="second", restart_hazard_growth=0.1)


async def test_a_study_meets_the_days_inventory_the_seeds_second_price_and_a_masked_buyer(
    study, sqlite_engine: AsyncEngine
):
    spec, _ = await study(sqlite_engine, buyers=2, sellers=3, campaigns_per_buyer=3, days=8, seed=5, params=PARAMS)
    async with sqlite_engine.connect() as db:
        world = World.model_validate_json(
            (await db.execute(select(AdsExperimentRow.world_json).where(AdsExperimentRow.id == spec.id))).scalar_one()
        )
        inventory = (await db.execute(select(AdsInventoryRow).where(AdsInventoryRow.experiment_id == spec.id))).all()
        deliveries = (await db.execute(select(AdsDeliveryRow).where(AdsDeliveryRow.experiment_id == spec.id))).all()
        deal_rows = (await db.execute(select(AdsDealRow).where(AdsDealRow.experiment_id == spec.id))).all()
        events = (await db.execute(select(AdsEventRow).where(AdsEventRow.experiment_id == spec.id))).all()
        context = (await db.execute(select(AdsContextRow).where(AdsContextRow.experiment_id == spec.id))).all()
        ledger_a = (await db.execute(select(LedgerRow).where(LedgerRow.chain_id.like(f"ads/{spec.id}/A/%")))).all()

    product_of = {(d.scenario, d.deal_id): d.product_id for d in deal_rows}

    # The recorded truth is the world's, per product and day, and not one constant.
    products = {p.id: p for p in world.products()}
    assert len(inventory) == len(products) * spec.days
    for row in inventory:
        truth = true_inventory(spec.seed, products[row.product_id], row.day, spec.params)
        assert (row.avails, row.fill_rate) == (truth.avails, truth.fill_rate)
    for product_id in products:
        assert len({row.avails for row in inventory if row.product_id == product_id}) == spec.days
    # Nothing served beyond one buyer's share of its product's true avails that day.
    avails = {(row.product_id, row.day): row.avails for row in inventory}
    assert deliveries
    for delivery in deliveries:
        product_id = product_of[(delivery.scenario, delivery.deal_id)]
        assert delivery.impressions <= max(1, int(avails[(product_id, delivery.day)] * spec.params.buyer_avails_share))

    # Second price: the buyer's wins clear at the second bid plus the seed's cent, never above its own bid.
    buyers = {c.id: c.buyer_id for c in world.campaigns}
    won = [
        json.loads(e.data_json)
        for e in events
        if e.kind == "auction" and json.loads(e.data_json)["winner"] == buyers[e.campaign_id]
    ]
    assert won
    for data in won:
        above = sorted((cpm for _, cpm in data["bids"] if cpm >= data["floor"]), reverse=True)
        expected = min(above[1] + 10_000, above[0]) if len(above) > 1 else data["floor"]
        assert data["clearing_cpm"] == expected

    # What sellers hold of A's deals names no buyer and no campaign.
    assert ledger_a
    for entry in ledger_a:
        payload = json.loads(entry.payload_json)
        assert payload["type"] == "deal" and payload["deal"]["exchange_deal_id"].startswith("xd-")
        for buyer in world.buyers:
            assert buyer.id not in entry.payload_json and buyer.name not in entry.payload_json
        assert all(c.id not in entry.payload_json for c in world.campaigns)

    # The restart hazard is drawn from streams B and C share: they restart on the same campaign-days.
    restarts = {
        scenario: sorted((r.campaign_id, r.day) for r in context if r.scenario == scenario and r.kind == "restart")
        for scenario in ("B", "C")
    }
    assert restarts["B"] and restarts["B"] == restarts["C"]
