"""Inventory truth by day (sim/ads/inventory.py): varies by product and day, deterministic from the seed."""

from __future__ import annotations

import statistics

import pytest

from models.ads import AdsParams
from sim.ads.inventory import inventory_stream, true_inventory
from tests.unit.ads.helpers import product

DEFAULTS = AdsParams()


def test_the_same_seed_product_and_day_give_the_same_truth():
    p = product(avails=4_000_000)
    assert true_inventory(7, p, 12, DEFAULTS) == true_inventory(7, p, 12, DEFAULTS)
    assert inventory_stream(7, p.id, 12).random() == inventory_stream(7, p.id, 12).random()


def test_truth_varies_by_day_product_and_seed_not_one_constant():
    p, q = product(id="seller-01-p1"), product(id="seller-02-p1")
    days = [true_inventory(3, p, day, DEFAULTS) for day in range(1, 31)]
    assert len({d.avails for d in days}) == 30 and len({d.fill_rate for d in days}) == 30
    assert true_inventory(3, p, 5, DEFAULTS) != true_inventory(3, q, 5, DEFAULTS)
    assert true_inventory(3, p, 5, DEFAULTS) != true_inventory(4, p, 5, DEFAULTS)


def test_defaults_stay_in_their_ranges_around_the_typical_avails():
    p = product(avails=5_000_000)
    days = [true_inventory(seed, p, day, DEFAULTS) for seed in range(20) for day in range(1, 31)]
    assert all(4_500_000 <= d.avails <= 5_500_000 for d in days)  # x U(0.9, 1.1)
    assert all(0.85 <= d.fill_rate <= 1.0 for d in days)  # U(0.85, 1.0), the earlier per-deal fill
    assert statistics.mean(d.avails for d in days) == pytest.approx(5_000_000, rel=0.01)
    assert statistics.mean(d.fill_rate for d in days) == pytest.approx(0.925, abs=0.005)


def test_no_variation_gives_the_typical_avails_and_a_fixed_fill():
    flat = AdsParams(avails_daily_variation=0.0, fill_rate_low=0.9, fill_rate_high=0.9)
    p = product(avails=2_000_000)
    assert {true_inventory(1, p, day, flat) for day in range(1, 31)} == {true_inventory(1, p, 1, flat)}
    assert true_inventory(1, p, 1, flat).avails == 2_000_000 and true_inventory(1, p, 1, flat).fill_rate == 0.9


def test_a_fill_range_upside_down_is_refused():
    with pytest.raises(ValueError, match="fill_rate_low"):
        AdsParams(fill_rate_low=0.95, fill_rate_high=0.9)
