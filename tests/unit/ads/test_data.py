"""The generated world: deterministic, sized as asked, calibrated, every campaign matchable."""

from __future__ import annotations

import pytest

from models.ads import MICROS, Campaign, World
from sim.ads.data import CATALOGUE, CPM_RANGE_USD, SEGMENTS, generate_world
from sim.ads.kpi import blended_rate
from sim.ads.negotiation import matches
from sim.ads.pricing import TIERS

WORLD = generate_world(7)


def _matchable(world: World, c: Campaign) -> bool:
    return any(matches(c, p) for p in world.products())


def test_same_seed_same_world_and_different_seed_different_world():
    assert generate_world(7) == WORLD
    assert generate_world(7).model_dump_json() == WORLD.model_dump_json()
    assert generate_world(8) != WORLD


def test_default_sizes_and_ids():
    assert (len(WORLD.buyers), len(WORLD.sellers), len(WORLD.campaigns), WORLD.days) == (5, 5, 50, 30)
    assert [s.id for s in WORLD.sellers] == [f"seller-{i:02d}" for i in range(1, 6)]
    assert [b.id for b in WORLD.buyers] == [f"buyer-{i:02d}" for i in range(1, 6)]
    assert WORLD.campaigns[0].id == "buyer-01-c01" and WORLD.campaigns[-1].id == "buyer-05-c10"
    for seller in WORLD.sellers:
        assert 2 <= len(seller.products) <= 4
        assert [p.id for p in seller.products] == [f"{seller.id}-p{i}" for i in range(1, len(seller.products) + 1)]
        assert all(p.seller_id == seller.id for p in seller.products)


def test_small_world_with_a_three_day_study():
    world = generate_world(1, buyers=2, sellers=2, campaigns_per_buyer=2, days=3)
    assert (len(world.buyers), len(world.sellers), len(world.campaigns), world.days) == (2, 2, 4, 3)
    for c in world.campaigns:
        assert 1 <= c.start_day <= c.end_day == 3
        assert c.daily_budget == c.budget // (c.end_day - c.start_day + 1)
    one_day = generate_world(1, buyers=1, sellers=1, campaigns_per_buyer=3, days=1)
    assert all(c.start_day == c.end_day == 1 for c in one_day.campaigns)


def test_invalid_sizes_are_refused():
    with pytest.raises(ValueError):
        generate_world(1, days=0)
    with pytest.raises(ValueError):
        generate_world(1, sellers=0)


@pytest.mark.parametrize("seed", range(20))
def test_every_campaign_has_a_matching_product(seed):
    world = generate_world(seed, buyers=3, sellers=2, campaigns_per_buyer=10)
    assert all(_matchable(world, c) for c in world.campaigns)


def test_tiers_are_spread_over_all_four():
    assert {b.tier for b in WORLD.buyers} == set(TIERS)
    assert {b.tier for b in generate_world(3, buyers=8).buyers} == set(TIERS)


def test_products_are_calibrated_to_the_reference():
    templates = {t.name: t for t in CATALOGUE}
    for seed in range(10):
        for p in generate_world(seed).products():
            template = templates[p.name]
            low, high = CPM_RANGE_USD[p.channel]
            assert low * MICROS <= p.floor_cpm < p.base_cpm <= high * MICROS
            assert 0.85 * template.base_usd * MICROS - 1 <= p.base_cpm <= 1.15 * template.base_usd * MICROS + 1
            assert 1_000_000 <= p.daily_avails <= 10_000_000
            assert 2 <= len(p.segments) <= 4 and set(p.segments) <= set(SEGMENTS)
            if p.channel == "ctv":
                assert p.deal_types == ("PG",)
            else:
                assert {"PD", "PA"} <= set(p.deal_types)


def test_campaigns_are_calibrated():
    campaigns = [c for seed in range(10) for c in generate_world(seed).campaigns]
    for c in campaigns:
        # The monthly grid, prorated to the flight (whole cents).
        flight = c.end_day - c.start_day + 1
        assert any(abs(c.budget - b * MICROS * flight / 30) <= 5_000 for b in (10_000, 25_000, 50_000, 100_000))
        assert 1 <= c.start_day <= 3 and c.end_day == 30
        assert 1 <= len(c.channels) <= 3 and 1 <= len(c.segments) <= 2
        assert any(lo * MICROS <= c.target_cpm <= hi * MICROS for lo, hi in (CPM_RANGE_USD[ch] for ch in c.channels))
        assert c.max_cpm == round(c.target_cpm * 1.2)
        assert c.target_impressions == c.budget * 1000 // c.target_cpm
        assert c.kpi_target == max(1, round(c.target_impressions * blended_rate(c.kpi, c.channels)))
    assert {c.kpi for c in campaigns} == {"impressions", "clicks", "conversions", "viewability"}
    assert {len(c.channels) for c in campaigns} == {1, 2, 3}


def test_money_fields_are_integer_micros():
    for p in WORLD.products():
        assert type(p.base_cpm) is int and type(p.floor_cpm) is int
        assert p.base_cpm % 10_000 == 0  # whole cents
    for c in WORLD.campaigns:
        for value in (c.budget, c.daily_budget, c.target_cpm, c.max_cpm, c.target_impressions, c.kpi_target):
            assert type(value) is int
